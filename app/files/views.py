"""File pages. Every route loads the file through the rights check first."""

import sqlalchemy as sa
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from app.extensions import db
from app.files import bp
from app.files.forms import CommentForm
from app.files.forms import RenameForm
from app.files.forms import RightsForm
from app.files.forms import VersionUploadForm
from app.forms import ConfirmForm
from app.models import LEVELS
from app.models import FileVersion
from app.models import Post
from app.services import access
from app.services import files as file_service
from app.services import formats
from app.services import rights
from app.services import sending
from app.services import settings
from app.services import stream
from app.services.exceptions import BadRequest
from app.services.exceptions import Conflict
from app.share import share_context


@bp.route("/<int:file_id>")
@login_required
def show(file_id: int):
    """The file with its versions and what the user may do with it."""
    file, level = rights.get_file_or_404(file_id, current_user)
    versions = db.session.scalars(
        sa.select(FileVersion).where(FileVersion.file_id == file.id).order_by(FileVersion.number.desc())
    ).all()
    return render_template(
        "files/show.html",
        file=file,
        level=level,
        versions=versions,
        can_edit=rights.at_least(level, "edit") and formats.is_editable(file.ext),
        can_open=formats.document_type(file.ext) is not None,
        can_manage=rights.can_manage_file(file, current_user),
        can_download=rights.may_download(file, level),
        docs_configured=settings.docs_configured(),
        save_pending=file_service.save_on_its_way(file),
        rename_form=RenameForm(title=file.stem),
        rights_form=RightsForm(default=file.default_level, allow_download=file.allow_download),
        members=rights.members_with_levels(file) if rights.can_manage_file(file, current_user) else [],
        level_labels=access.LEVEL_LABELS,
        **share_context(file),
        version_form=VersionUploadForm(),
        confirm_form=ConfirmForm(),
    )


@bp.route("/<int:file_id>/download")
@login_required
def download(file_id: int):
    """The head version, or ?version=N, as an attachment."""
    file, _ = rights.require(file_id, current_user, "download")
    number = request.args.get("version", type=int) or file.version
    version = file_service.get_version(file, number)
    if version is None:
        abort(404)
    return sending.send_version(file, version, as_attachment=True)


@bp.route("/<int:file_id>/rename", methods=("POST",))
@login_required
def rename(file_id: int):
    file, _ = rights.require(file_id, current_user, "manage")
    form = RenameForm()
    if form.validate_on_submit():
        try:
            file_service.rename(file, form.title.data)
            flash(f"Renamed to {file.title}.", "success")
        except BadRequest as exc:
            flash(exc.message, "danger")
    return redirect(url_for("files.show", file_id=file.id))


@bp.route("/<int:file_id>/delete", methods=("POST",))
@login_required
def delete(file_id: int):
    """Delete after the confirmation dialog (owner and space admins)."""
    file, _ = rights.require(file_id, current_user, "manage")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    space_id, folder_id, title = file.space_id, file.folder_id, file.title
    force = current_user.is_admin and request.form.get("force") == "1"
    try:
        file_service.delete(file, current_user, force=force)
    except Conflict as exc:
        flash(exc.message + (" As an administrator you can delete it anyway; changes that arrive later are "
                             "kept by the Document Server." if current_user.is_admin else ""), "warning")
        return redirect(url_for("files.show", file_id=file_id, _anchor="delete"))
    flash(f"{title} deleted.", "success")
    return redirect(url_for("spaces.show", space_id=space_id, folder=folder_id))


@bp.route("/<int:file_id>/versions", methods=("POST",))
@login_required
def upload_version(file_id: int):
    """A new version from disk (editors only); open editors get a new key."""
    file, level = rights.require(file_id, current_user, "edit")
    form = VersionUploadForm()
    if form.validate_on_submit():
        try:
            version = file_service.upload_version(file, current_user, form.file.data.stream)
            flash(f"Version {version.number} uploaded.", "success")
        except BadRequest as exc:
            flash(exc.message, "danger")
    return redirect(url_for("files.show", file_id=file.id))


@bp.route("/<int:file_id>/rights", methods=("POST",))
@login_required
def change_rights(file_id: int):
    """The Change access rights dialog: a default for members, per-person levels, reader downloads."""
    file, _ = rights.require(file_id, current_user, "manage")
    form = RightsForm()
    if not form.validate_on_submit():
        flash("Choose a level for the space's members.", "danger")
        return redirect(url_for("files.show", file_id=file.id))
    users = {}
    for user, _, _, override in rights.members_with_levels(file):
        if user.id == file.owner_id:
            continue
        wanted = request.form.get(f"user-{user.username}", "")
        wanted = wanted if wanted in LEVELS else None  # "" means: follow the default
        if wanted != override:
            users[user.username] = wanted
    try:
        access.change_rights(file, current_user, form.default.data, users, form.allow_download.data)
        flash("Access rights saved.", "success")
    except BadRequest as exc:
        flash(exc.message, "danger")
    return redirect(url_for("files.show", file_id=file.id))


@bp.route("/<int:file_id>/thread", methods=("GET", "POST"))
@login_required
def thread(file_id: int):
    """The file's thread: notices about its versions and rights, and members' comments, newest last."""
    file, _ = rights.get_file_or_404(file_id, current_user)
    form = CommentForm()
    if form.validate_on_submit():
        comment = stream.post(file.space_id, current_user, form.body.data.strip())
        comment.file_id = file.id
        db.session.commit()
        return redirect(url_for("files.thread", file_id=file.id) + "#end")
    posts = db.session.scalars(
        sa.select(Post).where(Post.file_id == file.id).order_by(Post.created_at, Post.id)
    ).all()
    return render_template("files/thread.html", file=file, posts=posts, form=form)


@bp.route("/<int:file_id>/versions/<int:number>/restore", methods=("POST",))
@login_required
def restore_version(file_id: int, number: int):
    """Restore from the versions panel (editors only); open editors get a new key."""
    file, level = rights.require(file_id, current_user, "edit")
    if ConfirmForm().validate_on_submit():
        try:
            version = file_service.restore(file, number, current_user)
            flash(f"Version {number} restored as version {version.number}.", "success")
        except BadRequest as exc:
            flash(exc.message, "danger")
    return redirect(url_for("files.show", file_id=file.id))
