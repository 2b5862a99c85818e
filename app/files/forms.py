"""Forms of the file page."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from wtforms import BooleanField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms import SubmitField
from wtforms.validators import DataRequired
from wtforms.validators import Length


class RenameForm(FlaskForm):
    title = StringField("New name", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Rename")


class VersionUploadForm(FlaskForm):
    file = FileField("New version from disk", validators=[FileRequired()])
    submit = SubmitField("Upload new version")


LEVEL_CHOICES = [SelectChoice("edit", "Edit"), SelectChoice("review", "Review (track changes)"),
                 SelectChoice("comment", "Comment"), SelectChoice("fill", "Fill in forms"),
                 SelectChoice("read", "Read"), SelectChoice("none", "No access")]


class RightsForm(FlaskForm):
    """The default level and reader downloads; per-person levels come as user-<name> fields."""

    default = SelectField("Space members", choices=LEVEL_CHOICES)
    allow_download = BooleanField("Readers may download, print and copy")
    submit = SubmitField("Save access rights")


class CommentForm(FlaskForm):
    body = TextAreaField("Comment", validators=[DataRequired(), Length(max=5000)])
    submit = SubmitField("Comment")
