"""The settings form; the JWT secret is write-only."""

from urllib.parse import urlsplit

from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms import IntegerField
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms import ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional
from wtforms.validators import Regexp
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from app.services import formats
from app.services import locales
from app.services import settings
from app.services import watermarks

MIN_SECRET = 32


def http_url(form, field) -> None:
    """An absolute http(s) URL on a real host, with no credentials, query or fragment."""
    if not field.data:
        return
    parts = urlsplit(field.data.strip())
    if settings.http_origin(field.data) is None:
        raise ValidationError(gettext("Enter an address starting with http:// or https:// and a valid host name."))
    if parts.query or parts.fragment or " " in field.data.strip():
        raise ValidationError(gettext("The address must not contain a query, a fragment or spaces."))


class SettingsForm(FlaskForm):
    # Left out of a post (an older page), it keeps the stored name (see views._keep_stored).
    site_name = StringField(lazy_gettext("Site name"), validators=[Length(max=60)])
    docs_url = StringField(
        lazy_gettext("Document Server address (public, used by browsers)"),
        validators=[Optional(), Length(max=500), http_url],
    )
    docs_internal_url = StringField(
        lazy_gettext("Document Server address for requests from this server"),
        validators=[Optional(), Length(max=500), http_url],
    )
    app_url_for_docs = StringField(
        lazy_gettext("This site's address as seen by the Document Server"),
        validators=[Optional(), Length(max=500), http_url],
    )
    jwt_secret = PasswordField(
        lazy_gettext("JWT secret"),
        validators=[
            Optional(),
            Length(
                min=MIN_SECRET,
                max=500,
                message=lazy_gettext("Use a secret of at least %(MIN_SECRET)s characters.", MIN_SECRET=MIN_SECRET),
            ),
        ],
    )
    jwt_header = StringField(
        lazy_gettext("JWT header"),
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(r"^[A-Za-z0-9-]+$", message=lazy_gettext("Letters, digits and dashes only.")),
        ],
    )
    verify_tls = BooleanField(lazy_gettext("Verify TLS certificates of the Document Server"))
    forcesave = BooleanField(lazy_gettext("Show a Save button that stores a version while editing (force-save)"))
    keep_intermediate_versions = BooleanField(
        lazy_gettext(
            "Keep the versions saved while editing; otherwise fold them "
            "into the version stored when everyone has closed the document"
        )
    )
    chat = BooleanField(lazy_gettext("Chat"))
    comments = BooleanField(lazy_gettext("Comments"))
    help = BooleanField(lazy_gettext("Help menu"))
    feedback = BooleanField(lazy_gettext("Feedback and support button"))
    compact_header = BooleanField(lazy_gettext("Compact header"))
    coediting_mode = SelectField(
        lazy_gettext("Default co-editing mode"),
        choices=[
            SelectChoice("fast", lazy_gettext("Fast: everyone sees changes as they are typed")),
            SelectChoice("strict", lazy_gettext("Strict: changes are shown when saved")),
        ],
        default="fast",
    )
    coediting_change = BooleanField(lazy_gettext("People may switch the co-editing mode in the editor"))
    # Checkboxes, one per group (choices set by the view); none checked and no usernames: everyone.
    editor_groups = SelectMultipleField(
        lazy_gettext("Only members of these groups may use the editors"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )
    editor_users = TextAreaField(
        lazy_gettext("And these people (one username per line; the older setting, still honoured)"),
        validators=[Optional(), Length(max=20000)],
    )
    convert_on_upload = BooleanField(
        lazy_gettext(
            "Convert uploaded legacy and OpenDocument files (doc, odt, xls, ods, ppt, odp, …) to DOCX, XLSX "
            "or PPTX automatically; the upload stays beside the converted file"
        )
    )
    max_file_size_mb = IntegerField(
        lazy_gettext("Maximum file size (MB)"), validators=[DataRequired(), NumberRange(1, 4096)]
    )
    # Optional, so a post without them (an older page) keeps the stored values (see views._keep_stored).
    retention_mode = SelectField(
        lazy_gettext("Old versions to keep"),
        choices=[
            SelectChoice("all", lazy_gettext("All versions")),
            SelectChoice("last", lazy_gettext("The last N versions of each file")),
            SelectChoice("days", lazy_gettext("Versions younger than D days")),
        ],
        default="all",
        validate_choice=True,
    )
    retention_count = IntegerField(
        lazy_gettext("N: versions to keep per file"), validators=[Optional(), NumberRange(1, 100000)]
    )
    retention_days = IntegerField(
        lazy_gettext("D: days to keep versions"), validators=[Optional(), NumberRange(1, 36500)]
    )
    # Checkboxes: one per lossy-edit format of the formats table; none checked opens them all for viewing.
    lossy_edit_formats = SelectMultipleField(
        lazy_gettext("Open these formats for editing (saving may lose what the format cannot hold)"),
        choices=[SelectChoice(ext, f".{ext}") for ext in formats.LOSSY_EDITABLE],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )
    lossy_save = SelectField(
        lazy_gettext("When the editor returns such a file in Office Open XML"),
        choices=[
            SelectChoice(
                "convert",
                lazy_gettext("Convert it back to the file's own format (if that fails: a new OOXML file beside it)"),
            ),
            SelectChoice("keep", lazy_gettext("Keep it as a new OOXML file beside the original")),
        ],
        default="convert",
        validate_choice=True,
    )
    default_language = SelectField(
        lazy_gettext("Site language, for people whose profile and browser name none that Coedit speaks"),
        choices=[SelectChoice(code, name) for code, name in locales.language_choices()],
        default=locales.SOURCE_LANGUAGE,
        validate_choice=True,
    )
    webhooks_allow_http = BooleanField(lazy_gettext("Allow webhooks to plain http addresses (not only https)"))
    webhook_allowed_hosts = TextAreaField(
        lazy_gettext("Hosts and addresses webhooks may reach although they are local or private (one per line)"),
        validators=[Optional(), Length(max=5000)],
    )
    watermark_enabled = BooleanField(lazy_gettext("Show watermarks"))
    watermark_all_readers = BooleanField(
        lazy_gettext("For everyone who reads: opens a file to view, or may not edit it")
    )
    watermark_no_download = BooleanField(lazy_gettext("For readers of files whose downloads are off"))
    watermark_view_links = BooleanField(lazy_gettext("For guests on share links that do not let them edit"))
    # Checkboxes, one per group (choices set by the view).
    watermark_groups = SelectMultipleField(
        lazy_gettext("For members of these groups"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )
    watermark_editors = BooleanField(
        lazy_gettext("Also for people who edit, when a rule above applies to them (otherwise they never see one)")
    )
    watermark_text = StringField(
        lazy_gettext("Watermark text"),
        validators=[Length(max=watermarks.MAX_TEXT)],  # not Optional(): empty text is checked below
    )
    save_anyway = BooleanField(lazy_gettext("Save anyway, although the connection test failed"))
    submit = SubmitField(lazy_gettext("Save and test the connection"))

    def validate_site_name(self, field) -> None:
        if field.raw_data and not (field.data or "").strip():
            raise ValidationError(gettext("Enter the site's name."))

    def validate_watermark_text(self, field) -> None:
        unknown = watermarks.unknown_placeholders(field.data)
        if unknown:
            raise ValidationError(
                gettext(
                    "Unknown placeholder %(unknown)s; use %(known)s.",
                    unknown=", ".join(unknown),
                    known=", ".join(watermarks.PLACEHOLDERS),
                )
            )
        if self.watermark_enabled.data and not (field.data or "").strip():
            raise ValidationError(gettext("Enter the text of the watermark."))


class ForgottenForm(FlaskForm):
    """One forgotten file to recover or discard; the space is for a key whose file is gone."""

    key = HiddenField(
        validators=[
            DataRequired(),
            Length(max=128),
            Regexp(r"^[0-9A-Za-z._=-]+$", message=lazy_gettext("Not a document key.")),
        ]
    )
    space_id = IntegerField(lazy_gettext("Recover as a new file in"), validators=[Optional()])  # a <select> of spaces


class CreateUserForm(FlaskForm):
    """A new account; an empty password is generated and shown once."""

    username = StringField(lazy_gettext("Username"), validators=[DataRequired(), Length(max=64)], id="new-username")
    display_name = StringField(
        lazy_gettext("Display name"), validators=[Optional(), Length(max=128)], id="new-display-name"
    )
    email = StringField(lazy_gettext("E-mail"), validators=[Optional(), Length(max=254)], id="new-email")
    password = PasswordField(
        lazy_gettext("Initial password (empty: generate one)"),
        validators=[Optional(), Length(max=256)],
        id="new-password",
        render_kw={"autocomplete": "new-password"},
    )
    admin = BooleanField(lazy_gettext("Administrator"), id="new-admin")
    submit = SubmitField(lazy_gettext("Create account"), id="create-user")


class CreateBotForm(FlaskForm):
    """A bot account: no password; it works with the API tokens given on this page."""

    username = StringField(lazy_gettext("Username"), validators=[DataRequired(), Length(max=64)], id="bot-username")
    display_name = StringField(
        lazy_gettext("Display name"), validators=[Optional(), Length(max=128)], id="bot-display-name"
    )
    submit = SubmitField(lazy_gettext("Create bot"), id="create-bot")


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("New password (empty: generate one)"), validators=[Optional(), Length(max=256)]
    )


class AdminFlagForm(FlaskForm):
    admin = HiddenField(validators=[DataRequired()])  # "1" grants, "0" takes


class GroupForm(FlaskForm):
    name = StringField(lazy_gettext("Group name"), validators=[DataRequired(), Length(max=64)], id="group-name")
    submit = SubmitField(lazy_gettext("Create group"), id="create-group")


class GroupMemberForm(FlaskForm):
    username = StringField(lazy_gettext("Username"), validators=[DataRequired(), Length(max=64)])
