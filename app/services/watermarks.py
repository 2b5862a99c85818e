"""Watermarks on what readers see, print and download as PDF (a "secure view").

The admin's rules (settings ``watermark_*``) say whom they are for; the text is a template whose
placeholders are replaced by plain string replacement, never evaluated. ONLYOFFICE Docs draws the
watermark from ``document.options.watermark_on_draw`` in the editor config (on screen and in
print), and stamps converted PDFs and images from the conversion API's ``watermark`` field, which
takes the same object.
"""

import hashlib
import json
import re
from datetime import datetime
from datetime import timezone
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from babel import dates
from flask_babel import get_locale

from app.models import File
from app.models import User
from app.services import groups
from app.services import rights
from app.services import settings

PLACEHOLDERS = ("{userDisplayName}", "{email}", "{date}", "{siteName}")
MAX_TEXT = 200
# The name the site goes by (the navigation bar's); there is no setting for it yet.
_BRACED = re.compile(r"\{[^{}]*\}")

# Conversion targets Docs stamps a watermark on (the conversion API: pdf and image output).
STAMPED_TARGETS = frozenset({"pdf", "png", "jpg", "bmp", "gif"})


def unknown_placeholders(template: str) -> list[str]:
    """The {…} in a template that are not placeholders we fill (the settings form refuses them)."""
    return [found for found in _BRACED.findall(template or "") if found not in PLACEHOLDERS]


def group_ids() -> set[int]:
    return {int(part) for part in (settings.get("watermark_groups") or "").split() if part.isdigit()}


def _is_editor(level: str, mode: str | None) -> bool:
    """People who edit: in the editor, opened for editing with edit rights; elsewhere, edit rights."""
    return rights.at_least(level, "edit") and mode in (None, "edit")


def applies(file: File, person, level: str, mode: str | None = None) -> bool:
    """Whether the admin's rules put a watermark on this person's view of the file.

    Costs no query unless the group rule is what decides, and then one.
    """
    if not settings.get("watermark_enabled"):
        return False
    editor = _is_editor(level, mode)
    if editor and not settings.get("watermark_editors"):
        return False
    guest = not isinstance(person, User)
    if settings.get("watermark_all_readers") and not editor:
        return True
    if settings.get("watermark_no_download") and not rights.may_download(file, level):
        return True
    if settings.get("watermark_view_links") and guest and not rights.at_least(level, "edit"):
        return True
    chosen = group_ids()
    return bool(chosen) and not guest and groups.in_any(person, chosen)


def _zone(person):
    name = getattr(person, "timezone", "") or ""
    try:
        return ZoneInfo(name) if name else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def _date_text(person, now: datetime | None = None) -> str:
    """Now in the person's time zone (their profile's, else UTC), in their locale's medium style."""
    zone = _zone(person)
    moment = (now or datetime.now(timezone.utc)).astimezone(zone)
    locale = get_locale() or "en"
    day = dates.format_date(moment.date(), "medium", locale=locale)
    text = f"{day} {dates.format_time(moment, 'short', tzinfo=zone, locale=locale)}"
    return text if zone is not timezone.utc else text + " UTC"


def render(template: str, person, now: datetime | None = None) -> str:
    """The template with its placeholders filled; anything else stays as typed."""
    values = {
        "{userDisplayName}": getattr(person, "display_name", "") or "",
        "{email}": getattr(person, "email", "") or "",
        "{date}": _date_text(person, now),
        "{siteName}": settings.get("site_name"),
    }
    # One pass, so a value holding "{email}" (a display name, say) is never filled in turn.
    return _BRACED.sub(lambda match: values.get(match.group(0), match.group(0)), template).strip()[:MAX_TEXT]


def shape(text: str) -> dict:
    """The watermark_on_draw object: the text diagonal across the page, light grey and translucent
    (the values ONLYOFFICE's own connectors use)."""
    return {
        "align": 1,
        "width": 250,
        "height": 100,
        "rotate": -45,
        "transparent": 0.3,
        "paragraphs": [{"align": 2, "runs": [{"text": text, "fill": [182, 182, 182], "font-size": 70}]}],
    }


def for_opening(file: File, person, level: str, mode: str) -> dict | None:
    """The ``document.options`` of the editor config when a watermark applies, else None."""
    if not applies(file, person, level, mode):
        return None
    return {"watermark_on_draw": shape(render(settings.get("watermark_text"), person))}


def for_conversion(file: File, person, level: str, target: str) -> dict | None:
    """The conversion request's ``watermark`` for a person's Download as, else None."""
    if target not in STAMPED_TARGETS or not applies(file, person, level):
        return None
    return shape(render(settings.get("watermark_text"), person))


def key_suffix(watermark: dict | None) -> str:
    """Docs caches a conversion by its key: a watermarked result gets a key of its own text, so
    nobody receives another person's watermark, or none, from the cache."""
    if not watermark:
        return ""
    return "w" + hashlib.sha256(json.dumps(watermark, sort_keys=True).encode()).hexdigest()[:16]
