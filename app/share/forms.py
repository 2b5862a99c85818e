"""Forms of share links: what a guest fills in, and what a file's manager creates."""

from datetime import date
from datetime import datetime
from datetime import timezone

from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import StringField
from wtforms import SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import ValidationError

from app.services.share_links import NAME_MAX
from app.services.share_links import PASSWORD_MAX
from app.services.share_links import PASSWORD_MIN


class GuestForm(FlaskForm):
    """The landing page of a link without a password: only the name to show in the editor."""

    name = StringField("Your name", validators=[DataRequired("Please enter a name."), Length(max=NAME_MAX)],
                       render_kw={"autocomplete": "name", "maxlength": NAME_MAX})
    submit = SubmitField("Open the document")


class GuestPasswordForm(GuestForm):
    """The landing page of a link with a password."""

    password = PasswordField("Password of the link", validators=[DataRequired("Please enter the password.")],
                             render_kw={"autocomplete": "off"})


class LinkForm(FlaskForm):
    """Create a share link (file page)."""

    mode = SelectField("Access", choices=[SelectChoice("view", "Can view"), SelectChoice("edit", "Can edit")],
                       default="view")
    expires_on = DateField("Valid until (optional)", validators=[Optional()])
    link_password = PasswordField("Password (optional)", validators=[Optional(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)],
                                  render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Create link")

    def validate_expires_on(self, field) -> None:
        if field.data is not None and field.data < datetime.now(timezone.utc).date():
            raise ValidationError("The date must not be in the past.")


def end_of_day(day: date) -> datetime:
    """The moment a link valid until ``day`` stops working: the end of that day, UTC."""
    return datetime.combine(day, datetime.max.time(), tzinfo=timezone.utc).replace(microsecond=0)
