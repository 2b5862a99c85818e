"""Outgoing webhooks: a space's hooks, the events they are told of, and delivering them.

Events come from one place: the audit entries of the actions they are about (``audit.record``
hands each entry of an action in ``AUDIT_EVENTS`` to ``audit_recorded``), plus comments and
mentions, which ``posts`` reports. Nothing is sent for an action that is rolled back: the
deliveries are made after the commit (``transaction.after_commit``), one per enabled hook of the
space that chose the event, and each is sent by a job (``jobs.deliver_webhook``) that retries
with growing pauses. Events about a file some members of the space may not see are not sent,
as the stream's notices are not shown: a chat channel must not learn what a member may not.

Two formats:

- ``slack``: what Slack and Mattermost incoming webhooks take (``text`` in Markdown with a link,
  optional ``username`` and ``icon_url``, ``attachments`` with ``fields``);
- ``generic``: ``{"event", "id", "timestamp", "actor", "space", "file", "version"}``, signed:
  ``X-Coedit-Signature: sha256=<hex HMAC-SHA256 of "<X-Coedit-Timestamp>.<body>">`` with the
  hook's secret, so a receiver checks who sent it and refuses old (replayed) deliveries.

Bodies never hold document content, comment text, tokens, share-link secrets or download URLs:
only names, ids and the link to the file's page (which asks the reader to sign in).
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
import urllib3
from flask import current_app
from flask import has_request_context
from flask import request
from flask_babel import force_locale
from flask_babel import gettext
from flask_babel import lazy_gettext

from app import transaction
from app.extensions import db
from app.models import AuditEvent
from app.models import File
from app.models import Space
from app.models import User
from app.models import Webhook
from app.models import WebhookDelivery
from app.models.base import utcnow
from app.models.webhook import WEBHOOK_FORMATS
from app.services import outbound
from app.services import settings
from app.services.exceptions import BadRequestError
from app.services.exceptions import NotFoundError

log = logging.getLogger("coedit.webhooks")

EVENTS = {
    "document.created": lazy_gettext("Document created"),
    "document.updated": lazy_gettext("Document updated (a new version)"),
    "document.renamed": lazy_gettext("Document renamed"),
    "document.deleted": lazy_gettext("Document moved to the trash"),
    "document.shared": lazy_gettext("Share link made"),
    "document.rights_changed": lazy_gettext("Access rights changed"),
    "document.commented": lazy_gettext("Comment on a document"),
    "mention": lazy_gettext("Someone mentioned"),
}
TEST_EVENT = "test"
# The audit actions each event is about (audit.record reports these).
AUDIT_EVENTS = {
    "file.created": "document.created",
    "file.saved": "document.updated",
    "file.version_uploaded": "document.updated",
    "file.restored": "document.updated",
    "file.renamed": "document.renamed",
    "file.trashed": "document.deleted",
    "share_link.created": "document.shared",
    "file.rights_changed": "document.rights_changed",
}
KEEP_DELIVERIES = 50  # per hook: the log shows the latest, older entries are pruned
MAX_RETRY_PAUSE = 300  # seconds; below JOB_VISIBILITY_TIMEOUT, or a broker hands a waiting retry out twice


# --- managing a space's hooks -----------------------------------------------------------------


def hooks_of(space: Space) -> list[Webhook]:
    return list(db.session.scalars(sa.select(Webhook).where(Webhook.space_id == space.id).order_by(Webhook.id)))


def hook_of(space: Space, hook_id: int) -> Webhook:
    """:raise NotFoundError: no such hook in this space."""
    hook = db.session.get(Webhook, hook_id)
    if hook is None or hook.space_id != space.id:
        raise NotFoundError(gettext("No such webhook."))
    return hook


def recent_deliveries(hooks: list[Webhook], limit: int = 10) -> dict[int, list[WebhookDelivery]]:
    """The latest deliveries of each hook, newest first (one query for all the hooks)."""
    found: dict[int, list[WebhookDelivery]] = {hook.id: [] for hook in hooks}
    if not hooks:
        return found
    ranked = (
        sa.select(
            WebhookDelivery.id,
            sa.func.row_number()
            .over(partition_by=WebhookDelivery.hook_id, order_by=WebhookDelivery.id.desc())
            .label("rank"),
        )
        .where(WebhookDelivery.hook_id.in_(list(found)))
        .subquery()
    )
    for delivery in db.session.scalars(
        sa.select(WebhookDelivery)
        .join(ranked, ranked.c.id == WebhookDelivery.id)
        .where(ranked.c.rank <= limit)
        .order_by(WebhookDelivery.id.desc())
    ):
        found[delivery.hook_id].append(delivery)
    return found


def create(
    space: Space,
    actor: User,
    *,
    name: str,
    url: str,
    format: str,
    events: list[str],
    username: str = "",
    icon_url: str = "",
) -> tuple[Webhook, str | None]:
    """Stage a new hook; returns it and, for the generic format, its signing secret (shown once).

    :raise BadRequestError: a field is wrong, or the URL is refused (outbound.check_url); nothing is staged.
    """
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise BadRequestError(gettext("Give the webhook a name of at most 128 characters."))
    if format not in WEBHOOK_FORMATS:
        raise BadRequestError(gettext("Choose a format."))
    chosen = [event for event in EVENTS if event in (events or [])]
    if not chosen:
        raise BadRequestError(gettext("Choose at least one event."))
    url = (url or "").strip()
    if len(url) > 2048:
        raise BadRequestError(gettext("The address is too long."))
    outbound.check_url(url)
    icon_url = (icon_url or "").strip()
    if icon_url and (settings.http_origin(icon_url) is None or len(icon_url) > 2048):
        raise BadRequestError(gettext("The icon address must start with http:// or https://."))
    secret = secrets.token_urlsafe(32) if format == "generic" else None
    hook = Webhook(
        space_id=space.id,
        name=name,
        url=url,
        format=format,
        events=" ".join(chosen),
        username=(username or "").strip()[:64] or None,
        icon_url=icon_url or None,
        secret=secret,
        enabled=True,
        created_by=actor.id,
    )
    db.session.add(hook)
    db.session.flush()
    _audit("space.webhook_created", hook, actor, {"format": format, "events": chosen, "host": urlsplit(url).hostname})
    return hook, secret


def set_enabled(hook: Webhook, enabled: bool, actor: User) -> None:
    if hook.enabled != enabled:
        hook.enabled = enabled
        _audit("space.webhook_enabled" if enabled else "space.webhook_disabled", hook, actor, {})


def delete(hook: Webhook, actor: User) -> None:
    _audit("space.webhook_deleted", hook, actor, {})
    db.session.delete(hook)


def _audit(action: str, hook: Webhook, actor: User, details: dict) -> None:
    from app.services import audit

    audit.record(
        action,
        actor=actor,
        object_type="webhook",
        object_id=hook.id,
        object_name=hook.name,
        space_id=hook.space_id,
        details=details,  # never the URL's path or the secret: a chat's hook URL is its secret
    )


# --- events -----------------------------------------------------------------------------------


@dataclass
class Event:
    """What happened, in the terms both formats need; fixed when the action commits."""

    name: str
    space: Space
    actor: dict  # id, username, display_name
    file: File | None = None
    version: int | None = None
    extra: dict = field(default_factory=dict)  # old_title, mentioned


def audit_recorded(entry: AuditEvent, file: File | None) -> None:
    """An audit entry of an action in AUDIT_EVENTS was staged: tell the hooks once it commits."""
    name = AUDIT_EVENTS.get(entry.action)
    space_id = entry.space_id
    if name is None or space_id is None:
        return
    transaction.after_commit(lambda: _from_audit(name, space_id, entry, file))


def _from_audit(name: str, space_id: int, entry: AuditEvent, file: File | None) -> None:
    hooks = _listening(name, space_id)
    if not hooks:
        return  # the common case costs this one query
    identity = sa.inspect(file).identity if file is not None else None  # a file flushed only after the entry
    file_id = entry.file_id or (identity[0] if identity else None)
    file = db.session.get(File, file_id) if file_id else None
    if file is None:
        return
    details = json.loads(entry.details_json or "{}")
    extra = {"old_title": details["old"]} if name == "document.renamed" and "old" in details else {}
    version = details.get("version") if name == "document.updated" else None
    _emit(hooks, name, space_id, _actor(entry.actor_id, entry.actor_name), file, version, extra)


def commented(file: File, author: User) -> None:
    """A comment was staged in the file's thread: tell the hooks once it commits."""
    space_id, author_id = file.space_id, author.id

    def emit() -> None:
        hooks = _listening("document.commented", space_id)
        if hooks:
            _emit(hooks, "document.commented", space_id, _actor(author_id), file)

    transaction.after_commit(emit)


def mentioned(space_id: int, file: File | None, author: User, people: list[User]) -> None:
    """People were @mentioned in a post or comment (and notified): tell the hooks once it commits."""
    if not people:
        return
    author_id, names = author.id, [person.username for person in people]

    def emit() -> None:
        hooks = _listening("mention", space_id)
        if hooks:
            _emit(hooks, "mention", space_id, _actor(author_id), file, None, {"mentioned": names})

    transaction.after_commit(emit)


def _actor(user_id: int | None, name: str = "") -> dict:
    user = db.session.get(User, user_id) if user_id else None
    if user is None:
        return {"id": None, "username": None, "display_name": name or settings.get("site_name")}
    return {"id": user.id, "username": user.username, "display_name": user.display_name}


def _listening(name: str, space_id: int) -> list[Webhook]:
    """The space's enabled hooks that chose this event."""
    hooks = db.session.scalars(
        sa.select(Webhook).where(Webhook.space_id == space_id, Webhook.enabled.is_(True)).order_by(Webhook.id)
    )
    return [hook for hook in hooks if name in hook.event_list]


def _emit(
    hooks: list[Webhook],
    name: str,
    space_id: int,
    actor: dict,
    file: File | None = None,
    version: int | None = None,
    extra: dict | None = None,
) -> None:
    """Queue one delivery of the event per hook (after the action's commit)."""
    space = db.session.get(Space, space_id)
    if space is None or space.deleted_at is not None:
        return
    from app.services import rights

    if file is not None and (file.space_id != space_id or not rights.readable_by_every_member(file)):
        return
    event = Event(name, space, actor, file, version, extra or {})
    for hook in hooks:
        _queue(hook, event)


def send_test(hook: Webhook, actor: User) -> WebhookDelivery:
    """Stage a test delivery to this hook (sent like any other once the caller commits)."""
    return _queue(hook, Event(TEST_EVENT, db.session.get(Space, hook.space_id), _actor(actor.id)))


def _queue(hook: Webhook, event: Event) -> WebhookDelivery:
    from app import jobs

    uid = str(uuid.uuid4())
    delivery = WebhookDelivery(
        hook_id=hook.id, uid=uid, event=event.name, body=render(hook, event, uid), status="pending", attempts=0
    )
    db.session.add(delivery)
    db.session.flush()
    _prune(hook.id)
    jobs.enqueue(jobs.deliver_webhook, delivery.id)
    return delivery


def _prune(hook_id: int) -> None:
    """Keep the latest KEEP_DELIVERIES entries of the hook's log (and any still being sent)."""
    oldest_kept = db.session.scalar(
        sa.select(WebhookDelivery.id)
        .where(WebhookDelivery.hook_id == hook_id)
        .order_by(WebhookDelivery.id.desc())
        .offset(KEEP_DELIVERIES - 1)
        .limit(1)
    )
    if oldest_kept is not None:
        db.session.execute(
            sa.delete(WebhookDelivery).where(
                WebhookDelivery.hook_id == hook_id,
                WebhookDelivery.id < oldest_kept,
                WebhookDelivery.status != "pending",
            )
        )


# --- bodies -----------------------------------------------------------------------------------


def absolute(path: str) -> str:
    """An absolute link to a page: PUBLIC_URL, else the address of the request that caused it."""
    base = current_app.config.get("PUBLIC_URL") or (request.url_root if has_request_context() else "")
    return base.rstrip("/") + path


def file_url(file: File) -> str:
    return absolute(current_app.url_map.bind("localhost").build("files.show", {"file_id": file.id}))


def render(hook: Webhook, event: Event, uid: str) -> str:
    """The JSON body of a delivery of event to hook, in the hook's format."""
    if hook.format == "generic":
        body = {
            "event": event.name,
            "id": uid,
            "timestamp": utcnow().isoformat(),
            "actor": event.actor,
            "space": {"id": event.space.id, "name": event.space.name},
            "file": None
            if event.file is None
            else {"id": event.file.id, "title": event.file.title, "url": file_url(event.file)},
        }
        if event.version is not None:
            body["version"] = event.version
        body.update(event.extra)
        return json.dumps(body)
    with force_locale(settings.get("default_language")):
        body = _slack(event)
    if hook.username:
        body["username"] = hook.username
    if hook.icon_url:
        body["icon_url"] = hook.icon_url
    return json.dumps(body)


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()<>#|~"})


def _md(text: str) -> str:
    """Plain text as Markdown shows it (Slack's mrkdwn and Mattermost's Markdown)."""
    return (text or "").translate(_MARKDOWN)


def _slack(event: Event) -> dict:
    actor = _md(event.actor["display_name"])
    space_url = absolute(current_app.url_map.bind("localhost").build("spaces.show", {"space_id": event.space.id}))
    fields = [{"title": gettext("Space"), "value": event.space.name, "short": True}]
    if event.file is None:
        link = f"[{_md(event.space.name)}]({space_url})"
        title, title_link = event.space.name, space_url
    else:
        title, title_link = event.file.title, file_url(event.file)
        link = f"[{_md(title)}]({title_link})"
    fields.append({"title": gettext("By"), "value": event.actor["display_name"], "short": True})
    values = {"actor": actor, "link": link}
    if event.name == "document.created":
        text = gettext("%(actor)s created %(link)s", **values)
    elif event.name == "document.updated":
        text = gettext("%(actor)s stored version %(version)s of %(link)s", version=event.version or "?", **values)
        fields.append({"title": gettext("Version"), "value": str(event.version or ""), "short": True})
    elif event.name == "document.renamed":
        old = _md(event.extra.get("old_title", ""))
        text = gettext("%(actor)s renamed “%(old)s” to %(link)s", old=old, **values)
    elif event.name == "document.deleted":
        text = gettext("%(actor)s moved %(link)s to the trash", **values)
    elif event.name == "document.shared":
        text = gettext("%(actor)s made a share link to %(link)s", **values)
    elif event.name == "document.rights_changed":
        text = gettext("%(actor)s changed who may do what with %(link)s", **values)
    elif event.name == "document.commented":
        text = gettext("%(actor)s commented on %(link)s", **values)
    elif event.name == "mention":
        people = ", ".join("@" + _md(name) for name in event.extra.get("mentioned", []))
        text = gettext("%(actor)s mentioned %(people)s in %(link)s", people=people, **values)
    else:
        text = gettext("Test message from Coedit for the space %(link)s", link=link)
    return {
        "text": text,
        "attachments": [{"fallback": text, "title": title, "title_link": title_link, "fields": fields}],
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Coedit-Signature of a generic delivery: HMAC-SHA256 of "<timestamp>.<body>"."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return "sha256=" + digest


def headers_for(hook: Webhook, delivery: WebhookDelivery, body: bytes) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if hook.format == "generic":
        timestamp = str(int(time.time()))
        headers.update(
            {
                "X-Coedit-Event": delivery.event,
                "X-Coedit-Delivery": delivery.uid,
                "X-Coedit-Timestamp": timestamp,
                "X-Coedit-Signature": signature(hook.secret or "", timestamp, body),
            }
        )
    return headers


# --- delivering -------------------------------------------------------------------------------


def retry_pause(attempts: int) -> float:
    """Seconds before the next attempt after this many: WEBHOOK_RETRY_SECONDS, doubled each time."""
    base = float(current_app.config["WEBHOOK_RETRY_SECONDS"])
    return min(MAX_RETRY_PAUSE, base * 2 ** max(0, attempts - 1))


def claim(delivery_id: int) -> bool:
    """Stage taking the next attempt at a pending delivery that is due; False if there is none.

    Of two jobs for one delivery (a job may run twice) only one claims each attempt, and a
    delivered or failed delivery is never claimed again. The caller commits the claim before
    ``send``, so no other job sends the same attempt meanwhile.
    """
    delivery = db.session.get(WebhookDelivery, delivery_id)
    now = utcnow()
    if delivery is None or delivery.status != "pending":
        return False
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now + timedelta(seconds=1):
        return False  # a retry is scheduled already
    seen = delivery.attempts
    # The write starts a transaction of its own (SQLite cannot turn the read just made into a
    # write once another wrote).
    transaction.begin_write()
    claimed = db.session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.attempts == seen,
        )
        .values(attempts=seen + 1, updated_at=now, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(claimed)


def send(delivery_id: int) -> float | None:
    """Make the claimed attempt and stage its outcome (the caller commits it).

    Returns the seconds to wait before the next attempt, or None when there is nothing more to
    do (delivered, failed for good, or gone).
    """
    delivery = db.session.get(WebhookDelivery, delivery_id)
    hook = db.session.get(Webhook, delivery.hook_id) if delivery is not None else None
    if hook is None or delivery is None:
        return None
    if not hook.enabled and delivery.event != TEST_EVENT:
        return _finish(delivery, "failed", error=gettext("The webhook was turned off."))
    body = delivery.body.encode()
    retry = True
    try:
        answer = outbound.post(hook.url, body, headers_for(hook, delivery, body))
    except outbound.RefusedError as exc:
        return _finish(delivery, "failed", error=exc.message)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        outcome = {"error": _reason(exc)}
    except Exception as exc:  # whatever else went wrong, the delivery ends in the log, not stuck pending
        log.warning("webhook delivery %s: %s", delivery_id, type(exc).__name__)  # never the URL
        outcome = {"error": _reason(exc)}
    else:
        outcome = {"http_status": answer.status, "latency_ms": answer.latency_ms, "excerpt": answer.excerpt}
        if 200 <= answer.status < 300:
            return _finish(delivery, "delivered", **outcome)
        if 300 <= answer.status < 400:
            outcome["error"] = gettext("The receiver answered with a redirect, which is not followed.")
            retry = False
        else:
            outcome["error"] = gettext("The receiver answered HTTP %(status)s.", status=answer.status)
            retry = answer.status >= 500 or answer.status in (408, 429)
    if retry and delivery.attempts < int(current_app.config["WEBHOOK_ATTEMPTS"]):
        pause = retry_pause(delivery.attempts)
        _finish(delivery, "pending", next_attempt_at=utcnow() + timedelta(seconds=pause), **outcome)
        return pause
    return _finish(delivery, "failed", **outcome)


def _finish(delivery, status, *, http_status=None, latency_ms=None, excerpt="", error="", next_attempt_at=None):
    delivery.status = status
    delivery.http_status = http_status
    delivery.latency_ms = latency_ms
    delivery.response_excerpt = (excerpt or "")[: outbound.EXCERPT_CHARS]
    delivery.error = (error or "")[:255]
    delivery.next_attempt_at = next_attempt_at
    delivery.updated_at = utcnow()
    if status == "failed":
        log.info("webhook delivery %s failed after %s attempt(s): %s", delivery.id, delivery.attempts, error)
    return None


def _reason(exc: Exception) -> str:
    """Why a connection failed, in words (never the URL: a chat's hook URL is its secret)."""
    if isinstance(exc, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return gettext("The receiver did not answer in time.")
    if isinstance(exc, urllib3.exceptions.SSLError):
        return gettext("The receiver's TLS certificate could not be verified.")
    return gettext("The receiver could not be reached.")
