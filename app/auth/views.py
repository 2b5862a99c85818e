"""Sign in (following ``next`` only to local pages) and sign out."""

import sqlalchemy as sa
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user

from app.auth import bp
from app.auth.forms import LoginForm
from app.extensions import db
from app.forms import ConfirmForm
from app.models import User
from app.security import is_safe_next_url


@bp.route("/login", methods=("GET", "POST"))
def login():
    """Show the sign-in form; on success go to ``next`` if it is a local page."""
    if current_user.is_authenticated:
        return redirect(url_for("spaces.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(sa.select(User).where(User.username == form.username.data.strip()))
        if user is None or not user.check_password(form.password.data):
            flash("Unknown username or wrong password.", "danger")
        else:
            login_user(user, remember=form.remember.data)
            target = request.args.get("next")
            return redirect(target if is_safe_next_url(target) else url_for("spaces.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=("POST",))
@login_required
def logout():
    """Sign out (POST with CSRF, so no page can sign a person out)."""
    if ConfirmForm().validate_on_submit():
        logout_user()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
