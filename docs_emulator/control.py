"""TEST-ONLY control API (/_emulator/...): drive sessions without a browser, read the callback log,
wait for background work and inject faults. Never part of the Docs protocol."""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import request

from . import requested
from .errors import ConfigAlert
from .errors import ControlError
from .faults import FaultError

bp = Blueprint("control", __name__, url_prefix="/_emulator")


def emulator():
    """The Emulator instance of the running app."""
    return current_app.extensions["docs_emulator"]


def _body() -> dict:
    data = request.get_json(force=True, silent=True)
    return data if isinstance(data, dict) else {}


def _join(threads) -> None:
    # Control calls return after the callbacks they caused were delivered (or gave up).
    limit = emulator().options.callback_timeout + 2
    for t in threads or []:
        if t is not None:
            t.join(limit)


@bp.after_request
def mark_test_only(resp):
    """Every answer says what this API is."""
    resp.headers["X-Docs-Emulator"] = "test-only control API"
    return resp


@bp.errorhandler(ControlError)
def control_error(exc):
    """Unknown session/user and similar: JSON error with the status it names."""
    return jsonify(error=str(exc)), exc.http_status


@bp.get("/config")
def config():
    """The settings tests may need (JWT, header, delays, public URL)."""
    o = emulator().options
    return jsonify(
        jwt=o.jwt_enabled,
        jwt_header=o.jwt_header,
        jwt_prefix=o.jwt_prefix,
        save_delay=o.save_delay,
        retry_base=o.retry_base,
        public_url=o.base_url(),
        link_expires=o.link_expires,
        storage_dir=str(emulator().root),
        convert_delay=o.convert_delay,
        convert_timeout=o.convert_timeout,
        max_unzipped_bytes=o.max_unzipped_bytes,
        max_download_bytes=o.max_download_bytes,
        lossy_save_format=o.lossy_save_format,
    )


@bp.post("/options")
def set_options():
    """Change run-time options (convert_delay, convert_timeout, max_unzipped_bytes, max_download_bytes,
    lossy_save_format) until the next reset; answers every run-time option's value."""
    try:
        return jsonify(options=emulator().set_options(_body()))
    except (TypeError, ValueError) as exc:
        return jsonify(error=str(exc)), 400


@bp.post("/sessions")
def open_session():
    """Open an editor exactly like the browser path; returns {key, error, content, ...}."""
    config = _body().get("config")
    try:
        result = emulator().sessions.open_editor(config, browser=False)
    except ConfigAlert as exc:
        key = ((config or {}).get("document") or {}).get("key") if isinstance(config, dict) else None
        return jsonify(key=key, error=-1, alert=str(exc), errorDescription=str(exc))
    _join(result.pop("threads", []))
    result.pop("config", None)
    result.setdefault("content", [])
    return jsonify(result)


@bp.post("/requested")
def check_requested():
    """What Docs makes of an object an integrator hands to insertImage, setRequestedDocument,
    setRequestedSpreadsheet, setReferenceData or setReferenceSource: ``{ok, files}`` once its token
    verified and its files were fetched, else ``{error}``."""
    body = _body()
    return jsonify(requested.check(emulator(), str(body.get("method")), body.get("data")))


@bp.get("/sessions")
def list_sessions():
    """Keys and states of the sessions that are open, closing or saving."""
    items = [{"key": k, "state": state} for k, state in emulator().sessions.states().items()]
    return jsonify(sessions=items)


@bp.get("/sessions/<key>")
def get_session(key):
    """Users, content lines, changed flag and state of one session."""
    return jsonify(emulator().sessions.view(key))


@bp.post("/sessions/<key>/append")
def append(key):
    """Append text as ``user_id`` (the Append button)."""
    body = _body()
    sessions = emulator().sessions
    conn = sessions.find_conn(key, str(body.get("user_id")), "edit")
    sessions.append(conn, str(body.get("text", "")))
    return jsonify(sessions.view(key))


@bp.post("/sessions/<key>/forcesave")
def forcesave(key):
    """The Save button of ``user_id``: status 6 with forcesavetype 1 when there are changes."""
    emu = emulator()
    conn = emu.sessions.find_conn(key, str(_body().get("user_id")), "edit")
    session, p = emu.sessions.participant(conn)
    thread = emu.saver.forcesave(session, p)
    _join([thread])
    return jsonify(sent=thread is not None)


@bp.post("/sessions/<key>/leave")
def leave(key):
    """Close the editor of ``user_id`` (its newest connection)."""
    sessions = emulator().sessions
    conn = sessions.find_conn(key, str(_body().get("user_id")))
    _join(sessions.leave(conn, {"reason": "closed"}))
    return jsonify(left=True)


@bp.get("/callbacks")
def callbacks():
    """Every callback attempt: key, status, url, attempt, http_status, answer, error, ok, body."""
    entries = list(emulator().sender.log)
    if request.args.get("key"):
        entries = [e for e in entries if e["key"] == request.args["key"]]
    if request.args.get("status"):
        entries = [e for e in entries if str(e["status"]) == request.args["status"]]
    return jsonify(callbacks=entries)


@bp.delete("/callbacks")
def clear_callbacks():
    """Empty the callback log."""
    emulator().sender.log.clear()
    return jsonify(ok=True)


@bp.post("/callbacks/drain")
def drain_callbacks():
    """Hand over the callback log and empty it in one step (a long run reads it as it goes, so the
    emulator does not keep every attempt)."""
    return jsonify(callbacks=emulator().sender.drain())


@bp.get("/downloads")
def downloads():
    """Every download the emulator made (document.url, conversion sources, history files)."""
    return jsonify(downloads=list(emulator().downloader.log))


@bp.post("/downloads/drain")
def drain_downloads():
    """Hand over the download log and empty it in one step."""
    return jsonify(downloads=emulator().downloader.drain())


@bp.post("/wait-idle")
def wait_idle():
    """Wait until no delayed save, retry, callback or async conversion is pending."""
    timeout = float(_body().get("timeout", 30))
    idle = emulator().jobs.wait_idle(timeout)
    return jsonify(idle=idle, pending=emulator().jobs.pending), (200 if idle else 408)


@bp.get("/forgotten")
def forgotten():
    """Keys with a forgotten file and a fresh signed link to each."""
    forgotten = emulator().forgotten
    keys = forgotten.keys()
    return jsonify(keys=keys, files={k: forgotten.url(k) for k in keys})


@bp.get("/faults")
def list_faults():
    """The armed faults."""
    return jsonify(faults=emulator().faults.list())


@bp.post("/faults")
def arm_fault():
    """Arm a fault: {"fault": name, "times"?: n, "status"?: s, ...fault options}."""
    try:
        record = emulator().faults.arm(_body())
    except FaultError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(armed=record)


@bp.delete("/faults")
def clear_faults():
    """Disarm every fault."""
    emulator().faults.clear()
    return jsonify(ok=True)


@bp.post("/files")
def put_file():
    """Store bytes (base64 ``content``, a ``filename``) as Docs' output and return its signed
    /cache/files link: tests send callbacks naming files Docs really serves."""
    import base64
    import binascii

    data = _body()
    filename = data.get("filename")
    if not isinstance(filename, str) or not filename or "/" in filename:
        raise ControlError("give a plain filename", 400)
    try:
        content = base64.b64decode(data.get("content") or "", validate=True)
    except (binascii.Error, TypeError):
        raise ControlError("content must be base64", 400) from None
    store = emulator().store
    file_id = store.put(content, filename, "output")
    return jsonify(url=store.url(file_id, filename))


@bp.post("/reset")
def reset():
    """Forget sessions, files, logs, faults and conversion results; restore run-time options."""
    emu = emulator()
    emu.reset()
    emu.converter.clear()
    return jsonify(ok=True)
