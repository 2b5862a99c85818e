"""Static endpoints: health, welcome text, api.js and the editor page."""

import requests


def test_healthcheck_and_index(emu):
    """/healthcheck says true; /index.html names the emulator."""
    assert requests.get(emu.url + "/healthcheck").text == "true"
    text = requests.get(emu.url + "/index.html").text
    assert "Server is functioning normally (Document Server emulator)" in text


def test_api_js_defines_doceditor(emu):
    """api.js is JavaScript that defines DocsAPI.DocEditor and its version()."""
    resp = requests.get(emu.url + "/web-apps/apps/api/documents/api.js")
    assert resp.status_code == 200
    assert "javascript" in resp.headers["Content-Type"]
    assert "DocsAPI" in resp.text and "DocEditor" in resp.text
    assert "9.0.0-emulator" in resp.text
    # Config goes by postMessage, never by an (inline) form post.
    assert "postMessage" in resp.text and "<form" not in resp.text


def test_editor_page_is_marked_and_has_strict_csp(emu):
    """The iframe page says it is the emulator and loads only its own script."""
    resp = requests.get(emu.url + "/web-apps/apps/spreadsheeteditor/main/index.html?frameEditorId=x")
    assert resp.status_code == 200
    assert "Document Server emulator" in resp.text
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "<script>" not in resp.text and " style=" not in resp.text and "onclick" not in resp.text
    assert requests.get(emu.url + "/web-apps/apps/nosuch/main/index.html").status_code == 404
    assert requests.get(emu.url + "/web-apps/apps/emulator/editor.js").status_code == 200


def test_control_api_is_marked_test_only(emu):
    """Every control answer carries the test-only marker."""
    resp = requests.get(emu.url + "/_emulator/config")
    assert resp.headers["X-Docs-Emulator"] == "test-only control API"
    assert resp.json()["jwt"] is True
