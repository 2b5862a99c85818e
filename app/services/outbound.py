"""Calls Coedit makes to addresses people typed (outgoing webhooks): checked, then made safely.

A URL someone types must not turn Coedit into a way into its own network (SSRF): only https
(http if the administrator allows it), and the host must resolve only to public addresses;
loopback, private, link-local (the cloud metadata service at 169.254.169.254), multicast, reserved
and unspecified ones are refused, in IPv4 and IPv6 alike (IPv4 inside IPv6 too), unless the
administrator lists the host on the allow-list. The connection then goes to the address that
was checked, with the URL's host kept for the Host header and for TLS (SNI and the certificate),
so a second DNS answer cannot send it elsewhere (DNS rebinding). No redirect is followed (a 3xx
is a failure: its Location was never checked), timeouts are short, and at most a few kilobytes
of the answer are read.
"""

import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from flask_babel import gettext

from app.services import settings
from app.services.exceptions import BadRequestError

TIMEOUT = urllib3.Timeout(connect=5.0, read=5.0)
EXCERPT_BYTES = 4096  # read at most this much of an answer
EXCERPT_CHARS = 200  # and keep this much of it

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class RefusedError(BadRequestError):
    """A URL or address Coedit will not call."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (an address that passed) and what to ask for there."""

    scheme: str
    host: str  # as written in the URL: the Host header, SNI and certificate name
    port: int
    address: str  # the resolved address to connect to
    path: str  # path and query


@dataclass(frozen=True)
class Answer:
    status: int
    latency_ms: int
    excerpt: str


def allowed_hosts() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    """The administrator's allow-list: host names, and addresses or networks (one per line)."""
    names, networks = set(), []
    for line in (settings.get("webhook_allowed_hosts") or "").splitlines():
        entry = line.strip().lower().strip("[]")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return names, networks


def is_public(address: Address) -> bool:
    """Whether an address is on the public internet (not loopback, private, link-local, ...)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global  # shared address space (100.64/10, used by cloud metadata too), documentation, ...
    )


def check_url(url: str) -> Target:
    """Check a URL and resolve its host; the target to connect to.

    :raise RefusedError: not an allowed URL, the host does not resolve, or it resolves to an
        address that is refused (any of its addresses: a resolver may answer differently next time).
    """
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedError(gettext("This is not a valid address.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise RefusedError(gettext("Enter an address starting with https://."))
    if scheme == "http" and not settings.get("webhooks_allow_http"):
        raise RefusedError(gettext("Only https addresses are allowed (an administrator may allow http)."))
    if parts.username or parts.password:
        raise RefusedError(gettext("The address must not contain a user name or password."))
    host = parts.hostname.lower().rstrip(".")
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port)
    names, networks = allowed_hosts()
    if host not in names:
        for address in addresses:
            if not is_public(address) and not any(address in network for network in networks):
                raise RefusedError(
                    gettext("%(host)s is a local or private address; an administrator must allow it first.", host=host)
                )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port, str(addresses[0]), path)


def _resolve(host: str, port: int) -> list[Address]:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise RefusedError(gettext("The host %(host)s could not be found.", host=host)) from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise RefusedError(gettext("The host %(host)s could not be found.", host=host))
    return addresses


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST body to url, checked as ``check_url`` does, on a connection to the checked address.

    :raise RefusedError: the URL is refused (nothing was sent).
    :raise urllib3.exceptions.HTTPError: the connection failed or timed out.
    """
    target = check_url(url)
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    if target.port != (443 if target.scheme == "https" else 80):
        host_header += f":{target.port}"
    common = {"host": target.address, "port": target.port, "timeout": TIMEOUT, "retries": False, "maxsize": 1}
    if target.scheme == "https":
        # SNI and the certificate's name are the URL's host, although the connection goes to its address.
        pool = urllib3.HTTPSConnectionPool(
            **common,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ssl_context=tls_context(),
        )
    else:
        pool = urllib3.HTTPConnectionPool(**common)
    started = time.monotonic()
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": host_header, "User-Agent": "Coedit-Webhook"},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            raw = response.read(EXCERPT_BYTES, decode_content=False)
            latency = int((time.monotonic() - started) * 1000)
            excerpt = _excerpt(raw, response.headers.get("Content-Type", ""))
            return Answer(response.status, latency, excerpt)
        finally:
            response.release_conn()
    finally:
        pool.close()


def tls_context() -> ssl.SSLContext:
    """The system's trusted certificate authorities, certificates checked."""
    return ssl.create_default_context()


def _excerpt(raw: bytes, content_type: str) -> str:
    """The start of a text answer, as plain text on one line; nothing of a binary one."""
    kind = content_type.split(";")[0].strip().lower()
    if kind and not (kind.startswith("text/") or kind.endswith(("json", "xml"))):
        return ""
    text = raw.decode("utf-8", errors="replace")
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return text[:EXCERPT_CHARS]
