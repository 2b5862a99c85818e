"""State every process of an installation shares: when a cached thing last changed.

A process may keep what it reads often (the admin's settings) as long as the thing's
*generation* has not moved. ``bump(name)`` moves it for every worker and instance at once:
in Redis when ``REDIS_URL`` is set (several instances), else in a file of the instance folder
(one machine, several workers). Reading a generation costs one stat() there; with Redis, a look
at what the process's subscription to the generations' channel has received (``Watch``), or one
GET when it has none.
"""

import os
import secrets
import threading
import time
import weakref

import redis as redis_library
from flask import current_app
from redis.backoff import NoBackoff
from redis.retry import Retry

from app import context


def redis():
    """The shared Redis client, or None without REDIS_URL."""
    return _redis_of(current_app._get_current_object())


def _redis_of(app):
    url = app.config["REDIS_URL"]
    if not url:
        return None
    clients = app.extensions.setdefault("coedit_redis", {})
    if url not in clients:
        clients[url] = redis_library.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return clients[url]


def generation(name: str):
    """An opaque value that changes whenever ``bump(name)`` is called anywhere.

    Read once per request (or job) and kept for the rest of it: a request sees one consistent
    state, and reading settings ten times costs one look-up, not ten.
    """
    ctx = context.required()  # one look-up: settings read this on every request
    seen = ctx.g.setdefault("_coedit_generations", {})
    if name not in seen:
        seen[name] = _read_generation(ctx.app, name)
    return seen[name]


CHANNEL = "coedit:generations"  # bump() publishes the name of each generation it moves here


def _key(name: str) -> str:
    return f"coedit:generation:{name}"


class Watch:
    """Generations read from Redis, kept by this process while its subscription to CHANNEL is up.

    A request read them with a GET each: a round trip on every request that reads a setting,
    Docs' status 1 among them. bump() moves a generation, then publishes its name; Redis queues
    the message on every subscriber's connection before it answers the publisher, and sends them
    out together. Before trusting a value it holds, a read takes what its subscription has
    received, without waiting (one poll of a socket): the message of a bump made before the
    request that follows it is there, and drops the value. So a change is seen by the next
    request everywhere, as with a GET each time.

    Without a subscription (Redis unreachable, the connection lost, another thread reading)
    a read is a GET, as before. A value is read again after RECHECK_SECONDS whatever the channel
    said, should a connection die without either side noticing.
    """

    RECHECK_SECONDS = 5.0
    RESUBSCRIBE_SECONDS = 5.0

    def __init__(self, client, url: str):
        self.client = client
        # The subscription's own client, which never reconnects by itself: messages sent while it
        # was away are lost, so a lost connection must end the subscription (and what it vouched
        # for), not be quietly replaced.
        self.subscriber = redis_library.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0)
        )
        self.lock = threading.Lock()  # one subscription connection, one reader at a time
        self.pubsub = None
        self.held: dict = {}  # name -> (value, when it was read)
        self.retry_at = 0.0
        _WATCHES.add(self)

    def start_afresh(self) -> None:
        """In a forked child: the parent's subscription is not its own, and a lock the parent held
        at the fork would stay held in the child for good (every read would then be a GET)."""
        self.lock = threading.Lock()
        self.pubsub, self.held, self.retry_at = None, {}, 0.0

    def read(self, name: str):
        if not self.lock.acquire(blocking=False):
            return self.client.get(_key(name))
        try:
            if not self._subscribed():
                return self.client.get(_key(name))
            try:
                self._receive()
            except redis_library.RedisError:
                self._unsubscribe()
                return self.client.get(_key(name))
            now = time.monotonic()
            held = self.held.get(name)
            if held is not None and now - held[1] < self.RECHECK_SECONDS:
                return held[0]
            value = self.client.get(_key(name))
            self.held[name] = (value, now)
            return value
        finally:
            self.lock.release()

    def forget(self, name: str) -> None:
        """This process moved it: read it again (its own message may still be on its way)."""
        with self.lock:
            self.held.pop(name, None)

    def _subscribed(self) -> bool:
        if self.pubsub is not None:
            return True
        now = time.monotonic()
        if now < self.retry_at:
            return False
        self.retry_at = now + self.RESUBSCRIBE_SECONDS
        pubsub = self.subscriber.pubsub()
        try:
            pubsub.subscribe(CHANNEL)
            # Trusted once Redis confirms: from then on every bump's message comes here.
            confirmed = pubsub.get_message(timeout=2)
        except redis_library.RedisError:
            confirmed = None
        if not confirmed or confirmed.get("type") != "subscribe":
            pubsub.close()
            return False
        self.pubsub, self.held = pubsub, {}
        return True

    def _receive(self) -> None:
        while True:
            message = self.pubsub.get_message(timeout=0)
            if message is None:
                return
            if message.get("type") == "message":
                data = message["data"]
                self.held.pop(data.decode() if isinstance(data, bytes) else data, None)

    def _unsubscribe(self) -> None:
        try:
            self.pubsub.close()
        except Exception:  # noqa: BLE001 - a connection already broken
            pass
        self.pubsub, self.held = None, {}


# Every Watch of this process, for the one fork hook below (an app made and dropped leaves none).
_WATCHES: "weakref.WeakSet[Watch]" = weakref.WeakSet()


def _start_every_watch_afresh() -> None:
    for watch in list(_WATCHES):
        watch.start_afresh()


os.register_at_fork(after_in_child=_start_every_watch_afresh)


def _watch(app, client) -> Watch:
    """The process's Watch of the generations in this app's Redis."""
    url = app.config["REDIS_URL"]
    watches = app.extensions.setdefault("coedit_generation_watch", {})
    if url not in watches:
        watches[url] = Watch(client, url)
    return watches[url]


def _path(app, name: str) -> str:
    return os.path.join(app.instance_path, "state", name)


def _read_generation(app, name: str):
    client = _redis_of(app)
    if client is not None:
        return _watch(app, client).read(name)
    try:
        stat = os.stat(_path(app, name))
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns  # replaced, never rewritten: a new inode each time


def bump(name: str) -> None:
    """Tell every process that ``name`` changed (call it after the change is committed)."""
    ctx = context.required()
    client = _redis_of(ctx.app)
    if client is not None:
        client.incr(_key(name))
        client.publish(CHANNEL, name)
        _watch(ctx.app, client).forget(name)
    else:
        path = _path(ctx.app, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".new", "w") as handle:
            handle.write(secrets.token_hex(8))
        os.replace(path + ".new", path)
    ctx.g.pop("_coedit_generations", None)  # this request's own change is seen by the rest of it
