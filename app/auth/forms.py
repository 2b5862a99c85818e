"""Sign-in, password, profile and API token forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import StringField
from wtforms import SubmitField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length

from app.services.accounts import PASSWORD_MIN


class LoginForm(FlaskForm):
    username = StringField(
        "Username", validators=[DataRequired(), Length(max=64)], render_kw={"autocomplete": "username"}
    )
    password = PasswordField("Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Keep me signed in")
    submit = SubmitField("Sign in")


class PasswordForm(FlaskForm):
    current = PasswordField(
        "Current password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    new = PasswordField(
        f"New password (at least {PASSWORD_MIN} characters)",
        validators=[DataRequired(), Length(min=PASSWORD_MIN, max=256)],
        render_kw={"autocomplete": "new-password"},
    )
    repeat = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new", "The two do not match.")],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Change password")


class ProfileForm(FlaskForm):
    """One's own name, address, language and time zone (choices set by the view)."""

    display_name = StringField("Display name", validators=[DataRequired(), Length(max=128)], id="profile-name")
    email = StringField(
        "E-mail", validators=[Length(max=254)], id="profile-email", render_kw={"autocomplete": "email", "type": "email"}
    )
    language = SelectField("Language", choices=[], id="profile-language", validate_choice=False)
    timezone = SelectField("Time zone", choices=[], id="profile-timezone", validate_choice=False)
    submit = SubmitField("Save profile", id="save-profile")


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=64)], id="token-name")
    submit = SubmitField("Create token", id="create-token")
