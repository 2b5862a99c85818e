"""Security and reliability cases of the shared security reference (its attack and reliability lists)
not covered elsewhere.

Each test names its case ID. Cases already covered live in test_callbacks.py,
test_backend_download.py, test_rights_matrix.py, test_share_links.py, test_site.py,
test_admin.py, test_history.py, test_crash.py, test_editor_page.py and test_end_to_end.py.
An app defect found by a test is pinned with ``xfail(strict=True, reason="BUG: ...")`` until it
is fixed; the marker goes when the fix lands (a strict xfail that passes turns the suite red).
"""

import base64
import errno
import hashlib
import hmac
import io
import json
import logging
import os
import re
import socket
import threading
import time
import unicodedata

import pytest
import requests
import sqlalchemy as sa

from tests.helpers import SECRET
from tests.helpers import FakeDocsFiles
from tests.helpers import docs_token
from tests.helpers import docx_text
from tests.helpers import docx_with
from tests.helpers import signed_callback
from tests.test_admin import form as settings_form
from tests.test_callbacks import _zip_bomb
from tests.test_callbacks import save_body
from tests.test_callbacks import send
from tests.test_editor_page import page_config

NEW_SECRET = "a-brand-new-secret-0123456789-abcdefghijklmnop"
HOSTILE = "</script><img src=x onerror=alert(1)>'\"&\u2028"


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def doc(world):
    """A docx created by alice that bob may edit, with bob's editor config."""
    file = world.create_document("alice", "Report")
    world.set_level(file["id"], "bob", "edit")
    config = world.client().get(f"/api/v1/files/{file['id']}/editor-config", headers=world.api("bob")).get_json()
    return {
        "id": file["id"],
        "key": config["document"]["key"],
        "callback": config["editorConfig"]["callbackUrl"],
        "url": config["document"]["url"],
    }


@pytest.fixture
def foreign():
    """A second file server on another port: a host nobody should ever contact."""
    other = FakeDocsFiles()
    yield other
    other.stop()


def csrf_login(world, name):
    client = world.app.test_client()
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/auth/login").get_data(as_text=True)
    ).group(1)
    response = client.post("/auth/login", data={"username": name, "password": "pw-" + name, "csrf_token": token})
    assert response.status_code == 302
    return client, token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(claims: dict, alg: str, secret: str = SECRET) -> str:
    """A JWT with any 'alg' in its header, HMAC-signed with the Docs secret (or unsigned for none)."""
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    if alg.lower() == "none":
        return f"{header}.{body}."
    digest = hashlib.sha512 if alg.endswith("512") else hashlib.sha384 if alg.endswith("384") else hashlib.sha256
    return f"{header}.{body}.{_b64(hmac.new(secret.encode(), f'{header}.{body}'.encode(), digest).digest())}"


def docs_get(url, **token_extra):
    token = docs_token({"payload": {"url": url}}, **token_extra)
    return requests.get(url, headers={"Authorization": "Bearer " + token}, timeout=10)


def unchanged(world, doc, before: bytes):
    assert len(world.versions(doc["id"])) == 1
    assert world.head_bytes(doc["id"]) == before
    assert world.file(doc["id"]).doc_key == doc["key"]


def file_count(world) -> int:
    from app.extensions import db
    from app.models import File

    return world.query(lambda: db.session.scalar(sa.select(sa.func.count(File.id))))


def set_display_name(world, username, name):
    from app.extensions import db
    from app.models import User

    def apply():
        db.session.get(User, world.user_ids[username]).display_name = name
        db.session.commit()

    world.query(apply)


def unread(world, user) -> int:
    return world.client().get("/api/v1/notifications", headers=world.api(user)).get_json()["unread"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def upload(world, name, data=None, user="alice"):
    return world.client().post(
        f"/api/v1/spaces/{world.space_id}/files",
        headers=world.api(user),
        data={"file": (io.BytesIO(data if data is not None else b"hello"), name)},
    )


# --- 7.1 Editor page --------------------------------------------------------------------------


def test_ed4_hostile_user_display_name_is_inert_everywhere(world, fake_docs):
    """ED-4: a display name with </script>, quotes, U+2028 is JSON-escaped in the config, HTML-escaped in pages."""
    set_display_name(world, "alice", HOSTILE)
    doc = world.create_document("alice", "Named")  # a stream notice carries the name
    alice_id = str(world.user_ids["alice"])
    config = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("alice")).get_json()
    assert send(
        config["editorConfig"]["callbackUrl"], {"key": config["document"]["key"], "status": 1, "users": [alice_id]}
    ).json() == {"error": 0}

    editor = world.client("alice").get(f"/files/{doc['id']}/open").get_data(as_text=True)
    script = re.search(r'<script type="application/json" id="docs-config">(.*?)</script>', editor, re.S).group(1)
    assert "<" not in script and "\u2028" not in script  # nothing can close the tag or break a JS string
    assert json.loads(script)["editorConfig"]["user"]["name"] == HOSTILE
    assert "<img src=x" not in editor

    bob = world.client("bob")
    for path in (f"/spaces/{world.space_id}", f"/files/{doc['id']}", f"/files/{doc['id']}/thread"):
        html = bob.get(path).get_data(as_text=True)
        assert "<img src=x" not in html and "</script><img" not in html, path
    space = bob.get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in space  # the name is shown, escaped
    assert "Being edited by &lt;/script&gt;" in space
    # The share landing page names the person who shared.
    link = (
        world.client()
        .post(f"/api/v1/files/{doc['id']}/links", json={"mode": "view"}, headers=world.api("alice"))
        .get_json()
    )
    landing = world.app.test_client().get("/s/" + link["url"].rsplit("/s/", 1)[1]).get_data(as_text=True)
    assert "<img src=x" not in landing and "&lt;img src=x" in landing


def test_ed5_every_editor_page_and_site_page_forbids_foreign_framing(world):
    """ED-5: the guest editor page and ordinary pages carry frame-ancestors 'self' too."""
    doc = world.create_document("alice", "Framed")
    link = (
        world.client()
        .post(f"/api/v1/files/{doc['id']}/links", json={"mode": "edit"}, headers=world.api("alice"))
        .get_json()
    )
    path = "/s/" + link["url"].rsplit("/s/", 1)[1]
    session = requests.Session()
    assert session.post(world.url + path, data={"name": "Gina"}, allow_redirects=False, timeout=10).status_code == 302
    responses = [
        session.get(world.url + path + "/open", timeout=10),
        requests.get(world.url + "/auth/login", timeout=10),
    ]
    assert page_config(responses[0].text)["editorConfig"]["mode"] == "edit"
    for response in responses:
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in csp and csp.count("frame-ancestors") == 1
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_ed7_editor_and_viewer_share_one_key_and_both_callbacks_work(world, fake_docs):
    """ED-7: an editor and a viewer of one version get the same key; both configs carry a callbackUrl."""
    doc = world.create_document("alice", "Shared")
    alice = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("alice")).get_json()
    bob = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("bob")).get_json()
    assert alice["editorConfig"]["mode"] == "edit" and bob["editorConfig"]["mode"] == "view"
    assert alice["document"]["key"] == bob["document"]["key"]
    assert alice["editorConfig"]["callbackUrl"] and bob["editorConfig"]["callbackUrl"]
    # Docs may send the save to the viewer's URL: it still lands.
    fake_docs.put("out.docx", docx_with("saved through the viewer's link"))
    body = {
        "key": bob["document"]["key"],
        "status": 2,
        "url": fake_docs.url + "/cache/files/out.docx",
        "filetype": "docx",
        "users": [str(world.user_ids["alice"])],
    }
    assert send(bob["editorConfig"]["callbackUrl"], body).json() == {"error": 0}
    assert docx_text(world.head_bytes(doc["id"])) == ["saved through the viewer's link"]


def test_ed8_up4_macros_never_auto_run_and_macro_files_open_read_only(world):
    """ED-8 / UP-4: macrosMode is warn (or disable) for every config; a .docm is accepted but never edited."""
    response = upload(world, "Macro.docm", docx_with("macro carrier"))
    assert response.status_code == 201
    for file_id in (response.get_json()["id"], world.create_document("alice", "Plain")["id"]):
        config = (
            world.client()
            .get(f"/api/v1/files/{file_id}/editor-config?mode=edit", headers=world.api("alice"))
            .get_json()
        )
        assert config["editorConfig"]["customization"]["macrosMode"] in ("warn", "disable")
        assert "plugins" not in config["editorConfig"]  # no autostarting plugins pushed by us
    docm = (
        world.client()
        .get(f"/api/v1/files/{response.get_json()['id']}/editor-config?mode=edit", headers=world.api("alice"))
        .get_json()
    )
    assert docm["editorConfig"]["mode"] == "view" and docm["document"]["permissions"]["edit"] is False


def test_ed9_docs_address_on_the_apps_own_origin_fails_the_connection_test(world):
    """ED-9: pointing the Docs address at the app itself does not pass the connection test silently."""
    from app.services.docs.client import check_connection

    world.app.config["DOCS_URL"] = world.url
    with world.app.test_request_context():
        steps = check_connection()
    assert steps and not all(step.ok for step in steps)
    assert [s.name for s in steps if not s.ok] == ["Health check"]


def test_ed10_goback_is_same_site_whatever_the_query_or_forwarded_headers(world):
    """ED-10: no request parameter or X-Forwarded-* header moves the editor's goback off the site."""
    doc = world.create_document("alice", "Back")
    session_cookie = world.client("alice")
    for query in (
        "?goback=https://evil.example/",
        "?back=//evil.example",
        "?next=https://evil.example",
        "?customization.goback.url=https://evil.example",
    ):
        config = page_config(session_cookie.get(f"/files/{doc['id']}/open{query}").get_data(as_text=True))
        goback = config["editorConfig"]["customization"]["goback"]["url"]
        assert goback == f"http://localhost/spaces/{world.space_id}", query
    response = requests.get(
        f"{world.url}/api/v1/files/{doc['id']}/editor-config",
        headers={**world.api("alice"), "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
        timeout=10,
    )
    config = response.json()
    assert config["editorConfig"]["customization"]["goback"]["url"] == f"{world.url}/spaces/{world.space_id}"
    assert "evil.example" not in json.dumps(config)


def test_ed10_cb10_forged_host_header_never_steers_the_signed_docs_urls(world):
    """ED-10 / CB-10: a member asking for a config with 'Host: evil.example' must not get a signed config
    whose callbackUrl (where Docs posts the session's saves) or document.url point at that host."""
    doc = world.create_document("alice", "Hosted")
    forged = {**world.api("bob"), "Host": "evil.example"}
    config = requests.get(f"{world.url}/api/v1/files/{doc['id']}/editor-config", headers=forged, timeout=10).json()
    assert config["editorConfig"]["callbackUrl"].startswith(world.url + "/backend/")
    assert config["document"]["url"].startswith(world.url + "/backend/")
    # Without a configured address for Docs the app must not fall back to the Host header.
    world.app.config["APP_URL_FOR_DOCS"] = None
    response = requests.get(f"{world.url}/api/v1/files/{doc['id']}/editor-config", headers=forged, timeout=10)
    assert response.status_code == 503  # not configured: the Host header is never the fallback
    page = requests.get(
        f"{world.url}/files/{doc['id']}/open",
        headers={"Host": "evil.example"},
        timeout=10,
        cookies={"session": _session_cookie(world, "bob")},
    )
    assert "evil.example/backend" not in page.text


# --- 7.2 Download endpoint --------------------------------------------------------------------

ALGORITHMS = ["none", "NONE", "None", "HS512", "HS384", "RS256", "ES256", "PS256"]


def test_dl2_download_refuses_unsigned_or_foreign_algorithm_tokens(world, doc):
    """DL-2: alg none, HS512/HS384, and RS256/ES256/PS256 headers HMAC-signed with the secret are all 403."""
    claims = {"payload": {"url": doc["url"]}, "iat": int(time.time()), "exp": int(time.time()) + 300}
    for alg in ALGORITHMS:
        response = requests.get(doc["url"], headers={"Authorization": "Bearer " + forge(claims, alg)}, timeout=10)
        assert response.status_code == 403 and response.json() == {"error": 1}, alg
    control = requests.get(doc["url"], headers={"Authorization": "Bearer " + forge(claims, "HS256")}, timeout=10)
    assert control.status_code == 200  # the forging itself is sound: only the algorithm differs
    assert control.content == world.head_bytes(doc["id"])


def test_dl7_read_right_revoked_after_open_refuses_docs_refetch(world):
    """DL-7: bob opens (his config carries document.url), loses read, Docs re-fetches with his link: 403."""
    doc = world.create_document("alice", "Revocable")
    url = (
        world.client()
        .get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("bob"))
        .get_json()["document"]["url"]
    )
    assert docs_get(url).status_code == 200
    world.set_level(doc["id"], "bob", "none")
    assert world.client().get(f"/api/v1/files/{doc['id']}", headers=world.api("bob")).status_code == 404
    assert docs_get(url).status_code == 403


def test_dl9_content_disposition_is_rfc5987_encoded(world):
    """DL-9: names with ", ;, CR/LF, non-ASCII: one safe Content-Disposition, UTF-8 in filename*."""
    doc = world.create_document("alice", "Plain")
    for title in ('quote"semi;colon', "Ünïcödé – 報告 ☃", 'a"b\r\nSet-Cookie: pwn=1; x=é'):
        _check_disposition(world, doc, title)


def _check_disposition(world, doc, title):
    renamed = world.client("alice").post(f"/files/{doc['id']}/rename-from-editor", json={"title": title})
    assert renamed.status_code == 200
    stored = world.file(doc["id"]).title
    assert not any(unicodedata.category(ch) == "Cc" for ch in stored)  # CR/LF never reach a header
    url = (
        world.client()
        .get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("alice"))
        .get_json()["document"]["url"]
    )
    raw = requests.get(
        f"{world.url}/files/{doc['id']}/download", timeout=10, cookies={"session": _session_cookie(world, "alice")}
    )
    for response, kind in (
        (raw, "attachment"),
        (docs_get(url), "inline"),
        (
            requests.get(f"{world.url}/api/v1/files/{doc['id']}/content", headers=world.api("alice"), timeout=10),
            "attachment",
        ),
    ):
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers or "pwn" not in response.headers["Set-Cookie"]
        disposition = response.headers["Content-Disposition"]
        assert "\r" not in disposition and "\n" not in disposition
        assert disposition.startswith(kind + ";")
        assert disposition.isascii()
        if not stored.isascii():
            encoded = re.search(r"filename\*=UTF-8''([^;\s]+)", disposition).group(1)
            assert requests.utils.unquote(encoded) == stored
        else:
            plain = re.search(r'filename=("(?:[^"\\]|\\.)*"|[^;\s]+)', disposition).group(1)
            assert plain.strip('"').replace('\\"', '"') == stored
        assert response.content == world.head_bytes(doc["id"])


def _session_cookie(world, name) -> str:
    session = requests.Session()
    assert (
        session.post(
            world.url + "/auth/login",
            data={"username": name, "password": "pw-" + name},
            allow_redirects=False,
            timeout=10,
        ).status_code
        == 302
    )
    return session.cookies["session"]


TRAVERSALS = [
    "/backend/files/..%2f1/download",
    "/backend/files/%2e%2e%2f1/download",
    "/backend/files/1%00/download",
    "/backend/files/%00/track",
    "/backend/files/1/..%2f..%2fdownload",
    "/backend/files/1/versions/..%2f1",
    "/files/..%2f1/download",
    "/files/1%00/download",
    "/api/v1/files/%2e%2e/content",
    "/api/v1/files/1%00/content",
    "/api/v1/files/1/versions/%2e%2e%2f1/content",
    "/static/..%2f..%2fapp%2fconfig.py",
    "/static/%2e%2e/%2e%2e/instance/secret_key",
    "/static/%00",
]


def test_dl10_traversal_looking_ids_are_404_or_403_never_500(world):
    """DL-10: ../, %2e%2e, NUL in ids give 404/403/405 (never 500, never a file outside storage)."""
    world.create_document("alice", "Target")
    cookies = {"session": _session_cookie(world, "alice")}
    for path, method in ((p, m) for p in TRAVERSALS for m in (requests.get, requests.post)):
        for auth in ({"headers": world.api("alice")}, {"cookies": cookies}):
            response = method(world.url + path, allow_redirects=False, timeout=10, **auth)
            assert response.status_code in (403, 404, 405), (path, response.status_code)
            assert b"SECRET_KEY" not in response.content and b"test-app-secret" not in response.content


def test_dl10_junk_version_numbers_fall_back_to_the_head_from_storage(world):
    """DL-10: ?version= is an integer or ignored: traversal-looking values serve the head, never a path."""
    doc = world.create_document("alice", "Target")
    client = world.client("alice")
    for junk in ("..%2f..%2f1", "../../etc/passwd", "1%00", "-1", "0"):
        response = client.get(f"/files/{doc['id']}/download?version={junk}")
        assert response.status_code in (200, 404), junk
        if response.status_code == 200:
            assert response.data == world.head_bytes(doc["id"])
    assert client.get(f"/api/v1/files/{doc['id']}/versions/0/content").status_code == 404


def test_dl11_range_and_head_on_the_docs_download(world, doc):
    """DL-11: Range gives correct 206 partial content, HEAD gives headers without a body, no crash."""
    whole = world.head_bytes(doc["id"])
    token = "Bearer " + docs_token({"payload": {"url": doc["url"]}})
    part = requests.get(doc["url"], headers={"Authorization": token, "Range": "bytes=10-19"}, timeout=10)
    assert part.status_code == 206 and part.content == whole[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(whole)}"
    tail = requests.get(doc["url"], headers={"Authorization": token, "Range": "bytes=-5"}, timeout=10)
    assert tail.status_code == 206 and tail.content == whole[-5:]
    beyond = requests.get(
        doc["url"], headers={"Authorization": token, "Range": f"bytes={len(whole) + 10}-"}, timeout=10
    )
    assert beyond.status_code == 416
    junk = requests.get(doc["url"], headers={"Authorization": token, "Range": "bytes=abc"}, timeout=10)
    assert junk.status_code in (200, 416)  # RFC 9110: an unparsable Range may be ignored or refused
    if junk.status_code == 200:
        assert junk.content == whole
    head = requests.head(doc["url"], headers={"Authorization": token}, timeout=10)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["Content-Length"]) == len(whole)
    # HEAD and Range are no way around the JWT.
    assert requests.head(doc["url"], timeout=10).status_code == 403
    assert requests.get(doc["url"], headers={"Range": "bytes=0-9"}, timeout=10).status_code == 403


def test_rl23_download_accepts_30s_of_clock_skew_not_120(world, doc):
    """RL-23 (download): Docs' clock 30 s off either way is within the 60 s leeway; 120 s is not."""
    now = int(time.time())
    assert docs_get(doc["url"], expires_in=-30).status_code == 200  # Docs' clock behind: exp just passed
    assert docs_get(doc["url"], expires_in=-120).status_code == 403
    assert docs_get(doc["url"], iat=now + 30, nbf=now + 30).status_code == 200  # Docs' clock ahead
    assert docs_get(doc["url"], iat=now + 120, nbf=now + 120).status_code == 403


# --- 7.3 Callback endpoint --------------------------------------------------------------------


def test_cb2_callback_refuses_alg_none_and_algorithm_confusion(world, fake_docs, doc):
    """CB-2: alg none and non-HS256 algorithms (HMAC'd with the secret) are 403, in body and header."""
    before = world.head_bytes(doc["id"])
    body = save_body(world, fake_docs, doc)
    iat = int(time.time())
    exp = iat + 300

    def post(algorithm, mode):
        if mode == "body":
            return requests.post(
                doc["callback"], json={**body, "token": forge({**body, "iat": iat, "exp": exp}, algorithm)}, timeout=10
            )
        token = forge({"payload": body, "iat": iat, "exp": exp}, algorithm)
        return requests.post(doc["callback"], json=body, headers={"Authorization": "Bearer " + token}, timeout=10)

    for alg in ALGORITHMS:
        for mode in ("body", "header"):
            response = post(alg, mode)
            assert response.status_code == 403 and response.json() == {"error": 1}, (alg, mode)
    unchanged(world, doc, before)
    assert fake_docs.requests == []
    # The same forgeries with HS256 are valid saves (the second is a duplicate): only the algorithm mattered.
    assert post("HS256", "header").json() == {"error": 0} and post("HS256", "body").json() == {"error": 0}
    assert world.file(doc["id"]).version == 2


ODD_URLS = [
    lambda port: "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    lambda port: f"http://[::1]:{port}/cache/files/out.docx",
    lambda port: f"http://0x7f000001:{port}/cache/files/out.docx",
    lambda port: f"http://2130706433:{port}/cache/files/out.docx",
    lambda port: f"http://127.1:{port}/cache/files/out.docx",
    lambda port: f"gopher://127.0.0.1:{port}/_GET%20/cache/files/out.docx",
    lambda port: f"http://127.0.0.1:{port}@evil.example/cache/files/out.docx",
    lambda port: f"http://evil.example\\@127.0.0.1:{port}/cache/files/out.docx",
    lambda port: f"http://127.0.0.1:{port}:80/cache/files/out.docx",
    lambda port: f"//127.0.0.1:{port}/cache/files/out.docx",
    lambda port: f"http://127.0.0.1:{port}/cache/files/%2E%2E/%2E%2E/admin",
]


def test_cb8_more_internal_and_odd_urls_are_refused_and_never_fetched(world, fake_docs, doc):
    """CB-8: metadata IP, IPv6/hex/decimal/short loopback, gopher, userinfo and port tricks, scheme-relative,
    encoded dots: 403, unchanged, nothing contacted."""
    before = world.head_bytes(doc["id"])
    body = save_body(world, fake_docs, doc)
    for make_url in ODD_URLS:
        body["url"] = make_url(fake_docs.server.port)
        response = send(doc["callback"], body)
        assert response.status_code == 403 and response.json() == {"error": 1}, body["url"]
    unchanged(world, doc, before)
    assert fake_docs.requests == []


def test_cb8_encoded_slash_traversal_never_leaves_the_cache_paths(world, fake_docs, doc):
    """CB-8: a signed url on the Docs host whose path escapes /cache/files/ through %2f or %5c is refused
    and never fetched (today Docs is asked for /cache/files/../../admin/secret)."""
    before = world.head_bytes(doc["id"])
    body = save_body(world, fake_docs, doc)
    answers = []
    for tail in ("/cache/files/..%2f..%2fadmin%2fsecret", "/cache/files/..%2Finfo", "/cache/files/..%5cadmin"):
        body["url"] = fake_docs.url + tail
        answers.append(send(doc["callback"], body).status_code)
    unchanged(world, doc, before)
    assert fake_docs.requests == []
    assert answers == [403, 403, 403]


MALFORMED = [
    lambda doc: {"key": doc["key"]},  # status missing
    lambda doc: {"status": 2},  # key missing
    lambda doc: {"key": 5, "status": 2},  # key not a string
    lambda doc: {"key": doc["key"], "status": [2]},
    lambda doc: {"key": doc["key"], "status": {"n": 2}},
]


def test_cb11_missing_or_mistyped_status_and_key_are_bad_requests(world, fake_docs, doc):
    """CB-11: a signed body without status or key, or with the wrong types: 400 {"error": 1}, unchanged."""
    before = world.head_bytes(doc["id"])
    for body in MALFORMED:
        response = send(doc["callback"], body(doc))
        assert response.status_code == 400 and response.json() == {"error": 1}, body(doc)
    unchanged(world, doc, before)


def test_cb12_author_comes_from_the_signed_users_only(world, fake_docs, doc):
    """CB-12: the unsigned body names carol; the token names bob. The version's author is bob."""
    body = save_body(world, fake_docs, doc, user="bob")
    signed, _ = signed_callback(body)
    signed["users"] = [str(world.user_ids["carol"])]
    assert requests.post(doc["callback"], json=signed, timeout=10).json() == {"error": 0}
    assert world.versions(doc["id"])[1].author_id == world.user_ids["bob"]


def test_cb13_deeply_nested_json_is_a_bad_request_not_a_crash(world, doc):
    """CB-13: 100 000 levels of nesting, well under 1 MiB: 400 {"error": 1}, not 500."""
    depth = 100_000
    for data in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
        assert len(data) < 1024 * 1024
        response = requests.post(doc["callback"], data=data, headers={"Content-Type": "application/json"}, timeout=10)
        assert response.status_code == 400 and response.json() == {"error": 1}


def test_cb13_chunked_body_over_one_mib_is_refused(world, fake_docs, doc):
    """CB-13: a 2 MiB body sent chunked (no Content-Length) is refused like a declared one (413/400)."""
    signed, _ = signed_callback({"key": doc["key"], "status": 1, "users": [str(world.user_ids["bob"])]})
    payload = json.dumps(signed).encode()
    padded = payload[:-1] + b" " * (2 * 1024 * 1024) + b"}"

    def chunks():
        for start in range(0, len(padded), 64 * 1024):
            yield padded[start : start + 64 * 1024]

    response = requests.post(doc["callback"], data=chunks(), headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code in (400, 413)
    assert world.file(doc["id"]).editors == []  # the oversized callback did nothing


def test_cb13_wrong_content_type_or_junk_never_crashes_and_still_needs_the_jwt(world, fake_docs, doc):
    """CB-13: odd content types and non-JSON bodies neither crash nor skip the JWT: unsigned 403 or 400,
    signed handled (or 4xx), never 5xx."""
    before = world.head_bytes(doc["id"])
    body = save_body(world, fake_docs, doc)
    signed, _ = signed_callback(body)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None):
        headers = {"Content-Type": content_type} if content_type else {}
        unsigned = requests.post(doc["callback"], data=json.dumps(body), headers=headers, timeout=10)
        assert unsigned.status_code == 403 and unsigned.json() == {"error": 1}, content_type
        for junk in (b"\xff\xfe\x00garbage", b"token=abc&status=2", b"", b"\x00" * 1000):
            answer = requests.post(doc["callback"], data=junk, headers=headers, timeout=10)
            assert answer.status_code in (400, 403) and answer.json() == {"error": 1}, (content_type, junk[:10])
    unchanged(world, doc, before)
    assert fake_docs.requests == []
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = requests.post(
            doc["callback"], data=json.dumps(signed), headers={"Content-Type": content_type}, timeout=10
        )
        assert response.status_code in (200, 400, 415) and response.headers["Content-Type"] == "application/json"
    assert world.file(doc["id"]).version in (1, 2)


def test_cb14_changesurl_on_a_foreign_host_is_never_fetched_and_the_save_lands(world, fake_docs, doc, foreign):
    """CB-14: a signed changesurl off the Docs host is ignored (never contacted); the save itself is stored."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("changes.json", "[]")
    body = save_body(world, fake_docs, doc)
    body["changesurl"] = foreign.put("changes.zip", buffer.getvalue())
    body["history"] = {"serverVersion": "9.0", "changes": []}
    response = send(doc["callback"], body)
    assert response.status_code == 200 and response.json() == {"error": 0}
    versions = world.versions(doc["id"])
    assert [v.number for v in versions] == [1, 2] and versions[1].changes_storage_key is None
    assert docx_text(world.head_bytes(doc["id"])) == ["edited by bob"]
    assert foreign.requests == []
    assert [r.split("?")[0] for r in fake_docs.requests] == ["/cache/files/out.docx"]


def test_cb17_callback_for_a_deleted_file_is_404_and_resurrects_nothing(world, fake_docs, doc):
    """CB-17: the file is deleted mid-session; the final save answers 404 {"error": 1} (Docs keeps it as
    forgotten), nothing is fetched, no file or blob reappears anywhere."""
    storage = os.path.join(world.app.config["STORAGE_DIR"], "files")
    assert world.client("alice").post(f"/files/{doc['id']}/delete").status_code == 302
    files_before = file_count(world)
    for status in (2, 6, 1):
        response = send(doc["callback"], save_body(world, fake_docs, doc, status=status))
        assert response.status_code == 404 and response.json() == {"error": 1}
    assert world.file(doc["id"]) is None and world.versions(doc["id"]) == []
    assert file_count(world) == files_before == 0
    assert fake_docs.requests == []
    blobs = [name for _, _, names in os.walk(storage) for name in names]
    assert blobs == []


# --- 7.4 Conversion (the connection test's round trip is the app's only conversion) -----------


def _scripted_docs(fake_docs, converter: dict):
    fake_docs.put("/healthcheck", b"true")
    fake_docs.put("/command", b'{"error": 0, "version": "9.0.0"}')
    fake_docs.put("/converter", json.dumps(converter).encode())


def _conversion_step(world, budget: float | None = None):
    from app.services.docs.client import check_connection

    with world.app.test_request_context():
        steps = check_connection(budget=budget)
    assert [s.name for s in steps] == ["Mixed content", "Health check", "Command service", "Conversion round trip"]
    assert all(s.ok for s in steps[:3])
    return steps[-1]


def test_cv5_conversion_result_on_a_foreign_host_is_never_fetched(world, fake_docs, foreign):
    """CV-5: Docs' fileUrl on another host: the round trip fails and that host is never contacted."""
    _scripted_docs(
        fake_docs, {"endConvert": True, "percent": 100, "fileUrl": foreign.put("result.docx", docx_with("converted"))}
    )
    step = _conversion_step(world)
    assert not step.ok and "could not fetch the converted file" in step.detail
    assert foreign.requests == []


CONVERSION_FAILURES = [
    ({"error": -4}, "could not download the file from the app"),
    ({"error": -8}, "invalid token"),
    ({"error": -3}, "conversion error"),
    ({"error": -99}, "error -99"),
]


def test_cv6_conversion_errors_map_to_plain_messages_without_polling_forever(world, fake_docs):
    """CV-6: Docs conversion error codes and an endless percent < 100 become plain messages, promptly."""
    for answer, words in CONVERSION_FAILURES:
        fake_docs.requests.clear()
        _scripted_docs(fake_docs, answer)
        started = time.monotonic()
        step = _conversion_step(world)
        assert not step.ok and words in step.detail, (answer, step.detail)
        assert time.monotonic() - started < 5
        assert [r for r in fake_docs.requests if r.startswith("/converter")] == ["/converter?"]  # asked once

    # An endless percent < 100 is polled (the asynchronous conversion's way) until the budget is spent.
    fake_docs.requests.clear()
    _scripted_docs(fake_docs, {"endConvert": False, "percent": 42})
    started = time.monotonic()
    step = _conversion_step(world, budget=2)
    assert not step.ok and "did not finish within 2 s" in step.detail, step.detail
    assert time.monotonic() - started < 4
    assert len([r for r in fake_docs.requests if r.startswith("/converter")]) > 1


def test_cv7_oversized_conversion_result_is_refused_before_it_is_read(world, fake_docs):
    """CV-7: a result declaring more than the limit is refused on its Content-Length."""
    big = fake_docs.put("huge.docx", b"PK" + b"\0" * 100, headers={"Content-Length": str(60 * 1024 * 1024)})
    _scripted_docs(fake_docs, {"endConvert": True, "percent": 100, "fileUrl": big})
    step = _conversion_step(world)
    assert not step.ok and "over the size limit" in step.detail


# --- 7.5 Editor events (Save As) ---------------------------------------------------------------

SAVE_AS_NAMES = [
    ("../../x", "x.docx"),
    ("..\\..\\evil", "evil.docx"),
    ("con", "_con.docx"),
    ("a/b/c.docx", "c.docx"),
    ("\u202eexe.docx", "exe.docx"),
    ("x" * 300, "x" * 200 + ".docx"),
]


def test_ev2_save_as_names_are_sanitised_and_stay_in_the_files_folder(world, fake_docs):
    """EV-2: path parts, reserved names, bidi, length: a clean name beside the original file; an empty
    (or empty once cleaned) name is a 400 that creates nothing and fetches nothing."""
    doc = world.create_document("alice", "Base")
    url = fake_docs.put("copy.docx", docx_with("a copy"))
    bob = world.client("bob")
    for title in ("", "   ", "\u202e\u200b", "../..", "/"):
        answer = bob.post(f"/files/{doc['id']}/save-as", json={"url": url, "title": title, "fileType": "docx"})
        assert answer.status_code == 400, repr(title)
    assert file_count(world) == 1 and fake_docs.requests == []
    for title, expected in SAVE_AS_NAMES:
        answer = bob.post(f"/files/{doc['id']}/save-as", json={"url": url, "title": title, "fileType": "docx"})
        assert answer.status_code == 201, answer.data
        copy = world.file(answer.get_json()["id"])
        assert copy.title == expected
        assert copy.space_id == world.space_id and copy.folder_id is None


def test_ev3_cross_site_save_as_without_the_csrf_token_is_refused(csrf_world, fake_docs):
    """EV-3: a session POST to save-as without the CSRF token is 400; Docs is not contacted; no copy."""
    doc = csrf_world.create_document("alice", "Guarded")
    url = fake_docs.put("copy.docx", docx_with("a copy"))
    client, token = csrf_login(csrf_world, "bob")
    body = {"url": url, "title": "Stolen", "fileType": "docx"}
    assert client.post(f"/files/{doc['id']}/save-as", json=body).status_code == 400
    assert client.post(f"/files/{doc['id']}/save-as", json=body, headers={"X-CSRFToken": "forged"}).status_code == 400
    assert fake_docs.requests == [] and file_count(csrf_world) == 1
    assert client.post(f"/files/{doc['id']}/save-as", json=body, headers={"X-CSRFToken": token}).status_code == 201
    # The session cookie is SameSite=Lax: browsers do not send it on cross-site POSTs at all.
    cookie = requests.get(csrf_world.url + "/auth/login", timeout=10).headers["Set-Cookie"]
    assert cookie.startswith("session=") and "SameSite=Lax" in cookie and "HttpOnly" in cookie


# --- 7.6 Admin settings ------------------------------------------------------------------------


def test_ad2_cross_site_settings_post_without_csrf_is_refused(csrf_world):
    """AD-2: an admin's browser posting the settings form without the CSRF token: 400, nothing saved."""
    from app.services import settings

    client, token = csrf_login(csrf_world, "alice")
    data = settings_form(max_file_size_mb="1", comments="")
    data.pop("comments")
    assert client.post("/admin/settings", data=data).status_code == 400
    assert client.post("/admin/settings", data={**data, "csrf_token": "forged"}).status_code == 400
    with csrf_world.app.app_context():
        assert settings.get("max_file_size_mb") == 100 and settings.get("comments") is True
    assert client.post("/admin/settings", data={**data, "csrf_token": token}).status_code == 200
    with csrf_world.app.app_context():
        assert settings.get("max_file_size_mb") == 1 and settings.get("comments") is False


def test_ad5_docs_address_that_is_no_host_is_refused(open_world):
    """AD-5: a Docs address with ';', ',', spaces or a malformed port is refused with a message."""
    from app.services import settings

    client = open_world.client("alice")
    for bad in (
        "http://docs.test;script-src-elem * 'unsafe-inline'",
        "http://docs test",
        "http://docs.test:80;x",
        "http://docs.test,evil.example",
    ):
        html = client.post("/admin/settings", data=settings_form(docs_url=bad, jwt_secret="z" * 40))
        with open_world.app.app_context():
            assert settings.get("docs_url") == "", bad
        assert "Please correct the marked fields" in html.get_data(as_text=True)


def test_ad6_connection_test_never_echoes_what_the_target_answers(world, fake_docs, foreign):
    """AD-6: whatever the configured address answers (an internal admin page), the page shows no body."""
    marker = "INTERNAL-ADMIN-PAGE-7f3a"
    client = world.client("alice")
    fake_docs.put("/healthcheck", f"<html>{marker}</html>".encode())
    html = client.post("/admin/settings", data=settings_form()).get_data(as_text=True)
    assert "Could not reach a healthy ONLYOFFICE Docs" in html and marker not in html
    fake_docs.put("/healthcheck", b"true")
    fake_docs.put("/command", f"<html>{marker} root:x:0:0</html>".encode())
    html = client.post("/admin/settings", data=settings_form()).get_data(as_text=True)
    assert "did not answer with JSON" in html and marker not in html and "root:x" not in html
    fake_docs.put("/command", json.dumps({"error": 0, "version": f"<script>{marker}</script>"}).encode())
    html = client.post("/admin/settings", data=settings_form()).get_data(as_text=True)
    assert f"<script>{marker}" not in html  # a version string shown is escaped
    fake_docs.put("/healthcheck", b"", status=302, headers={"Location": foreign.put("/healthcheck", b"true")})
    html = client.post("/admin/settings", data=settings_form()).get_data(as_text=True)
    assert "Could not reach a healthy ONLYOFFICE Docs" in html
    assert foreign.requests == []  # the redirect was not followed


def test_ad7_script_in_stored_settings_is_escaped_on_output(open_world):
    """AD-7: <script> in a stored URL and in the editor list is escaped on the admin and editor pages."""
    from app.services import settings

    client = open_world.client("alice")
    url = 'http://docs.test/"><script>alert(1)</script>'
    client.post(
        "/admin/settings",
        data=settings_form(docs_url=url, jwt_secret="z" * 40, editor_users="alice\n<script>alert(2)</script>"),
    )
    with open_world.app.app_context():
        stored = (settings.get("docs_url"), settings.get("editor_users"))
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "<script>alert(" not in page
    if stored[1]:
        assert "&lt;script&gt;alert(2)" in page
    doc = open_world.create_document("alice", "Escaped")
    editor = client.get(f"/files/{doc['id']}/open")
    assert "<script>alert(" not in editor.get_data(as_text=True)
    assert '"><script>' not in editor.headers.get("Content-Security-Policy", "")


def test_ad7_docs_address_cannot_inject_csp_directives(world):
    """AD-7: a Docs address from the environment (not validated by the form) must not add CSP directives."""
    world.app.config["DOCS_URL"] = "http://docs.test;script-src-elem * 'unsafe-inline';report-uri http://evil.example"
    doc = world.create_document("alice", "Policed")
    response = world.client("alice").get(f"/files/{doc['id']}/open")
    csp = response.headers["Content-Security-Policy"]
    directives = [part.strip().split(" ")[0] for part in csp.split(";") if part.strip()]
    assert len(directives) == len(set(directives))
    assert "script-src-elem" not in directives and "report-uri" not in directives


def test_ad8_changing_the_secret_refuses_old_tokens_and_loses_nothing(world, fake_docs, doc):
    """AD-8: after a secret change there is no grace window: old-secret saves are 403 (Docs keeps them as
    forgotten files), nothing is stored; Docs with the new secret saves normally."""
    before = world.head_bytes(doc["id"])
    world.app.config["DOCS_JWT_SECRET"] = NEW_SECRET
    body = save_body(world, fake_docs, doc)
    response = send(doc["callback"], body)  # signed with the old secret
    assert response.status_code == 403 and response.json() == {"error": 1}
    unchanged(world, doc, before)
    assert fake_docs.requests == []
    assert docs_get(doc["url"]).status_code == 403  # old-secret download JWT
    assert (
        requests.get(
            doc["url"],
            headers={"Authorization": "Bearer " + docs_token({"payload": {"url": doc["url"]}}, secret=NEW_SECRET)},
            timeout=10,
        ).status_code
        == 200
    )
    assert send(doc["callback"], body, secret=NEW_SECRET).json() == {"error": 0}
    assert world.file(doc["id"]).version == 2


# --- 7.8 Uploads ----------------------------------------------------------------------------------


def test_up1_windows_reserved_names_are_defused(world):
    """UP-1: CON, AUX, LPT9, NUL, COM1 as a stem get a prefix."""
    for name, expected in (
        ("con.txt", "_con.txt"),
        ("AUX", "_AUX"),
        ("Lpt9.txt", "_Lpt9.txt"),
        ("nul", "_nul"),
        ("com1.TXT", "_com1.TXT"),
    ):
        response = upload(world, name)
        assert response.status_code == 201
        assert response.get_json()["title"] == expected


def test_up1_reserved_names_with_a_trailing_space_or_two_extensions_are_defused(world):
    """UP-1: Windows treats 'CON .txt' and 'NUL.tar.gz' as the devices too."""
    bases = []
    for name in ("CON .txt", "nul.tar.txt", "aux .tar.gz"):
        response = upload(world, name)
        assert response.status_code == 201
        bases.append(response.get_json()["title"].split(".")[0].strip().lower())
    assert not set(bases) & {"con", "prn", "aux", "nul"}, bases


def test_up1_long_control_and_path_names_are_sanitised_and_stored_under_a_generated_id(world):
    """UP-1: 300 characters, control characters, / and \\: a short clean title; blobs use generated keys."""
    cases = {
        "a" * 300 + ".docx": lambda t: len(t) <= 201 and t.endswith(".docx") and set(t[:-5]) == {"a"},
        "é" * 300 + ".txt": lambda t: len(t) <= 255 and t.endswith(".txt") and set(t[:-4]) == {"é"},
        "a\x01b\x1fc\td\x7fe\u200bf.txt": lambda t: t == "abcdef.txt",
        # multipart unquoting already eats the backslashes; either way no path part survives
        "..\\..\\windows\\system32\\x.txt": lambda t: t.endswith("x.txt") and ".." not in t,
        "/etc/passwd": lambda t: t == "passwd",
        "...hidden.txt": lambda t: t == "hidden.txt",
    }
    for name, ok in cases.items():
        data = docx_with("long") if name.endswith(".docx") else b"text"
        response = upload(world, name, data)
        assert response.status_code == 201, (name, response.data)
        title = response.get_json()["title"]
        assert ok(title), (name, title)
        assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in title)
        assert "/" not in title and "\\" not in title
        version = world.versions(response.get_json()["id"])[0]
        assert re.fullmatch(rf"files/{response.get_json()['id']}/[0-9a-f]{{32}}", version.storage_key)


def test_up3_zip_bomb_upload_is_refused_and_nothing_is_stored(world):
    """UP-3: a tiny .docx expanding to 64 MiB is refused by the expansion limits."""
    for response in (
        upload(world, "bomb.docx", _zip_bomb()),
        world.client("bob").post(
            f"/spaces/{world.space_id}/upload",
            follow_redirects=True,
            data={"file": (io.BytesIO(_zip_bomb()), "bomb.docx")},
        ),
    ):
        assert "not a valid .docx file" in response.get_data(as_text=True)
    assert file_count(world) == 0
    assert os.listdir(os.path.join(world.app.config["STORAGE_DIR"], "tmp")) == []


def test_up5_upload_over_max_content_length_is_413_and_stores_nothing(world):
    """UP-5: over MAX_CONTENT_LENGTH: 413 (JSON for the API, a page for people), nothing stored."""
    world.app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = requests.post(
        f"{world.url}/api/v1/spaces/{world.space_id}/files",
        headers=world.api("alice"),
        files={"file": ("big.txt", b"x" * (256 * 1024))},
        timeout=10,
    )
    assert response.status_code == 413 and response.json()["status"] == 413
    page = world.client("bob").post(
        f"/spaces/{world.space_id}/upload", data={"file": (io.BytesIO(b"x" * (256 * 1024)), "big.txt")}
    )
    assert page.status_code == 413 and "413" in page.get_data(as_text=True)
    version = world.client().post(
        "/api/v1/files/1/versions",
        headers=world.api("alice"),
        data={"file": (io.BytesIO(b"x" * (256 * 1024)), "big.txt")},
    )
    assert version.status_code in (404, 413)
    assert file_count(world) == 0
    assert os.listdir(os.path.join(world.app.config["STORAGE_DIR"], "tmp")) == []
    # Just under the limit still works.
    assert upload(world, "small.txt", b"x" * 1024).status_code == 201


# --- 8. Reliability ------------------------------------------------------------------------------


def test_rl2_docs_500_refused_or_timeout_is_transient(world, fake_docs, doc):
    """RL-2: Docs answers 500, refuses the connection, or stalls: 503 (Docs retries), nothing stored."""
    for failure in ("http-500", "refused", "timeout"):
        _rl2_case(world, fake_docs, doc, failure)
    assert send(doc["callback"], save_body(world, fake_docs, doc)).json() == {"error": 0}  # the retry lands


def _rl2_case(world, fake_docs, doc, failure):
    before = world.head_bytes(doc["id"])
    body = save_body(world, fake_docs, doc)
    if failure == "http-500":
        fake_docs.put("boom.docx", b"Internal Server Error", status=500)
        body["url"] = fake_docs.url + "/cache/files/boom.docx"
    elif failure == "refused":
        dead = f"http://127.0.0.1:{closed_port()}"
        world.app.config["DOCS_URL"] = dead
        body["url"] = dead + "/cache/files/out.docx"
    else:
        world.app.config["DOCS_TIMEOUT"] = (2, 0.5)
        body["url"] = fake_docs.url + "/cache/files/slow"
    started = time.monotonic()
    response = send(doc["callback"], body)
    assert response.status_code == 503 and response.json() == {"error": 1}, failure
    assert time.monotonic() - started < 3
    world.app.config["DOCS_URL"] = fake_docs.url
    world.app.config["DOCS_TIMEOUT"] = (2, 5)
    unchanged(world, doc, before)
    assert os.listdir(os.path.join(world.app.config["STORAGE_DIR"], "tmp")) == []


def test_rl10_status_6_and_status_2_racing_end_with_the_final_save(world, fake_docs, doc):
    """RL-10: a force-save and the final save of one key at once: both 200; the head is the final content."""
    force = save_body(
        world,
        fake_docs,
        doc,
        status=6,
        content=docx_with("forced"),
        name="f.docx",
        forcesavetype=1,
        lastsave="2026-11-22T10:00:00.000Z",
    )
    final = save_body(
        world,
        fake_docs,
        doc,
        status=2,
        content=docx_with("final"),
        name="final.docx",
        lastsave="2026-11-22T10:00:05.000Z",
    )
    barrier = threading.Barrier(2)
    answers = {}

    def run(name, body):
        barrier.wait()
        answers[name] = send(doc["callback"], body)

    threads = [threading.Thread(target=run, args=item) for item in (("force", force), ("final", final))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {name: a.json() for name, a in answers.items()} == {"force": {"error": 0}, "final": {"error": 0}}
    versions = world.versions(doc["id"])
    assert docx_text(world.head_bytes(doc["id"])) == ["final"]
    assert not any(v.is_conflict for v in versions)
    assert versions[-1].source == "save" and world.file(doc["id"]).version == versions[-1].number
    assert world.file(doc["id"]).doc_key != doc["key"]
    # Replays change nothing.
    assert send(doc["callback"], force).json() == send(doc["callback"], final).json() == {"error": 0}
    assert len(world.versions(doc["id"])) == len(versions)


def test_rl14_disk_full_is_transient_and_leaves_nothing_behind(world, fake_docs, doc, monkeypatch):
    """RL-14: ENOSPC while moving the save into storage: 503, head untouched, temp removed, people told."""
    from app.services.storage.local import LocalStorage

    def full(self, path, prefix):
        raise OSError(errno.ENOSPC, "No space left on device")

    before = world.head_bytes(doc["id"])
    monkeypatch.setattr(LocalStorage, "put_file", full)
    response = send(doc["callback"], save_body(world, fake_docs, doc))
    monkeypatch.undo()
    assert response.status_code == 503 and response.json() == {"error": 1}
    unchanged(world, doc, before)
    assert os.listdir(os.path.join(world.app.config["STORAGE_DIR"], "tmp")) == []
    assert unread(world, "alice") == 1 and unread(world, "bob") == 1
    assert send(doc["callback"], save_body(world, fake_docs, doc)).json() == {"error": 0}  # Docs' retry lands
    assert world.file(doc["id"]).version == 2


def test_rl15_database_failure_at_commit_is_transient_and_leaves_no_orphan_blob(world, fake_docs, doc):
    """RL-15: the database fails on the version's commit: 503, no version row, the blob is removed again."""
    from app.extensions import db
    from app.models import FileVersion

    def fail(session):
        if any(isinstance(item, FileVersion) for item in session.new):
            raise sa.exc.OperationalError("COMMIT", {}, Exception("database is locked"))

    before = world.head_bytes(doc["id"])
    blob_dir = os.path.join(world.app.config["STORAGE_DIR"], "files", str(doc["id"]))
    blobs_before = sorted(os.listdir(blob_dir))
    sa.event.listen(db.session, "before_commit", fail)
    try:
        response = send(doc["callback"], save_body(world, fake_docs, doc))
    finally:
        sa.event.remove(db.session, "before_commit", fail)
    assert response.status_code == 503 and response.json() == {"error": 1}
    unchanged(world, doc, before)
    assert sorted(os.listdir(blob_dir)) == blobs_before
    assert os.listdir(os.path.join(world.app.config["STORAGE_DIR"], "tmp")) == []
    assert send(doc["callback"], save_body(world, fake_docs, doc)).json() == {"error": 0}
    assert world.file(doc["id"]).version == 2


def test_rl18_restore_while_an_editor_is_open_survives_the_later_save(world, fake_docs):
    """RL-18: version 1 is restored while a session on version 2 is open; its save becomes a conflict copy."""
    doc = world.create_document("alice", "Restored")
    world.client().post(
        f"/api/v1/files/{doc['id']}/versions",
        headers=world.api("alice"),
        data={"file": (io.BytesIO(docx_with("second")), "x.docx")},
    )
    config = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("alice")).get_json()
    session = {"id": doc["id"], "key": config["document"]["key"], "callback": config["editorConfig"]["callbackUrl"]}
    restored = world.client().post(f"/api/v1/files/{doc['id']}/versions/1/restore", headers=world.api("alice"))
    assert restored.status_code == 201
    head = world.head_bytes(doc["id"])
    assert docx_text(head) == []
    assert send(session["callback"], save_body(world, fake_docs, session, user="alice")).json() == {"error": 0}
    versions = world.versions(doc["id"])
    assert [(v.number, v.source, v.is_conflict) for v in versions] == [
        (1, "create", False),
        (2, "upload", False),
        (3, "restore", False),
        (4, "save", True),
    ]
    assert world.head_bytes(doc["id"]) == head and world.file(doc["id"]).version == 3
    assert unread(world, "alice") == 1


def test_rl20_status_3_without_url_is_acknowledged_unchanged_and_logged(world, doc, caplog):
    """RL-20: a save error with no file: 200 {"error": 0}, nothing stored, a warning in the log."""
    caplog.set_level(logging.WARNING, logger="coedit.callbacks")
    before = world.head_bytes(doc["id"])
    response = send(doc["callback"], {"key": doc["key"], "status": 3, "users": [str(world.user_ids["bob"])]})
    assert response.status_code == 200 and response.json() == {"error": 0}
    unchanged(world, doc, before)
    assert any("without a file" in r.getMessage() and r.levelno >= logging.WARNING for r in caplog.records)


def test_rl20_status_3_without_url_tells_the_owner_and_the_editors(world, doc):
    """RL-20: users are told that Docs reported a save error it could not hand over."""
    send(doc["callback"], {"key": doc["key"], "status": 3, "users": [str(world.user_ids["bob"])]})
    assert unread(world, "alice") >= 1 and unread(world, "bob") >= 1


def test_rl23_callback_accepts_a_docs_clock_30s_ahead_not_120(world, fake_docs, doc):
    """RL-23 (callbacks): iat/nbf 120 s in the future is refused (unchanged, Docs keeps it); 30 s is within
    the leeway and stored. (exp 30 s/120 s past: test_callbacks.py.)"""
    before = world.head_bytes(doc["id"])
    body = save_body(world, fake_docs, doc)
    now = int(time.time())
    for ahead, status in ((120, 403), (30, 200)):
        token = docs_token(body, iat=now + ahead, nbf=now + ahead)
        response = requests.post(doc["callback"], json={**body, "token": token}, timeout=10)
        assert response.status_code == status, ahead
        if status == 403:
            unchanged(world, doc, before)
            assert fake_docs.requests == []
    assert world.file(doc["id"]).version == 2


def test_rl24_status_1_while_storage_is_read_only_answers_an_error(world, doc, monkeypatch, tmp_path):
    """RL-24: storage cannot be written (the app's own /readyz says so): status 1 gets a non-zero reply."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    storage = world.app.extensions["coedit_storage"]
    monkeypatch.setattr(storage, "temp_dir", str(blocker / "tmp"))
    assert requests.get(world.url + "/readyz", timeout=10).status_code == 503  # the app can tell
    response = send(doc["callback"], {"key": doc["key"], "status": 1, "users": [str(world.user_ids["bob"])]})
    assert response.json()["error"] != 0
