"""Forms shared by several blueprints."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from markupsafe import Markup
from wtforms import StringField
from wtforms import SubmitField
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.widgets import HiddenInput


class ConfirmForm(FlaskForm):
    """Only a CSRF token and a button: for POST actions such as delete or sign out."""

    submit = SubmitField(lazy_gettext("Confirm"))


class TemplateForm(FlaskForm):
    """A document template for "Create document": the site's (admin settings) or a space's."""

    name = StringField(lazy_gettext("Name in the menu"), validators=[Optional(), Length(max=128)], id="template-name")
    file = FileField(lazy_gettext("Template file"), validators=[FileRequired()], id="template-file")
    submit = SubmitField(lazy_gettext("Add template"), id="template-submit")


def _hidden_tag_without_ids(self, *fields):
    """Flask-WTF's hidden_tag, without ids: a page holding several forms would repeat `csrf_token`
    and `folder` as ids, and nothing refers to a hidden input by its id."""
    chosen = fields or self
    hidden = []
    for f in chosen:
        if isinstance(f, str):
            f = getattr(self, f, None)
        if f is not None and isinstance(f.widget, HiddenInput):
            hidden.append(f(id=False))
    return Markup("\n".join(str(h) for h in hidden))


FlaskForm.hidden_tag = _hidden_tag_without_ids
