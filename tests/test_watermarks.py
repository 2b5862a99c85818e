"""Watermarks for readers: the admin's rules put document.options.watermark_on_draw into the editor
config of the people they name (never of people who edit, unless the admin says so), the text's
placeholders are filled, and a watermarked person's Download as PDF carries the text."""

import shutil
import subprocess
import tempfile
from datetime import datetime
from datetime import timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from tests.helpers import QueryCounter
from tests.test_share_links import guest_config
from tests.test_share_links import join
from tests.test_share_links import make_link


def configure(world, **values) -> None:
    from app import transaction
    from app.services import settings

    def apply():
        settings.save({f"watermark_{key}": value for key, value in values.items()})
        transaction.commit()

    world.query(apply)


def make_group(world, name: str, members: tuple = ()) -> int:
    from app.models import Group
    from app.models import GroupMember

    def apply():
        group = Group(name=name)
        db.session.add(group)
        db.session.flush()
        for member in members:
            db.session.add(GroupMember(group_id=group.id, user_id=world.user_ids[member]))
        db.session.commit()
        return group.id

    return world.query(apply)


def set_downloads(world, file_id: int, allowed: bool) -> None:
    from app.models import File

    def apply():
        db.session.execute(sa.update(File).where(File.id == file_id).values(allow_download=allowed))
        db.session.commit()

    world.query(apply)


def config_of(world, file_id: int, who: str, mode: str = "edit") -> dict:
    response = world.client().get(f"/api/v1/files/{file_id}/editor-config?mode={mode}", headers=world.api(who))
    assert response.status_code == 200, response.data
    return response.get_json()


def watermark_of(config: dict) -> str | None:
    """The watermark's text in an editor config, or None when it has none."""
    options = config["document"].get("options")
    if options is None:
        return None
    runs = options["watermark_on_draw"]["paragraphs"][0]["runs"]
    return "".join(run["text"] for run in runs)


@pytest.fixture
def doc(world):
    return world.create_document()


def test_no_rule_no_watermark_for_anyone(world, doc):
    configure(world, all_readers=True)  # a rule, but watermarks are not enabled
    for who, mode in (("alice", "edit"), ("alice", "view"), ("bob", "view")):
        assert "options" not in config_of(world, doc["id"], who, mode)["document"]


def test_all_readers_rule_marks_readers_and_viewers_never_editors(world, doc):
    configure(world, enabled=True, all_readers=True, text="Seen by {userDisplayName}")
    assert watermark_of(config_of(world, doc["id"], "bob")) == "Seen by Bob Baker"  # level read
    assert watermark_of(config_of(world, doc["id"], "alice", "view")) == "Seen by Alice Archer"  # opened to view
    assert watermark_of(config_of(world, doc["id"], "alice", "edit")) is None  # edits: exempt
    world.set_level(doc["id"], "bob", "comment")  # a level below edit is a reader's
    assert watermark_of(config_of(world, doc["id"], "bob")) == "Seen by Bob Baker"
    world.set_level(doc["id"], "bob", "edit")
    assert watermark_of(config_of(world, doc["id"], "bob")) is None
    # Its shape: what Docs draws diagonally over every page.
    shape = config_of(world, doc["id"], "alice", "view")["document"]["options"]["watermark_on_draw"]
    assert shape["rotate"] == -45 and 0 < shape["transparent"] < 1 and shape["paragraphs"][0]["align"] == 2


def test_no_download_rule_marks_readers_of_such_files_only(world, doc):
    other = world.create_document(title="Open")
    configure(world, enabled=True, no_download=True, text="{email}")
    set_downloads(world, doc["id"], False)
    assert watermark_of(config_of(world, doc["id"], "bob")) == ""  # bob has no e-mail: the placeholder empties
    assert watermark_of(config_of(world, other["id"], "bob")) is None  # downloads on
    assert watermark_of(config_of(world, doc["id"], "alice", "view")) is None  # she may download: not the rule
    assert watermark_of(config_of(world, doc["id"], "alice")) is None


def test_view_link_guests_are_marked_edit_link_guests_are_not(world, doc):
    configure(world, enabled=True, view_links=True, text="Guest {userDisplayName} on {siteName}")
    view_link = make_link(world, doc["id"], "view")
    config = guest_config(world, view_link, join(world, view_link, name="Gina Guest"))
    assert watermark_of(config) == "Guest Gina Guest on Coedit"
    edit_link = make_link(world, doc["id"], "edit")
    assert watermark_of(guest_config(world, edit_link, join(world, edit_link))) is None
    assert watermark_of(config_of(world, doc["id"], "bob")) is None  # members are not guests


def test_group_rule_marks_members_and_editors_only_when_the_admin_says(world, doc):
    readers = make_group(world, "Contractors", ("bob",))
    configure(world, enabled=True, groups=str(readers), text="{userDisplayName}")
    assert watermark_of(config_of(world, doc["id"], "bob")) == "Bob Baker"
    world.set_level(doc["id"], "bob", "edit")
    assert watermark_of(config_of(world, doc["id"], "bob")) is None  # edits: exempt by default
    configure(world, editors=True)
    assert watermark_of(config_of(world, doc["id"], "bob")) == "Bob Baker"
    assert watermark_of(config_of(world, doc["id"], "alice")) is None  # not in the group: no rule applies


def test_placeholders_filled_once_in_the_readers_zone_and_nothing_else_evaluated(world, doc):
    from app.models import User
    from app.services import watermarks

    def apply():
        user = db.session.get(User, world.user_ids["bob"])
        user.email, user.timezone, user.display_name = "bob@example.org", "Asia/Tokyo", "{email} {{7*7}}"
        db.session.commit()

    world.query(apply)
    configure(world, enabled=True, all_readers=True, text="{userDisplayName} | {email} | {date}")
    text = watermark_of(config_of(world, doc["id"], "bob"))
    name, email, date = text.split(" | ")
    assert name == "{email} {{7*7}}" and email == "bob@example.org"  # a value is never filled in turn
    assert str(datetime.now(timezone.utc).year) in date and "UTC" not in date  # his zone, not UTC

    with world.app.test_request_context():
        noon = datetime(2026, 3, 1, 20, 30, tzinfo=timezone.utc)
        person = type("P", (), {"display_name": "X", "email": "", "timezone": "Asia/Tokyo"})()
        assert watermarks.render("{date}", person, noon) == "Mar 2, 2026 5:30\u202fAM"  # the next day in Tokyo
        assert watermarks.unknown_placeholders("{date} {user} {}") == ["{user}", "{}"]


def test_no_rule_costs_no_query_and_groups_cost_one_whatever_their_number(world, doc):
    client = world.client()
    path = f"/api/v1/files/{doc['id']}/editor-config"

    def statements() -> list[str]:
        client.get(path, headers=world.api("bob"))  # settings cached, token checked once
        with QueryCounter(world.app) as counter:
            assert client.get(path, headers=world.api("bob")).status_code == 200
        return counter.statements

    plain = statements()
    configure(world, enabled=True, all_readers=True)
    assert len(statements()) == len(plain)
    ids = [make_group(world, f"G{n}") for n in range(3)] + [make_group(world, "Members", ("bob",))]
    configure(world, all_readers=False, groups=" ".join(map(str, ids)))
    grouped = statements()
    assert len(grouped) == len(plain) + 1, grouped
    assert watermark_of(client.get(path, headers=world.api("bob")).get_json()) is not None


def test_admin_form_refuses_unknown_placeholders_and_long_text(world):
    from app.services import settings

    alice = world.client("alice")

    def post(**values):
        page = alice.get("/admin/settings").get_data(as_text=True)
        assert 'id="watermarks"' in page
        data = {"jwt_header": "Authorization", "max_file_size_mb": "100", "coediting_mode": "fast"}
        data.update(values)
        return alice.post("/admin/settings", data=data)

    bad = post(watermark_enabled="y", watermark_text="Hello {user} {__class__}")
    assert bad.status_code == 200
    html = bad.get_data(as_text=True)
    assert "Unknown placeholder {user}, {__class__}" in html
    assert world.query(lambda: settings.get("watermark_enabled")) is False
    too_long = post(watermark_enabled="y", watermark_text="x" * 201).get_data(as_text=True)
    assert "Field cannot be longer than 200 characters." in too_long
    assert "Enter the text of the watermark." in post(watermark_enabled="y", watermark_text=" ").get_data(as_text=True)

    group = make_group(world, "Readers")
    good = post(
        watermark_enabled="y",
        watermark_no_download="y",
        watermark_groups=str(group),
        watermark_text="{siteName} / {userDisplayName} /",
    )
    assert good.status_code in (200, 302)
    assert world.query(lambda: settings.get("watermark_enabled")) is True
    assert world.query(lambda: settings.get("watermark_groups")) == str(group)
    assert world.query(lambda: settings.get("watermark_text")) == "{siteName} / {userDisplayName} /"
    assert world.query(lambda: settings.get("watermark_editors")) is False


# --- Download as PDF ------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        return subprocess.run(["pdftotext", handle.name, "-"], capture_output=True, check=True).stdout.decode()


@pytest.fixture(scope="module")
def emulator():
    from docs_emulator.testing import start_emulator
    from tests.helpers import SECRET

    # Without LibreOffice on its PATH the emulator writes its own text-only PDFs: a conversion in
    # milliseconds rather than seconds, and the stamp is what this test is about.
    with tempfile.TemporaryDirectory() as empty, pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", empty)
        emu = start_emulator(jwt_secret=SECRET)
    with emu:
        yield emu


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) is not installed")
def test_a_watermarked_readers_pdf_carries_the_text_an_editors_does_not(make_world, emulator):
    world = make_world(DOCS_URL=emulator.url)
    doc = world.create_document()
    configure(world, enabled=True, all_readers=True, text="Copy of {userDisplayName}")

    def download(who: str) -> bytes:
        response = world.client().get(
            f"/api/v1/files/{doc['id']}/content", query_string={"format": "pdf"}, headers=world.api(who)
        )
        assert response.status_code == 200, response.data
        assert response.data.startswith(b"%PDF-")
        return response.data

    assert "Copy of Bob Baker" in pdf_text(download("bob"))
    assert "Copy of" not in pdf_text(download("alice"))  # she edits: exempt, and no cached stamp of bob's
