"""Forms shared by several blueprints."""

from flask_wtf import FlaskForm
from wtforms import SubmitField


class ConfirmForm(FlaskForm):
    """Only a CSRF token and a button: for POST actions such as delete or sign out."""

    submit = SubmitField("Confirm")
