"""Sign-in, password, profile and API token forms."""

from flask_babel import lazy_gettext
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
        lazy_gettext("Username"), validators=[DataRequired(), Length(max=64)], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        lazy_gettext("Password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    remember = BooleanField(lazy_gettext("Keep me signed in"))
    submit = SubmitField(lazy_gettext("Sign in"))


class PasswordForm(FlaskForm):
    current = PasswordField(
        lazy_gettext("Current password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    new = PasswordField(
        lazy_gettext("New password (at least %(PASSWORD_MIN)s characters)", PASSWORD_MIN=PASSWORD_MIN),
        validators=[DataRequired(), Length(min=PASSWORD_MIN, max=256)],
        render_kw={"autocomplete": "new-password"},
    )
    repeat = PasswordField(
        lazy_gettext("New password again"),
        validators=[DataRequired(), EqualTo("new", lazy_gettext("The two do not match."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(lazy_gettext("Change password"))


class ProfileForm(FlaskForm):
    """One's own name, address, language and time zone (choices set by the view)."""

    display_name = StringField(
        lazy_gettext("Display name"), validators=[DataRequired(), Length(max=128)], id="profile-name"
    )
    email = StringField(
        lazy_gettext("E-mail"),
        validators=[Length(max=254)],
        id="profile-email",
        render_kw={"autocomplete": "email", "type": "email"},
    )
    language = SelectField(lazy_gettext("Language"), choices=[], id="profile-language", validate_choice=False)
    timezone = SelectField(lazy_gettext("Time zone"), choices=[], id="profile-timezone", validate_choice=False)
    submit = SubmitField(lazy_gettext("Save profile"), id="save-profile")


class TokenForm(FlaskForm):
    name = StringField(lazy_gettext("Token name"), validators=[DataRequired(), Length(max=64)], id="token-name")
    submit = SubmitField(lazy_gettext("Create token"), id="create-token")
