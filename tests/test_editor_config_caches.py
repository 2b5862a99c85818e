"""What the editor config's hot path keeps between and within requests never outlives a change.

Settings are read once per request from a per-process copy checked against their generation, and
the API route reads the file as a row: a changed setting (here or in another process), a revoked
token, a disabled account and a changed level must all show on the very next request. (Its URLs
come from per-route templates: tests/test_urls.py.)
"""

import pytest
import sqlalchemy as sa

from app import transaction
from app.extensions import db
from app.models import ApiToken
from app.models import User
from app.services import settings
from app.services import state
from tests.conftest import build_app


def config_of(world, file_id, name="bob", **query):
    return world.client().get(f"/api/v1/files/{file_id}/editor-config", query_string=query, headers=world.api(name))


@pytest.fixture
def bobs_file(world):
    file = world.create_document("alice", "Report")
    world.set_level(file["id"], "bob", "edit")
    return file["id"]


def test_a_setting_saved_by_another_process_shows_in_the_next_config(world, bobs_file, tmp_path):
    assert config_of(world, bobs_file).get_json()["editorConfig"]["customization"]["comments"] is True
    other = build_app(tmp_path)  # another process of the installation: same database and instance folder
    with other.app_context():
        settings.save({"comments": False})
        transaction.commit()
    assert config_of(world, bobs_file).get_json()["editorConfig"]["customization"]["comments"] is False


def test_a_setting_changed_in_the_database_shows_once_its_generation_moves(world, bobs_file):
    with world.app.app_context():
        settings.save({"coediting_mode": "fast"})  # a stored row to change behind the app's back
        transaction.commit()
    assert config_of(world, bobs_file).get_json()["editorConfig"]["coEditing"]["mode"] == "fast"  # now kept
    with world.app.app_context():
        db.session.execute(sa.text("UPDATE setting SET value = 'strict' WHERE key = 'coediting_mode'"))
        db.session.commit()
        state.bump("settings")  # what a save in any process does once committed
    assert config_of(world, bobs_file).get_json()["editorConfig"]["coEditing"]["mode"] == "strict"


def test_the_configuration_laid_over_the_stored_values_follows_both(world, bobs_file):
    """The effective values (stored, then the app's configuration over them) are kept per process:
    a change of either shows in the next request, and nobody can change the kept copy."""
    with world.app.app_context():
        settings.save({"comments": False})
        transaction.commit()
    assert config_of(world, bobs_file).get_json()["editorConfig"]["customization"]["comments"] is False
    world.app.config["DOCS_URL"] = "http://127.0.0.1:9/another-docs/"  # fixed by the configuration
    with world.app.test_request_context():
        assert settings.get("docs_url") == "http://127.0.0.1:9/another-docs/"
        with pytest.raises(TypeError):
            settings.snapshot()["comments"] = True
    with world.app.app_context():
        settings.save({"comments": True})
        transaction.commit()
    assert config_of(world, bobs_file).get_json()["editorConfig"]["customization"]["comments"] is True


def test_a_request_reads_one_snapshot_and_a_trial_overrides_it_while_it_lasts(world):
    with world.app.test_request_context():
        assert settings.get("chat") is True
        with settings.trial({"chat": False, "jwt_secret": "fixed by the config: ignored"}):
            assert settings.get("chat") is False
            assert settings.get("jwt_secret") == world.app.config["DOCS_JWT_SECRET"]
        assert settings.get("chat") is True
        settings.save({"chat": False})  # a save in the request is seen by the rest of it
        assert settings.get("chat") is False
        db.session.rollback()


def test_a_revoked_token_fails_on_the_next_request(world, bobs_file):
    assert config_of(world, bobs_file).status_code == 200
    with world.app.app_context():
        db.session.execute(sa.delete(ApiToken).where(ApiToken.user_id == world.user_ids["bob"]))
        db.session.commit()
    assert config_of(world, bobs_file).status_code == 401


def test_a_disabled_account_s_token_fails_on_the_next_request(world, bobs_file):
    assert config_of(world, bobs_file).status_code == 200
    with world.app.app_context():
        db.session.execute(sa.update(User).where(User.id == world.user_ids["bob"]).values(disabled_at=sa.func.now()))
        db.session.commit()
    assert config_of(world, bobs_file).status_code == 401


def test_the_config_follows_a_rights_change_at_once(world, bobs_file):
    from app.models import File

    edit = config_of(world, bobs_file).get_json()
    assert edit["editorConfig"]["mode"] == "edit" and edit["document"]["permissions"]["edit"] is True
    world.set_level(bobs_file, "bob", "comment")
    permissions = config_of(world, bobs_file).get_json()["document"]["permissions"]
    assert permissions["edit"] is False and permissions["comment"] is True and permissions["download"] is True
    with world.app.app_context():
        db.session.execute(sa.update(File).where(File.id == bobs_file).values(allow_download=False))
        db.session.commit()
    permissions = config_of(world, bobs_file).get_json()["document"]["permissions"]
    assert permissions["download"] is False and permissions["print"] is False and permissions["comment"] is True
    world.set_level(bobs_file, "bob", "none")
    assert config_of(world, bobs_file).status_code == 404


def test_a_trashed_file_has_no_config(world, bobs_file):
    from app.models import File

    with world.app.app_context():
        db.session.execute(sa.update(File).where(File.id == bobs_file).values(trashed_at=sa.func.now()))
        db.session.commit()
    assert config_of(world, bobs_file, "alice").status_code == 404
