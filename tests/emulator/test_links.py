"""Signed /cache/files links: 403 when tampered, 410 when expired."""

from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import requests

from docs_emulator.testing import start_emulator

from .conftest import SECRET
from .conftest import docx_bytes
from .conftest import open_signed


def _saved_url(emu, integrator, key):
    integrator.add("doc.docx", docx_bytes("x"))
    open_signed(emu, integrator, key, forcesave=True)
    emu.append(key, "u1", "y")
    emu.forcesave(key, "u1")
    return integrator.bodies(6)[-1]["url"]


def test_good_link_serves_the_file(emu, integrator):
    """A fresh link downloads with the title as file name."""
    url = _saved_url(emu, integrator, "k-link")
    resp = requests.get(url)
    assert resp.status_code == 200 and resp.content[:2] == b"PK"
    assert "doc.docx" in resp.headers["Content-Disposition"]
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"md5", "expires", "filename"}


def test_tampered_link_is_403(emu, integrator):
    """Changing the signature, the expiry, the name or the path breaks the link."""
    url = _saved_url(emu, integrator, "k-tamper")
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    for change in (
        {"md5": "AAAA" + query["md5"][4:]},
        {"expires": str(int(query["expires"]) + 1000)},
        {"filename": "other.docx"},
    ):
        assert requests.get(base + "?" + urlencode({**query, **change})).status_code == 403
    assert requests.get(base).status_code == 403
    other_path = base.replace("/output.docx", "/changes.zip")
    assert requests.get(other_path + "?" + parts.query).status_code == 403


def test_expired_link_is_410(integrator):
    """--link-expires 0: the link is already expired."""
    with start_emulator(jwt_secret=SECRET, link_expires=0) as emu:
        url = _saved_url(emu, integrator, "k-old")
        assert requests.get(url).status_code == 410


def test_public_url_is_the_link_base(integrator):
    """--public-url replaces host:port in every handed-out URL."""
    with start_emulator(jwt_secret=SECRET, public_url="http://docs.example.test:8443/ds") as emu:
        url = _saved_url(emu, integrator, "k-pub")
        assert url.startswith("http://docs.example.test:8443/ds/cache/files/")
