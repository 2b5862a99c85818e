"""Sign in (following ``next`` only to local pages), sign out, and one's own account page."""

from flask import abort
from flask import flash
from flask import g
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext
from flask_babel import refresh
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user

from app import limits
from app import transaction
from app.auth import bp
from app.auth.forms import LoginForm
from app.auth.forms import PasswordForm
from app.auth.forms import ProfileForm
from app.auth.forms import TokenForm
from app.forms import ConfirmForm
from app.security import is_safe_next_url
from app.services import accounts
from app.services import audit
from app.services.exceptions import BadRequestError


@bp.route("/login", methods=("GET", "POST"))
@limits.sign_in
def login():
    """Show the sign-in form; on success go to ``next`` if it is a local page."""
    if current_user.is_authenticated:
        return redirect(url_for("spaces.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is None:
            g.sign_in_failed = True  # counted by the sign-in rate limits
            accounts.record_failed_sign_in(form.username.data)
            flash(gettext("Unknown username or wrong password."), "danger")
            return render_template("auth/login.html", form=form)
        accounts.start_session(user, form.remember.data, request.headers.get("User-Agent", ""), request.remote_addr)
        transaction.commit()
        login_user(user, remember=form.remember.data)
        target = request.args.get("next")
        return redirect(target if is_safe_next_url(target) else url_for("spaces.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=("POST",))
@login_required
def logout():
    """Sign out (POST with CSRF, so no page can sign a person out): this session ends on the server,
    so a copy of its cookies no longer works; share-link passes go with it."""
    if ConfirmForm().validate_on_submit():
        accounts.end_session(current_user.session_token)
        audit.record("auth.signed_out")
        transaction.commit()
        logout_user()
        session.clear()
        flash(gettext("You are signed out."), "info")
    return redirect(url_for("auth.login"))


def _account_page(form=None, profile=None, token_form=None, new_token=None):
    """The account page; ``new_token`` is a token just made, shown on this one answer only."""
    if profile is None:
        profile = ProfileForm(
            formdata=None,
            data={
                "display_name": current_user.display_name,
                "email": current_user.email or "",
                "language": current_user.language,
                "timezone": current_user.timezone,
            },
        )
    profile.language.choices = [("", gettext("Site default"))] + list(accounts.LANGUAGES)
    profile.timezone.choices = [("", gettext("Your browser's time zone"))] + [(z, z) for z in accounts.timezones()]
    response = make_response(
        render_template(
            "auth/account.html",
            form=form or PasswordForm(formdata=None),
            profile=profile,
            token_form=token_form or TokenForm(formdata=None),
            new_token=new_token,
            tokens=accounts.tokens_of(current_user),
            sessions=accounts.sessions_of(current_user),
            current_hash=accounts.session_hash(current_user.session_token),
        )
    )
    if new_token:
        response.headers["Cache-Control"] = "no-store"  # the token is on this page only
    return response


@bp.route("/account", methods=("GET", "POST"))
@login_required
def account():
    """One's profile and API tokens; change one's password (every other session ends) and see or
    end one's sessions."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current.data, form.new.data, current_user.session_token)
        except BadRequestError as exc:
            form.current.errors.append(exc.message)
        else:
            transaction.commit()
            flash(gettext("Password changed. You were signed out everywhere else."), "success")
            return redirect(url_for("auth.account"))
    return _account_page(form=form if request.method == "POST" else None)


@bp.route("/account/profile", methods=("POST",))
@login_required
def update_profile():
    """Save one's display name, e-mail, language and time zone."""
    profile = ProfileForm()
    if profile.validate_on_submit():
        try:
            accounts.update_profile(
                current_user,
                profile.display_name.data,
                profile.email.data,
                profile.language.data,
                profile.timezone.data,
            )
        except BadRequestError as exc:
            flash(exc.message, "danger")
        else:
            transaction.commit()
            refresh()  # this answer already speaks the language just chosen
            flash(gettext("Profile saved."), "success")
            return redirect(url_for("auth.account"))
    else:
        flash(gettext("Please correct the marked fields."), "danger")
    return _account_page(profile=profile)


@bp.route("/account/tokens", methods=("POST",))
@login_required
def create_token():
    """Make a personal API token; the token is shown on this answer and never again."""
    token_form = TokenForm()
    if token_form.validate_on_submit():
        try:
            token, plain = accounts.create_token(current_user, token_form.name.data)
        except BadRequestError as exc:
            token_form.name.errors.append(exc.message)
        else:
            transaction.commit()
            return _account_page(new_token=(token, plain))
    return _account_page(token_form=token_form)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=("POST",))
@login_required
def revoke_token(token_id: int):
    """Delete one of one's API tokens: calls made with it are refused from now on."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not accounts.revoke_token(current_user, token_id):
        abort(404)
    transaction.commit()
    flash(gettext("The token is revoked."), "success")
    return redirect(url_for("auth.account") + "#tokens")


@bp.route("/account/sign-out-everywhere", methods=("POST",))
@login_required
def sign_out_everywhere():
    """End every session of this account, this one included."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    accounts.end_all_sessions(current_user)
    audit.record("auth.signed_out_everywhere")
    transaction.commit()
    logout_user()
    session.clear()
    flash(gettext("You are signed out everywhere."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/sessions/<int:session_id>/end", methods=("POST",))
@login_required
def end_session(session_id: int):
    """End one of one's own sessions (another browser or device)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not accounts.end_session_by_id(current_user, session_id):
        abort(404)
    transaction.commit()
    flash(gettext("That session is signed out."), "success")
    return redirect(url_for("auth.account"))
