"""The editor page for a file, and the requests its editor makes (mentions, history, rename, save as,
other files to insert, compare or link)."""

import json

import sqlalchemy as sa
from flask import abort
from flask import jsonify
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from flask_login import login_required

from app import limits
from app import transaction
from app.editor import bp
from app.extensions import db
from app.models import Membership
from app.models import User
from app.pages import render_editor_page
from app.services import files as file_service
from app.services import notifications
from app.services import rights
from app.services import settings
from app.services.docs import editor_config
from app.services.docs import history
from app.services.docs import picks
from app.services.exceptions import ForbiddenError
from app.services.exceptions import SaveFailedError
from app.services.exceptions import SaveRejectedError
from app.services.locales import translatable


@bp.route("/files/<int:file_id>/open")
@login_required
def page(file_id: int):
    """The editor page; ``mode=view`` opens the viewer even for editors.

    :raise 404: the user may not read the file.
    """
    user = current_user._get_current_object()  # one look-up, not one per use
    file, level = rights.file_row_or_404(file_id, user)  # the page only reads the file
    try:
        config = editor_config.open_for(
            file,
            user,
            level,
            request.args.get("mode", "edit"),
            request.headers.get("User-Agent", ""),
            parse_action_link(request.args.get("action")),
        )
    except editor_config.EditorUnavailableError as exc:
        return render_template(
            "editor/unavailable.html", file=file, reason=exc.reason, missing=settings.missing_docs_settings()
        ), exc.http_status
    return render_editor_page(
        file,
        config,
        url_for("spaces.show", space_id=file.space_id),
        file.space_name,
        mentions=True,
        can_restore=rights.at_least(level, "edit"),
        can_rename=rights.can_manage_file(file, user),
    )


def parse_action_link(raw: str | None) -> dict | None:
    """A comment or bookmark anchor from ?action= (made by onMakeActionLink), or None if malformed."""
    if not raw or len(raw) > 2000:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    action = value.get("action") if isinstance(value, dict) else None
    if not isinstance(action, dict) or action.get("type") not in ("bookmark", "comment"):
        return None
    return {"action": {"type": action["type"], "data": str(action.get("data", ""))[:500]}}


@bp.route("/files/<int:file_id>/mention-users")
@login_required
@limits.mention_lookups
def mention_users(file_id: int):
    """People who can read the file, for @mentions: filtered by search text, paginated."""
    file, _ = rights.get_file_or_404(file_id, current_user)
    search = (request.args.get("search") or "").strip().lower()
    start = max(request.args.get("from", 0, type=int), 0)
    count = min(max(request.args.get("count", 50, type=int), 1), 200)
    readers = [
        user
        for user, _, level, _ in rights.members_with_levels(file)
        if rights.at_least(level, "read")
        and user.id != current_user.id
        and (
            not search
            or search in user.display_name.lower()
            or search in user.username.lower()
            or search in user.contact.lower()
        )
    ]
    page = readers[start : start + count]
    return jsonify(
        c=request.args.get("c", "mention"),
        isPaginated=True,
        total=len(readers),
        users=[
            {
                "email": u.contact,
                "id": u.docs_id,
                # Docs' list has no badge: a bot is marked in its name.
                "name": gettext("%(name)s (bot)", name=u.display_name) if u.is_bot else u.display_name,
            }
            for u in page
        ],
    )


@bp.route("/files/<int:file_id>/mentions", methods=("POST",))
@login_required
@limits.mention_lookups
def mentions(file_id: int):
    """Notify the people mentioned in a comment; report those who cannot read the file."""
    file, _ = rights.get_file_or_404(file_id, current_user)
    data = request.get_json(silent=True) or {}
    emails = data.get("emails") if isinstance(data.get("emails"), list) else []
    message = str(data.get("message") or "")[:500]
    action = parse_action_link(json.dumps(data.get("actionLink"))) if data.get("actionLink") else None
    link = url_for("editor.page", file_id=file.id, action=json.dumps(action) if action else None)
    members = {user.contact.lower(): (user, level) for user, _, level, _ in rights.members_with_levels(file)}
    notified, no_access = [], []
    for email in {str(e).lower() for e in emails[:50]}:
        user, level = members.get(email, (None, "none"))
        if user is None:
            user = _colleague_by_email(email)
        if user is None:
            continue
        if rights.at_least(level, "read"):
            notifications.notify(
                user,
                "mention",
                translatable(
                    "%(display_name)s mentioned you in %(title)s: “%(message)s”",
                    display_name=current_user.display_name,
                    title=file.title,
                    message=message,
                ),
                link,
                file,
            )
            notified.append(user.display_name)
        else:
            no_access.append({"username": user.username, "name": user.display_name})
    transaction.commit()
    return jsonify(notified=sorted(notified), no_access=no_access, can_grant=rights.can_manage_file(file, current_user))


def _colleague_by_email(email: str) -> User | None:
    """Someone who shares a space with the person asking, by e-mail; nobody else is ever named
    (the answer would tell which addresses have accounts)."""
    my_spaces = sa.select(Membership.space_id).where(Membership.user_id == current_user.id)
    return db.session.scalar(
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(sa.func.lower(User.email) == email, Membership.space_id.in_(my_spaces))
        .limit(1)
    )


@bp.route("/files/<int:file_id>/grant-read", methods=("POST",))
@login_required
def grant_read(file_id: int):
    """Give read access to people who were mentioned but could not read the file (managers only)."""
    file, _ = rights.get_file_or_404(file_id, current_user)
    data = request.get_json(silent=True) or {}
    usernames = [u for u in data.get("usernames", []) if isinstance(u, str)][:50]
    levels = {user.username: level for user, _, level, _ in rights.members_with_levels(file)}
    grant = {name: "read" for name in usernames if levels.get(name) == "none"}
    rights.change_rights(file, current_user, users=grant)
    transaction.commit()
    return jsonify(granted=sorted(grant))


@bp.route("/files/<int:file_id>/history")
@login_required
def history_list(file_id: int):
    """What the editor's history panel lists (onRequestHistory)."""
    file, _ = rights.get_file_or_404(file_id, current_user)
    return jsonify(history.refresh_history(file))


@bp.route("/files/<int:file_id>/history/<int:number>")
@login_required
def history_version(file_id: int, number: int):
    """One version for the history viewer (onRequestHistoryData): signed, short-lived links."""
    file, level = rights.get_file_or_404(file_id, current_user)
    return jsonify(history.history_data(file, number, current_user.docs_id, level))


@bp.route("/files/<int:file_id>/rename-from-editor", methods=("POST",))
@login_required
def rename_from_editor(file_id: int):
    """onRequestRename: rename (owner and space admins), then tell every open editor (command meta)."""
    file, _ = rights.require(
        file_id, current_user, "manage", gettext("Only the file's owner and space admins rename it.")
    )
    title = (request.get_json(silent=True) or {}).get("title")
    if not isinstance(title, str):
        abort(400, gettext("Send the new title."))
    file_service.rename(file, title)
    transaction.commit()
    return jsonify(title=file.title, name_changed=file_service.name_note(title, file.title))


@bp.route("/files/<int:file_id>/save-as", methods=("POST",))
@login_required
def save_as(file_id: int):
    """onRequestSaveAs: store Docs' copy as a new file next to this one (only from the Docs server).

    A copy is a download by other means: readers get one only where readers may download.
    """
    file, _ = rights.require(
        file_id, current_user, "download", gettext("Copies of this file are turned off for readers.")
    )
    data = request.get_json(silent=True) or {}
    url, title, ext = data.get("url"), data.get("title"), str(data.get("fileType") or "").lower()
    if not isinstance(url, str) or not isinstance(title, str) or not ext.isalnum():
        abort(400, gettext("Send url, title and fileType."))
    try:
        copy = file_service.save_copy(file, current_user, url, title, ext)
    except (SaveRejectedError, SaveFailedError) as exc:  # Docs' link, not the person's input, was bad
        abort(400, exc.message)
    transaction.commit()
    return jsonify(id=copy.id, title=copy.title, url=url_for("files.show", file_id=copy.id)), 201


def _in_editor(file_id: int, need: str):
    """The file open in the editor, when the person may use the editors and has ``need`` on it.

    :raise NotFoundError: they may not read it. :raise ForbiddenError: not this, or no editors for them.
    """
    file, level = rights.require(file_id, current_user, need)
    if not rights.may_use_editors(current_user):
        raise ForbiddenError(gettext("You are not allowed to do this with this file."))
    return file, level


@bp.route("/files/<int:file_id>/picker")
@login_required
@limits.mention_lookups
def picker(file_id: int):
    """The file picker's list: files of ``kind`` the person may read and download, matching ``q``."""
    _in_editor(file_id, "fill")
    found = picks.choices(current_user, request.args.get("kind", ""), request.args.get("q", ""))
    return jsonify(files=[picks.choice_json(f) for f in found])


@bp.route("/files/<int:file_id>/picked", methods=("POST",))
@login_required
def picked(file_id: int):
    """The signed argument of insertImage, setRequestedDocument or setRequestedSpreadsheet for the
    file the person picked (404 for a file they may not read and download); audited."""
    file, _ = _in_editor(file_id, "fill")
    data = request.get_json(silent=True) or {}
    answer = picks.picked(current_user, file, str(data.get("kind")), str(data.get("c")), data.get("file_id"))
    transaction.commit()
    return jsonify(answer)


def _reference_answer(answer: dict):
    """setReferenceData's or setReferenceSource's argument (its audit entry committed), or the
    error object with 404."""
    if "error" in answer:
        return jsonify(answer), 404
    transaction.commit()
    return jsonify(answer)


@bp.route("/files/<int:file_id>/reference-data", methods=("POST",))
@login_required
def reference_data(file_id: int):
    """onRequestReferenceData: the signed argument of setReferenceData, or an error object (404)
    when the linked file is gone or the person may no longer read and download it."""
    file, _ = _in_editor(file_id, "read")
    data = request.get_json(silent=True)
    return _reference_answer(picks.referenced(file, current_user, data if isinstance(data, dict) else {}))


@bp.route("/files/<int:file_id>/reference-source", methods=("POST",))
@login_required
def reference_source(file_id: int):
    """onRequestReferenceSource ("Change source" of linked data): the signed argument of
    setReferenceSource for the spreadsheet picked (``file_id``), or an error object (404) when the
    person may not read and download it."""
    file, _ = _in_editor(file_id, "fill")
    data = request.get_json(silent=True)
    chosen = data.get("file_id") if isinstance(data, dict) else None
    return _reference_answer(picks.reference_source(file, current_user, chosen))
