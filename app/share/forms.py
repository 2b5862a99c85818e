"""What a guest fills in on a share link's landing page."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms import StringField
from wtforms import SubmitField
from wtforms.validators import DataRequired
from wtforms.validators import Length

from app.services.share_links import NAME_MAX


class GuestForm(FlaskForm):
    """The landing page of a link without a password: only the name to show in the editor."""

    name = StringField(
        lazy_gettext("Your name"),
        validators=[DataRequired(lazy_gettext("Please enter a name.")), Length(max=NAME_MAX)],
        render_kw={"autocomplete": "name", "maxlength": NAME_MAX},
    )
    submit = SubmitField(lazy_gettext("Open the document"))


class GuestPasswordForm(GuestForm):
    """The landing page of a link with a password."""

    password = PasswordField(
        lazy_gettext("Password of the link"),
        validators=[DataRequired(lazy_gettext("Please enter the password."))],
        render_kw={"autocomplete": "off"},
    )
