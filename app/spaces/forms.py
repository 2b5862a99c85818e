"""Forms of the space pages."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from wtforms import HiddenField
from wtforms import SelectField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import Length

from app.services.formats import CREATABLE
from app.services.rights import LEVEL_LABELS


class SpaceForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=128)])
    submit = SubmitField("Create space")


class MemberForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    role = SelectField(
        "Role", choices=[SelectChoice("member", "Member"), SelectChoice("admin", "Space admin")], default="member"
    )
    submit = SubmitField("Add member")


class GroupMemberForm(FlaskForm):
    """Every member of a group at once (choices set by the view)."""

    group = SelectField("Group", choices=[], id="add-group", validate_choice=False)
    role = SelectField(
        "Their role",
        choices=[SelectChoice("member", "Member"), SelectChoice("admin", "Space admin")],
        default="member",
        id="add-group-role",
    )
    submit = SubmitField("Add the group", id="add-group-submit")


class PostForm(FlaskForm):
    body = TextAreaField("Share something with the space", validators=[DataRequired(), Length(max=5000)])
    submit = SubmitField("Post")


class FolderForm(FlaskForm):
    name = StringField("Folder name", validators=[DataRequired(), Length(max=200)])
    folder = HiddenField()
    submit = SubmitField("Create folder")


class UploadForm(FlaskForm):
    file = FileField("File", validators=[FileRequired()])
    folder = HiddenField()
    submit = SubmitField("Upload")


class CreateDocumentForm(FlaskForm):
    kind = SelectField("Type", choices=[SelectChoice(ext, label) for label, ext in CREATABLE])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    folder = HiddenField()
    submit = SubmitField("Create and open")


class SpaceSettingsForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=128)], id="space-name")
    description = TextAreaField("Description", validators=[Length(max=5000)], id="space-description")
    submit = SubmitField("Save", id="space-save")


class RenameFolderForm(FlaskForm):
    name = StringField("New name", validators=[DataRequired(), Length(max=200)], id="folder-new-name")
    submit = SubmitField("Rename", id="folder-rename-submit")


class SpaceDefaultForm(FlaskForm):
    """What members may do with the space's new files (the space's admins choose)."""

    default_level = SelectField(
        "Members' access to new files",
        choices=[SelectChoice(value, label) for value, label in LEVEL_LABELS.items()],
    )
    submit = SubmitField("Save default")
