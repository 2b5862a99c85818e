"""The settings form; the JWT secret is write-only."""

from urllib.parse import urlsplit

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
from app.services import settings

MIN_SECRET = 32


def http_url(form, field) -> None:
    """An absolute http(s) URL on a real host, with no credentials, query or fragment."""
    if not field.data:
        return
    parts = urlsplit(field.data.strip())
    if settings.http_origin(field.data) is None:
        raise ValidationError("Enter an address starting with http:// or https:// and a valid host name.")
    if parts.query or parts.fragment or " " in field.data.strip():
        raise ValidationError("The address must not contain a query, a fragment or spaces.")


class SettingsForm(FlaskForm):
    docs_url = StringField(
        "Document Server address (public, used by browsers)", validators=[Optional(), Length(max=500), http_url]
    )
    docs_internal_url = StringField(
        "Document Server address for requests from this server", validators=[Optional(), Length(max=500), http_url]
    )
    app_url_for_docs = StringField(
        "This site's address as seen by the Document Server", validators=[Optional(), Length(max=500), http_url]
    )
    jwt_secret = PasswordField(
        "JWT secret",
        validators=[
            Optional(),
            Length(min=MIN_SECRET, max=500, message=f"Use a secret of at least {MIN_SECRET} characters."),
        ],
    )
    jwt_header = StringField(
        "JWT header",
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(r"^[A-Za-z0-9-]+$", message="Letters, digits and dashes only."),
        ],
    )
    verify_tls = BooleanField("Verify TLS certificates of the Document Server")
    forcesave = BooleanField("Show a Save button that stores a version while editing (force-save)")
    keep_intermediate_versions = BooleanField(
        "Keep the versions saved while editing; otherwise fold them "
        "into the version stored when everyone has closed the document"
    )
    chat = BooleanField("Chat")
    comments = BooleanField("Comments")
    help = BooleanField("Help menu")
    feedback = BooleanField("Feedback and support button")
    compact_header = BooleanField("Compact header")
    coediting_mode = SelectField(
        "Default co-editing mode",
        choices=[
            SelectChoice("fast", "Fast: everyone sees changes as they are typed"),
            SelectChoice("strict", "Strict: changes are shown when saved"),
        ],
        default="fast",
    )
    coediting_change = BooleanField("People may switch the co-editing mode in the editor")
    # Checkboxes, one per group (choices set by the view); none checked and no usernames: everyone.
    editor_groups = SelectMultipleField(
        "Only members of these groups may use the editors",
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )
    editor_users = TextAreaField(
        "And these people (one username per line; the older setting, still honoured)",
        validators=[Optional(), Length(max=20000)],
    )
    convert_on_upload = BooleanField(
        "Convert uploaded legacy and OpenDocument files (doc, odt, xls, ods, ppt, odp, …) to DOCX, XLSX "
        "or PPTX automatically; the upload stays beside the converted file"
    )
    max_file_size_mb = IntegerField("Maximum file size (MB)", validators=[DataRequired(), NumberRange(1, 4096)])
    # Optional, so a post without them (an older page) keeps the stored values (see views._keep_stored).
    retention_mode = SelectField(
        "Old versions to keep",
        choices=[
            SelectChoice("all", "All versions"),
            SelectChoice("last", "The last N versions of each file"),
            SelectChoice("days", "Versions younger than D days"),
        ],
        default="all",
        validate_choice=True,
    )
    retention_count = IntegerField("N: versions to keep per file", validators=[Optional(), NumberRange(1, 100000)])
    retention_days = IntegerField("D: days to keep versions", validators=[Optional(), NumberRange(1, 36500)])
    # Checkboxes: one per lossy-edit format of the formats table; none checked opens them all for viewing.
    lossy_edit_formats = SelectMultipleField(
        "Open these formats for editing (saving may lose what the format cannot hold)",
        choices=[SelectChoice(ext, f".{ext}") for ext in formats.LOSSY_EDITABLE],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )
    lossy_save = SelectField(
        "When the editor returns such a file in Office Open XML",
        choices=[
            SelectChoice(
                "convert", "Convert it back to the file's own format (if that fails: a new OOXML file beside it)"
            ),
            SelectChoice("keep", "Keep it as a new OOXML file beside the original"),
        ],
        default="convert",
        validate_choice=True,
    )
    save_anyway = BooleanField("Save anyway, although the connection test failed")
    submit = SubmitField("Save and test the connection")


class ForgottenForm(FlaskForm):
    """One forgotten file to recover or discard; the space is for a key whose file is gone."""

    key = HiddenField(
        validators=[DataRequired(), Length(max=128), Regexp(r"^[0-9A-Za-z._=-]+$", message="Not a document key.")]
    )
    space_id = IntegerField("Recover as a new file in", validators=[Optional()])  # a <select> of spaces


class CreateUserForm(FlaskForm):
    """A new account; an empty password is generated and shown once."""

    username = StringField("Username", validators=[DataRequired(), Length(max=64)], id="new-username")
    display_name = StringField("Display name", validators=[Optional(), Length(max=128)], id="new-display-name")
    email = StringField("E-mail", validators=[Optional(), Length(max=254)], id="new-email")
    password = PasswordField(
        "Initial password (empty: generate one)",
        validators=[Optional(), Length(max=256)],
        id="new-password",
        render_kw={"autocomplete": "new-password"},
    )
    admin = BooleanField("Administrator", id="new-admin")
    submit = SubmitField("Create account", id="create-user")


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password (empty: generate one)", validators=[Optional(), Length(max=256)])


class AdminFlagForm(FlaskForm):
    admin = HiddenField(validators=[DataRequired()])  # "1" grants, "0" takes


class GroupForm(FlaskForm):
    name = StringField("Group name", validators=[DataRequired(), Length(max=64)], id="group-name")
    submit = SubmitField("Create group", id="create-group")


class GroupMemberForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
