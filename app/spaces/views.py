"""Space pages: my spaces, one space with its folders, files and stream; creating documents."""

from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from app import transaction
from app.forms import ConfirmForm
from app.models import Folder
from app.models import Space
from app.services import accounts
from app.services import files as file_service
from app.services import posts
from app.services import rights
from app.services import settings
from app.services import spaces as space_service
from app.services.exceptions import BadRequestError
from app.services.exceptions import CoeditError
from app.spaces import bp
from app.spaces.forms import CreateDocumentForm
from app.spaces.forms import FolderForm
from app.spaces.forms import MemberForm
from app.spaces.forms import PostForm
from app.spaces.forms import SpaceDefaultForm
from app.spaces.forms import SpaceForm
from app.spaces.forms import UploadForm


@bp.route("/")
@login_required
def index():
    """The spaces I belong to, and a form to start a new one."""
    return render_template("spaces/index.html", spaces=space_service.spaces_of(current_user), form=SpaceForm())


@bp.route("/spaces", methods=("POST",))
@login_required
def create_space():
    form = SpaceForm()
    if not form.validate_on_submit():
        flash("Give the space a name.", "danger")
        return redirect(url_for("spaces.index"))
    space = space_service.create_space(form.name.data, current_user)
    transaction.commit()
    flash(f"Space {space.name} created.", "success")
    return redirect(url_for("spaces.show", space_id=space.id))


@bp.route("/spaces/<int:space_id>")
@login_required
def show(space_id: int):
    """One space: its folders and files, what is being edited, and the stream."""
    space, member = rights.get_space_or_404(space_id, current_user)
    folder = space_service.folder_of(space, request.args.get("folder"))
    listing = space_service.page(space, member, current_user, folder)
    in_folder = {"folder": folder.id if folder else ""}
    return render_template(
        "spaces/show.html",
        space=space,
        member=member,
        folder=folder,
        trail=listing.trail,
        folders=listing.folders,
        entries=listing.entries,
        posts=listing.posts,
        members=listing.members,
        docs_configured=settings.docs_configured(),
        post_form=PostForm(),
        folder_form=FolderForm(data=in_folder),
        upload_form=UploadForm(data=in_folder),
        create_form=CreateDocumentForm(data=in_folder),
        member_form=MemberForm(),
        default_form=SpaceDefaultForm(default_level=space.default_level),
        level_labels=rights.LEVEL_LABELS,
        confirm_form=ConfirmForm(),
        max_mb=settings.get("max_file_size_mb"),
    )


def back_to(space: Space, folder: Folder | None):
    """Redirect to the space page, in the folder the person was in."""
    return redirect(url_for("spaces.show", space_id=space.id, folder=folder.id if folder else None))


@bp.route("/spaces/<int:space_id>/posts", methods=("POST",))
@login_required
def add_post(space_id: int):
    space, _ = rights.get_space_or_404(space_id, current_user)
    form = PostForm()
    if form.validate_on_submit():
        posts.post(space.id, current_user, form.body.data.strip())
        transaction.commit()
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
            transaction.commit()
            flash(f"{user.display_name} is now a member.", "success")
        else:
            flash(f"{user.display_name} is already a member.", "info")
    return redirect(url_for("spaces.show", space_id=space.id))


@bp.route("/spaces/<int:space_id>/default-level", methods=("POST",))
@login_required
def set_default_level(space_id: int):
    """The space's admins choose what members may do with new files."""
    space, member = rights.get_space_or_404(space_id, current_user)
    form = SpaceDefaultForm()
    if not form.validate_on_submit():
        flash("Choose one of the levels.", "danger")
        return redirect(url_for("spaces.show", space_id=space.id))
    try:
        changed = space_service.set_default_level(space, member, form.default_level.data)
    except CoeditError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("spaces.show", space_id=space.id))
    transaction.commit()
    if changed:
        label = rights.LEVEL_LABELS[space.default_level]
        flash(f"Members now get “{label}” on new files; existing files keep their own access.", "success")
    return redirect(url_for("spaces.show", space_id=space.id))


@bp.route("/spaces/<int:space_id>/folders", methods=("POST",))
@login_required
def add_folder(space_id: int):
    space, _ = rights.get_space_or_404(space_id, current_user)
    form = FolderForm()
    parent = space_service.folder_of(space, form.folder.data)
    if form.validate_on_submit():
        try:
            name = file_service.typed_name(form.name.data)
        except BadRequestError as exc:
            flash(exc.message, "danger")
            return back_to(space, parent)
        space_service.add_folder(space, parent, name)
        transaction.commit()
        flash(f"Folder {name} created.", "success")
        if note := file_service.name_note(form.name.data, name):
            flash(note.replace("file name", "folder name"), "info")
    return back_to(space, parent)


@bp.route("/spaces/<int:space_id>/upload", methods=("POST",))
@login_required
def upload(space_id: int):
    """Upload a file into the space (or a folder of it)."""
    space, _ = rights.get_space_or_404(space_id, current_user)
    form = UploadForm()
    folder = space_service.folder_of(space, form.folder.data)
    if not form.validate_on_submit():
        flash("Choose a file to upload.", "danger")
        return back_to(space, folder)
    try:
        file = file_service.upload(space, folder, current_user, form.file.data.filename, form.file.data.stream)
    except BadRequestError as exc:
        flash(exc.message, "danger")
        return back_to(space, folder)
    transaction.commit()
    flash(f"{file.title} uploaded.", "success")
    return back_to(space, folder)


@bp.route("/spaces/<int:space_id>/documents", methods=("POST",))
@login_required
def create_document(space_id: int):
    """Create document: make the blank file as version 1, then open it for editing."""
    space, _ = rights.get_space_or_404(space_id, current_user)
    form = CreateDocumentForm()
    folder = space_service.folder_of(space, form.folder.data)
    if not form.validate_on_submit():
        flash("Give the document a name and choose its type.", "danger")
        return back_to(space, folder)
    try:
        file = file_service.create_document(space, folder, current_user, form.name.data, form.kind.data)
    except BadRequestError as exc:
        flash(exc.message, "danger")
        return back_to(space, folder)
    transaction.commit()
    if note := file_service.name_note(form.name.data, file.title):
        flash(note, "info")
    return redirect(url_for("editor.page", file_id=file.id, mode="edit"))
