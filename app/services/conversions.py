"""Conversions through the Document Server's conversion service: a file into a new file beside it
(a job, asynchronous and polled, its progress in a ConversionJob row) and Download as (in the
request, within a budget).

Docs downloads the version from a link of purpose "convert" bound to the file, the version and the
person (backend/views.py ``convert_source`` checks again that they may take its bytes), and we
fetch the result only from the configured Docs (docs/fetch.py). Nothing is stored until the
result is in and sound: a failed conversion leaves no file row and no blob.
"""

import hashlib
from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext

from app.extensions import db
from app.models import ConversionJob
from app.models import File
from app.models import FileVersion
from app.models import User
from app.models.base import utcnow
from app.services import audit
from app.services import files
from app.services import formats
from app.services import rights
from app.services import settings
from app.services import watermarks
from app.services.docs import client
from app.services.docs import fetch
from app.services.docs import links
from app.services.exceptions import BadRequestError
from app.services.exceptions import CoeditError
from app.services.exceptions import ConflictError
from app.services.exceptions import DocsError
from app.services.exceptions import ForbiddenError
from app.services.exceptions import NotFoundError
from app.services.storage import remove_leftovers

JOB_BUDGET = 600.0  # seconds a conversion job polls Docs before giving up
DOWNLOAD_BUDGET = 60.0  # seconds Download as waits for Docs within the request
PASSWORD_REQUIRED = -5

# The conversion API's error codes in the words people read on the file page and in the API.
PLAIN_ERRORS = {
    -1: lazy_gettext("Docs could not convert the file (unknown error)."),
    -2: lazy_gettext("The conversion took too long and was stopped."),
    -3: lazy_gettext("Docs could not convert the file: it may be damaged or in a form Docs cannot read."),
    -4: lazy_gettext("Docs could not download the file from Coedit."),
    -5: lazy_gettext(
        "The file is protected by a password: give its password to convert it (or the password was wrong)."
    ),
    -6: lazy_gettext("Docs' conversion database failed; try again later."),
    -7: lazy_gettext("Docs refused the conversion request (input error)."),
    -8: lazy_gettext("Docs refused the conversion request's signature (the JWT secret does not match)."),
    -9: lazy_gettext("Docs could not tell the file's format."),
    -10: lazy_gettext("The file is too large for Docs to convert."),
}


def plain_error(exc: CoeditError) -> str:
    code = getattr(exc, "code", None)
    if code in PLAIN_ERRORS:
        return str(PLAIN_ERRORS[code])
    message = getattr(exc, "message", "") or str(exc)
    if "did not finish" in message:
        return str(PLAIN_ERRORS[-2])
    return gettext("The conversion failed: %(message)s.", message=message)


def source_url(file: File, version: FileVersion, who: str) -> str:
    """The link Docs downloads the version from: purpose "convert", this file, version and person
    ("" for previews, which no person asked for)."""
    from app.services.docs.editor_config import docs_facing_url

    token = links.sign("convert", f=file.id, s=file.key_salt, v=version.number, u=who)
    return docs_facing_url("backend.convert_source", file_id=file.id, token=token)


def conversion_key(version: FileVersion, target: str, attempt: str = "") -> str:
    """Docs caches a conversion's result (and its failure) under the key: one per version's
    content, target and attempt, in the characters the conversion API accepts."""
    digest = hashlib.sha256(f"{version.file_id}:{version.number}:{version.sha256}".encode()).hexdigest()[:32]
    return f"conv_{digest}_{target}" + (f"_{attempt}" if attempt else "")


def _require_docs() -> None:
    if not settings.docs_configured():
        raise ConflictError(gettext("ONLYOFFICE Docs is not set up, so files cannot be converted."))


# --- Convert to OOXML (and other targets) into a new file -----------------------------------------


def may_convert(file: File, level: str, user: User) -> bool:
    """Whether the person may convert this file into a new one: they may edit it, and create files
    in its space (members do)."""
    return rights.at_least(level, "edit") and files.is_member(file, user)


def start(file: File, level: str, user: User, target: str | None = None) -> ConversionJob:
    """Stage a conversion job of the file's current version (the caller commits, then enqueues it
    with ``enqueue``).

    :raise ForbiddenError: may not edit, or not a member. :raise BadRequestError: no such target.
    :raise ConflictError: Docs is not set up.
    """
    if not may_convert(file, level, user):
        raise ForbiddenError(gettext("Only people who may edit this file and add files to its space convert it."))
    target = (target or formats.ooxml_target(file.ext) or "").lower()
    if not target:
        raise BadRequestError(f".{file.ext} files have no format to convert to; say which with 'to'.")
    if target != formats.ooxml_target(file.ext) and not formats.can_convert(file.ext, target):
        raise BadRequestError(
            gettext("A .%(ext)s file cannot be converted to .%(target)s.", ext=file.ext, target=target)
        )
    _require_docs()
    job = ConversionJob(owner_id=user.id, file_id=file.id, version=file.version, target=target)
    db.session.add(job)
    db.session.flush()
    return job


def enqueue(job: ConversionJob, password: str | None = None) -> None:
    """Hand the job to the queue once the transaction commits.

    The password travels in the job's arguments only (never in a row): with a broker it waits
    there until a worker takes the job.
    """
    from app import jobs

    jobs.enqueue(jobs.convert_file, job.id, password)


def job_for(job_id: int, user: User) -> ConversionJob:
    """The job, for its owner only. :raise NotFoundError: no such job, or someone else's."""
    job = db.session.get(ConversionJob, job_id)
    if job is None or job.owner_id != user.id:
        raise NotFoundError(gettext("No such job."))
    return job


@dataclass
class Work:
    job: ConversionJob
    file: File
    version: FileVersion
    user: User


def begin(job_id: int) -> Work | None:
    """Stage the job as running, or None when there is nothing to do (gone, or already ended).

    :raise CoeditError: the file, its version or the person's right to convert it is gone.
    """
    job = db.session.get(ConversionJob, job_id)
    if job is None or job.status in ("done", "failed"):
        return None
    file = db.session.get(File, job.file_id)
    user = db.session.get(User, job.owner_id)
    if file is None or user is None:
        raise NotFoundError(gettext("The file no longer exists."))
    if not may_convert(file, rights.file_level(file, user), user):
        raise ForbiddenError(gettext("You may no longer edit this file."))
    version = files.get_version(file, job.version)
    if version is None:
        raise NotFoundError(gettext("That version of the file no longer exists."))
    job.status = "running"
    job.percent = 0
    job.updated_at = utcnow()
    return Work(job, file, version, user)


def progress(job: ConversionJob, percent: int) -> None:
    job.percent = percent
    job.updated_at = utcnow()


def convert(work: Work, password: str | None, on_progress) -> str:
    """Ask Docs to convert (``async: true``, polled) and fetch the result; returns its temporary path.

    :raise DocsError: a conversion error (its code), or no answer within the budget.
    :raise SaveRejectedError, SaveFailedError: the result could not be fetched.
    """
    job = work.job
    url = client.convert(
        source_url(work.file, work.version, work.user.docs_id),
        work.file.ext,
        job.target,
        conversion_key(work.version, job.target, f"j{job.id}"),
        title=work.file.title,
        budget=JOB_BUDGET,
        password=password,
        progress=on_progress,
    )
    return fetch.download(url, settings.max_file_bytes())


def finish(work: Work, path: str) -> File:
    """Stage the result as a new file beside the original (the original stays as it is).

    :raise BadRequestError: the result is not a sound file of its type.
    """
    job = work.job
    try:
        files.check_content(path, job.target)
        new = files.add_converted(work.file, work.user, f"{work.file.stem}.{job.target}", path)
    finally:
        remove_leftovers(path)
    audit.record(
        "file.converted",
        actor=work.user,
        file=work.file,
        details={"version": work.version.number, "to": job.target, "result_file_id": new.id, "job": job.id},
    )
    job.status = "done"
    job.percent = 100
    job.result_file_id = new.id
    job.error = None
    job.updated_at = utcnow()
    return new


def fail(job_id: int, exc: Exception) -> None:
    """Stage the job as failed with the error in plain words (after a rollback of its work)."""
    job = db.session.get(ConversionJob, job_id)
    if job is None:
        return
    if isinstance(exc, DocsError):
        job.error = plain_error(exc)
        job.needs_password = getattr(exc, "code", None) == PASSWORD_REQUIRED
    elif isinstance(exc, CoeditError):
        job.error = exc.message if exc.message.endswith(".") else exc.message + "."
    else:
        job.error = "The conversion failed for a reason Coedit did not expect; the error is in its log."
    job.status = "failed"
    job.updated_at = utcnow()


def job_json(job: ConversionJob, file_json=None) -> dict:
    """The job as the API and the file page's script read it."""
    data = {"id": job.id, "status": job.status, "percent": job.percent, "target": job.target}
    if job.status == "done" and job.result_file_id:
        result = db.session.get(File, job.result_file_id)
        if result is not None and file_json is not None:
            data["file"] = file_json(result)
    if job.status == "failed":
        data["error"] = job.error or gettext("The conversion failed.")
        data["needs_password"] = job.needs_password
    return data


# --- Download as ------------------------------------------------------------------------------------


def download_as(file: File, version: FileVersion, level: str, user: User, target: str) -> str:
    """Convert the version for a download, within DOWNLOAD_BUDGET; returns the result's temporary path.

    Synchronous with a budget (asynchronous and polled underneath): the person waits for the
    download anyway, and nothing is kept (Docs itself caches the result under the key).
    :raise ForbiddenError: may not download. :raise BadRequestError: not a target of this format.
    :raise DocsError: the conversion failed (plain words in the message).
    """
    if not rights.may_download(file, level):
        raise ForbiddenError(str(rights.DOWNLOADS_OFF))
    target = (target or "").lower()
    if not formats.can_convert(file.ext, target):
        raise BadRequestError(
            gettext("A .%(ext)s file cannot be downloaded as .%(target)s.", ext=file.ext, target=target)
        )
    _require_docs()
    watermark = watermarks.for_conversion(file, user, level, target)
    try:
        url = client.convert(
            source_url(file, version, user.docs_id),
            file.ext,
            target,
            conversion_key(version, target, watermarks.key_suffix(watermark)),
            title=file.title,
            budget=DOWNLOAD_BUDGET,
            watermark=watermark,
        )
    except DocsError as exc:
        raise DocsError(plain_error(exc)) from None
    return fetch.download(url, settings.max_file_bytes())


def record_download_as(file: File, version: FileVersion, target: str, purpose: str) -> None:
    audit.record("file.downloaded_as", file=file, details={"version": version.number, "to": target, "purpose": purpose})
