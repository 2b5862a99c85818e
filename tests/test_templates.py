"""Document templates: administrators add the site's, space admins their space's; Create document
offers Blank and them, and a document made from one starts as its own copy of the template."""

import io
import re
import zipfile
from datetime import timedelta

import sqlalchemy as sa

from tests.helpers import docx_text
from tests.helpers import docx_with


def upload(client, path: str, data: bytes, filename: str, name: str = ""):
    return client.post(
        path,
        data={"file": (io.BytesIO(data), filename), "name": name},
        content_type="multipart/form-data",
    )


def templates_of(world) -> list[dict]:
    from app.extensions import db
    from app.models import DocumentTemplate

    def read():
        rows = db.session.scalars(sa.select(DocumentTemplate).order_by(DocumentTemplate.id))
        return [
            {"id": t.id, "space": t.space_id, "name": t.name, "ext": t.ext, "key": t.storage_key, "size": t.size}
            for t in rows
        ]

    return world.query(read)


def space_page(world, client) -> str:
    return client.get(f"/spaces/{world.space_id}").get_data(as_text=True)


def other_space(world) -> int:
    from app.extensions import db
    from app.models import Membership
    from app.models import Space

    def make():
        space = Space(name="Elsewhere", default_level="read")
        db.session.add(space)
        db.session.flush()
        db.session.add(Membership(space_id=space.id, user_id=world.user_ids["alice"], role="owner"))
        db.session.commit()
        return space.id

    return world.query(make)


def test_a_site_template_is_offered_everywhere_and_copied_as_version_1(world):
    alice = world.client("alice")
    letter = docx_with("Dear reader,", "Our letterhead")
    added = upload(alice, "/admin/templates", letter, "Letterhead.docx", name="  Company   letter ")
    assert added.status_code == 302 and added.location.endswith("/admin/settings#templates")
    [template] = templates_of(world)
    assert template["space"] is None and template["name"] == "Company letter" and template["ext"] == "docx"
    assert template["size"] == len(letter) and template["key"] in world.blob_keys()
    settings = alice.get("/admin/settings").get_data(as_text=True)
    assert f'data-template-id="{template["id"]}"' in settings and "Company letter" in settings

    # Offered in the space's Create document, to every member.
    bob = world.client("bob")
    page = space_page(world, bob)
    assert f'data-template="{template["id"]}"' in page
    assert re.search(rf'<option value="{template["id"]}">Company letter \(\.docx\)</option>', page)
    created = bob.post(
        f"/spaces/{world.space_id}/documents", data={"kind": "docx", "name": "", "template": str(template["id"])}
    )
    assert created.status_code == 302 and "/open" in created.location
    file_id = int(re.search(r"/files/(\d+)/open", created.location).group(1))
    file = world.file(file_id)
    assert file.title == "Company letter.docx" and file.owner_id == world.user_ids["bob"]
    [version] = world.versions(file_id)
    assert version.number == 1 and version.source == "template"
    assert version.storage_key != template["key"]  # its own blob, not the template's
    assert world.blob_bytes(version.storage_key) == letter
    assert docx_text(world.head_bytes(file_id)) == ["Dear reader,", "Our letterhead"]

    # Removing the template leaves the document made from it whole.
    removed = alice.post(f"/admin/templates/{template['id']}/delete")
    assert removed.status_code == 302
    assert templates_of(world) == [] and template["key"] not in world.blob_keys()
    assert world.blob_bytes(version.storage_key) == letter
    assert f'data-template="{template["id"]}"' not in space_page(world, bob)


def test_space_admins_add_templates_for_their_space_only(world):
    alice = world.client("alice")
    sheet_path = f"/spaces/{world.space_id}/templates"
    budget = _xlsx()
    assert upload(world.client("bob"), sheet_path, budget, "Budget.xlsx").status_code == 403  # a plain member
    assert upload(world.client("carol"), sheet_path, budget, "Budget.xlsx").status_code == 404  # an outsider
    assert upload(world.client("bob"), "/admin/templates", budget, "Budget.xlsx").status_code == 403
    assert templates_of(world) == []

    added = upload(alice, sheet_path, budget, "Budget.xlsx")
    assert added.status_code == 302 and added.location.endswith(f"/spaces/{world.space_id}/settings#templates")
    [template] = templates_of(world)
    assert template["space"] == world.space_id and template["name"] == "Budget" and template["ext"] == "xlsx"
    settings = alice.get(f"/spaces/{world.space_id}/settings").get_data(as_text=True)
    assert f'data-template-id="{template["id"]}"' in settings

    # Through the API, with a name of its own.
    made = world.client().post(
        f"/api/v1/spaces/{world.space_id}/documents",
        json={"title": "Budget 2027", "template": template["id"]},
        headers=world.api("bob"),
    )
    assert made.status_code == 201 and made.get_json()["title"] == "Budget 2027.xlsx"
    assert world.head_bytes(made.get_json()["id"]) == budget

    # Another space neither lists it nor may use it.
    elsewhere = other_space(world)
    assert f'data-template="{template["id"]}"' not in world.client("alice").get(f"/spaces/{elsewhere}").text
    refused = world.client().post(
        f"/api/v1/spaces/{elsewhere}/documents",
        json={"title": "Stolen", "template": template["id"]},
        headers=world.api("alice"),
    )
    assert refused.status_code == 404
    form = alice.post(f"/spaces/{elsewhere}/documents", data={"kind": "xlsx", "template": str(template["id"])})
    assert form.status_code == 404
    assert alice.post(f"/spaces/{elsewhere}/templates/{template['id']}/delete").status_code == 404
    assert alice.post(f"/admin/templates/{template['id']}/delete").status_code == 404  # a space's, not the site's
    assert world.client("bob").post(f"/spaces/{world.space_id}/templates/{template['id']}/delete").status_code == 403
    assert len(templates_of(world)) == 1

    assert alice.post(f"/spaces/{world.space_id}/templates/{template['id']}/delete").status_code == 302
    assert templates_of(world) == []


def test_templates_are_checked_like_uploads(world):
    alice = world.client("alice")
    before = set(world.blob_keys())
    for data, filename, reason in (
        (b"not a zip at all", "Fake.docx", "This is not a valid .docx file"),
        (b"plain text", "Notes.txt", "A template must be one of these types"),
        (docx_with("Hello"), "Hello.xlsx", "This is not a valid .xlsx file"),  # a document named a sheet
    ):
        response = upload(alice, "/admin/templates", data, filename)
        assert response.status_code == 302
        assert reason in alice.get("/admin/settings").get_data(as_text=True), filename
    with world.app.app_context():
        from app.extensions import db
        from app.services import settings

        settings.save({"max_file_size_mb": 1})
        db.session.commit()
    upload(alice, "/admin/templates", docx_with("Big") + b"\0" * (1024 * 1024), "Big.docx")
    assert "larger than the limit" in alice.get("/admin/settings").get_data(as_text=True)
    assert templates_of(world) == [] and set(world.blob_keys()) == before


def test_an_office_template_makes_documents_of_its_type(world):
    alice = world.client("alice")
    dotx = _as_template(docx_with("Minutes of the meeting"))
    assert upload(alice, f"/spaces/{world.space_id}/templates", dotx, "Minutes.dotx").status_code == 302
    [template] = templates_of(world)
    assert template["ext"] == "docx" and template["name"] == "Minutes"
    created = alice.post(f"/spaces/{world.space_id}/documents", data={"kind": "docx", "template": str(template["id"])})
    file_id = int(re.search(r"/files/(\d+)/open", created.location).group(1))
    content = world.head_bytes(file_id)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        types = archive.read("[Content_Types].xml").decode()
    assert "wordprocessingml.document.main+xml" in types and "template.main" not in types
    assert docx_text(content) == ["Minutes of the meeting"]
    assert world.file(file_id).title == "Minutes.docx"


def test_a_purged_space_takes_its_templates_blobs_along(world):
    from app import jobs
    from app.extensions import db
    from app.models import Space

    alice = world.client("alice")
    upload(alice, f"/spaces/{world.space_id}/templates", docx_with("Ours"), "Ours.docx")
    upload(alice, "/admin/templates", docx_with("Everyone's"), "Site.docx")
    space_template, site_template = templates_of(world)
    assert alice.post(f"/spaces/{world.space_id}/delete").status_code == 302

    def age():
        db.session.get(Space, world.space_id).deleted_at -= timedelta(days=world.app.config["TRASH_DAYS"] + 1)
        db.session.commit()

    world.query(age)
    world.query(jobs.purge_trash)
    assert templates_of(world) == [site_template]
    assert space_template["key"] not in world.blob_keys() and site_template["key"] in world.blob_keys()


def _xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = "Budget"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _as_template(docx: bytes) -> bytes:
    """The same document as Word's template format (.dotx): only the main part's type differs."""
    source, target = zipfile.ZipFile(io.BytesIO(docx)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"wordprocessingml.document.main+xml", b"wordprocessingml.template.main+xml")
            archive.writestr(item, data)
    return target.getvalue()
