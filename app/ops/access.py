"""Who may read /metrics: anyone on this machine, others with the METRICS_TOKEN bearer token.

The address is the one ProxyFix resolved (PROXY_HOPS): behind a proxy, the client's, not the
proxy's, so a proxy on this machine does not make everyone local.
"""

import hmac
import ipaddress

from flask import Response
from flask import current_app


def is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address((address or "").split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def metrics_refusal(request) -> Response | None:
    """None when the request may read the metrics, else the 401 or 403 to answer."""
    if is_loopback(request.remote_addr):
        return None
    expected = current_app.config.get("METRICS_TOKEN") or ""
    if not expected:
        return Response("metrics are open to loopback only (set METRICS_TOKEN)\n", 403, mimetype="text/plain")
    scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return Response(
            "bearer token required\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'}, mimetype="text/plain"
        )
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        return Response("wrong token\n", 403, mimetype="text/plain")
    return None
