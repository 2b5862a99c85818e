"""Times: <time datetime> in UTC with a UTC fallback text; the reader's zone handed to the script."""

import re

import pytest


def test_times_are_time_elements_in_utc_with_a_readable_fallback(world):
    doc = world.create_document("alice", "Timed")
    for path in (f"/files/{doc['id']}", f"/spaces/{world.space_id}"):
        page = world.client("alice").get(path).get_data(as_text=True)
        stamps = re.findall(r'<time class="when" datetime="([^"]+)" title="([^"]+)">([^<]+)</time>', page)
        assert stamps, path
        for iso, title, text in stamps:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", iso)
            assert title == text and text.endswith(" UTC") and iso[:4] in text
        assert "/static/js/times.js" in page
    assert 'rel="icon" href="/static/favicon.svg"' in page
    assert world.client().get("/static/favicon.svg").status_code == 200


@pytest.mark.parametrize("language", ["en", "de", "fr", "zh_Hans", "es"])
def test_the_fallback_text_is_flask_babel_s_medium_date_and_short_time_in_utc(make_world, language):
    """utc_text calls Babel itself; it says what Flask-Babel's own formatting says, in UTC."""
    from datetime import datetime
    from datetime import timedelta
    from datetime import timezone

    from flask_babel import force_locale
    from flask_babel import format_date
    from flask_babel import format_time

    from app.times import utc_text

    moments = [
        datetime(2026, 1, 31, 18, 5),  # naive: UTC, as SQLite returns it
        datetime(2026, 7, 4, 0, 30, tzinfo=timezone.utc),
        datetime(2026, 7, 4, 2, 30, tzinfo=timezone(timedelta(hours=2))),  # the same moment elsewhere
    ]
    with make_world().app.test_request_context(), force_locale(language):
        for moment in moments:
            in_utc = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
            expected = f"{format_date(in_utc, 'medium')} {format_time(in_utc, 'short')} UTC"
            assert utc_text(moment) == expected
        assert utc_text(moments[1]) == utc_text(moments[2])


@pytest.mark.parametrize(
    "zone,shown", [("Europe/Berlin", True), ("America/Argentina/Buenos_Aires", True), ('x" onload="', False)]
)
def test_the_profile_zone_is_handed_to_the_script(world, zone, shown):
    from app.extensions import db
    from app.models import User

    def choose():  # straight into the row: the profile form would refuse the hostile value itself
        db.session.get(User, world.user_ids["alice"]).timezone = zone
        db.session.commit()

    world.query(choose)
    page = world.client("alice").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert (f'<html lang="en" data-timezone="{zone}">' in page) is shown
    assert "onload" not in page


def test_without_a_profile_zone_the_browser_zone_is_used(world):
    page = world.client("alice").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "data-timezone" not in page
