"""Previews of document templates: Docs' conversion service makes the PNG of a template's first page
in a job (fetching the template from a signed link with its JWT), and Create document shows it to
the people who may use the template."""

import io
import logging
from datetime import timedelta

import pytest
import requests

from tests.helpers import docs_token
from tests.helpers import docx_with
from tests.helpers import wait_for
from tests.test_templates import other_space
from tests.test_templates import templates_of
from tests.test_templates import upload

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def thumbnail_key(world, template_id: int):
    from app.extensions import db
    from app.models import DocumentTemplate

    return world.query(lambda: db.session.get(DocumentTemplate, template_id).thumbnail_key)


@pytest.fixture
def previews(make_world, fake_docs):
    """A world with previews on, whose Docs fetches each source as Docs does (with its JWT) and
    answers a PNG; ``fetched`` holds what it got from each source link."""
    fetched = {}

    def convert(params):
        url = params["url"]
        fetched[url] = requests.get(
            url, headers={"Authorization": "Bearer " + docs_token({"payload": {"url": url}})}, timeout=10
        )
        if fetched[url].status_code != 200 or not params.get("thumbnail"):
            return {"error": -4}
        return {"endConvert": True, "percent": 100, "fileUrl": fake_docs.put("thumb.png", PNG)}

    fake_docs.converter = convert
    world = make_world(DOCS_URL=fake_docs.url, PREVIEWS=True)
    world.fetched = fetched
    return world


def test_a_space_template_gets_a_preview_its_members_see(previews, fake_docs):
    world = previews
    alice = world.client("alice")
    template_bytes = docx_with("Minutes of the meeting")
    assert upload(alice, f"/spaces/{world.space_id}/templates", template_bytes, "Minutes.docx").status_code == 302
    [template] = templates_of(world)
    wait_for(lambda: thumbnail_key(world, template["id"]), what="the template's preview")

    # Docs asked for a thumbnail of the template's own bytes, fetched from a "template" link.
    [asked] = fake_docs.conversions
    assert asked["thumbnail"]["first"] is True and asked["outputtype"] == "png" and asked["filetype"] == "docx"
    assert f"/backend/templates/{template['id']}/source?token=" in asked["url"]
    assert world.fetched[asked["url"]].content == template_bytes
    # The link is for Docs only: without its JWT, or for another template, it is refused.
    assert requests.get(asked["url"], timeout=10).status_code == 403
    other = asked["url"].replace(f"/templates/{template['id']}/", f"/templates/{template['id'] + 1}/")
    signed = {"Authorization": "Bearer " + docs_token({"payload": {"url": other}})}
    assert requests.get(other, headers=signed, timeout=10).status_code == 403

    key = thumbnail_key(world, template["id"])
    assert key in world.blob_keys()
    preview = f"/spaces/{world.space_id}/templates/{template['id']}/preview"
    for member in ("alice", "bob"):
        response = world.client(member).get(preview)
        assert response.status_code == 200 and response.data == PNG
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["Cache-Control"] == "private, no-store" and response.headers["ETag"]
    assert world.client("carol").get(preview).status_code == 404  # no member of the space

    page = world.client("bob").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert f'src="{preview}"' in page and 'alt="First page of Minutes"' in page

    # Another space does not offer it, so its preview is not found there either.
    elsewhere = other_space(world)
    assert alice.get(f"/spaces/{elsewhere}/templates/{template['id']}/preview").status_code == 404

    # Removing the template takes its preview along.
    removed = alice.post(f"/spaces/{world.space_id}/templates/{template['id']}/delete")
    assert removed.status_code == 302
    assert key not in world.blob_keys() and template["key"] not in world.blob_keys()
    assert alice.get(preview).status_code == 404


def test_a_site_template_preview_is_served_in_every_space_and_a_purged_space_takes_its_own(previews):
    from app import jobs
    from app.extensions import db
    from app.models import Space

    world = previews
    admin = world.client("alice")
    assert upload(admin, "/admin/templates", docx_with("Letterhead"), "Letter.docx").status_code == 302
    assert upload(admin, f"/spaces/{world.space_id}/templates", docx_with("Ours"), "Ours.docx").status_code == 302
    site, ours = templates_of(world)
    wait_for(lambda: all(thumbnail_key(world, t["id"]) for t in (site, ours)), what="the templates' previews")
    site_preview, our_preview = thumbnail_key(world, site["id"]), thumbnail_key(world, ours["id"])
    preview = f"/spaces/{world.space_id}/templates/{site['id']}/preview"
    assert world.client("bob").get(preview).data == PNG
    assert world.client("carol").get(preview).status_code == 404

    assert admin.post(f"/spaces/{world.space_id}/delete").status_code == 302

    def age():
        db.session.get(Space, world.space_id).deleted_at -= timedelta(days=world.app.config["TRASH_DAYS"] + 1)
        db.session.commit()

    world.query(age)
    world.query(jobs.purge_trash)
    blobs = world.blob_keys()
    assert our_preview not in blobs and site_preview in blobs


def test_when_docs_cannot_make_one_the_icon_stays_and_nobody_sees_an_error(previews, fake_docs, caplog):
    world = previews
    fake_docs.converter = lambda params: {"error": -3}
    alice = world.client("alice")
    with caplog.at_level(logging.INFO, logger="coedit.jobs"):
        added = alice.post(
            f"/spaces/{world.space_id}/templates",
            data={"file": (io.BytesIO(docx_with("x")), "Plain.docx"), "name": ""},
            content_type="multipart/form-data",
            follow_redirects=True,
        )
        assert added.status_code == 200 and "Template Plain added." in added.get_data(as_text=True)
        wait_for(lambda: fake_docs.conversions, what="the conversion request")
        wait_for(lambda: any("no preview of template" in r.getMessage() for r in caplog.records), what="the log")
    [template] = templates_of(world)
    assert thumbnail_key(world, template["id"]) is None
    assert world.blob_keys("templates/previews") == []
    page = world.client("bob").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert f'data-template="{template["id"]}"' in page and "/preview" not in page
    assert alice.get(f"/spaces/{world.space_id}/templates/{template['id']}/preview").status_code == 404
