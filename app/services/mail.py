"""E-mail about notifications, through the standard library's smtplib, sent by a job after the commit.

Off unless SMTP_HOST is set. Only people with an e-mail address get mail; ``getattr`` keeps this
working on schemas where the user has no ``email`` attribute.
"""

import logging
import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app
from flask import has_request_context
from flask import request
from flask_babel import force_locale
from flask_babel import gettext

from app.extensions import db
from app.models import User
from app.services import locales
from app.services import settings

log = logging.getLogger("coedit.mail")

TIMEOUT = 15


def enabled() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def address_of(user: User | None) -> str | None:
    address = (getattr(user, "email", None) or "").strip() if user is not None else ""
    return address or None


def request_notification(user_id: int, text: str, link: str) -> None:
    """Send the notification by e-mail once the transaction commits (nothing when mail is off)."""
    if not enabled():
        return
    from app import jobs

    url = link
    if link.startswith("/") and has_request_context():
        url = request.host_url.rstrip("/") + link
    jobs.enqueue(jobs.send_notification_email, user_id, text, url)


def send_notification(user_id: int, text: str, url: str) -> bool:
    """Mail one notification to its person if they (still) have an address and may sign in."""
    user = db.session.get(User, user_id)
    address = address_of(user)
    if user is None or address is None or user.disabled_at is not None or not enabled():
        return False
    message = EmailMessage()
    message["From"] = current_app.config["SMTP_FROM"]
    message["To"] = address
    subject = text if len(text) <= 90 else text[:89] + "…"
    # The text was written in the recipient's language (notifications.notify); the frame too.
    with force_locale(locales.user_language(user)):
        message["Subject"] = gettext(
            "%(site)s: %(subject)s", site=settings.get("site_name"), subject=" ".join(subject.split())
        )
        footer = gettext("You get this e-mail because of your notifications in Coedit.")
    message.set_content(text + ("\n\n" + url if url else "") + "\n\n-- \n" + footer + "\n")
    send(message)
    return True


def send(message: EmailMessage) -> None:
    config = current_app.config
    host, port, mode = config["SMTP_HOST"], int(config["SMTP_PORT"]), (config["SMTP_TLS"] or "none").lower()
    context = ssl.create_default_context()
    if mode == "ssl":
        server = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
    else:
        server = smtplib.SMTP(host, port, timeout=TIMEOUT)
    with server:
        if mode == "starttls":
            server.starttls(context=context)  # raises when the server offers none: never send in the clear
        if config.get("SMTP_USER"):
            server.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        server.send_message(message)
