"""JSON API for managing files and folders: rename, move, copy, the trash and folders.

Each call is the web UI's action through the same services and rights questions; rights come
before the body is read (404 for who may not read, 403 for readers who may not do it), then the
body is checked whole before anything is staged, so a refusal leaves nothing half-done.
"""

from flask import jsonify
from flask_login import current_user

from app import pagination
from app import transaction
from app.api import bp
from app.api.views import _json
from app.api.views import _text
from app.api.views import file_json
from app.services import files as file_service
from app.services import rights
from app.services import spaces
from app.services import trash as trash_service
from app.services.exceptions import BadRequestError
from app.services.exceptions import NotFoundError


def _optional_id(data: dict, key: str) -> int | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise BadRequestError(f"'{key}' is an id (a number) or null.")
    return value


def _folder_in(space, folder_id: int | None):
    """The live folder of this space the body names, or None for the top level."""
    try:
        return spaces.folder_of(space, folder_id)
    except NotFoundError:
        raise BadRequestError(f"No folder {folder_id} in space {space.id}.") from None


def _destination(file, data: dict):
    """Where a move or copy goes, as the UI's dialog offers it: a space the person belongs to (any
    member may add files there; the file's own space by default) and a live folder of it or null."""
    if "folder_id" not in data:
        raise BadRequestError("'folder_id' is a folder's id, or null for the space's top level.")
    folder_id = _optional_id(data, "folder_id")
    space_id = _optional_id(data, "space_id")
    space_id = file.space_id if space_id is None else space_id
    try:
        return spaces.place_in(space_id, folder_id, current_user)
    except NotFoundError:
        raise BadRequestError(f"No space {space_id} of yours with that folder to put files in.") from None


def folder_json(folder) -> dict:
    return {"id": folder.id, "name": folder.name, "space": folder.space_id, "parent": folder.parent_id}


def trashed_json(file) -> dict:
    return {
        "id": file.id,
        "title": file.title,
        "space": file.space_id,
        "trashed_at": file.trashed_at.isoformat(),
        "purge_on": trash_service.purge_date(file.trashed_at).isoformat(),
    }


@bp.route("/files/<int:file_id>", methods=("PATCH",))
def rename_file(file_id: int):
    """Rename ``{title}`` (owner and space admins); the extension stays the content's."""
    file, _ = rights.require(file_id, current_user, "manage")
    typed = _text(_json(), "title")
    file_service.rename(file, typed)
    transaction.commit()
    return jsonify({**file_json(file), "name_changed": file_service.name_note(typed, file.title)})


@bp.route("/files/<int:file_id>", methods=("DELETE",))
def trash_file(file_id: int):
    """Move to the space's trash (owner and space admins), restorable until ``purge_on``."""
    file, _ = rights.require(file_id, current_user, "manage")
    trash_service.trash_file(file, current_user)
    transaction.commit()
    return jsonify({**trashed_json(file), "trashed": True})


@bp.route("/files/<int:file_id>/move", methods=("POST",))
def move_file(file_id: int):
    """Move ``{folder_id|null, space_id?}`` (owner and space admins) into a space of yours."""
    file, _ = rights.require(file_id, current_user, "manage")
    space, folder = _destination(file, _json())
    file_service.move(file, current_user, space, folder)
    transaction.commit()
    return jsonify(file_json(file))


@bp.route("/files/<int:file_id>/copy", methods=("POST",))
def copy_file(file_id: int):
    """Copy ``{folder_id|null, space_id?, title?}`` (whoever may download it) into a space of yours."""
    file, _ = rights.require(file_id, current_user, "download")
    data = _json()
    space, folder = _destination(file, data)
    title = _text(data, "title") if data.get("title") is not None else None
    copied = file_service.copy(file, current_user, space, folder, title)
    transaction.commit()
    return jsonify(file_json(copied)), 201


@bp.route("/spaces/<int:space_id>/trash")
def list_trash(space_id: int):
    """The space's trash as its page shows it to you, newest first, a page at a time (no total:
    a row more than the page tells whether another follows)."""
    space, member = rights.get_space_or_404(space_id, current_user)
    listed = trash_service.listing(space, member, current_user, *pagination.requested())
    return jsonify(
        items=[
            {
                "type": entry.kind,
                "id": entry.id,
                "name": entry.name,
                "trashed_at": entry.trashed_at.isoformat(),
                "trashed_by": entry.trashed_by,
                "purge_on": entry.purge_on.isoformat(),
                "can_restore": entry.can_restore,
                "files": entry.files,
            }
            for entry in listed.items
        ],
        **listed.meta(),
    )


@bp.route("/spaces/<int:space_id>/trash/files/<int:file_id>/restore", methods=("POST",))
def restore_trashed_file(space_id: int, file_id: int):
    """Take a file out of the trash (its owner and the space's admins), versions and rights as they were."""
    space, member = rights.get_space_or_404(space_id, current_user)
    file = trash_service.trashed_file(space, file_id, current_user, member)
    trash_service.restore_file(file, current_user)
    transaction.commit()
    return jsonify(file_json(file))


@bp.route("/spaces/<int:space_id>/trash/folders/<int:folder_id>/restore", methods=("POST",))
def restore_trashed_folder(space_id: int, folder_id: int):
    """Take a folder out of the trash with what went with it (the space's admins)."""
    space, member = rights.get_space_or_404(space_id, current_user)
    folder = trash_service.trashed_folder(space, folder_id, member)
    trash_service.restore_folder(folder, current_user)
    transaction.commit()
    return jsonify(folder_json(folder))


@bp.route("/spaces/<int:space_id>/trash/files/<int:file_id>", methods=("DELETE",))
def delete_trashed_file(space_id: int, file_id: int):
    """Delete a trashed file for good before the purge (whoever may restore it)."""
    space, member = rights.get_space_or_404(space_id, current_user)
    file = trash_service.trashed_file(space, file_id, current_user, member)
    trash_service.delete_file_for_good(file, current_user)
    transaction.commit()
    return jsonify(id=file_id, deleted=True)


@bp.route("/spaces/<int:space_id>/trash/folders/<int:folder_id>", methods=("DELETE",))
def delete_trashed_folder(space_id: int, folder_id: int):
    """Delete a trashed folder for good with what went with it (the space's admins)."""
    space, member = rights.get_space_or_404(space_id, current_user)
    folder = trash_service.trashed_folder(space, folder_id, member)
    files = trash_service.delete_folder_for_good(folder, current_user)
    transaction.commit()
    return jsonify(id=folder_id, deleted=True, files=files)


@bp.route("/spaces/<int:space_id>/folders", methods=("GET",))
def list_folders(space_id: int):
    """The space's folders (every level, ``parent`` null at the top), by name, a page at a time."""
    space, _ = rights.get_space_or_404(space_id, current_user)
    listed = spaces.folders_page(space, *pagination.requested())
    return jsonify(folders=[folder_json(folder) for folder in listed.items], **listed.meta())


@bp.route("/spaces/<int:space_id>/folders", methods=("POST",))
def create_folder(space_id: int):
    """A folder ``{name, parent_id?}`` (any member, as on the space page)."""
    space, _ = rights.get_space_or_404(space_id, current_user)
    data = _json()
    typed = _text(data, "name")
    parent = _folder_in(space, _optional_id(data, "parent_id"))
    folder = spaces.add_folder(space, parent, file_service.typed_name(typed))
    transaction.commit()
    return jsonify({**folder_json(folder), "name_changed": file_service.name_note(typed, folder.name)}), 201


@bp.route("/folders/<int:folder_id>", methods=("PATCH",))
def rename_folder(folder_id: int):
    """Rename ``{name}`` (the space's owners and admins)."""
    _, member, folder = spaces.live_folder_or_404(folder_id, current_user)
    spaces.manager_or_403(member)
    typed = _text(_json(), "name")
    trash_service.rename_folder(folder, file_service.safe_filename(typed), current_user)
    transaction.commit()
    return jsonify(folder_json(folder))


@bp.route("/folders/<int:folder_id>", methods=("DELETE",))
def delete_folder(folder_id: int):
    """Move the folder with everything in it to the trash (the space's owners and admins)."""
    _, member, folder = spaces.live_folder_or_404(folder_id, current_user)
    spaces.manager_or_403(member)
    moved = trash_service.trash_folder(folder, current_user)
    transaction.commit()
    return jsonify(
        {
            **folder_json(folder),
            "trashed": True,
            "files": moved,
            "trashed_at": folder.trashed_at.isoformat(),
            "purge_on": trash_service.purge_date(folder.trashed_at).isoformat(),
        }
    )
