"""The people page: who has an account, and an administrator's switches over their access."""

import sqlalchemy as sa
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from app import transaction
from app.admin import bp
from app.extensions import db
from app.forms import ConfirmForm
from app.models import User
from app.security import admin_required
from app.services import accounts
from app.services import audit


@bp.route("/users")
@login_required
@admin_required
def users_page():
    people = db.session.scalars(sa.select(User).order_by(User.username_key)).all()
    return render_template("admin/users.html", people=people)


def _person(user_id: int) -> User:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>/disable", methods=("POST",))
@login_required
@admin_required
def disable_user(user_id: int):
    """Disable (sessions end, API tokens stop, no rights) or enable an account."""
    user = _person(user_id)
    if user.id == current_user.id:
        flash("You cannot disable your own account.", "warning")
        return redirect(url_for("admin.users_page"))
    accounts.set_disabled(user, user.is_active)
    transaction.commit()
    flash(f"{user.display_name} is {'enabled' if user.is_active else 'disabled and signed out everywhere'}.", "success")
    return redirect(url_for("admin.users_page"))


@bp.route("/users/<int:user_id>/sign-out", methods=("POST",))
@login_required
@admin_required
def sign_out_user(user_id: int):
    """End every session of an account (their API tokens stay)."""
    user = _person(user_id)
    ended = accounts.end_all_sessions(user)
    audit.record("admin.sessions_ended", **audit.user_object(user), details={"sessions": ended})
    transaction.commit()
    flash(f"{user.display_name} is signed out everywhere ({ended} session{'s' if ended != 1 else ''}).", "success")
    return redirect(url_for("admin.users_page"))
