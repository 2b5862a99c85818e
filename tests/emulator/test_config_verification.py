"""The editor config checks: api.js rules and the config token, as Docs applies them."""

import time

import jwt

from .conftest import SECRET
from .conftest import docx_bytes
from .conftest import make_config


def _open(emu, config):
    return emu.open_session(config)


def test_valid_token_opens_and_shows_content(emu, integrator):
    """A config signed as a whole opens in edit mode with the document text."""
    integrator.add("doc.docx", docx_bytes("Hello", "World"))
    result = _open(emu, emu.sign_config(make_config(integrator, "k-ok")))
    assert result["error"] == 0
    assert result["mode"] == "edit"
    assert result["content"] == ["Hello", "World"]
    assert result["user"] == {"id": "u1", "name": "Alice"}


def test_missing_token_is_refused(emu, integrator):
    """JWT on and no token: -20, nothing downloaded."""
    integrator.add("doc.docx", docx_bytes("x"))
    result = _open(emu, make_config(integrator, "k-none"))
    assert result["error"] == -20
    assert "not correctly formed" in result["errorDescription"]
    assert integrator.downloads == []


def test_bad_token_is_refused(emu, integrator):
    """A token signed with another secret: -20."""
    config = make_config(integrator, "k-bad")
    config["token"] = jwt.encode(config, "another-secret-another-secret-12", algorithm="HS256")
    assert _open(emu, config)["error"] == -20


def test_expired_token_is_refused(emu, integrator):
    """exp in the past (beyond the 60 s tolerance): -21."""
    config = make_config(integrator, "k-exp")
    config["token"] = jwt.encode({**config, "exp": int(time.time()) - 120}, SECRET, algorithm="HS256")
    result = _open(emu, config)
    assert result["error"] == -21
    assert "expired" in result["errorDescription"]


def test_permissions_mismatch_is_access_denied(emu, integrator):
    """Token permissions differ from the page's (even true vs 1): -23."""
    integrator.add("doc.docx", docx_bytes("x"))
    config = make_config(integrator, "k-perm")
    signed = emu.sign_config(config)
    signed["document"]["permissions"] = {"edit": True, "download": False}
    assert _open(emu, signed)["error"] == -23
    signed = emu.sign_config(config)
    signed["document"]["permissions"] = {"edit": 1, "download": True}
    assert _open(emu, signed)["error"] == -23


def test_other_token_kinds_are_refused(emu, integrator):
    """A token with top-level url/payload/key is not a config token: -23."""
    config = make_config(integrator, "k-kind")
    for extra in ({"url": "x"}, {"payload": {}}, {"key": "k-kind"}):
        config_with = {**config, "token": jwt.encode({**config, **extra}, SECRET, algorithm="HS256")}
        assert _open(emu, config_with)["error"] == -23


def test_required_fields_must_be_signed(emu, integrator):
    """Key, url, callbackUrl and mode outside the token: -20 (token invalid)."""
    config = make_config(integrator, "k-req")
    partial = {"document": dict(config["document"]), "editorConfig": dict(config["editorConfig"])}
    del partial["editorConfig"]["callbackUrl"]
    config["token"] = jwt.encode(partial, SECRET, algorithm="HS256")
    result = _open(emu, config)
    assert result["error"] == -20 and "callbackUrl" in result["detail"]


def test_mode_added_by_the_page_must_be_signed(emu, integrator):
    """A token without mode opens in edit mode, but the page cannot add mode "edit" unsigned."""
    integrator.add("doc.docx", docx_bytes("x"))
    config = make_config(integrator, "k-mode")
    del config["editorConfig"]["mode"]
    signed = emu.sign_config(config)
    assert _open(emu, signed)["mode"] == "edit"
    emu.leave("k-mode", "u1")
    signed["editorConfig"]["mode"] = "edit"
    assert _open(emu, signed)["error"] == -20


def test_token_values_win(emu, integrator):
    """The page cannot change what the token says (here: the user and the mode)."""
    integrator.add("doc.docx", docx_bytes("x"))
    config = emu.sign_config(make_config(integrator, "k-win", mode="view"))
    config["editorConfig"]["user"] = {"id": "evil", "name": "Mallory"}
    config["editorConfig"]["mode"] = "view"
    result = _open(emu, config)
    assert result["error"] == 0
    assert result["user"]["id"] == "u1" and result["mode"] == "view"


def test_client_side_checks(emu, integrator):
    """Missing url or both types: the api.js alert; unknown fileType: alert too."""
    result = _open(emu, {"document": {"fileType": "docx", "key": "k"}, "editorConfig": {}})
    assert result["error"] == -1 and result["alert"].startswith("One or more required parameter")
    result = _open(emu, {"document": {"url": "http://x/y", "key": "k"}})
    assert result["alert"].startswith("One or more required parameter")
    result = _open(emu, {"document": {"url": "http://x/y", "key": "k", "fileType": "exe"}})
    assert "fileType" in result["alert"]


def test_file_type_is_lowercased_and_document_type_inferred(emu, integrator):
    """fileType "DOCX" works; documentType comes from it."""
    integrator.add("doc.docx", docx_bytes("x"))
    config = make_config(integrator, "k-case")
    config["document"]["fileType"] = "DOCX"
    result = _open(emu, emu.sign_config(config))
    assert result["error"] == 0 and result["fileType"] == "docx" and result["documentType"] == "word"


def test_invalid_key_characters(emu, integrator):
    """A key outside [0-9a-zA-Z-._=] is refused."""
    integrator.add("doc.docx", docx_bytes("x"))
    result = _open(emu, emu.sign_config(make_config(integrator, "bad/key")))
    assert result["error"] == -1 and "key" in result["detail"]


def test_view_mode_sends_no_callbacks(emu, integrator):
    """Viewers are not participants: no status 1."""
    integrator.add("doc.docx", docx_bytes("x"))
    result = _open(emu, emu.sign_config(make_config(integrator, "k-view", mode="view")))
    assert result["mode"] == "view"
    emu.leave("k-view", "u1")
    emu.wait_idle()
    assert integrator.callbacks == []


def test_permissions_edit_false_opens_view(emu, integrator):
    """permissions.edit false beats mode edit."""
    integrator.add("doc.docx", docx_bytes("x"))
    result = _open(emu, emu.sign_config(make_config(integrator, "k-ro", permissions={"edit": False})))
    assert result["mode"] == "view"


def test_no_jwt_emulator_accepts_unsigned(emu_nojwt, integrator):
    """Without a secret, configs need no token."""
    integrator.add("doc.docx", docx_bytes("plain"))
    result = emu_nojwt.open_session(make_config(integrator, "k-nojwt"))
    assert result["error"] == 0 and result["content"] == ["plain"]
    emu_nojwt.leave("k-nojwt", "u1")
