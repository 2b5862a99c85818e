"""Forms of the file page: rename, new version, access rights, comments and share links."""

from datetime import date
from datetime import datetime
from datetime import timezone

from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from wtforms import BooleanField
from wtforms import DateField
from wtforms import FieldList
from wtforms import Form
from wtforms import FormField
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import ValidationError

from app.services.rights import LEVEL_LABELS
from app.services.share_links import PASSWORD_MAX
from app.services.share_links import PASSWORD_MIN

LEVEL_CHOICES = [SelectChoice(value, label) for value, label in LEVEL_LABELS.items()]


class RenameForm(FlaskForm):
    title = StringField(lazy_gettext("New name"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(lazy_gettext("Rename"))


class VersionUploadForm(FlaskForm):
    file = FileField(lazy_gettext("New version from disk"), validators=[FileRequired()])
    submit = SubmitField(lazy_gettext("Upload new version"))


class PersonLevelForm(Form):
    """One member's own level; empty follows the file's default. The username may be left empty in
    the dialog's "someone else" row of a large space (nothing changes then)."""

    username = HiddenField(validators=[Length(max=64)])
    level = SelectField(lazy_gettext("Access"), choices=[SelectChoice("", lazy_gettext("Default"))] + LEVEL_CHOICES)


class RightsForm(FlaskForm):
    """The Change access rights dialog: the default for members, each member's own level, reader downloads."""

    default = SelectField(lazy_gettext("Space members"), choices=LEVEL_CHOICES)
    people = FieldList(FormField(PersonLevelForm), max_entries=10_000)
    allow_download = BooleanField(lazy_gettext("Readers may download, print and copy"))
    submit = SubmitField(lazy_gettext("Save access rights"))


class CommentForm(FlaskForm):
    body = TextAreaField(lazy_gettext("Comment"), validators=[DataRequired(), Length(max=5000)])
    submit = SubmitField(lazy_gettext("Comment"))


class LinkForm(FlaskForm):
    """Create a share link."""

    mode = SelectField(
        lazy_gettext("Access"),
        choices=[SelectChoice("view", lazy_gettext("Can view")), SelectChoice("edit", lazy_gettext("Can edit"))],
        default="view",
    )
    expires_on = DateField(lazy_gettext("Valid until (optional)"), validators=[Optional()])
    link_password = PasswordField(
        lazy_gettext("Password (optional)"),
        validators=[Optional(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(lazy_gettext("Create link"))

    def validate_expires_on(self, field) -> None:
        if field.data is not None and field.data < datetime.now(timezone.utc).date():
            raise ValidationError(gettext("The date must not be in the past."))


def end_of_day(day: date) -> datetime:
    """The moment a link valid until ``day`` stops working: the end of that day, UTC."""
    return datetime.combine(day, datetime.max.time(), tzinfo=timezone.utc).replace(microsecond=0)


class ConvertForm(FlaskForm):
    """Convert to DOCX/XLSX/PPTX (or a PDF form): the target, and the file's password when Docs
    said it needs one (the conversion API's error -5)."""

    target = HiddenField()
    password = PasswordField(lazy_gettext("Password of the file"), validators=[Optional(), Length(max=255)])
    submit = SubmitField(lazy_gettext("Convert"))


class PlaceForm(FlaskForm):
    """Where a file is moved or copied to: "<space id>" or "<space id>:<folder id>"."""

    target = SelectField(lazy_gettext("Destination"), choices=[], validate_choice=False, id="place-target")
    move = SubmitField(lazy_gettext("Move"), id="place-move")
    copy = SubmitField(lazy_gettext("Copy"), id="place-copy")
