"""The audit log: who did what to which object, when and from where.

``record`` stages the entry in the caller's transaction, so it commits with the action it
records and an action that is rolled back leaves no entry. A failure is the opposite case: the
failed work is rolled back (a refused sign-in stages nothing; a refused save is rolled back
before Docs is answered), yet its entry must stay. ``record_failure`` therefore writes it with
``transaction.apart``, in a transaction of its own, after the rollback.

Details never hold secrets: no passwords, link secrets, tokens or secret settings, only the
fact that they were set or changed.

Actions (dotted; ``ACTIONS`` lists them for the page's filter):

- ``auth.signed_in``, ``auth.sign_in_failed`` (details: the username tried), ``auth.signed_out``,
  ``auth.signed_out_everywhere``, ``auth.password_changed``, ``auth.profile_changed`` (details:
  the fields changed), ``auth.api_token_created``, ``auth.api_token_revoked`` (never the token)
- ``editor.opened`` (mode edit/view and the level; a guest with their guest id): the editor page,
  the API's editor config and share links alike. Written by each process within a quarter of a
  second, in batches (``record_opening``, app/ops/audit_writer.py), not in the opening's request
- ``file.downloaded`` (version, purpose: download from the file page, api, api-version). Docs'
  own fetches of a document (to open it in an editor, or an old version for the history viewer)
  are not recorded: they are not a person's download, and the person they serve is recorded
  by ``editor.opened``.
- ``file.created``, ``file.version_uploaded``, ``file.saved`` (version, kind, authors),
  ``file.save_failed`` and ``file.save_rejected`` (reason), ``file.restored``, ``file.renamed``
  (old → new), ``file.deleted``, ``file.rights_changed`` (old → new)
- ``file.downloaded_as`` (version, target format, purpose): a person's download converted by Docs
- ``file.picked_for_editor`` (kind, command, into: the id of the file being edited): a file handed
  to an editor at the person's request (an image inserted, a document compared or combined, a
  mail-merge source, linked data's update or new source); the entry's file is the one handed over
- ``file.converted`` (version, target, the new file's id, the job): a conversion into a new file
  (which also has its own ``file.created``, source convert)
- ``file.moved`` (from and to space and folder), ``file.copied`` (the source file and version; the
  copy also has its ``file.created``, source copy), ``file.trashed``, ``file.untrashed``,
  ``file.purged`` (the trash purge, after TRASH_DAYS)
- ``folder.renamed``, ``folder.trashed``, ``folder.untrashed``, ``folder.deleted`` (from the trash,
  before the purge; its files each have their ``file.deleted``), ``folder.purged``
- ``space.renamed``, ``space.description_changed``, ``space.role_changed`` (user, old → new),
  ``space.member_removed``, ``space.deleted``, ``space.restored``, ``space.purged``,
  ``space.webhook_created`` (format, events, host: never the URL's path or the signing secret),
  ``space.webhook_enabled``, ``space.webhook_disabled``, ``space.webhook_deleted``,
  ``space.incoming_hook_created``, ``space.incoming_hook_revoked`` (the hook by id and name, never its secret)
- ``share_link.created``, ``share_link.used``, ``share_link.revoked``
- ``template.added``, ``template.removed`` (a document template of the site, or of a space)
- ``settings.changed`` (which settings; old → new only for those that are not secret)
- ``admin.user_disabled``, ``admin.user_enabled``, ``admin.sessions_ended``, ``admin.user_created``,
  ``admin.password_reset`` (never the password), ``admin.admin_granted``, ``admin.admin_revoked``,
  ``admin.group_created``, ``admin.group_renamed``, ``admin.group_deleted``,
  ``admin.group_member_added``, ``admin.group_member_removed``; from the command line also
  ``admin.api_token_created``; ``space.group_added`` (a group's members added to a space);
  ``admin.file_force_deleted``, ``admin.forgotten_recovered``, ``admin.forgotten_discarded``,
  ``admin.forgotten_downloaded``; ``admin.job_run_again``, ``admin.job_dismissed`` (a failed job)
"""

import csv
import io
import json
import logging
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from datetime import timezone
from typing import Iterator

import click
import sqlalchemy as sa
from flask import current_app
from flask import has_request_context
from flask import request
from flask_login import current_user

from app import transaction
from app.extensions import db
from app.models import AuditEvent
from app.models import File
from app.models import User
from app.models.base import utcnow

log = logging.getLogger("coedit.audit")

ACTIONS = (
    "auth.signed_in",
    "auth.sign_in_failed",
    "auth.signed_out",
    "auth.signed_out_everywhere",
    "auth.password_changed",
    "auth.profile_changed",
    "auth.api_token_created",
    "auth.api_token_revoked",
    "editor.opened",
    "file.downloaded",
    "file.downloaded_as",
    "file.picked_for_editor",
    "file.converted",
    "file.created",
    "file.version_uploaded",
    "file.saved",
    "file.save_failed",
    "file.save_rejected",
    "file.restored",
    "file.renamed",
    "file.deleted",
    "file.rights_changed",
    "file.moved",
    "file.copied",
    "file.trashed",
    "file.untrashed",
    "file.purged",
    "folder.renamed",
    "folder.trashed",
    "folder.untrashed",
    "folder.deleted",
    "folder.purged",
    "space.renamed",
    "space.description_changed",
    "space.role_changed",
    "space.member_removed",
    "space.deleted",
    "space.restored",
    "space.purged",
    "space.default_level_changed",
    "space.webhook_created",
    "space.webhook_enabled",
    "space.webhook_disabled",
    "space.webhook_deleted",
    "space.incoming_hook_created",
    "space.incoming_hook_revoked",
    "share_link.created",
    "share_link.used",
    "share_link.revoked",
    "template.added",
    "template.removed",
    "settings.changed",
    "admin.user_disabled",
    "admin.user_enabled",
    "admin.sessions_ended",
    "admin.user_created",
    "admin.password_reset",
    "admin.api_token_created",
    "admin.admin_granted",
    "admin.admin_revoked",
    "admin.group_created",
    "admin.group_renamed",
    "admin.group_deleted",
    "admin.group_member_added",
    "admin.group_member_removed",
    "space.group_added",
    "admin.file_force_deleted",
    "admin.forgotten_recovered",
    "admin.forgotten_discarded",
    "admin.forgotten_downloaded",
    "admin.job_run_again",
    "admin.job_dismissed",
)
# What the admin status page charts over 7 days: daily_counts(SAVE_ACTIONS).
SAVE_ACTIONS = ("file.saved", "file.save_failed", "file.save_rejected")
DOCS_ACTOR = "ONLYOFFICE Docs"
_CURRENT = object()  # actor not given: whoever is signed in for this request (else the system)
CSV_FIELDS = (
    "id",
    "time",
    "action",
    "actor_id",
    "actor_name",
    "object_type",
    "object_id",
    "object_name",
    "file_id",
    "space_id",
    "ip",
    "details",
)


def _default_actor() -> tuple[int | None, str]:
    if has_request_context() and current_user.is_authenticated:
        return current_user.id, current_user.username
    if click.get_current_context(silent=True) is not None:
        return None, "command line"
    return None, "system"


def _actor(actor) -> tuple[int | None, str]:
    if actor is _CURRENT:
        return _default_actor()
    if actor is None:
        return None, "system"
    if isinstance(actor, User):
        return actor.id, actor.username
    if isinstance(actor, str):
        return None, actor  # a name only: a guest, Docs, or the username a failed sign-in tried
    # editor_config.Guest, or anything else with the two attributes.
    return None, f"{getattr(actor, 'display_name', '')} (guest)"


def event(
    action: str,
    *,
    actor=_CURRENT,
    file: File | None = None,
    object_type: str = "",
    object_id: object = "",
    object_name: str = "",
    space_id: int | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """A new entry (not staged). ``file`` fills in the object (unless given), file and space."""
    return AuditEvent(**_values(action, actor, file, object_type, object_id, object_name, space_id, details))


def _values(action, actor, file, object_type, object_id, object_name, space_id, details) -> dict:
    actor_id, actor_name = _actor(actor)
    if file is not None:
        object_type = object_type or "file"
        object_id = object_id or file.id
        object_name = object_name or file.title
        space_id = space_id or file.space_id
    return {
        "at": utcnow(),
        "action": action,
        "actor_id": actor_id,
        "actor_name": (actor_name or "")[:128],
        "object_type": object_type,
        "object_id": str(object_id if object_id is not None else "")[:128],
        "object_name": (object_name or "")[:255],
        "file_id": file.id if file is not None else None,
        "space_id": space_id,
        "ip": ((request.remote_addr or "") if has_request_context() else "")[:64],
        "details_json": json.dumps(details or {}, sort_keys=True, default=str),
    }


def record(action: str, **fields) -> AuditEvent:
    """Stage an entry in the caller's transaction: it commits, or is rolled back, with the action."""
    entry = event(action, **fields)
    db.session.add(entry)
    from app.services import webhooks  # here: webhooks needs settings, which needs this module

    if action in webhooks.AUDIT_EVENTS:  # the space's outgoing webhooks are told once it commits
        webhooks.audit_recorded(entry, fields.get("file"))
    return entry


def record_opening(file: File, person, details: dict) -> None:
    """The entry of an editor opening, written shortly after by this process (ops/audit_writer.py):
    an opening changes nothing, and its answer need not wait for a write transaction."""
    from app.ops import audit_writer

    values = _values("editor.opened", person, file, "", "", "", None, details)
    audit_writer.writer(current_app._get_current_object()).add(values)


def record_failure(action: str, **fields) -> None:
    """Commit an entry about a failure now, apart from the (rolled back) work that failed.

    Nothing may be staged: call it after the failed work was rolled back, or before anything was.
    """
    entry = event(action, **fields)  # built here, while the request's objects are still loaded
    transaction.apart(lambda: db.session.add(entry))


# --- saves, as Docs reports them (the callback service calls these) -------------------------

SAVE_STATUSES = (2, 3, 6, 7)  # the callbacks that carry (or should have carried) a save


def _save_people(data: dict) -> tuple[object, list[str]]:
    """The actor of a save (the first person Docs names) and the names of everyone it names."""
    from app.services import share_links

    ids = [u for u in data.get("users") or [] if isinstance(u, str)] if isinstance(data.get("users"), list) else []
    names, actor = [], None
    for docs_id in ids:
        user = db.session.get(User, int(docs_id)) if docs_id.isdigit() else None
        name = user.username if user else f"{share_links.guest_name(docs_id) or docs_id} (guest)"
        names.append(name)
        actor = actor or user or name
    return actor or DOCS_ACTOR, names


def saved(file: File, version, data: dict, kind: str) -> None:
    """Stage the entry of a save stored as a new version (with it, in the save's transaction)."""
    actor, authors = _save_people(data)
    details = {"version": version.number, "kind": kind, "authors": authors, "conflict": bool(version.is_conflict)}
    record("file.saved", actor=actor, file=file, details=details)


def save_failed(file: File, data: dict, reason: str) -> None:
    """Stage the entry of a save Docs reported but could not deliver (status 3 without a file)."""
    actor, authors = _save_people(data)
    details = {"reason": reason, "status": data.get("status"), "authors": authors}
    record("file.save_failed", actor=actor, file=file, details=details)


def save_refused(file_id: int, data: dict, http_status: int, reason: str, rejected: bool) -> None:
    """The entry of a save we did not store, committed apart: the callback was rolled back.

    ``rejected``: refused for good (the document failed validation, or the save was not
    allowed), else failed (Docs retries, then keeps a forgotten copy). Not for other callbacks.
    """
    if data.get("status") not in SAVE_STATUSES:
        return
    try:
        file = db.session.get(File, file_id)
        actor, authors = _save_people(data)
    except sa.exc.SQLAlchemyError:  # the failure may be the database's own: Docs is still answered
        db.session.rollback()
        log.exception("could not record the failed save of file %s", file_id)
        return
    details = {"reason": reason, "status": data.get("status"), "answer": http_status, "authors": authors}
    fields = {"file": file} if file is not None else {"object_type": "file", "object_id": file_id}
    record_failure("file.save_rejected" if rejected else "file.save_failed", actor=actor, details=details, **fields)


def user_object(user: User) -> dict:
    """The fields that name a user as the object of an entry."""
    return {"object_type": "user", "object_id": user.id, "object_name": user.username}


# --- reading the log ------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the page and the export narrow the log to; empty fields do not narrow it."""

    user: str = ""  # a username (actor, or the user an admin acted on), or a user's id
    file: str = ""  # a file id, or part of a file's name
    action: str = ""  # an action, or a prefix ending in "." or "*" (file., admin.*)
    since: datetime | None = None
    until: datetime | None = None  # exclusive


def parse_moment(text: str | None, end: bool = False) -> datetime | None:
    """A moment typed in a filter or on the command line: ISO date or date-time, UTC unless it
    says otherwise. A bare date as an ``end`` means the end of that day.

    :raise ValueError: not a date.
    """
    text = (text or "").strip()
    if not text:
        return None
    if len(text) == 10:
        day = date.fromisoformat(text)
        moment = datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=timezone.utc)
        return moment
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _select(filters: Filters) -> sa.Select:
    from app.ops import audit_writer

    audit_writer.flush(current_app._get_current_object())  # this process's openings, so they show at once
    query = sa.select(AuditEvent)
    user = filters.user.strip()
    if user:
        from app.services import accounts

        found = accounts.find(user)
        if found is None and user.isdigit():
            found = db.session.get(User, int(user))
        if found is not None:
            query = query.where(
                sa.or_(
                    AuditEvent.actor_id == found.id,
                    sa.and_(AuditEvent.object_type == "user", AuditEvent.object_id == str(found.id)),
                )
            )
        else:  # an account that is gone, a guest, or a name tried at sign-in
            query = query.where(AuditEvent.actor_name == user)
    wanted = filters.file.strip()
    if wanted.isdigit():
        query = query.where(AuditEvent.file_id == int(wanted))
    elif wanted:
        query = query.where(
            AuditEvent.file_id.is_not(None), sa.func.lower(AuditEvent.object_name).contains(wanted.lower())
        )
    action = filters.action.strip()
    if action.endswith("*") or action.endswith("."):
        query = query.where(AuditEvent.action.startswith(action.rstrip("*"), autoescape=True))
    elif action:
        query = query.where(AuditEvent.action == action)
    if filters.since is not None:
        query = query.where(AuditEvent.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.at < filters.until)
    return query


@dataclass
class Page:
    events: list[AuditEvent]
    total: int
    number: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search(filters: Filters, page: int = 1, per_page: int = 50) -> Page:
    """One page of the entries the filters select, newest first."""
    per_page = min(max(per_page, 1), 500)
    query = _select(filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    page = min(max(page, 1), max(1, -(-total // per_page)))
    events = db.session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(list(events), total, page, per_page)


def iter_events(filters: Filters, batch: int = 500) -> Iterator[AuditEvent]:
    """Every entry the filters select, newest first, read in batches (the export: any size)."""
    query = _select(filters).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    last: tuple | None = None
    while True:
        page = query
        if last is not None:  # keyset: no offset to re-read, and rows added meanwhile do not shift it
            page = page.where(
                sa.or_(AuditEvent.at < last[0], sa.and_(AuditEvent.at == last[0], AuditEvent.id < last[1]))
            )
        rows = db.session.scalars(page.limit(batch)).all()
        yield from rows
        if len(rows) < batch:
            return
        last = (rows[-1].at, rows[-1].id)


def _cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: one starting as a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_row(entry: AuditEvent) -> list[str]:
    return [
        _cell(value)
        for value in (
            entry.id,
            entry.at.isoformat(),
            entry.action,
            entry.actor_id,
            entry.actor_name,
            entry.object_type,
            entry.object_id,
            entry.object_name,
            entry.file_id,
            entry.space_id,
            entry.ip,
            entry.details_json,
        )
    ]


def csv_lines(filters: Filters) -> Iterator[str]:
    """The export as CSV text, a header line then one line per entry, produced as it is read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for entry in iter_events(filters):
        writer.writerow(csv_row(entry))
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def daily_counts(actions, days: int = 7, today: date | None = None) -> dict[str, list[tuple[date, int]]]:
    """How many entries of each action each day (UTC) of the last ``days`` days, today included,
    oldest first, days without any as 0: ``{action: [(date, count), ...]}``, for charts."""
    actions = list(actions)
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time(), tzinfo=timezone.utc)
    counts = {action: {first + timedelta(days=n): 0 for n in range(days)} for action in actions}
    # Counted here rather than grouped by a date function: SQLite and PostgreSQL name theirs apart.
    rows = db.session.execute(
        sa.select(AuditEvent.action, AuditEvent.at).where(AuditEvent.action.in_(actions), AuditEvent.at >= start)
    )
    for action, moment in rows:
        day = moment.astimezone(timezone.utc).date()
        if day in counts[action]:
            counts[action][day] += 1
    return {action: sorted(per_day.items()) for action, per_day in counts.items()}


def prune(now: datetime | None = None) -> int:
    """Stage removing the entries older than AUDIT_RETENTION_DAYS (0: keep all); returns how many."""
    days = int(current_app.config.get("AUDIT_RETENTION_DAYS") or 0)
    if days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    return db.session.execute(sa.delete(AuditEvent).where(AuditEvent.at < cutoff)).rowcount
