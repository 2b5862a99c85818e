"""The people page: who has an account, and an administrator's switches over their access;
creating accounts, resetting passwords, administrators, and groups."""

import sqlalchemy as sa
from flask import abort
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from flask_login import login_required

from app import pagination
from app import transaction
from app.admin import bp
from app.admin.forms import AdminFlagForm
from app.admin.forms import CreateBotForm
from app.admin.forms import CreateUserForm
from app.admin.forms import GroupForm
from app.admin.forms import GroupMemberForm
from app.admin.forms import ResetPasswordForm
from app.auth.forms import TokenForm
from app.extensions import db
from app.forms import ConfirmForm
from app.models import User
from app.security import admin_required
from app.services import accounts
from app.services import audit
from app.services import groups
from app.services.exceptions import BadRequestError


def _page(
    create_form: CreateUserForm | None = None,
    group_form: GroupForm | None = None,
    secret=None,
    bot_form: CreateBotForm | None = None,
    bot_token=None,
):
    """The page; ``secret`` is (whose, password) to show once after a generated password,
    ``bot_token`` (which bot, token) a bot's new API token, likewise once."""
    people = pagination.of_select(
        sa.select(User).order_by(User.username_key),
        *pagination.requested(),
        anchor="people",
        endpoint="admin.users_page",
    )
    all_groups = groups.all_groups()
    members = groups.members_of_all(all_groups)
    response = make_response(
        render_template(
            "admin/users.html",
            people=people.items,
            people_page=people,
            groups=[(group, members[group.id]) for group in all_groups],
            editor_groups=groups.editor_group_ids(),
            create_form=create_form or CreateUserForm(formdata=None),
            group_form=group_form or GroupForm(formdata=None),
            secret=secret,
            bot_form=bot_form or CreateBotForm(formdata=None),
            bot_token=bot_token,
            bot_tokens={person.id: accounts.tokens_of(person) for person in people.items if person.is_bot},
        )
    )
    if secret or bot_token:
        response.headers["Cache-Control"] = "no-store"  # the password is on this page only
    return response


def _back(anchor: str = ""):
    return redirect(url_for("admin.users_page") + anchor)


@bp.route("/users")
@login_required
@admin_required
def users_page():
    return _page()


@bp.route("/users/new", methods=("POST",))
@login_required
@admin_required
def create_user():
    """Create an account; a generated password is shown on this one answer and nowhere else."""
    form = CreateUserForm()
    if not form.validate_on_submit():
        flash(gettext("Please correct the marked fields."), "danger")
        return _page(create_form=form)
    try:
        user, generated = accounts.create_user(
            form.username.data, form.display_name.data, form.email.data, form.password.data, form.admin.data
        )
    except BadRequestError as exc:
        flash(exc.message, "danger")
        return _page(create_form=form)
    transaction.commit()
    flash(f"{user.display_name} can sign in as {user.username}.", "success")
    if generated:
        return _page(secret=(user, generated))
    return _back()


@bp.route("/users/bots", methods=("POST",))
@login_required
@admin_required
def create_bot():
    """Create a bot account (no password); give it spaces as any member, and an API token here."""
    form = CreateBotForm()
    if not form.validate_on_submit():
        flash(gettext("Please correct the marked fields."), "danger")
        return _page(bot_form=form)
    try:
        bot = accounts.create_bot(form.username.data, form.display_name.data)
    except BadRequestError as exc:
        form.username.errors = [exc.message]
        return _page(bot_form=form)
    transaction.commit()
    flash(gettext("Bot %(username)s created; give it an API token below.", username=bot.username), "success")
    return _back(f"#bot-{bot.id}")


def _bot(user_id: int, form_class=ConfirmForm):
    user, form = _person(user_id, form_class)
    if not user.is_bot:
        abort(404)
    return user, form


@bp.route("/users/<int:user_id>/tokens", methods=("POST",))
@login_required
@admin_required
def create_bot_token(user_id: int):
    """A new API token for a bot, shown on this one answer only."""
    bot, form = _bot(user_id, TokenForm)
    try:
        _, plain = accounts.create_token(bot, form.name.data, actor=current_user)
    except BadRequestError as exc:
        flash(exc.message, "danger")
        return _back(f"#bot-{bot.id}")
    transaction.commit()
    return _page(bot_token=(bot, plain))


@bp.route("/users/<int:user_id>/tokens/<int:token_id>/revoke", methods=("POST",))
@login_required
@admin_required
def revoke_bot_token(user_id: int, token_id: int):
    bot, _ = _bot(user_id)
    if not accounts.revoke_token(bot, token_id, actor=current_user):
        abort(404)
    transaction.commit()
    flash(gettext("The token is revoked."), "success")
    return _back(f"#bot-{bot.id}")


def _person(user_id: int, form_class=ConfirmForm):
    form = form_class()
    if not form.validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user, form


@bp.route("/users/<int:user_id>/disable", methods=("POST",))
@login_required
@admin_required
def disable_user(user_id: int):
    """Disable (sessions end, API tokens stop, no rights) or enable an account."""
    user, _ = _person(user_id)
    if user.id == current_user.id:
        flash(gettext("You cannot disable your own account."), "warning")
        return _back()
    accounts.set_disabled(user, user.is_active)
    transaction.commit()
    flash(f"{user.display_name} is {'enabled' if user.is_active else 'disabled and signed out everywhere'}.", "success")
    return _back()


@bp.route("/users/<int:user_id>/sign-out", methods=("POST",))
@login_required
@admin_required
def sign_out_user(user_id: int):
    """End every session of an account (their API tokens stay)."""
    user, _ = _person(user_id)
    ended = accounts.end_all_sessions(user)
    audit.record("admin.sessions_ended", **audit.user_object(user), details={"sessions": ended})
    transaction.commit()
    flash(f"{user.display_name} is signed out everywhere ({ended} session{'s' if ended != 1 else ''}).", "success")
    return _back()


@bp.route("/users/<int:user_id>/password", methods=("POST",))
@login_required
@admin_required
def reset_password(user_id: int):
    """Set a new password (given, or generated and shown once); every session of the account ends."""
    user, form = _person(user_id, ResetPasswordForm)
    keep = current_user.session_token if user.id == current_user.id else None
    try:
        generated = accounts.reset_password(user, form.password.data, keep_session=keep)
    except BadRequestError as exc:
        flash(exc.message, "danger")
        return _back()
    transaction.commit()
    flash(f"{user.display_name} has a new password and is signed out everywhere.", "success")
    if generated:
        return _page(secret=(user, generated))
    return _back()


@bp.route("/users/<int:user_id>/admin", methods=("POST",))
@login_required
@admin_required
def set_admin(user_id: int):
    """Grant or take administration (never from oneself, never from the last administrator)."""
    user, form = _person(user_id, AdminFlagForm)
    grant = form.admin.data == "1"
    try:
        changed = accounts.set_admin(user, grant, current_user)
    except BadRequestError as exc:
        flash(exc.message, "warning")
        return _back()
    transaction.commit()
    if changed:
        flash(f"{user.display_name} is {'now' if grant else 'no longer'} an administrator.", "success")
    return _back()


# --- groups ---------------------------------------------------------------------------------


@bp.route("/groups", methods=("POST",))
@login_required
@admin_required
def create_group():
    form = GroupForm()
    if form.validate_on_submit():
        try:
            group = groups.create(form.name.data)
        except BadRequestError as exc:
            form.name.errors.append(exc.message)
        else:
            transaction.commit()
            flash(gettext("Group %(name)s created.", name=group.name), "success")
            return _back(f"#group-{group.id}")
    flash(gettext("Please correct the marked fields."), "danger")
    return _page(group_form=form)


def _group(group_id: int, form_class=ConfirmForm):
    form = form_class()
    if not form.validate_on_submit():
        abort(400)
    group = groups.get(group_id)
    if group is None:
        abort(404)
    return group, form


@bp.route("/groups/<int:group_id>/rename", methods=("POST",))
@login_required
@admin_required
def rename_group(group_id: int):
    group, form = _group(group_id, GroupForm)
    try:
        groups.rename(group, form.name.data)
    except BadRequestError as exc:
        flash(exc.message, "danger")
    else:
        transaction.commit()
        flash(gettext("The group is now called %(name)s.", name=group.name), "success")
    return _back(f"#group-{group.id}")


@bp.route("/groups/<int:group_id>/delete", methods=("POST",))
@login_required
@admin_required
def delete_group(group_id: int):
    group, _ = _group(group_id)
    name = group.name
    try:
        groups.delete(group)
    except BadRequestError as exc:
        flash(exc.message, "warning")
        return _back(f"#group-{group.id}")
    transaction.commit()
    flash(gettext("Group %(name)s deleted; its members keep their accounts and spaces.", name=name), "success")
    return _back("#groups")


@bp.route("/groups/<int:group_id>/members", methods=("POST",))
@login_required
@admin_required
def add_group_member(group_id: int):
    group, form = _group(group_id, GroupMemberForm)
    user = accounts.find(form.username.data)
    if user is None:
        flash(gettext("There is no user with that username."), "danger")
    elif groups.add_member(group, user):
        transaction.commit()
        flash(f"{user.display_name} is in {group.name} now.", "success")
    else:
        flash(f"{user.display_name} is in {group.name} already.", "info")
    return _back(f"#group-{group.id}")


@bp.route("/groups/<int:group_id>/members/<int:user_id>/remove", methods=("POST",))
@login_required
@admin_required
def remove_group_member(group_id: int, user_id: int):
    group, _ = _group(group_id)
    user = db.session.get(User, user_id)
    if user is None or not groups.remove_member(group, user):
        abort(404)
    transaction.commit()
    flash(f"{user.display_name} is no longer in {group.name}.", "success")
    return _back(f"#group-{group.id}")
