"""Times on pages: UTC in the markup (readable without script), the reader's zone by static/js/times.js.

Every time goes through the ``when`` macro (templates/_macros.html), which uses these filters.
"""

import re
from datetime import datetime
from datetime import timezone

from babel import dates
from flask import Flask
from flask_babel import get_locale
from flask_login import current_user

# An IANA zone name as Intl.DateTimeFormat takes it ("Europe/Berlin", "UTC"); anything else is
# left out and the browser's zone is used.
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; naive values are UTC (SQLite hands them back without their zone)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, as <time datetime> and Date.parse take it."""
    return as_utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z")


def utc_text(moment: datetime) -> str:
    """The exact time for readers without script, in the reader's locale (CLDR's date and time
    patterns, by Babel): UTC, and said to be.

    Babel's own functions, given the locale and the zone: Flask-Babel's wrappers look both up
    again for each, and a list page says a time or two on every row.
    """
    moment = as_utc(moment)
    locale = get_locale()
    day = dates.format_date(moment, "medium", locale=locale)
    return f"{day} {dates.format_time(moment, 'short', tzinfo=timezone.utc, locale=locale)} UTC"


def reader_timezone() -> str:
    """The zone the person chose on their profile, or "" (the browser's zone then).

    The profile's time zone may not exist on User yet; a missing attribute is no choice.
    """
    zone = getattr(current_user, "timezone", None) if getattr(current_user, "is_authenticated", False) else None
    return zone if isinstance(zone, str) and _ZONE.match(zone) else ""


def register(app: Flask) -> None:
    app.add_template_filter(utc_iso)
    app.add_template_filter(utc_text)
    app.context_processor(lambda: {"reader_timezone": reader_timezone()})
