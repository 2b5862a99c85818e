"""Space pages: the list of my spaces, one space with its files and stream."""

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
from app.forms import ConfirmForm
from app.models import File
from app.models import FileVersion
from app.models import Folder
from app.models import Membership
from app.models import Post
from app.models import Space
from app.models import User
from app.services import accounts
from app.services import files as file_service
from app.services import formats
from app.services import rights
from app.services import settings
from app.services import spaces as space_service
from app.services import stream
from app.services.exceptions import BadRequest
from app.spaces import bp
from app.spaces.forms import CreateDocumentForm
from app.spaces.forms import FolderForm
from app.spaces.forms import MemberForm
from app.spaces.forms import PostForm
from app.spaces.forms import SpaceForm
from app.spaces.forms import UploadForm

STREAM_LENGTH = 50


@bp.route("/")
@login_required
def index():
    """The spaces I belong to, and a form to start a new one."""
    spaces = db.session.scalars(
        sa.select(Space).join(Membership).where(Membership.user_id == current_user.id).order_by(Space.name)
    ).all()
    return render_template("spaces/index.html", spaces=spaces, form=SpaceForm())


@bp.route("/spaces", methods=("POST",))
@login_required
def create_space():
    form = SpaceForm()
    if not form.validate_on_submit():
        flash("Give the space a name.", "danger")
        return redirect(url_for("spaces.index"))
    space = space_service.create_space(form.name.data, current_user)
    flash(f"Space {space.name} created.", "success")
    return redirect(url_for("spaces.show", space_id=space.id))


def folder_of(space: Space, folder_id) -> Folder | None:
    """The folder of this space named by a form or query value, or None for the top level.

    :raise 404: a folder of another space, or none at all.
    """
    if folder_id in (None, ""):
        return None
    folder = db.session.get(Folder, int(folder_id)) if str(folder_id).isdigit() else None
    if folder is None or folder.space_id != space.id:
        abort(404)
    return folder


def breadcrumbs(folder: Folder | None) -> list[Folder]:
    trail = []
    while folder is not None:
        trail.append(folder)
        folder = folder.parent
    return list(reversed(trail))


@bp.route("/spaces/<int:space_id>")
@login_required
def show(space_id: int):
    """One space: its folders and files, what is being edited, and the stream."""
    space, member = rights.get_space_or_404(space_id, current_user)
    folder = folder_of(space, request.args.get("folder"))
    folder_id = folder.id if folder else None
    folders = db.session.scalars(
        sa.select(Folder).where(Folder.space_id == space.id, Folder.parent_id == folder_id).order_by(Folder.name)
    ).all()
    file_rows = db.session.scalars(
        sa.select(File).where(File.space_id == space.id, File.folder_id == folder_id).order_by(File.title)
    ).all()
    entries = []
    levels = rights.levels(file_rows, current_user, member)
    for file in file_rows:
        level = levels[file.id]
        if level == "none":
            continue
        can_edit = rights.at_least(level, "edit") and formats.is_editable(file.ext)
        entries.append({
            "file": file,
            "opens": formats.document_type(file.ext) is not None,
            "can_edit": can_edit,
            "editors": file.editors,
        })
    names = _names_of({uid for entry in entries for uid in entry["editors"]})
    for entry in entries:
        entry["editor_names"] = [names.get(uid, "a guest") for uid in entry["editors"]]
    sizes = dict(db.session.execute(
        sa.select(FileVersion.file_id, FileVersion.size).join(File, sa.and_(
            FileVersion.file_id == File.id, FileVersion.number == File.version))
        .where(File.space_id == space.id, File.folder_id == folder_id)
    ).all())
    hidden = rights.hidden_file_ids(space.id, current_user, member)
    posts = db.session.scalars(
        sa.select(Post).where(Post.space_id == space.id, Post.file_id.not_in(hidden) | Post.file_id.is_(None))
        .order_by(Post.created_at.desc(), Post.id.desc()).limit(STREAM_LENGTH)
    ).all()
    members = db.session.scalars(
        sa.select(Membership).where(Membership.space_id == space.id).join(User).order_by(User.display_name)
    ).all()
    in_folder = {"folder": folder_id or ""}
    return render_template(
        "spaces/show.html",
        space=space,
        member=member,
        folder=folder,
        trail=breadcrumbs(folder),
        folders=folders,
        entries=entries,
        sizes=sizes,
        posts=posts,
        members=members,
        docs_configured=settings.docs_configured(),
        post_form=PostForm(),
        folder_form=FolderForm(data=in_folder),
        upload_form=UploadForm(data=in_folder),
        create_form=CreateDocumentForm(data=in_folder),
        member_form=MemberForm(),
        confirm_form=ConfirmForm(),
        max_mb=settings.get("max_file_size_mb"),
    )


def _names_of(ids: set[str]) -> dict[str, str]:
    numeric = [int(i) for i in ids if i.isdigit()]
    if not numeric:
        return {}
    rows = db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(numeric))).all()
    return {str(uid): name for uid, name in rows}


def back_to(space: Space, folder: Folder | None):
    """Redirect to the space page, in the folder the person was in."""
    return redirect(url_for("spaces.show", space_id=space.id, folder=folder.id if folder else None))


@bp.route("/spaces/<int:space_id>/posts", methods=("POST",))
@login_required
def add_post(space_id: int):
    space, _ = rights.get_space_or_404(space_id, current_user)
    form = PostForm()
    if form.validate_on_submit():
        stream.post(space.id, current_user, form.body.data.strip())
        db.session.commit()
    else:
        flash("Write something first (at most 5000 characters).", "danger")
    return redirect(url_for("spaces.show", space_id=space.id) + "#stream")


@bp.route("/spaces/<int:space_id>/members", methods=("POST",))
@login_required
def add_member(space_id: int):
    """Add someone to the space (space owners and admins only)."""
    space, member = rights.get_space_or_404(space_id, current_user)
    if not member.manages_space:
        abort(403)
    form = MemberForm()
    if form.validate_on_submit():
        user = accounts.find(form.username.data)
        if user is None:
            flash("There is no user with that username.", "danger")
        elif space_service.add_member(space, user, form.role.data, current_user)[1]:
            flash(f"{user.display_name} is now a member.", "success")
        else:
            flash(f"{user.display_name} is already a member.", "info")
    return redirect(url_for("spaces.show", space_id=space.id))


@bp.route("/spaces/<int:space_id>/folders", methods=("POST",))
@login_required
def add_folder(space_id: int):
    space, _ = rights.get_space_or_404(space_id, current_user)
    form = FolderForm()
    parent = folder_of(space, form.folder.data)
    if form.validate_on_submit():
        try:
            name = file_service.safe_filename(form.name.data)
        except BadRequest as exc:
            flash(exc.message, "danger")
            return back_to(space, parent)
        db.session.add(Folder(space_id=space.id, parent_id=parent.id if parent else None, name=name))
        db.session.commit()
        flash(f"Folder {name} created.", "success")
    return back_to(space, parent)


@bp.route("/spaces/<int:space_id>/upload", methods=("POST",))
@login_required
def upload(space_id: int):
    """Upload a file into the space (or a folder of it)."""
    space, _ = rights.get_space_or_404(space_id, current_user)
    form = UploadForm()
    folder = folder_of(space, form.folder.data)
    if not form.validate_on_submit():
        flash("Choose a file to upload.", "danger")
        return back_to(space, folder)
    try:
        file = file_service.upload(space, folder, current_user, form.file.data.filename, form.file.data.stream)
    except BadRequest as exc:
        flash(exc.message, "danger")
        return back_to(space, folder)
    flash(f"{file.title} uploaded.", "success")
    return back_to(space, folder)
