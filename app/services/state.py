"""State every process of an installation shares: when a cached thing last changed.

A process may keep what it reads often (the admin's settings) as long as the thing's
*generation* has not moved. ``bump(name)`` moves it for every worker and instance at once:
in Redis when ``REDIS_URL`` is set (several instances), else in a file of the instance folder
(one machine, several workers). Reading a generation costs one Redis GET or one stat().
"""

import os
import secrets

from flask import current_app
from flask import g
from flask import has_app_context


def redis():
    """The shared Redis client, or None without REDIS_URL."""
    url = current_app.config["REDIS_URL"]
    if not url:
        return None
    clients = current_app.extensions.setdefault("coedit_redis", {})
    if url not in clients:
        import redis as redis_library

        clients[url] = redis_library.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return clients[url]


def _path(name: str) -> str:
    return os.path.join(current_app.instance_path, "state", name)


def generation(name: str):
    """An opaque value that changes whenever ``bump(name)`` is called anywhere.

    Read once per request (or job) and kept for the rest of it: a request sees one consistent
    state, and reading settings ten times costs one look-up, not ten.
    """
    seen = g.setdefault("_coedit_generations", {}) if has_app_context() else {}
    if name not in seen:
        seen[name] = _read_generation(name)
    return seen[name]


def _read_generation(name: str):
    client = redis()
    if client is not None:
        return client.get(f"coedit:generation:{name}")
    try:
        stat = os.stat(_path(name))
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns  # replaced, never rewritten: a new inode each time


def bump(name: str) -> None:
    """Tell every process that ``name`` changed (call it after the change is committed)."""
    client = redis()
    if client is not None:
        client.incr(f"coedit:generation:{name}")
    else:
        path = _path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".new", "w") as handle:
            handle.write(secrets.token_hex(8))
        os.replace(path + ".new", path)
    if has_app_context():
        g.pop("_coedit_generations", None)  # this request's own change is seen by the rest of it
