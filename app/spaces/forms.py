"""Forms of the space pages."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from wtforms import HiddenField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from app.services.formats import CREATABLE
from app.services.rights import LEVEL_LABELS


class SpaceForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=128)])
    submit = SubmitField(lazy_gettext("Create space"))


class MemberForm(FlaskForm):
    username = StringField(lazy_gettext("Username"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(
        lazy_gettext("Role"),
        choices=[SelectChoice("member", lazy_gettext("Member")), SelectChoice("admin", lazy_gettext("Space admin"))],
        default="member",
    )
    submit = SubmitField(lazy_gettext("Add member"))


class GroupMemberForm(FlaskForm):
    """Every member of a group at once (choices set by the view)."""

    group = SelectField(lazy_gettext("Group"), choices=[], id="add-group", validate_choice=False)
    role = SelectField(
        lazy_gettext("Their role"),
        choices=[SelectChoice("member", lazy_gettext("Member")), SelectChoice("admin", lazy_gettext("Space admin"))],
        default="member",
        id="add-group-role",
    )
    submit = SubmitField(lazy_gettext("Add the group"), id="add-group-submit")


class PostForm(FlaskForm):
    body = TextAreaField(lazy_gettext("Share something with the space"), validators=[DataRequired(), Length(max=5000)])
    submit = SubmitField(lazy_gettext("Post"))


class FolderForm(FlaskForm):
    name = StringField(lazy_gettext("Folder name"), validators=[DataRequired(), Length(max=200)])
    folder = HiddenField()
    submit = SubmitField(lazy_gettext("Create folder"))


class UploadForm(FlaskForm):
    file = FileField(lazy_gettext("File"), validators=[FileRequired()])
    folder = HiddenField()
    submit = SubmitField(lazy_gettext("Upload"))


class CreateDocumentForm(FlaskForm):
    kind = SelectField(lazy_gettext("Type"), choices=[SelectChoice(ext, label) for label, ext in CREATABLE])
    # Empty: the type's name in the person's language ("Neues Dokument").
    name = StringField(lazy_gettext("Name"), validators=[Optional(), Length(max=200)])
    # Blank (empty) or the id of a template of the site or the space: the view sets the choices,
    # and the service checks the one posted (templates.usable_in).
    template = SelectField(lazy_gettext("Start from"), choices=[], validate_choice=False)
    folder = HiddenField()
    submit = SubmitField(lazy_gettext("Create and open"))


class SpaceSettingsForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=128)], id="space-name")
    description = TextAreaField(lazy_gettext("Description"), validators=[Length(max=5000)], id="space-description")
    submit = SubmitField(lazy_gettext("Save"), id="space-save")


class IncomingHookForm(FlaskForm):
    name = StringField(
        lazy_gettext("Name of the integration"), validators=[DataRequired(), Length(max=64)], id="hook-name"
    )
    default_username = StringField(
        lazy_gettext("Sender shown when a message names none (optional)"),
        validators=[Optional(), Length(max=64)],
        id="hook-username",
    )
    submit = SubmitField(lazy_gettext("Create webhook"), id="hook-create")


class RenameFolderForm(FlaskForm):
    name = StringField(lazy_gettext("New name"), validators=[DataRequired(), Length(max=200)], id="folder-new-name")
    submit = SubmitField(lazy_gettext("Rename"), id="folder-rename-submit")


class SpaceDefaultForm(FlaskForm):
    """What members may do with the space's new files (the space's admins choose)."""

    default_level = SelectField(
        lazy_gettext("Members' access to new files"),
        choices=[SelectChoice(value, label) for value, label in LEVEL_LABELS.items()],
    )
    submit = SubmitField(lazy_gettext("Save default"))


class WebhookForm(FlaskForm):
    """A new outgoing webhook of the space (the URL is checked by services/outbound.py on save)."""

    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=128)], id="webhook-name")
    url = StringField(
        lazy_gettext("URL to call"),
        validators=[DataRequired(), Length(max=2048)],
        id="webhook-url",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    format = SelectField(
        lazy_gettext("Format"),
        choices=[
            SelectChoice("slack", lazy_gettext("Slack / Mattermost (incoming webhook)")),
            SelectChoice("generic", lazy_gettext("Generic JSON, signed")),
        ],
        id="webhook-format",
    )
    events = SelectMultipleField(
        lazy_gettext("Events"),
        choices=[],  # webhooks.EVENTS, set by the view
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
        id="webhook-events",
    )
    username = StringField(
        lazy_gettext("Name shown in the chat (optional)"),
        validators=[Optional(), Length(max=64)],
        id="webhook-username",
    )
    icon_url = StringField(
        lazy_gettext("Icon URL shown in the chat (optional)"),
        validators=[Optional(), Length(max=2048)],
        id="webhook-icon-url",
    )
    submit = SubmitField(lazy_gettext("Add webhook"), id="webhook-add")
