"""The admin status page: health, who is editing what, saves owed, locks, and 7 days of saves."""

import re
from datetime import date
from datetime import timedelta

import pytest

from app.admin.charts import daily_chart
from app.services import status
from tests.test_callbacks import save_body
from tests.test_callbacks import send


@pytest.fixture
def doc(world):
    file = world.create_document("alice", "Budget")
    world.set_level(file["id"], "bob", "edit")
    config = world.client().get(f"/api/v1/files/{file['id']}/editor-config", headers=world.api("bob")).get_json()
    return {"id": file["id"], "key": config["document"]["key"], "callback": config["editorConfig"]["callbackUrl"]}


def join(doc, *user_ids):
    actions = [{"type": 1, "userid": user_id} for user_id in user_ids]
    assert send(
        doc["callback"], {"key": doc["key"], "status": 1, "users": list(user_ids), "actions": actions}
    ).json() == {"error": 0}


def leave_all(doc, user_id):
    body = {"key": doc["key"], "status": 1, "users": [], "actions": [{"type": 0, "userid": user_id}]}
    assert send(doc["callback"], body).json() == {"error": 0}


def test_editing_now_names_who_is_in_each_document(world, doc):
    bob, alice = str(world.user_ids["bob"]), str(world.user_ids["alice"])
    join(doc, bob, alice)

    sessions = world.query(lambda: [(s.file.id, s.people) for s in status.editing_now()])

    assert sessions == [(doc["id"], ["Bob Baker", "Alice Archer"])]


def test_a_save_is_owed_from_the_last_leave_until_it_arrives(world, fake_docs, doc):
    bob = str(world.user_ids["bob"])
    join(doc, bob)
    assert world.query(status.saves_owed) == []  # someone is still in it

    leave_all(doc, bob)
    assert world.query(lambda: [s.file.id for s in status.saves_owed()]) == [doc["id"]]
    assert world.query(status.editing_now) == []

    assert send(doc["callback"], save_body(world, fake_docs, doc)).json() == {"error": 0}
    assert world.query(status.saves_owed) == []


def test_daily_chart_scales_bars_to_the_busiest_day():
    days = [date(2026, 11, d) for d in range(21, 28)]
    chart = daily_chart("Saves", list(zip(days, [0, 2, 4, 0, 1, 0, 4], strict=True)))

    assert chart.total == 11 and chart.peak == 4
    heights = [bar.height for bar in chart.bars]
    assert heights[2] == heights[6] == max(heights)
    assert heights[1] == pytest.approx(heights[2] / 2)
    assert heights[0] == 1.0  # an empty day keeps a hairline, so the week is still seen as seven days
    assert [bar.day for bar in chart.bars] == days
    assert all(bar.y + bar.height == pytest.approx(chart.height - chart.axis) for bar in chart.bars)


def backdate_entries(world, action: str, days_ago: int, count: int) -> None:
    from app.extensions import db
    from app.models.base import utcnow
    from app.services import audit

    def add():
        for _ in range(count):
            entry = audit.event(action, actor=None, object_type="file", object_id=1, object_name="Old")
            entry.at = utcnow() - timedelta(days=days_ago)
            db.session.add(entry)
        db.session.commit()

    world.query(add)


def chart_values(html: str, css_class: str) -> list[int]:
    figure = html.split(f'class="mb-0 chart {css_class}"', 1)[1].split("</figure>", 1)[0]
    return [int(v) for v in re.findall(r'data-value="(\d+)"', figure)]


def test_the_page_shows_components_sessions_owed_saves_locks_and_the_week(world, fake_docs, doc):
    from app.services import locks

    bob, alice = str(world.user_ids["bob"]), str(world.user_ids["alice"])
    other = world.create_document("alice", "Minutes")
    world.set_level(other["id"], "bob", "edit")
    other_config = world.client().get(f"/api/v1/files/{other['id']}/editor-config", headers=world.api("bob")).get_json()
    other_doc = {"key": other_config["document"]["key"], "callback": other_config["editorConfig"]["callbackUrl"]}
    join(other_doc, bob)
    leave_all(other_doc, bob)  # its save is owed from now
    join(doc, bob, alice)
    assert send(doc["callback"], save_body(world, fake_docs, doc, status=6)).json() == {"error": 0}  # one save today
    backdate_entries(world, "file.saved", 2, 3)
    backdate_entries(world, "file.save_failed", 1, 2)
    backdate_entries(world, "file.save_rejected", 6, 1)
    backdate_entries(world, "file.saved", 8, 5)  # older than the week: not charted
    held = world.query(lambda: locks.acquire(other["id"], "restore", ttl=60, renew=False))

    try:
        response = world.client("alice").get("/admin/status")
    finally:
        world.query(held.release)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    components = dict(re.findall(r'data-component="(\w+)">.*?<span class="badge [^"]*">(\w+)</span>', html, re.S))
    assert components == {"database": "healthy", "storage": "healthy", "onlyoffice": "unhealthy", "queue": "healthy"}
    assert 'Status <span class="badge text-bg-warning">degraded</span>' in html  # Docs' /healthcheck is missing
    sessions = html.split('id="sessions"', 1)[1].split('id="pending-saves"', 1)[0]
    assert f'data-file="{doc["id"]}"' in sessions and "Bob Baker, Alice Archer" in sessions
    assert "Team · since" in sessions
    assert "Minutes" not in sessions
    pending = html.split('id="pending-saves"', 1)[1].split('id="locks"', 1)[0]
    assert "Minutes" in pending and "Budget" not in pending
    held_now = html.split('id="locks"', 1)[1]
    assert "Minutes.docx: restore" in held_now
    assert chart_values(html, "saves") == [0, 0, 0, 0, 3, 0, 1]
    assert chart_values(html, "failures") == [0, 0, 0, 0, 0, 2, 0]
    assert chart_values(html, "rejections") == [1, 0, 0, 0, 0, 0, 0]


def test_the_page_is_for_administrators_only(world):
    assert world.client("bob").get("/admin/status").status_code == 403
    assert world.client().get("/admin/status").status_code in (302, 401)
