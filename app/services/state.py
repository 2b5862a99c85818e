"""State every process of an installation shares: when a cached thing last changed.

A process may keep what it reads often (the admin's settings) as long as the thing's
*generation* has not moved. ``bump(name)`` moves it for every worker and instance at once:
in Redis when ``REDIS_URL`` is set (several instances), else in a file of the instance folder
(one machine, several workers). Reading a generation costs one Redis GET or one stat().
"""

import os
import secrets

from flask import current_app


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
    folder = os.path.join(current_app.instance_path, "state")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, name)


def generation(name: str):
    """An opaque value that changes whenever ``bump(name)`` is called anywhere."""
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
        return
    path = _path(name)
    with open(path + ".new", "w") as handle:
        handle.write(secrets.token_hex(8))
    os.replace(path + ".new", path)
