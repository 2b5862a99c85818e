"""api.js in a real browser (Chromium via Playwright): an integrator page with a strict CSP embeds the
emulator, and the events, methods and buttons work end to end."""

from __future__ import annotations

import json

import jwt
import pytest

from docs_emulator.testing import start_emulator
from tests.helpers import wait_for

from .conftest import SECRET
from .conftest import docx_bytes
from .conftest import make_config

# The browser is the session-wide one from tests/conftest.py: Playwright's sync API allows one at a time.

ALL_EVENTS = [
    "onAppReady",
    "onDocumentReady",
    "onDocumentStateChange",
    "onRequestClose",
    "onError",
    "onInfo",
    "onRequestHistory",
    "onRequestHistoryData",
    "onRequestHistoryClose",
    "onRequestRestore",
    "onRequestRename",
    "onMetaChange",
    "onRequestSaveAs",
    "onRequestUsers",
    "onRequestSendNotify",
    "onMakeActionLink",
    "onRequestRefreshFile",
    "onRequestEditRights",
]

# The integrator page's own script: builds handlers that record every event.
PAGE_JS = b"""
(function () {
  var data = JSON.parse(document.getElementById('config').textContent);
  window.__events = [];
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', function (e) {
    window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
  });
  var config = data.config;
  config.events = {};
  data.events.forEach(function (name) {
    config.events[name] = function (ev) {
      window.__events.push({name: name, data: ev.data === undefined ? null : ev.data,
                            target: ev.target === window.__editor});
    };
  });
  window.__editor = new DocsAPI.DocEditor('placeholder', config);
}());
"""


@pytest.fixture(scope="module")
def bemu():
    """An emulator polling fast enough for browser tests."""
    with start_emulator(jwt_secret=SECRET, save_delay=0.2, retry_base=0.1, poll_interval=0.1) as emu:
        yield emu


@pytest.fixture
def dialogs():
    """Messages of alert() dialogs seen by the page."""
    return []


@pytest.fixture
def open_page(browser, bemu, integrator, dialogs):
    """Open the integrator's editor page for a config; returns (page, frame, console errors)."""
    pages = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    def _open(config, events=ALL_EVENTS, sign=True):
        if sign:
            config = bemu.sign_config(config)
        blob = json.dumps({"config": config, "events": events}).replace("<", "\\u003c")
        html = (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Editor</title>'
            f'<script src="{bemu.url}/web-apps/apps/api/documents/api.js"></script></head>'
            f'<body><div id="placeholder"></div>'
            f'<script type="application/json" id="config">{blob}</script>'
            f'<script src="/page.js"></script></body></html>'
        )
        csp = (
            f"default-src 'self'; script-src 'self' {bemu.url}; frame-src {bemu.url}; "
            f"style-src 'self'; connect-src 'self'"
        )
        integrator.pages["/editor"] = (html.encode(), "text/html", {"Content-Security-Policy": csp})
        integrator.pages["/page.js"] = (PAGE_JS, "application/javascript", {})
        page = browser.new_page()
        pages.append(page)
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", on_dialog)
        page.goto(integrator.url + "/editor")
        return page, page.frame_locator("iframe[name=frameEditor]"), errors

    yield _open
    for page in pages:
        page.close()


def events(page, name=None):
    """Recorded events (optionally one name)."""
    got = page.evaluate("window.__events")
    return [e for e in got if name is None or e["name"] == name]


def wait_event(page, name, count=1):
    """Wait until ``name`` fired ``count`` times."""
    page.wait_for_function(
        "([n, c]) => window.__events.filter(e => e.name === n).length >= c", arg=[name, count], timeout=5000
    )
    return events(page, name)


def test_full_editing_flow_under_strict_csp(open_page, bemu, integrator):
    """Open, append, force-save, history, rename, meta and close, with no CSP violation."""
    integrator.add("doc.docx", docx_bytes("Hello", "World"))
    page, frame, errors = open_page(make_config(integrator, "b-flow", forcesave=True))
    frame.locator("#emu-content").get_by_text("World").wait_for(timeout=5000)
    iframe = page.locator("iframe#placeholder")
    assert iframe.get_attribute("name") == "frameEditor"
    assert "/web-apps/apps/documenteditor/main/index.html?" in iframe.get_attribute("src")
    assert frame.locator("#emu-title").inner_text() == "doc.docx"
    assert frame.locator("#emu-mode").inner_text() == "Editing"
    assert frame.locator("#emu-user").inner_text() == "Alice"
    assert frame.locator("#emu-content p").all_inner_texts() == ["Hello", "World"]
    wait_event(page, "onDocumentReady")
    assert events(page, "onInfo")[0]["data"] == {"mode": "edit"}
    assert all(e["target"] for e in events(page))
    assert page.evaluate("DocsAPI.DocEditor.version()") == "9.0.0-emulator"

    frame.locator("#emu-text").fill("Appended line")
    frame.locator("#emu-append").click()
    frame.locator("#emu-content").get_by_text("Appended line").wait_for(timeout=5000)
    assert [e["data"] for e in wait_event(page, "onDocumentStateChange", 2)] == [True, False]

    frame.locator("#emu-save").click()
    frame.locator("#emu-message").get_by_text("Saving").wait_for(timeout=5000)
    bemu.wait_idle()
    assert integrator.bodies(6)[0]["forcesavetype"] == 1

    frame.locator("#emu-history").click()
    wait_event(page, "onRequestHistory")
    page.evaluate("""window.__editor.refreshHistory({currentVersion: 2, history: [
        {version: 1, key: 'v1', created: '2026-01-01 10:00', user: {id: 'u1', name: 'Alice'}},
        {version: 2, key: 'b-flow', created: '2026-01-02 10:00', user: {id: 'u1', name: 'Alice'}}]})""")
    frame.locator("#emu-history-list li[data-version='1']").click()
    assert wait_event(page, "onRequestHistoryData")[0]["data"] == 1
    old_url = integrator.add("v1.docx", docx_bytes("Old version"))
    data = {"version": 1, "key": "v1", "fileType": "docx", "url": old_url}
    data["token"] = jwt.encode(data, SECRET, algorithm="HS256")
    page.evaluate("d => window.__editor.setHistoryData(d)", data)
    frame.locator("#emu-history-content").get_by_text("Old version").wait_for(timeout=5000)
    frame.locator("#emu-restore").click()
    assert wait_event(page, "onRequestRestore")[0]["data"] == {"version": 1, "url": old_url, "fileType": "docx"}
    frame.locator("#emu-history-close").click()
    wait_event(page, "onRequestHistoryClose")

    frame.locator("#emu-rename-title").fill("Renamed")
    frame.locator("#emu-rename").click()
    assert wait_event(page, "onRequestRename")[0]["data"] == "Renamed"
    assert bemu.command({"c": "meta", "key": "b-flow", "meta": {"title": "Renamed.docx"}})["error"] == 0
    assert wait_event(page, "onMetaChange")[0]["data"] == {"title": "Renamed.docx"}
    assert frame.locator("#emu-title").inner_text() == "Renamed.docx"

    frame.locator("#emu-close").click()
    wait_event(page, "onRequestClose")
    # The editor fires onRequestClose before its leave request reaches Docs, so the save
    # may not be pending yet: wait for the callback itself.
    closing = wait_for(lambda: integrator.bodies(2), 30, "the status-2 callback")
    assert closing[0]["users"] == ["u1"]
    assert page.evaluate("window.__csp") == []
    assert not [e for e in errors if "Content Security Policy" in e]


def test_bad_token_shows_error_and_fires_on_error(open_page, integrator):
    """The editor shows the token error and onError carries -20."""
    integrator.add("doc.docx", docx_bytes("x"))
    config = make_config(integrator, "b-bad")
    config["token"] = jwt.encode(config, "not-the-secret-not-the-secret-00", algorithm="HS256")
    page, frame, _ = open_page(config, sign=False)
    error = wait_event(page, "onError")[0]["data"]
    assert error["errorCode"] == -20
    assert "not correctly formed" in frame.locator("#emu-error").inner_text()
    assert frame.locator("#emu-main").is_hidden()


def test_view_mode_and_features_follow_handlers(open_page, integrator):
    """View mode: no text input; only handlers that exist switch buttons on."""
    integrator.add("doc.docx", docx_bytes("x"))
    page, frame, _ = open_page(
        make_config(integrator, "b-view", mode="view"), events=["onDocumentReady", "onRequestEditRights"]
    )
    wait_event(page, "onDocumentReady")
    assert frame.locator("#emu-mode").inner_text() == "Viewing"
    for absent in ("#emu-text", "#emu-append", "#emu-save", "#emu-close", "#emu-history", "#emu-rename"):
        assert frame.locator(absent).count() == 0, absent
    frame.locator("#emu-edit-rights").click()
    wait_event(page, "onRequestEditRights")


def test_missing_url_alerts_and_creates_no_iframe(open_page, integrator, dialogs):
    """api.js refuses a config without document.url before any iframe exists."""
    config = make_config(integrator, "b-alert")
    del config["document"]["url"]
    page, _, _ = open_page(config)
    page.wait_for_function("window.__editor !== undefined")
    assert dialogs == ["One or more required parameter for the config object is not set"]
    assert page.locator("iframe").count() == 0
    assert page.locator("div#placeholder").count() == 1


def test_drop_shows_error_minus_100(open_page, bemu, integrator):
    """The drop command reaches the open editor as error -100."""
    integrator.add("doc.docx", docx_bytes("x"))
    page, frame, _ = open_page(make_config(integrator, "b-drop"))
    wait_event(page, "onDocumentReady")
    assert bemu.command({"c": "drop", "key": "b-drop", "users": ["u1"]})["error"] == 0
    assert wait_event(page, "onError")[0]["data"]["errorCode"] == -100
    assert frame.locator("#emu-error").is_visible()


def test_destroy_editor_leaves_the_session(open_page, bemu, integrator):
    """destroyEditor puts the placeholder back; the iframe's unload makes the user leave."""
    integrator.add("doc.docx", docx_bytes("x"))
    page, frame, _ = open_page(make_config(integrator, "b-destroy"))
    wait_event(page, "onDocumentReady")
    page.evaluate("window.__editor.destroyEditor()")
    assert page.locator("div#placeholder").count() == 1
    assert page.locator("iframe").count() == 0
    # The beacon is asynchronous: poll the emulator until the user is gone.
    page.wait_for_function("true")
    for _ in range(50):
        if any(b["actions"][0]["type"] == 0 for b in integrator.bodies(1)):
            break
        page.wait_for_timeout(100)
    bemu.wait_idle()
    leaves = [b for b in integrator.bodies(1) if b["actions"][0]["type"] == 0]
    assert leaves and leaves[0]["users"] == []
    assert integrator.bodies(4)  # nothing changed: status 4 after the save delay


def test_secondary_events_and_methods(open_page, integrator):
    """Save-as, mentions, notify, action links, showMessage and denyEditingRights."""
    integrator.add("doc.docx", docx_bytes("x"))
    page, frame, _ = open_page(make_config(integrator, "b-misc"))
    wait_event(page, "onDocumentReady")

    frame.locator("#emu-save-as").click()
    save_as = wait_event(page, "onRequestSaveAs")[0]["data"]
    assert save_as["fileType"] == "docx" and save_as["title"] == "doc.docx" and "/cache/files/" in save_as["url"]

    frame.locator("#emu-mention").click()
    assert wait_event(page, "onRequestUsers")[0]["data"] == {"c": "mention"}
    page.evaluate("window.__editor.setUsers({c: 'mention', users: [{id: 'u2', name: 'Bob', email: 'bob@x.test'}]})")
    frame.locator("#emu-users-list").get_by_text("Bob <bob@x.test>").wait_for(timeout=5000)

    frame.locator("#emu-comment").fill("see this @bob@x.test")
    frame.locator("#emu-notify").click()
    notify = wait_event(page, "onRequestSendNotify")[0]["data"]
    assert notify["emails"] == ["bob@x.test"] and notify["message"] == "see this @bob@x.test"
    assert notify["actionLink"]["action"]["type"] == "comment"

    frame.locator("#emu-link").click()
    assert wait_event(page, "onMakeActionLink")[0]["data"]["action"]["type"] == "bookmark"
    page.evaluate("window.__editor.setActionLink('https://app.test/doc#b')")
    frame.locator("#emu-action-link").get_by_text("https://app.test/doc#b").wait_for(timeout=5000)

    page.evaluate("window.__editor.showMessage('Hello from the app')")
    frame.locator("#emu-message").get_by_text("Hello from the app").wait_for(timeout=5000)

    page.evaluate("window.__editor.denyEditingRights('Locked by Bob')")
    frame.locator("#emu-message").get_by_text("Locked by Bob").wait_for(timeout=5000)
    assert frame.locator("#emu-mode").inner_text() == "Viewing"
    assert frame.locator("#emu-text").count() == 0


def test_saved_key_asks_for_refresh(open_page, bemu, integrator):
    """Reusing a key after status 2 fires onRequestRefreshFile; refreshFile with a new key opens."""
    integrator.add("doc.docx", docx_bytes("x"))
    bemu.open_session(bemu.sign_config(make_config(integrator, "b-old", user_id="u9")))
    bemu.append("b-old", "u9", "saved")
    bemu.leave("b-old", "u9")
    bemu.wait_idle()
    page, frame, _ = open_page(make_config(integrator, "b-old"))
    wait_event(page, "onRequestRefreshFile")
    assert "-102" in frame.locator("#emu-error").inner_text()
    fresh = bemu.sign_config(make_config(integrator, "b-new"))
    page.evaluate("c => window.__editor.refreshFile(c)", fresh)
    frame.locator("#emu-mode").get_by_text("Editing").wait_for(timeout=5000)
    assert frame.locator("#emu-error").is_hidden()


def test_odt_is_editable_in_the_editor_page(open_page, bemu, integrator, sources):
    """A lossy-edit odt opened in edit mode shows its text and the Append button; the save is a docx."""
    integrator.add("doc.odt", sources["odt"])
    page, frame, _ = open_page(make_config(integrator, "b-odt", filename="doc.odt"))
    frame.locator("#emu-content").get_by_text("Hello from the source").wait_for(timeout=15000)
    assert frame.locator("#emu-mode").inner_text() == "Editing"
    frame.locator("#emu-text").fill("Typed in the page")
    frame.locator("#emu-append").click()
    frame.locator("#emu-content").get_by_text("Typed in the page").wait_for(timeout=5000)
    bemu.leave("b-odt", "u1")
    bemu.wait_idle(30)
    (body,) = integrator.bodies(2)
    assert body["filetype"] == "docx"
