"""Outgoing webhooks of a space and the log of their deliveries."""

from datetime import datetime
from typing import Optional
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models.base import Base
from app.models.base import utcnow

WEBHOOK_FORMATS = ("slack", "generic")
DELIVERY_STATES = ("pending", "delivered", "failed")


class Webhook(Base):
    """A URL that Coedit POSTs a message to when one of the chosen events happens in a space.

    ``slack``: the Slack/Mattermost incoming-webhook payload; ``generic``: Coedit's own JSON, signed
    with ``secret`` (HMAC-SHA256). The secret has to be kept as it is to sign with; it is shown once,
    when the hook is made, and never again.
    """

    __tablename__ = "webhook"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    space_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("space.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(128))
    url: so.Mapped[str] = so.mapped_column(sa.String(2048))
    format: so.Mapped[str] = so.mapped_column(sa.String(16), default="slack")
    events: so.Mapped[str] = so.mapped_column(sa.String(512), default="")  # space-separated event names
    username: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    icon_url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(2048))
    secret: so.Mapped[Optional[str]] = so.mapped_column(sa.String(128))
    enabled: so.Mapped[bool] = so.mapped_column(default=True)
    created_by: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    @property
    def event_list(self) -> list[str]:
        return self.events.split()

    @property
    def host(self) -> str:
        """Where it calls, shown instead of the URL: a chat's incoming-webhook URL is its secret."""
        return urlsplit(self.url).hostname or ""


class WebhookDelivery(Base):
    """One event sent (or being sent) to one hook; the body is fixed when the event happens, so
    every attempt sends the same one. Only the latest ones per hook are kept."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (sa.Index("ix_webhook_delivery_hook_id_id", "hook_id", "id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    hook_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("webhook.id", ondelete="CASCADE"))
    uid: so.Mapped[str] = so.mapped_column(sa.String(36), unique=True)  # X-Coedit-Delivery
    event: so.Mapped[str] = so.mapped_column(sa.String(32))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="pending")
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[Optional[datetime]]
    http_status: so.Mapped[Optional[int]]
    latency_ms: so.Mapped[Optional[int]]
    response_excerpt: so.Mapped[str] = so.mapped_column(sa.String(256), default="")
    error: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
