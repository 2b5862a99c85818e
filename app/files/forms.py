"""Forms of the file page."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from wtforms import StringField
from wtforms import SubmitField
from wtforms.validators import DataRequired
from wtforms.validators import Length


class RenameForm(FlaskForm):
    title = StringField("New name", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Rename")


class VersionUploadForm(FlaskForm):
    file = FileField("New version from disk", validators=[FileRequired()])
    submit = SubmitField("Upload new version")
