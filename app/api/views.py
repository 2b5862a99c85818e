"""JSON API views. Errors are JSON; a file or space outside your reach is 404."""

import sqlalchemy as sa
from flask import abort
from flask import g
from flask import jsonify
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_login import current_user

from app import downloads
from app import pagination
from app import transaction
from app.api import bp
from app.extensions import csrf
from app.models import FileVersion
from app.models import User
from app.services import accounts
from app.services import conversions
from app.services import favourites
from app.services import files as file_service
from app.services import formats
from app.services import notifications
from app.services import rights
from app.services import search as search_service
from app.services import spaces
from app.services import templates
from app.services.docs import editor_config
from app.services.exceptions import BadRequestError


@bp.before_request
def authenticate():
    """Every API call needs a user (but signing in); session-authenticated writes also need the CSRF token."""
    if request.endpoint == "api.login":
        return  # credentials in the body, no cookie used: nothing to forge
    if not current_user.is_authenticated:
        abort(401)
    if request.method not in ("GET", "HEAD", "OPTIONS") and not g.get("api_token_auth"):
        csrf.protect()


def _json() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequestError(gettext("Send a JSON object."))
    return data


def _text(data: dict, key: str, limit: int = 200) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise BadRequestError(f"'{key}' must be a non-empty string of at most {limit} characters.")
    return value.strip()


def file_json(file) -> dict:
    head = file_service.head_version(file)
    return {
        "id": file.id,
        "title": file.title,
        "space": file.space_id,
        "folder": file.folder_id,
        "version": file.version,
        "size": head.size,
        "key": file.doc_key,
        "editors": file.editors,
        "editor_url": url_for("editor.page", file_id=file.id, _external=True),
    }


@bp.route("/spaces", methods=("POST",))
def create_space():
    space = spaces.create_space(_text(_json(), "name", 128), current_user)
    transaction.commit()
    return jsonify(id=space.id, name=space.name), 201


@bp.route("/spaces", methods=("GET",))
def list_spaces():
    """The spaces you belong to, by name, a page at a time (``page``, ``per_page``)."""
    listed = spaces.spaces_page(current_user, *pagination.requested())
    return jsonify(
        spaces=[{"id": space.id, "name": space.name, "role": role} for space, role in listed.items],
        **listed.meta(),
    )


@bp.route("/spaces/<int:space_id>/files", methods=("GET",))
def list_files(space_id: int):
    """A folder's subfolders, then the files you may see, as the space page lists them: ``folder``
    (none: the top level), ``sort`` (name, date, size, type), ``order=desc``, ``page``, ``per_page``."""
    space, member = rights.get_space_or_404(space_id, current_user)
    folder = spaces.folder_of(space, request.args.get("folder"))
    sort = request.args.get("sort") if request.args.get("sort") in spaces.SORTS else "name"
    listed = spaces.folder_listing(
        space, member, current_user, folder, sort, request.args.get("order") == "desc", *pagination.requested()
    )
    entries = {entry.file.id: entry for entry in listed.entries}
    return jsonify(
        folder=folder.id if folder else None,
        items=[
            {"type": "folder", "id": row.id, "name": row.name}
            if kind == "folder"
            else {
                "type": "file",
                "id": row.id,
                "title": row.title,
                "version": entries[row.id].file.version,
                "size": entries[row.id].size,
                "updated_at": entries[row.id].file.updated_at.isoformat(),
                "editors": entries[row.id].editors,
                "can_edit": entries[row.id].can_edit,
            }
            for kind, row in listed.listing.items
            if kind == "folder" or row.id in entries
        ],
        **listed.listing.meta(),
    )


@bp.route("/spaces/<int:space_id>/members", methods=("POST",))
def add_member(space_id: int):
    space, member = rights.get_space_or_404(space_id, current_user)
    if not member.manages_space:
        abort(403, gettext("Only the space's owner and admins add members."))
    data = _json()
    username = _text(data, "username", 64)
    role = data.get("role", "member")
    if role not in ("member", "admin"):
        raise BadRequestError("'role' is member or admin.")
    user = accounts.find(username)
    if user is None:
        abort(404, gettext("No such user."))
    member, created = spaces.add_member(space, user, role, current_user)
    transaction.commit()
    return jsonify(space=space.id, username=user.username, role=member.role), 201 if created else 200


@bp.route("/spaces/<int:space_id>/files", methods=("POST",))
def upload(space_id: int):
    space, _ = rights.get_space_or_404(space_id, current_user)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequestError(gettext("Send the file as multipart field 'file'."))
    file = file_service.upload(space, None, current_user, upload.filename, upload.stream)
    transaction.commit()
    return jsonify(file_json(file)), 201


@bp.route("/spaces/<int:space_id>/documents", methods=("POST",))
def create_document(space_id: int):
    """A new document: blank of ``type`` (docx, xlsx, pptx, pdf), or a copy of ``template`` (the id
    of a template of the site or the space, its type the template's)."""
    space, _ = rights.get_space_or_404(space_id, current_user)
    data = _json()
    kind = data.get("type")
    if data.get("template") is None and kind not in ("docx", "xlsx", "pptx", "pdf"):
        raise BadRequestError("'type' is one of docx, xlsx, pptx, pdf.")
    typed = _text(data, "title")
    if data.get("template") is not None:
        template = templates.usable_in(data.get("template"), space)
        file = file_service.create_from_template(space, None, current_user, typed, template)
    else:
        file = file_service.create_document(space, None, current_user, typed, kind)
    transaction.commit()
    # name_changed: why the title is not what was sent (a / replaced, ...), or null.
    return jsonify({**file_json(file), "name_changed": file_service.name_note(typed, file.title)}), 201


@bp.route("/files/<int:file_id>")
def get_file(file_id: int):
    file, _ = rights.get_file_or_404(file_id, current_user)
    return jsonify(file_json(file))


@bp.route("/files/<int:file_id>/content")
def content(file_id: int):
    """The current version's bytes, or with ?format=pdf (any target of the file's format) the
    version converted by Docs, named with the new extension."""
    file, level = rights.require(file_id, current_user, "download")
    version = file_service.head_version(file)
    target = request.args.get("format", "").strip().lower()
    return downloads.send_download(file, version, level, current_user, target, "api")


@bp.route("/files/<int:file_id>/convert", methods=("POST",))
def convert(file_id: int):
    """Convert the file into a new one beside it, in a job: ``{"to": "docx", "password": "..."}``,
    both optional (``to`` defaults to the OOXML format of the file's type)."""
    file, level = rights.get_file_or_404(file_id, current_user)
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    target = data.get("to")
    password = data.get("password")
    if target is not None and not isinstance(target, str):
        raise BadRequestError("'to' is a format such as docx.")
    if password is not None and (not isinstance(password, str) or len(password) > 255):
        raise BadRequestError("'password' is a string of at most 255 characters.")
    job = conversions.start(file, level, current_user, target)
    conversions.enqueue(job, password)
    transaction.commit()
    return jsonify(job=job.id, status_url=url_for("api.job_status", job_id=job.id, _external=True)), 202


@bp.route("/jobs/<int:job_id>")
def job_status(job_id: int):
    """A conversion job's status, for the person who asked for it only."""
    job = conversions.job_for(job_id, current_user)
    return jsonify(conversions.job_json(job, file_json))


@bp.route("/files/<int:file_id>/thumbnail")
def thumbnail(file_id: int):
    """The PNG preview of the current version; 404 while there is none."""
    file, _ = rights.require(file_id, current_user, "download")
    version = file_service.head_version(file)
    if not version.thumbnail_key:
        abort(404, gettext("No preview yet."))
    return downloads.send_blob(version.thumbnail_key, "image/png", etag=f"t{version.sha256}")


@bp.route("/files/<int:file_id>/versions")
def versions(file_id: int):
    """The file's versions, oldest first, a page at a time (``page``, ``per_page``)."""
    file, _ = rights.get_file_or_404(file_id, current_user)
    # Columns, not objects: a page of a long history costs little more than a short one.
    statement = (
        sa.select(
            FileVersion.number,
            FileVersion.size,
            FileVersion.sha256,
            User.username.label("author"),
            FileVersion.guest_name,
            FileVersion.created_at,
            FileVersion.source,
            FileVersion.doc_key,
            FileVersion.is_conflict,
        )
        .outerjoin(User, User.id == FileVersion.author_id)
        .where(FileVersion.file_id == file.id)
        .order_by(FileVersion.number)
    )
    listed = pagination.of_select(statement, *pagination.requested(), scalars=False)
    return jsonify(
        versions=[
            {
                "number": v.number,
                "size": v.size,
                "sha256": v.sha256,
                "author": v.author,
                "guest_name": v.guest_name,
                "created_at": v.created_at.isoformat(),
                "source": v.source,
                "key": v.doc_key,
                "conflict": v.is_conflict,
                "current": v.number == file.version,
            }
            for v in listed.items
        ],
        **listed.meta(),
    )


@bp.route("/files/<int:file_id>/editor-config")
def get_editor_config(file_id: int):
    """Exactly the signed config the editor page renders for this user (or the page's refusal)."""
    user = current_user._get_current_object()  # one look-up, not one per use
    file, level = rights.file_row_or_404(file_id, user)
    config = editor_config.open_for(
        file, user, level, request.args.get("mode", "edit"), request.headers.get("User-Agent", "")
    )
    return jsonify(config)


@bp.route("/files/<int:file_id>/favourite", methods=("PUT", "DELETE"))
def favourite(file_id: int):
    """Star (PUT) or unstar (DELETE) a file you may read; both may be repeated."""
    file, _ = rights.get_file_or_404(file_id, current_user)
    if request.method == "PUT":
        favourites.star(file, current_user)
    else:
        favourites.unstar(file, current_user)
    transaction.commit()
    return jsonify(file=file.id, favourite=request.method == "PUT")


@bp.route("/files/<int:file_id>/rights", methods=("GET",))
def get_rights(file_id: int):
    """The file's rights: default level for members, per-person levels, reader downloads."""
    file, _ = rights.get_file_or_404(file_id, current_user)
    return jsonify(rights.describe(file))


@bp.route("/files/<int:file_id>/rights", methods=("PUT",))
def put_rights(file_id: int):
    """Change rights (owner and space admins); a user mapped to null follows the default again."""
    file, _ = rights.get_file_or_404(file_id, current_user)
    data = _json()
    users = data.get("users", {})
    if not isinstance(users, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in users.items()
    ):
        raise BadRequestError("'users' maps usernames to a level (or null).")
    default = data.get("default")
    if default is not None and not isinstance(default, str):
        raise BadRequestError("'default' is a level.")
    allow_download = data.get("allow_download")
    if allow_download is not None and not isinstance(allow_download, bool):
        raise BadRequestError("'allow_download' is true or false.")
    rights.change_rights(file, current_user, default, users, allow_download)
    transaction.commit()
    return jsonify(rights.describe(file))


@bp.route("/search")
def search():
    """Files you may read whose title or text holds every word of ``q``; the snippet is HTML
    (escaped, with <mark> around the matches)."""
    query = (request.args.get("q") or "").strip()[:200]
    hits = search_service.search(current_user, query) if query else []
    return jsonify(
        query=query,
        results=[
            {
                "id": hit.file.id,
                "title": hit.file.title,
                "space": hit.file.space_id,
                "folder": hit.file.folder_id,
                "title_match": hit.title_match,
                "snippet": str(hit.snippet) if hit.snippet else None,
                "url": url_for("files.show", file_id=hit.file.id),
            }
            for hit in hits
        ],
    )


def home_file_json(item) -> dict:
    return {
        "id": item.file.id,
        "title": item.file.title,
        "space": item.file.space_id,
        "space_name": item.space_name,
        "at": item.at.isoformat(),
    }


@bp.route("/favourites")
def list_favourites():
    """Your favourites you may still read, most recently starred first (``at``), a page at a time."""
    listed = favourites.favourites_page(current_user, *pagination.requested())
    return jsonify(favourites=[home_file_json(item) for item in listed.items], **listed.meta())


@bp.route("/recent")
def list_recent():
    """The files you opened in the editor most recently (``at``) and may still read, newest first."""
    return jsonify(recent=[home_file_json(item) for item in favourites.recently_opened(current_user)])


@bp.route("/notifications")
def list_notifications():
    """Newest first, a page at a time (``page``, ``per_page``; ``limit`` is the older name of
    ``per_page``); a file you can no longer open comes without its link."""
    number, per_page = pagination.requested(per_page=request.args.get("limit", pagination.PER_PAGE, type=int))
    listed = notifications.page(current_user, number, per_page)
    return jsonify(
        unread=notifications.unread_count(current_user),
        notifications=[
            {
                "id": e.item.id,
                "kind": e.item.kind,
                "text": e.item.text,
                "link": e.link,
                "file": e.item.file_id,
                "accessible": e.accessible,
                "created_at": e.item.created_at.isoformat(),
                "read": e.item.read_at is not None,
            }
            for e in listed.items
        ],
        **listed.meta(),
    )


@bp.route("/files/<int:file_id>/versions/<int:number>/content")
def version_content(file_id: int, number: int):
    file, _ = rights.require(file_id, current_user, "download")
    version = file_service.get_version(file, number)
    if version is None:
        abort(404, gettext("No such version."))
    downloads.record(file, version, "api-version")
    return downloads.send_version(file, version, as_attachment=True)


@bp.route("/files/<int:file_id>/versions/<int:number>/restore", methods=("POST",))
def restore_version(file_id: int, number: int):
    """Restore a version as the new current one (editors only)."""
    file, level = rights.require(file_id, current_user, "edit", gettext("Only editors restore versions."))
    version = file_service.restore(file, number, current_user)
    transaction.commit()
    return jsonify(number=version.number, key=file.doc_key, restored_from=number), 201


@bp.route("/files/<int:file_id>/versions", methods=("POST",))
def upload_version(file_id: int):
    """Upload a new version (multipart field 'file'; editors only); the key rotates."""
    file, level = rights.require(file_id, current_user, "edit", gettext("Only editors upload new versions."))
    upload = request.files.get("file")
    if upload is None:
        raise BadRequestError(gettext("Send the file as multipart field 'file'."))
    version = file_service.upload_version(file, current_user, upload.stream)
    transaction.commit()
    return jsonify(number=version.number, key=file.doc_key, size=version.size), 201


@bp.route("/formats")
def list_formats():
    """The formats table: which files open in which editor, their actions, conversion targets, MIME."""
    return jsonify(formats.as_json())
