"""One way into the editor: the editor page, the API's editor-config and share links give the same
verdict (and, for the same person, the same config) for every format, role and setting.

The roles are the rights matrix's; the formats are every extension the formats table knows plus
ones it does not; the settings are the editor-use restriction on and off and Docs configured or not.
"""

import json
import re

import pytest
import sqlalchemy as sa

from app.services import formats
from tests.conftest import EXPECTED_MODE
from tests.conftest import MEMBERS
from tests.test_editor_page import page_config

UNKNOWN = ("zip", "exe", "docxf-unknown")
EXTENSIONS = sorted(formats.EXTENSION_TYPES) + list(UNKNOWN)
PEOPLE = list(MEMBERS) + ["carol"]
SETTINGS = [("everyone", True), ("only-alice", True), ("everyone", False)]


def timeless(config: dict) -> str:
    """The config without what depends on the second it was made (token timestamps)."""
    text = json.dumps({k: v for k, v in config.items() if k != "token"}, sort_keys=True)
    return re.sub(r"token=[^\"&]+", "token=T", text)


@pytest.fixture
def every_format(world, matrix):
    """A file of every extension in the matrix's space, with the matrix's rights on each."""
    from app.extensions import db
    from app.models import File
    from app.models import FileRight
    from app.models import FileVersion
    from app.services.docs import keys

    doc = matrix["doc"]
    overrides = [(name, level) for name, (level, _) in MEMBERS.items() if level]

    def build():
        head = db.session.scalar(sa.select(FileVersion).where(FileVersion.file_id == doc["id"]))
        made = {}
        for ext in EXTENSIONS:
            file = File(space_id=world.space_id, title=f"Sample.{ext}", ext=ext, owner_id=world.user_ids["alice"])
            db.session.add(file)
            db.session.flush()
            db.session.add(
                FileVersion(
                    file_id=file.id,
                    number=1,
                    storage_key=head.storage_key,
                    size=head.size,
                    sha256=head.sha256,
                    source="upload",
                )
            )
            file.version = 1
            keys.rotate(file)
            for name, level in overrides:
                db.session.add(FileRight(file_id=file.id, user_id=world.user_ids[name], level=level))
            made[ext] = file.id
        db.session.commit()  # the versions share one blob: these rows only describe files
        return made

    return world.query(build)


def apply_setting(world, restriction: str, configured: bool) -> None:
    from app.extensions import db
    from app.services import settings

    def save():
        settings.save({"editor_users": "alice" if restriction == "only-alice" else ""})
        db.session.commit()

    world.query(save)
    world.app.config["APP_URL_FOR_DOCS"] = world.url if configured else ""


def page_verdict(response):
    if response.status_code != 200:
        return response.status_code, None
    return 200, timeless(page_config(response.get_data(as_text=True)))


def api_verdict(response):
    return response.status_code, timeless(response.get_json()) if response.status_code == 200 else None


@pytest.mark.parametrize("restriction,configured", SETTINGS)
def test_the_page_and_the_api_agree_for_every_format_and_role(world, matrix, every_format, restriction, configured):
    apply_setting(world, restriction, configured)
    clients = {person: world.client(person) for person in PEOPLE}
    for ext, file_id in every_format.items():
        for person in PEOPLE:
            page = page_verdict(clients[person].get(f"/files/{file_id}/open?mode=edit"))
            api = api_verdict(
                world.client().get(f"/api/v1/files/{file_id}/editor-config?mode=edit", headers=world.api(person))
            )
            assert page == api, (ext, person, page[0], api[0])
            expected = expected_status(ext, person, restriction, configured)
            assert page[0] == expected, (ext, person, page[0], expected)
            if expected == 200:
                config = json.loads(page[1])
                assert config["documentType"] == formats.document_type(ext)
                assert config["editorConfig"]["mode"] == (EXPECTED_MODE[person] if formats.is_editable(ext) else "view")


def expected_status(ext: str, person: str, restriction: str, configured: bool) -> int:
    if person not in EXPECTED_MODE:
        return 404  # not allowed to read: as if it did not exist
    if restriction == "only-alice" and person != "alice":
        return 403
    if formats.document_type(ext) is None:
        return 415
    return 200 if configured else 503


@pytest.mark.parametrize("restriction,configured", SETTINGS)
def test_share_links_give_the_verdict_their_creator_gets(world, matrix, every_format, restriction, configured):
    links = {}
    for ext, file_id in every_format.items():
        for creator in ("alice", "dave"):
            made = world.client().post(
                f"/api/v1/files/{file_id}/links", json={"mode": "edit"}, headers=world.api(creator)
            )
            assert made.status_code == 201
            links[ext, creator] = "/s/" + made.get_json()["url"].rsplit("/s/", 1)[1]
    apply_setting(world, restriction, configured)
    for (ext, creator), path in links.items():
        guest = world.app.test_client()
        assert guest.post(path, data={"name": "Gus"}).status_code == 302
        opened = guest.get(path + "/open")
        assert opened.status_code == expected_status(ext, creator, restriction, configured), (ext, creator)
        if opened.status_code == 200:
            config = page_config(opened.get_data(as_text=True))
            own = (
                world.client()
                .get(f"/api/v1/files/{every_format[ext]}/editor-config", headers=world.api(creator))
                .get_json()
            )
            for key in ("documentType", "type"):
                assert config[key] == own[key]
            for key in ("fileType", "key", "title", "permissions"):
                assert config["document"][key] == own["document"][key], (ext, key)
            assert config["editorConfig"]["user"]["id"].startswith("guest:")
