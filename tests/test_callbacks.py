"""The callback handler, over real HTTP, with Docs' file links served by a scriptable server."""

import io
import threading
import time
import zipfile

import pytest
import requests
import sqlalchemy as sa

from tests.databases import ENGINE
from tests.databases import hand_out_id_again
from tests.helpers import SECRET
from tests.helpers import docs_token
from tests.helpers import docx_text
from tests.helpers import docx_with
from tests.helpers import signed_callback
from tests.helpers import wait_for


@pytest.fixture
def doc(world):
    """A docx created by alice, with its config as bob (an editor) would get it."""
    file = world.create_document("alice", "Report")
    world.set_level(file["id"], "bob", "edit")
    config = world.client().get(f"/api/v1/files/{file['id']}/editor-config", headers=world.api("bob")).get_json()
    return {"id": file["id"], "key": config["document"]["key"], "callback": config["editorConfig"]["callbackUrl"]}


def send(url, body, headers=None, secret=SECRET, mode="both", expires_in=300):
    signed, wrapper = signed_callback(body, secret, expires_in)
    if mode == "header":
        signed.pop("token")
        return requests.post(url, json=body, headers=wrapper, timeout=10)
    if mode == "body":
        return requests.post(url, json=signed, timeout=10)
    if mode == "none":
        return requests.post(url, json=body, timeout=10)
    return requests.post(url, json=signed, headers={**wrapper, **(headers or {})}, timeout=10)


def save_body(world, fake_docs, doc, status=2, content=None, name="out.docx", user="bob", **extra):
    if content is not None or name not in fake_docs.files:
        fake_docs.put(name, content if content is not None else docx_with("edited by bob"))
    url = f"{fake_docs.url}/cache/files/{name}?md5=x&expires=9999999999"
    body = {
        "key": doc["key"],
        "status": status,
        "url": url,
        "filetype": "docx",
        "users": [str(world.user_ids[user])],
        "lastsave": extra.pop("lastsave", "2026-11-22T10:00:00.000Z"),
    }
    body.update(extra)
    return body


def unchanged(world, doc, before_bytes):
    assert len(world.versions(doc["id"])) == 1
    assert world.head_bytes(doc["id"]) == before_bytes
    assert world.file(doc["id"]).doc_key == doc["key"]


# --- one test per status -----------------------------------------------------------


def test_status_0_is_answered_and_changes_nothing(world, doc):
    before = world.head_bytes(doc["id"])
    response = send(doc["callback"], {"key": doc["key"], "status": 0})
    assert response.status_code == 200 and response.json() == {"error": 0}
    unchanged(world, doc, before)


def test_status_1_records_the_editors(world, doc):
    bob = str(world.user_ids["bob"])
    response = send(
        doc["callback"], {"key": doc["key"], "status": 1, "users": [bob], "actions": [{"type": 1, "userid": bob}]}
    )
    assert response.json() == {"error": 0}
    file = world.file(doc["id"])
    assert file.editors == [bob] and file.editing_since is not None
    page = world.client("alice").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "Being edited by Bob Baker" in page


def test_status_2_stores_a_version_by_the_last_editor_and_rotates_the_key(world, fake_docs, doc):
    response = send(doc["callback"], save_body(world, fake_docs, doc))
    assert response.status_code == 200 and response.json() == {"error": 0}
    versions = world.versions(doc["id"])
    assert [v.number for v in versions] == [1, 2]
    assert versions[1].author_id == world.user_ids["bob"] and versions[1].source == "save"
    assert docx_text(world.head_bytes(doc["id"])) == ["edited by bob"]
    file = world.file(doc["id"])
    assert file.version == 2 and file.doc_key != doc["key"] and file.editors == []
    page = world.client("alice").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "Report.docx was updated by Bob Baker: version 2" in page


def test_status_3_with_a_file_is_stored_like_2(world, fake_docs, doc):
    assert send(doc["callback"], save_body(world, fake_docs, doc, status=3)).json() == {"error": 0}
    assert world.file(doc["id"]).version == 2 and world.file(doc["id"]).doc_key != doc["key"]


def test_status_3_without_a_file_is_acknowledged(world, doc):
    before = world.head_bytes(doc["id"])
    assert send(doc["callback"], {"key": doc["key"], "status": 3, "users": ["1"]}).json() == {"error": 0}
    unchanged(world, doc, before)


def test_status_4_releases_the_editors(world, doc):
    send(doc["callback"], {"key": doc["key"], "status": 1, "users": ["2"]})
    assert send(doc["callback"], {"key": doc["key"], "status": 4}).json() == {"error": 0}
    assert world.file(doc["id"]).editors == []


def test_status_6_stores_a_version_and_keeps_the_key(world, fake_docs, doc):
    response = send(doc["callback"], save_body(world, fake_docs, doc, status=6, forcesavetype=1))
    assert response.json() == {"error": 0}
    file = world.file(doc["id"])
    assert file.version == 2 and file.doc_key == doc["key"]
    assert world.versions(doc["id"])[1].source == "forcesave"


def test_status_7_with_a_file_is_stored_like_6(world, fake_docs, doc):
    assert send(doc["callback"], save_body(world, fake_docs, doc, status=7)).json() == {"error": 0}
    assert world.file(doc["id"]).version == 2 and world.file(doc["id"]).doc_key == doc["key"]


def test_unknown_status_is_answered_without_side_effects(world, doc):
    before = world.head_bytes(doc["id"])
    assert send(doc["callback"], {"key": doc["key"], "status": 8}).json() == {"error": 0}
    unchanged(world, doc, before)


@pytest.mark.parametrize("status", ["2", 2.5, None, True])
def test_malformed_status_is_a_bad_request(world, doc, status):
    response = send(doc["callback"], {"key": doc["key"], "status": status})
    assert response.status_code == 400 and response.json() == {"error": 1}


# --- signatures and links ------------------------------------------------------------


def test_no_token_is_refused(world, fake_docs, doc):
    before = world.head_bytes(doc["id"])
    response = send(doc["callback"], save_body(world, fake_docs, doc), mode="none")
    assert response.status_code == 403 and response.json() == {"error": 1}
    unchanged(world, doc, before)
    assert fake_docs.requests == []  # nothing was fetched


def test_forged_token_is_refused(world, fake_docs, doc):
    body = save_body(world, fake_docs, doc)
    forged = dict(body, token=docs_token(body)[:-4] + "AAAA")
    response = requests.post(doc["callback"], json=forged, timeout=10)
    assert response.status_code == 403
    assert fake_docs.requests == []


def test_unsigned_alg_none_token_is_refused(world, fake_docs, doc):
    import jwt

    body = save_body(world, fake_docs, doc)
    token = jwt.encode({**body, "exp": 9999999999}, key=None, algorithm="none")
    assert requests.post(doc["callback"], json=dict(body, token=token), timeout=10).status_code == 403


def test_wrong_secret_is_refused(world, fake_docs, doc):
    before = world.head_bytes(doc["id"])
    response = send(doc["callback"], save_body(world, fake_docs, doc), secret="another-secret-of-32-characters!!")
    assert response.status_code == 403
    unchanged(world, doc, before)


def test_expired_token_is_refused(world, fake_docs, doc):
    before = world.head_bytes(doc["id"])
    response = send(doc["callback"], save_body(world, fake_docs, doc), expires_in=-120)
    assert response.status_code == 403
    unchanged(world, doc, before)


def test_token_within_leeway_is_accepted(world, fake_docs, doc):
    assert send(doc["callback"], save_body(world, fake_docs, doc), expires_in=-30).json() == {"error": 0}


def test_token_in_the_header_only_is_accepted(world, fake_docs, doc):
    response = send(doc["callback"], save_body(world, fake_docs, doc), mode="header")
    assert response.json() == {"error": 0}
    assert world.file(doc["id"]).version == 2


def test_token_in_the_body_only_is_accepted(world, fake_docs, doc):
    assert send(doc["callback"], save_body(world, fake_docs, doc), mode="body").json() == {"error": 0}


def test_only_signed_content_is_used(world, fake_docs, doc):
    """The unsigned body says 'store evil'; the token says the real url. The token wins."""
    body = save_body(world, fake_docs, doc)
    evil = fake_docs.put("evil.docx", docx_with("evil"))
    signed, _ = signed_callback(body)
    signed["url"] = evil
    assert requests.post(doc["callback"], json=signed, timeout=10).json() == {"error": 0}
    assert docx_text(world.head_bytes(doc["id"])) == ["edited by bob"]


def test_token_for_another_files_key_is_refused(world, fake_docs, doc):
    other = world.create_document("alice", "Other")
    other_key = world.client().get(f"/api/v1/files/{other['id']}", headers=world.api("alice")).get_json()["key"]
    before = world.head_bytes(doc["id"])
    body = save_body(world, fake_docs, doc)
    body["key"] = other_key
    response = send(doc["callback"], body)
    assert response.status_code == 403
    unchanged(world, doc, before)
    assert world.file(other["id"]).version == 1


def test_callback_link_of_another_file_is_refused(world, fake_docs, doc):
    other = world.create_document("alice", "Other")
    url = doc["callback"].replace(f"/files/{doc['id']}/", f"/files/{other['id']}/")
    assert send(url, save_body(world, fake_docs, doc)).status_code == 403


def test_tampered_callback_link_is_refused(world, fake_docs, doc):
    assert send(doc["callback"][:-3] + "abc", save_body(world, fake_docs, doc)).status_code == 403


def test_body_that_is_not_json_is_a_bad_request(world, doc):
    response = requests.post(doc["callback"], data=b"<html>", headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 400 and response.json() == {"error": 1}


def test_oversized_body_is_refused(world, doc):
    response = requests.post(doc["callback"], data=b"{" + b" " * (2 * 1024 * 1024) + b"}", timeout=10)
    assert response.status_code in (400, 413)


# --- where the file comes from ----------------------------------------------------


@pytest.mark.parametrize(
    "make_url",
    [
        lambda docs: docs.url.replace("127.0.0.1", "localhost") + "/cache/files/out.docx",  # another host
        lambda docs: f"http://127.0.0.1:{docs.server.port + 1}/cache/files/out.docx",  # another port
        lambda docs: docs.url.replace("http://", "https://") + "/cache/files/out.docx",  # another scheme
        lambda docs: "file:///etc/passwd",
        lambda docs: docs.url.replace("http://", "http://ds@") + "/cache/files/out.docx",  # credentials
        lambda docs: docs.url + "/admin/secret",  # not a cache path
        lambda docs: docs.url + "/cache/files/../../admin",  # traversal
    ],
)
def test_url_off_the_document_server_is_refused_and_never_fetched(world, fake_docs, doc, make_url):
    before = world.head_bytes(doc["id"])
    fake_docs.put("out.docx", docx_with("stolen"))
    body = save_body(world, fake_docs, doc)
    body["url"] = make_url(fake_docs)
    response = send(doc["callback"], body)
    assert response.status_code == 403 and response.json() == {"error": 1}
    unchanged(world, doc, before)
    assert fake_docs.requests == []


def test_public_url_is_rewritten_to_the_internal_address(world, fake_docs, doc):
    """Docs hands out links on its public address; we fetch them from the internal one."""
    world.app.config["DOCS_URL"] = "https://docs.example.test/office"
    world.app.config["DOCS_INTERNAL_URL"] = fake_docs.url
    body = save_body(world, fake_docs, doc)
    fake_docs.put("out.docx", docx_with("via internal"))
    body["url"] = "https://docs.example.test/office/cache/files/out.docx?md5=x&expires=1"
    assert send(doc["callback"], body).json() == {"error": 0}
    assert fake_docs.requests == ["/cache/files/out.docx?md5=x&expires=1"]
    assert docx_text(world.head_bytes(doc["id"])) == ["via internal"]


def test_redirect_is_not_followed(world, fake_docs, doc):
    before = world.head_bytes(doc["id"])
    body = save_body(world, fake_docs, doc)
    fake_docs.put("moved.docx", b"", status=302, headers={"Location": "http://169.254.169.254/latest"})
    body["url"] = fake_docs.url + "/cache/files/moved.docx"
    response = send(doc["callback"], body)
    assert response.status_code == 503
    unchanged(world, doc, before)


def test_download_failure_is_transient(world, fake_docs, doc):
    before = world.head_bytes(doc["id"])
    body = save_body(world, fake_docs, doc)
    body["url"] = fake_docs.url + "/cache/files/missing.docx"
    response = send(doc["callback"], body)
    assert response.status_code == 503 and response.json() == {"error": 1}
    unchanged(world, doc, before)


# --- what the file is -----------------------------------------------------------


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(64):  # far past the ratio limit, quick to build
                member.write(chunk)
    return buffer.getvalue()


def _xml_bomb() -> bytes:
    good = docx_with("x")
    source = zipfile.ZipFile(io.BytesIO(good))
    buffer = io.BytesIO()
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{"&lol" + (str(i - 1) if i > 1 else "") + ";" * 1}'
            + ("&lol" + (str(i - 1) if i > 1 else "") + ";") * 9
            + '">'
            for i in range(1, 10)
        )
        + ']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">&lol9;</w:document>'
    )
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            data = bomb.encode() if item.filename == "word/document.xml" else source.read(item.filename)
            archive.writestr(item.filename, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(lambda: docx_with("half")[: len(docx_with("half")) // 2], id="truncated-zip"),
        pytest.param(lambda: b"<html><body>Login required</body></html>", id="not-a-zip"),
        pytest.param(lambda: b"", id="empty"),
        pytest.param(_xml_bomb, id="xml-bomb"),
        pytest.param(_zip_bomb, id="zip-bomb"),
    ],
)
def test_hostile_or_broken_files_are_refused(world, fake_docs, doc, content):
    before = world.head_bytes(doc["id"])
    response = send(doc["callback"], save_body(world, fake_docs, doc, content=content()))
    assert response.status_code == 422 and response.json() == {"error": 1}
    unchanged(world, doc, before)


def test_file_over_the_size_limit_is_refused(world, fake_docs, doc):
    with world.app.app_context():
        from app.extensions import db
        from app.services import settings

        settings.save({"max_file_size_mb": 1})
        db.session.commit()
    before = world.head_bytes(doc["id"])
    big = docx_with(*(["x" * 1000] * 3000))  # real docx, but compresses to under 1 MB
    big = big + b"\0" * (1024 * 1024)  # pad past the limit
    response = send(doc["callback"], save_body(world, fake_docs, doc, content=big))
    assert response.status_code == 422
    unchanged(world, doc, before)


def test_truncated_transfer_is_transient(world, fake_docs, doc):
    """The server promises more bytes than it sends: Docs should retry, nothing stored."""
    before = world.head_bytes(doc["id"])
    data = docx_with("cut")
    fake_docs.put("cut.docx", data[:100], headers={"Content-Length": str(len(data))})
    body = save_body(world, fake_docs, doc)
    body["url"] = fake_docs.url + "/cache/files/cut.docx"
    response = send(doc["callback"], body)
    assert response.status_code == 503
    unchanged(world, doc, before)


def test_file_of_another_type_is_refused(world, fake_docs, doc):
    before = world.head_bytes(doc["id"])
    response = send(doc["callback"], save_body(world, fake_docs, doc, filetype="odt"))
    assert response.status_code == 422
    unchanged(world, doc, before)


# --- replays and races -----------------------------------------------------------


def test_repeated_status_2_stores_one_version(world, fake_docs, doc):
    body = save_body(world, fake_docs, doc)
    assert send(doc["callback"], body).json() == {"error": 0}
    assert send(doc["callback"], body).json() == {"error": 0}  # a retry
    fake_docs.put("out.docx", docx_with("a later replay"))
    assert send(doc["callback"], body).json() == {"error": 0}  # a replay of the same save
    assert [v.number for v in world.versions(doc["id"])] == [1, 2]
    assert docx_text(world.head_bytes(doc["id"])) == ["edited by bob"]


def test_parallel_duplicate_status_2_stores_one_version(world, fake_docs, doc):
    body = save_body(world, fake_docs, doc)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(send(doc["callback"], body).json())) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [{"error": 0}] * 5
    assert [v.number for v in world.versions(doc["id"])] == [1, 2]


def test_notmodified_final_save_after_forcesave_makes_no_version(world, fake_docs, doc):
    send(doc["callback"], save_body(world, fake_docs, doc, status=6, forcesavetype=1))
    response = send(doc["callback"], save_body(world, fake_docs, doc, status=2, notmodified=True))
    assert response.json() == {"error": 0}
    assert len(world.versions(doc["id"])) == 2
    assert world.file(doc["id"]).doc_key != doc["key"]


def test_notmodified_final_save_arriving_while_its_forcesave_is_stored_makes_no_version(world, fake_docs, doc):
    """Docs sends the final save (nothing new since the force-save) while that force-save is still
    being stored: the final save waits for the file's lock, then must see the force-save stored
    meanwhile, not the file as it was when its request came in, and store nothing twice."""
    content = docx_with("edited by bob")
    fake_docs.put("slow", content)  # served after 3 s: the force-save holds the file's lock meanwhile
    forcesave = save_body(world, fake_docs, doc, status=6, forcesavetype=0)
    forcesave["url"] = f"{fake_docs.url}/cache/files/slow?md5=x&expires=9999999999"
    answers = {}
    storing = threading.Thread(target=lambda: answers.update(force=send(doc["callback"], forcesave).json()))
    storing.start()
    wait_for(lambda: any(path.startswith("/cache/files/slow") for path in fake_docs.requests), what="the force-save")
    final = save_body(world, fake_docs, doc, status=2, content=content, notmodified=True)
    assert send(doc["callback"], final).json() == {"error": 0}
    storing.join()
    assert answers["force"] == {"error": 0}
    assert [v.source for v in world.versions(doc["id"])] == ["create", "forcesave"]
    assert world.file(doc["id"]).doc_key != doc["key"]


@pytest.mark.skipif(ENGINE != "postgresql", reason="row locks: SQLite locks the whole database at once")
def test_status_4_locks_the_file_before_its_key_as_status_1_does(world, doc):
    """Docs reports a leave (status 1) while the session closes (status 4): status 1 locks the
    file's row, then its key's; status 4 must take them in the same order, not deadlock with it."""
    bob = str(world.user_ids["bob"])
    joined = {"key": doc["key"], "status": 1, "users": [bob], "actions": [{"type": 1, "userid": bob}]}
    assert send(doc["callback"], joined).json() == {"error": 0}
    engine = sa.create_engine(world.app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool)
    answers = {}
    with engine.connect() as leave:  # what status 1 does, in its order
        leave.execute(sa.text("UPDATE file SET editing_since = editing_since WHERE id = :id"), {"id": doc["id"]})
        closing = threading.Thread(
            target=lambda: answers.update(closed=send(doc["callback"], {"key": doc["key"], "status": 4}))
        )
        closing.start()
        time.sleep(1)  # status 4 waits for the file's row (or, in the wrong order, holds the key's)
        leave.execute(sa.text('UPDATE doc_key SET session_seen_at = now() WHERE "key" = :key'), {"key": doc["key"]})
        leave.commit()
    closing.join(30)
    engine.dispose()
    assert answers["closed"].status_code == 200 and answers["closed"].json() == {"error": 0}
    assert world.file(doc["id"]).editors == []


def test_notmodified_final_save_overtaking_its_forcesave_stores_the_final_file(world, fake_docs, doc):
    """Docs delivers the final save (nothing new since the last force-save) before that force-save:
    an earlier force-save does not hold the later edits, so the final save's own file is stored, and
    the late force-save is then a duplicate of it."""
    early = save_body(world, fake_docs, doc, status=6, content=docx_with("first"), name="early.docx", forcesavetype=1)
    assert send(doc["callback"], early).json() == {"error": 0}
    later = {"lastsave": "2026-11-22T10:05:00.000Z"}
    final = save_body(world, fake_docs, doc, status=2, content=docx_with("first", "second"), notmodified=True, **later)
    assert send(doc["callback"], final).json() == {"error": 0}
    late = save_body(world, fake_docs, doc, status=6, name="out.docx", forcesavetype=0, **later)
    assert send(doc["callback"], late).json() == {"error": 0}
    assert [v.source for v in world.versions(doc["id"])] == ["create", "forcesave", "save"]
    assert docx_text(world.head_bytes(doc["id"])) == ["first", "second"]


def test_ten_concurrent_forcesaves_leave_consistent_versions(world, fake_docs, doc):
    bodies = []
    for i in range(10):
        fake_docs.put(f"f{i}.docx", docx_with(f"force save {i}"))
        body = save_body(
            world,
            fake_docs,
            doc,
            status=6,
            name=f"f{i}.docx",
            forcesavetype=1,
            lastsave=f"2026-11-22T10:00:{i:02d}.000Z",
        )
        body["url"] = fake_docs.url + f"/cache/files/f{i}.docx"
        bodies.append(body)
    answers = [None] * 10

    def run(i):
        answers[i] = send(doc["callback"], bodies[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200] * 10
    assert [a.json() for a in answers] == [{"error": 0}] * 10
    versions = world.versions(doc["id"])
    assert [v.number for v in versions] == list(range(1, 12))
    texts = set()
    import hashlib

    for version in versions[1:]:
        data = world.client("alice").get(f"/files/{doc['id']}/download?version={version.number}").data
        assert hashlib.sha256(data).hexdigest() == version.sha256  # no torn blob
        texts.add(docx_text(data)[0])
    assert texts == {f"force save {i}" for i in range(10)}
    file = world.file(doc["id"])
    assert file.version == 11 and file.doc_key == doc["key"]
    # Replaying all ten stores nothing more.
    for body in bodies:
        assert send(doc["callback"], body).json() == {"error": 0}
    assert len(world.versions(doc["id"])) == 11


def test_late_save_for_a_replaced_file_becomes_a_conflict_copy(world, fake_docs, doc):
    """A new version uploaded while a session was open: its later save must not overwrite it."""
    client = world.client("alice")
    response = client.post(
        f"/files/{doc['id']}/versions", data={"file": (io.BytesIO(docx_with("uploaded meanwhile")), "new.docx")}
    )
    assert response.status_code == 302
    assert send(doc["callback"], save_body(world, fake_docs, doc)).json() == {"error": 0}
    versions = world.versions(doc["id"])
    assert [v.is_conflict for v in versions] == [False, False, True]
    assert docx_text(world.head_bytes(doc["id"])) == ["uploaded meanwhile"]


def test_a_failed_final_save_tells_the_owner_and_the_editor_once(world, fake_docs, doc):
    body = save_body(world, fake_docs, doc)
    body["url"] = fake_docs.url + "/cache/files/missing.docx"
    for _ in range(3):  # Docs retries
        assert send(doc["callback"], body).status_code == 503
    for user in ("alice", "bob"):
        notes = world.client().get("/api/v1/notifications", headers=world.api(user)).get_json()
        assert notes["unread"] == 1, user
        assert "Changes to Report.docx could not be saved yet" in notes["notifications"][0]["text"]


def test_intermediate_versions_fold_into_the_final_save_when_the_admin_says_so(world, fake_docs, doc):
    from app.extensions import db
    from app.services import settings

    def fold():
        settings.save({"keep_intermediate_versions": False})
        db.session.commit()

    world.query(fold)
    fake_docs.put("f1.docx", docx_with("draft"))
    force = save_body(world, fake_docs, doc, status=6, name="f1.docx", forcesavetype=1)
    assert send(doc["callback"], force).json() == {"error": 0}
    assert [v.number for v in world.versions(doc["id"])] == [1, 2]
    assert send(doc["callback"], save_body(world, fake_docs, doc)).json() == {"error": 0}
    versions = world.versions(doc["id"])
    assert [(v.number, v.source) for v in versions] == [(1, "create"), (3, "save")]
    assert world.file(doc["id"]).version == 3


def test_a_reused_file_id_gets_neither_the_old_keys_nor_the_old_links(world, fake_docs, doc):
    """A deleted file's id may be given to the next file; the old session must not reach it: its link
    names the deleted file (by its salt), so its save is one for a file that is gone."""
    from app.models import File

    assert world.client("alice").post(f"/files/{doc['id']}/delete").status_code == 302
    world.query(lambda: hand_out_id_again(File, doc["id"]))
    again = world.create_document("alice", "Newcomer")
    assert again["id"] == doc["id"] and again["key"] != doc["key"]
    before = world.head_bytes(again["id"])
    response = send(doc["callback"], save_body(world, fake_docs, doc))
    assert response.status_code == 404
    assert world.head_bytes(again["id"]) == before


def test_a_submitted_pdf_form_becomes_a_new_file_with_its_data(world, fake_docs):
    import json

    import sqlalchemy as sa

    from app.extensions import db
    from app.models import File
    from app.services.blanks import make_blank

    form = world.create_document("alice", "Application", "pdf")
    world.set_level(form["id"], "bob", "fill")
    config = world.client().get(f"/api/v1/files/{form['id']}/editor-config", headers=world.api("bob")).get_json()
    assert config["document"]["permissions"]["fillForms"] is True and config["document"]["permissions"]["edit"] is False
    fake_docs.put("filled.pdf", make_blank("pdf"))
    data_url = fake_docs.put("data.json", b'{"name": "Bob"}')
    body = {
        "key": config["document"]["key"],
        "status": 6,
        "forcesavetype": 3,
        "filetype": "pdf",
        "url": fake_docs.url + "/cache/files/filled.pdf",
        "formsdataurl": data_url,
        "users": [str(world.user_ids["bob"])],
        "lastsave": "2026-11-22T12:00:00.000Z",
    }
    assert send(config["editorConfig"]["callbackUrl"], body).json() == {"error": 0}
    assert send(config["editorConfig"]["callbackUrl"], body).json() == {"error": 0}  # a replay stores nothing
    rows = world.query(
        lambda: db.session.execute(sa.select(File.id, File.title, File.owner_id).where(File.id != form["id"])).all()
    )
    titles = sorted(title for _, title, _ in rows)
    assert len(titles) == 2 and titles[0].startswith("Application - submitted by Bob Baker")
    assert titles[0].endswith(".json") and titles[1].endswith(".pdf")
    assert all(owner == world.user_ids["bob"] for _, _, owner in rows)
    data_id = next(fid for fid, title, _ in rows if title.endswith(".json"))
    assert json.loads(world.head_bytes(data_id)) == {"name": "Bob"}
    assert world.file(form["id"]).version == 1  # the form itself stays blank for the next person


def test_a_failed_commit_leaves_neither_the_file_nor_its_changes_behind(world, fake_docs, doc):
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import FileVersion

    def fail(session):
        if any(isinstance(item, FileVersion) for item in session.new):
            raise sa.exc.OperationalError("COMMIT", {}, Exception("database is locked"))

    changes = io.BytesIO()
    with zipfile.ZipFile(changes, "w") as archive:
        archive.writestr("changes.json", "[]")
    body = save_body(world, fake_docs, doc, changesurl=fake_docs.put("changes.zip", changes.getvalue()))
    sa.event.listen(db.session, "before_commit", fail)
    try:
        assert send(doc["callback"], body).status_code == 503
    finally:
        sa.event.remove(db.session, "before_commit", fail)
    assert world.blob_keys(f"changes/{doc['id']}") == []
    assert len(world.blob_keys(f"files/{doc['id']}")) == 1  # only version 1
    assert send(doc["callback"], body).json() == {"error": 0}
    assert len(world.blob_keys(f"changes/{doc['id']}")) == 1
