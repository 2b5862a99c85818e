"""The host site: sign-in, spaces, folders, uploads, create, rename, delete, stream, CSRF."""

import io
import re

from tests.helpers import docx_text
from tests.helpers import docx_with


def test_sign_in_follows_only_local_next(world):
    for target, expected in (
        ("/files/1", "/files/1"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
    ):
        client = world.app.test_client()
        response = client.post(f"/auth/login?next={target}", data={"username": "bob", "password": "pw-bob"})
        assert response.status_code == 302 and response.location == expected, target


def test_wrong_password_is_refused(world):
    response = world.app.test_client().post("/auth/login", data={"username": "bob", "password": "nope"})
    assert response.status_code == 200 and "Unknown username or wrong password" in response.get_data(as_text=True)


def test_create_document_from_the_menu_opens_the_editor(world):
    client = world.client("bob")
    page = client.get(f"/spaces/{world.space_id}").get_data(as_text=True)
    for label in ("Document", "Spreadsheet", "Presentation", "PDF form"):
        assert f'data-label="{label}"' in page
    response = client.post(f"/spaces/{world.space_id}/documents", data={"name": "Minutes", "kind": "docx"})
    assert response.status_code == 302 and "/open?mode=edit" in response.location
    file_id = int(re.search(r"/files/(\d+)/open", response.location).group(1))
    file = world.file(file_id)
    assert file.title == "Minutes.docx" and file.version == 1 and file.owner_id == world.user_ids["bob"]
    assert docx_text(world.head_bytes(file_id)) == []
    assert "Bob Baker created Minutes.docx" in client.get(f"/spaces/{world.space_id}").get_data(as_text=True)


def test_same_name_gets_a_number(world):
    first = world.create_document("alice", "Notes")
    second = world.create_document("alice", "Notes")
    assert (first["title"], second["title"]) == ("Notes.docx", "Notes (2).docx")


def test_names_differing_only_in_case_are_one_name_in_every_script(world):
    titles = [world.create_document("alice", name)["title"] for name in ("Über", "über", "ÜBER", "Notes", "NOTES")]
    assert titles == ["Über.docx", "über (2).docx", "ÜBER (3).docx", "Notes.docx", "NOTES (2).docx"]


def test_upload_with_an_unsafe_name(world):
    client = world.client("bob")
    response = client.post(
        f"/spaces/{world.space_id}/upload",
        data={"file": (io.BytesIO(docx_with("hi")), "../../etc/\u202eevil\x00.docx")},
    )
    assert response.status_code == 302
    page = client.get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "evil.docx" in page and "../" not in page and "\u202e" not in page


def test_upload_that_lies_about_its_type_is_refused(world):
    client = world.client("bob")
    response = client.post(
        f"/spaces/{world.space_id}/upload",
        follow_redirects=True,
        data={"file": (io.BytesIO(b"MZ\x90\x00 not a document"), "report.docx")},
    )
    assert "This is not a valid .docx file" in response.get_data(as_text=True)
    assert world.client().get("/api/v1/files/1", headers=world.api("bob")).status_code == 404  # nothing stored


def test_upload_over_the_size_limit_is_refused(world):
    from app.extensions import db
    from app.services import settings

    def limit():
        settings.save({"max_file_size_mb": 1})
        db.session.commit()

    world.query(limit)
    response = world.client("bob").post(
        f"/spaces/{world.space_id}/upload",
        follow_redirects=True,
        data={"file": (io.BytesIO(b"x" * (1024 * 1024 + 1)), "big.txt")},
    )
    assert "larger than the limit of 1 MB" in response.get_data(as_text=True)


def test_folders_hold_files(world):
    client = world.client("bob")
    client.post(f"/spaces/{world.space_id}/folders", data={"name": "Reports"})
    page = client.get(f"/spaces/{world.space_id}").get_data(as_text=True)
    folder_id = int(re.search(r"folder=(\d+)\">📁 Reports", page).group(1))
    client.post(f"/spaces/{world.space_id}/documents", data={"name": "Q3", "kind": "xlsx", "folder": folder_id})
    inside = client.get(f"/spaces/{world.space_id}?folder={folder_id}").get_data(as_text=True)
    assert "Q3.xlsx" in inside
    top = client.get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "Q3.xlsx</a>" not in top


def test_folder_of_another_space_is_404(world):
    from app.extensions import db
    from app.models import Folder
    from app.models import Space

    def other():
        space = Space(name="Other")
        db.session.add(space)
        db.session.flush()
        folder = Folder(space_id=space.id, name="theirs")
        db.session.add(folder)
        db.session.commit()
        return folder.id

    folder_id = world.query(other)
    assert world.client("bob").get(f"/spaces/{world.space_id}?folder={folder_id}").status_code == 404


def test_rename_keeps_the_extension(world):
    file = world.create_document("alice", "Draft")
    world.client("alice").post(f"/files/{file['id']}/rename", data={"title": "Final.exe"})
    assert world.file(file["id"]).title == "Final.exe.docx"


def test_delete_needs_the_confirmation_form_and_refuses_open_files(world):
    file = world.create_document("alice", "Draft")
    page = world.client("alice").get(f"/files/{file['id']}").get_data(as_text=True)
    assert "Delete Draft.docx?" in page and "cannot be undone" in page

    from app.extensions import db
    from app.models import File

    def editing():
        db.session.get(File, file["id"]).editors = ["2"]
        db.session.commit()

    world.query(editing)
    response = world.client("alice").post(f"/files/{file['id']}/delete", follow_redirects=True)
    assert "is being edited" in response.get_data(as_text=True)
    assert world.file(file["id"]) is not None


def test_stream_posts(world):
    client = world.client("bob")
    client.post(f"/spaces/{world.space_id}/posts", data={"body": "Hello <b>team</b>"})
    page = client.get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "Hello &lt;b&gt;team&lt;/b&gt;" in page


def test_new_version_upload_rotates_the_key(world):
    file = world.create_document("alice", "Draft")
    world.client("alice").post(f"/files/{file['id']}/versions", data={"file": (io.BytesIO(docx_with("v2")), "x.docx")})
    after = world.file(file["id"])
    assert after.version == 2 and after.doc_key != file["key"]
    assert docx_text(world.head_bytes(file["id"])) == ["v2"]


def test_forms_need_the_csrf_token(csrf_world):
    client = csrf_world.app.test_client()
    login = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    assert client.post("/auth/login", data={"username": "bob", "password": "pw-bob"}).status_code == 400
    assert (
        client.post("/auth/login", data={"username": "bob", "password": "pw-bob", "csrf_token": token}).status_code
        == 302
    )
    assert client.post(f"/spaces/{csrf_world.space_id}/posts", data={"body": "forged"}).status_code == 400
    assert (
        client.post(f"/spaces/{csrf_world.space_id}/documents", data={"name": "x", "kind": "docx"}).status_code == 400
    )
    # Session-authenticated API writes need it too; token-authenticated ones do not.
    assert client.post("/api/v1/spaces", json={"name": "x"}).status_code == 400
    assert client.post("/api/v1/spaces", json={"name": "x"}, headers={"X-CSRFToken": token}).status_code == 201
    fresh = csrf_world.app.test_client()
    assert fresh.post("/api/v1/spaces", json={"name": "y"}, headers=csrf_world.api("bob")).status_code == 201


def test_csrf_less_rights_changes_are_refused(csrf_world):
    doc = csrf_world.create_document("alice", "Guarded")
    client = csrf_world.app.test_client()
    login = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    client.post("/auth/login", data={"username": "alice", "password": "pw-alice", "csrf_token": token})
    assert client.post(f"/files/{doc['id']}/rights", data={"default": "edit"}).status_code == 400
    assert client.put(f"/api/v1/files/{doc['id']}/rights", json={"default": "edit"}).status_code == 400
    assert client.post(f"/files/{doc['id']}/grant-read", json={"usernames": ["bob"]}).status_code == 400
    rights = csrf_world.client().get(f"/api/v1/files/{doc['id']}/rights", headers=csrf_world.api("alice")).get_json()
    assert rights["default"] == "read"
