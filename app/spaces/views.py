"""Space pages: my spaces, one space with its folders, files and stream; creating documents."""

from collections.abc import Callable

from flask import abort
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_babel import ngettext
from flask_login import current_user
from flask_login import login_required

from app import downloads
from app import pagination
from app import transaction
from app.extensions import db
from app.forms import ConfirmForm
from app.forms import TemplateForm
from app.models import Folder
from app.models import Space
from app.services import accounts
from app.services import favourites
from app.services import files as file_service
from app.services import groups
from app.services import incoming_hooks
from app.services import posts
from app.services import rights
from app.services import search as search_service
from app.services import settings
from app.services import spaces as space_service
from app.services import templates as template_service
from app.services import trash as trash_service
from app.services.exceptions import BadRequestError
from app.services.exceptions import CoeditError
from app.services.exceptions import ConflictError
from app.spaces import bp
from app.spaces.forms import CreateDocumentForm
from app.spaces.forms import FolderForm
from app.spaces.forms import GroupMemberForm
from app.spaces.forms import IncomingHookForm
from app.spaces.forms import MemberForm
from app.spaces.forms import PostForm
from app.spaces.forms import RenameFolderForm
from app.spaces.forms import SpaceDefaultForm
from app.spaces.forms import SpaceForm
from app.spaces.forms import SpaceSettingsForm
from app.spaces.forms import UploadForm


@bp.route("/")
@login_required
def index():
    """The spaces I belong to, a form to start a new one, my favourites and what I opened lately."""
    listed = space_service.spaces_page(current_user, *pagination.requested())
    starred = favourites.favourites_page(
        current_user,
        pagination.requested("favourites_page")[0],
        favourites.FAVOURITES_PER_PAGE,
        param="favourites_page",
        anchor="favourites",
    )
    return render_template(
        "spaces/index.html",
        spaces=[space for space, _ in listed.items],
        listed=listed,
        form=SpaceForm(),
        starred=starred,
        recent=favourites.recently_opened(current_user),
    )


@bp.route("/search")
@login_required
def search():
    """Files the person may read whose title or text matches, with a snippet around the match."""
    query = (request.args.get("q") or "").strip()[:200]
    hits = search_service.search(current_user, query) if query else []
    return render_template("spaces/search.html", query=query, hits=hits)


@bp.route("/spaces", methods=("POST",))
@login_required
def create_space():
    form = SpaceForm()
    if not form.validate_on_submit():
        flash(gettext("Give the space a name."), "danger")
        return redirect(url_for("spaces.index"))
    try:
        space = space_service.create_space(form.name.data, current_user)
    except BadRequestError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("spaces.index"))
    transaction.commit()
    flash(gettext("Space %(name)s created.", name=space.name), "success")
    return redirect(url_for("spaces.show", space_id=space.id))


@bp.route("/spaces/<int:space_id>")
@login_required
def show(space_id: int):
    """One space: its folders and files, what is being edited, and the stream."""
    space, member = rights.get_space_or_404(space_id, current_user)
    folder = space_service.folder_of(space, request.args.get("folder"))
    sort = request.args.get("sort") if request.args.get("sort") in space_service.SORTS else "name"
    descending = request.args.get("order") == "desc"
    number, per_page = pagination.requested()
    listing = space_service.page(
        space,
        member,
        current_user,
        folder,
        sort,
        descending,
        number,
        per_page,
        stream_number=pagination.requested("stream_page")[0],
        members_number=pagination.requested("members_page")[0],
    )
    in_folder = {"folder": folder.id if folder else ""}
    offered = template_service.available(space)
    return render_template(
        "spaces/show.html",
        space=space,
        member=member,
        folder=folder,
        trail=listing.trail,
        listing=listing.listing,
        folders=listing.folders,
        entries=listing.entries,
        sort=sort,
        descending=descending,
        posts=listing.posts,
        members=listing.members,
        docs_configured=settings.docs_configured(),
        post_form=PostForm(),
        folder_form=FolderForm(data=in_folder),
        upload_form=UploadForm(data=in_folder),
        create_form=_create_form(offered, in_folder),
        offered_templates=offered,
        member_form=MemberForm(),
        group_form=_group_form() if member.manages_space else None,
        default_form=SpaceDefaultForm(default_level=space.default_level),
        level_labels=rights.LEVEL_LABELS,
        confirm_form=ConfirmForm(),
        rename_folder_form=RenameFolderForm(),
        max_mb=settings.get("max_file_size_mb"),
        starred=favourites.starred_among([entry.file.id for entry in listing.entries], current_user),
    )


def _create_form(offered: list, data: dict | None = None) -> CreateDocumentForm:
    """The Create dialog's form, offering Blank and these templates."""
    form = CreateDocumentForm(data=data)
    form.template.choices = [("", gettext("Blank"))] + [(str(t.id), f"{t.name} (.{t.ext})") for t in offered]
    return form


def back_to(space: Space, folder: Folder | None):
    """Redirect to the space page, in the folder the person was in."""
    return redirect(url_for("spaces.show", space_id=space.id, folder=folder.id if folder else None))


@bp.route("/spaces/<int:space_id>/posts", methods=("POST",))
@login_required
def add_post(space_id: int):
    space, _ = rights.get_space_or_404(space_id, current_user)
    form = PostForm()
    if form.validate_on_submit():
        entry = posts.post(space.id, current_user, form.body.data.strip())
        posts.notify_mentions(entry, current_user)
        transaction.commit()
    else:
        flash(gettext("Write something first (at most 5000 characters)."), "danger")
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
            flash(gettext("There is no user with that username."), "danger")
        elif space_service.add_member(space, user, form.role.data, current_user)[1]:
            transaction.commit()
            flash(f"{user.display_name} is now a member.", "success")
        else:
            flash(f"{user.display_name} is already a member.", "info")
    return redirect(url_for("spaces.show", space_id=space.id))


def _group_form() -> GroupMemberForm:
    form = GroupMemberForm()
    form.group.choices = [(str(group.id), group.name) for group in groups.all_groups()]
    return form


@bp.route("/spaces/<int:space_id>/members/group", methods=("POST",))
@login_required
def add_group(space_id: int):
    """Add every member of a group to the space at once, in one role (space owners and admins only)."""
    space, member = rights.get_space_or_404(space_id, current_user)
    if not member.manages_space:
        abort(403)
    form = GroupMemberForm()
    group = groups.get(form.group.data)
    if not form.validate_on_submit() or form.role.data not in ("member", "admin"):
        abort(400)
    if group is None:
        flash(gettext("There is no such group."), "danger")
    else:
        added = space_service.add_group(space, group, form.role.data, current_user)
        transaction.commit()
        flash(
            ngettext(
                "%(num)d member of %(group)s joined the space.",
                "%(num)d members of %(group)s joined the space.",
                added,
                group=group.name,
            ),
            "success",
        )
    return redirect(url_for("spaces.show", space_id=space.id))


@bp.route("/spaces/<int:space_id>/default-level", methods=("POST",))
@login_required
def set_default_level(space_id: int):
    """The space's admins choose what members may do with new files."""
    space, member = rights.get_space_or_404(space_id, current_user)
    form = SpaceDefaultForm()
    if not form.validate_on_submit():
        flash(gettext("Choose one of the levels."), "danger")
        return redirect(url_for("spaces.show", space_id=space.id))
    try:
        changed = space_service.set_default_level(space, member, form.default_level.data)
    except CoeditError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("spaces.show", space_id=space.id))
    transaction.commit()
    if changed:
        label = rights.LEVEL_LABELS[space.default_level]
        flash(
            gettext("Members now get “%(label)s” on new files; existing files keep their own access.", label=label),
            "success",
        )
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
        flash(gettext("Folder %(name)s created.", name=name), "success")
        if note := file_service.name_note(form.name.data, name):
            flash(note.replace("file name", "folder name"), "info")
    return back_to(space, parent)


@bp.route("/spaces/<int:space_id>/upload", methods=("POST",))
@login_required
def upload(space_id: int):
    """Upload files into the space (or a folder of it), each stored on its own.

    The page's script sends one file per request and asks for JSON (``Accept: application/json``),
    to show each file's progress and error; without script the form sends them all at once.
    """
    space, _ = rights.get_space_or_404(space_id, current_user)
    form = UploadForm()
    folder = space_service.folder_of(space, form.folder.data)
    wants_json = request.accept_mimetypes.best == "application/json"
    sources = [f for f in request.files.getlist("file") if f and f.filename]
    if not form.validate_on_submit() or not sources:
        if wants_json:
            return jsonify(error="Choose a file to upload."), 400
        flash(gettext("Choose a file to upload."), "danger")
        return back_to(space, folder)
    stored, errors = [], []
    for source in sources:
        try:
            file = file_service.upload(space, folder, current_user, source.filename, source.stream)
        except BadRequestError as exc:
            db.session.rollback()  # what this file staged goes; those stored before stay
            errors.append(f"{source.filename}: {exc.message}")
            continue
        transaction.commit()
        stored.append(file)
    if wants_json:
        if errors:
            return jsonify(error=errors[0]), 400
        return jsonify(id=stored[0].id, title=stored[0].title), 201
    if stored:
        flash(", ".join(f.title for f in stored) + " uploaded.", "success")
    for error in errors:
        flash(error, "danger")
    return back_to(space, folder)


@bp.route("/spaces/<int:space_id>/documents", methods=("POST",))
@login_required
def create_document(space_id: int):
    """Create document: make the blank file, or a copy of the template chosen, as version 1, then
    open it for editing.

    :raise 404: a template this space may not use.
    """
    space, _ = rights.get_space_or_404(space_id, current_user)
    form = CreateDocumentForm()
    folder = space_service.folder_of(space, form.folder.data)
    if not form.validate_on_submit():
        flash(gettext("Give the document a name and choose its type."), "danger")
        return back_to(space, folder)
    try:
        if form.template.data:
            template = template_service.usable_in(form.template.data, space)
            file = file_service.create_from_template(space, folder, current_user, form.name.data, template)
        else:
            file = file_service.create_document(space, folder, current_user, form.name.data, form.kind.data)
    except BadRequestError as exc:
        flash(exc.message, "danger")
        return back_to(space, folder)
    transaction.commit()
    if note := file_service.name_note(form.name.data, file.title):
        flash(note, "info")
    return redirect(url_for("editor.page", file_id=file.id, mode="edit"))


# --- settings: name, description, members, deleting the space (its owners and admins) -------


def _managed_space(space_id: int):
    space, member = rights.get_space_or_404(space_id, current_user)
    space_service.manager_or_403(member)
    return space, member


@bp.route("/spaces/<int:space_id>/settings", methods=("GET", "POST"))
@login_required
def settings_page(space_id: int):
    space, member = _managed_space(space_id)
    form = SpaceSettingsForm(obj=space)
    if form.validate_on_submit():
        try:
            space_service.update_space(space, form.name.data, form.description.data, current_user)
        except BadRequestError as exc:
            form.name.errors = [exc.message]
        else:
            transaction.commit()
            flash(gettext("Space settings saved."), "success")
            return redirect(url_for("spaces.settings_page", space_id=space.id))
    return settings_response(space, member, form)


def settings_response(space: Space, member, form: SpaceSettingsForm, status: int | None = None, **extra):
    """The settings page; ``extra`` overrides a part's values (a form with errors, a secret shown once)."""
    from app.spaces import webhooks as webhook_views  # here: its routes use _managed_space from this module

    values = {
        "incoming_hooks": incoming_hooks.hooks_of(space),
        "incoming_hook_form": IncomingHookForm(formdata=None),
        "new_hook_url": None,
        **extra,
    }
    return render_template(
        "spaces/settings.html",
        space=space,
        member=member,
        space_templates=template_service.space_templates(space),
        template_form=TemplateForm(),
        form=form,
        members=space_service.members_page(space, *pagination.requested(), anchor="members"),
        roles=[("owner", "Owner"), ("admin", "Space admin"), ("member", "Member")],
        confirm_form=ConfirmForm(),
        trash_days=trash_service.days(),
        **webhook_views.context(space),
        **values,
    ), status or (400 if form.errors else 200)


@bp.route("/spaces/<int:space_id>/templates", methods=("POST",))
@login_required
def upload_template(space_id: int):
    """Add a template of the space (its owners and admins), offered by its Create document."""
    space, _ = _managed_space(space_id)
    form = TemplateForm()
    if not form.validate_on_submit():
        flash(gettext("Choose the template's file."), "danger")
    else:
        try:
            template = template_service.add(
                space, form.name.data, form.file.data.filename, form.file.data.stream, current_user
            )
        except BadRequestError as exc:
            flash(exc.message, "danger")
        else:
            transaction.commit()
            flash(gettext("Template %(name)s added.", name=template.name), "success")
    return redirect(url_for("spaces.settings_page", space_id=space.id, _anchor="templates"))


@bp.route("/spaces/<int:space_id>/templates/<int:template_id>/preview")
@login_required
def template_preview(space_id: int, template_id: int):
    """The PNG preview of a template this space offers (the site's or its own), for its members,
    cached as a version's preview is; 404 while there is none.

    :raise 404: not a member, or no such template offered here.
    """
    space, _ = rights.get_space_or_404(space_id, current_user)
    template = template_service.usable_in(template_id, space)
    if not template.thumbnail_key:
        abort(404)
    return downloads.send_blob(template.thumbnail_key, "image/png", etag=f"t{template.sha256}")


@bp.route("/spaces/<int:space_id>/templates/<int:template_id>/delete", methods=("POST",))
@login_required
def delete_template(space_id: int, template_id: int):
    """Remove a template of the space; documents made from it keep their own copies.

    :raise 404: no such template in this space.
    """
    space, _ = _managed_space(space_id)
    template = template_service.of_space(template_id, space)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    template_service.remove(template, current_user)
    transaction.commit()
    flash(gettext("Template %(name)s removed.", name=template.name), "success")
    return redirect(url_for("spaces.settings_page", space_id=space.id, _anchor="templates"))


@bp.route("/spaces/<int:space_id>/members/<int:membership_id>/role", methods=("POST",))
@login_required
def change_role(space_id: int, membership_id: int):
    space, member = _managed_space(space_id)
    target = space_service.member_of(space, membership_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        space_service.set_role(space, target, request.form.get("role", ""), current_user, member)
    except BadRequestError as exc:
        flash(exc.message, "danger")
    else:
        transaction.commit()
        flash(f"{target.user.display_name} is now {target.role}.", "success")
    return redirect(url_for("spaces.settings_page", space_id=space.id, _anchor="members"))


@bp.route("/spaces/<int:space_id>/members/<int:membership_id>/remove", methods=("POST",))
@login_required
def remove_member(space_id: int, membership_id: int):
    space, member = _managed_space(space_id)
    target = space_service.member_of(space, membership_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = target.user.display_name
    try:
        space_service.remove_member(space, target, current_user, member)
    except BadRequestError as exc:
        flash(exc.message, "danger")
    else:
        transaction.commit()
        flash(f"{name} is no longer a member.", "success")
    return redirect(url_for("spaces.settings_page", space_id=space.id, _anchor="members"))


@bp.route("/spaces/<int:space_id>/delete", methods=("POST",))
@login_required
def delete_space(space_id: int):
    space, _ = _managed_space(space_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        space_service.delete_space(space, current_user)
    except ConflictError as exc:
        flash(exc.message, "warning")
        return redirect(url_for("spaces.settings_page", space_id=space.id))
    transaction.commit()
    flash(
        ngettext(
            "Space %(name)s deleted. An administrator can restore it within %(num)d day.",
            "Space %(name)s deleted. An administrator can restore it within %(num)d days.",
            trash_service.days(),
            name=space.name,
        ),
        "success",
    )
    return redirect(url_for("spaces.index"))


@bp.route("/spaces/deleted")
@login_required
def deleted_spaces():
    """Deleted spaces waiting for the purge (site administrators)."""
    if not current_user.is_admin:
        abort(403)
    return render_template(
        "spaces/deleted.html",
        spaces=space_service.deleted_spaces(),
        purge_date=trash_service.purge_date,
        confirm_form=ConfirmForm(),
    )


@bp.route("/spaces/<int:space_id>/restore", methods=("POST",))
@login_required
def restore_space(space_id: int):
    if not current_user.is_admin:
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    space = db.session.get(Space, space_id)
    if space is None or space.deleted_at is None:
        abort(404)
    space_service.restore_space(space, current_user)
    transaction.commit()
    flash(gettext("Space %(name)s restored.", name=space.name), "success")
    return redirect(url_for("spaces.deleted_spaces"))


# --- folders and the trash ------------------------------------------------------------------


@bp.route("/spaces/<int:space_id>/folders/<int:folder_id>/rename", methods=("POST",))
@login_required
def rename_folder(space_id: int, folder_id: int):
    space, member = _managed_space(space_id)
    folder = space_service.folder_of(space, folder_id)
    form = RenameFolderForm()
    if form.validate_on_submit():
        try:
            trash_service.rename_folder(folder, file_service.safe_filename(form.name.data), current_user)
        except BadRequestError as exc:
            flash(exc.message, "danger")
        else:
            transaction.commit()
            flash(gettext("Folder renamed to %(name)s.", name=folder.name), "success")
    else:
        flash(gettext("Give the folder a name."), "danger")
    return back_to(space, folder.parent)


@bp.route("/spaces/<int:space_id>/folders/<int:folder_id>/delete", methods=("POST",))
@login_required
def delete_folder(space_id: int, folder_id: int):
    space, _ = _managed_space(space_id)
    folder = space_service.folder_of(space, folder_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    parent = folder.parent
    try:
        trash_service.trash_folder(folder, current_user)
    except ConflictError as exc:
        flash(exc.message, "warning")
        return back_to(space, folder)
    transaction.commit()
    flash(gettext("Folder %(name)s moved to the trash.", name=folder.name), "success")
    return back_to(space, parent)


@bp.route("/spaces/<int:space_id>/trash")
@login_required
def trash(space_id: int):
    """The space's trash: what its members deleted, restorable for TRASH_DAYS."""
    space, member = rights.get_space_or_404(space_id, current_user)
    listed = trash_service.listing(space, member, current_user, *pagination.requested())
    return render_template(
        "spaces/trash.html",
        space=space,
        member=member,
        listed=listed,
        entries=listed.items,
        trash_days=trash_service.days(),
        confirm_form=ConfirmForm(),
    )


def _from_trash(space: Space, act: Callable[[], None], done: Callable[[], str], then: Callable[[], str] | None = None):
    """Do what the trash page's confirmed form asks (``act``, which stages), commit and say ``done``;
    or say why not and go back to the trash."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        act()
    except CoeditError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("spaces.trash", space_id=space.id))
    transaction.commit()
    flash(done(), "success")
    return redirect(then() if then else url_for("spaces.trash", space_id=space.id))


@bp.route("/spaces/<int:space_id>/trash/files/<int:file_id>/restore", methods=("POST",))
@login_required
def restore_file(space_id: int, file_id: int):
    space, member = rights.get_space_or_404(space_id, current_user)
    file = trash_service.trashed_file(space, file_id, current_user, member)
    return _from_trash(
        space,
        lambda: trash_service.restore_file(file, current_user),
        lambda: gettext("%(title)s restored.", title=file.title),  # its name may have changed
        lambda: url_for("spaces.show", space_id=space.id, folder=file.folder_id),
    )


@bp.route("/spaces/<int:space_id>/trash/folders/<int:folder_id>/restore", methods=("POST",))
@login_required
def restore_folder(space_id: int, folder_id: int):
    space, member = rights.get_space_or_404(space_id, current_user)
    folder = trash_service.trashed_folder(space, folder_id, member)
    return _from_trash(
        space,
        lambda: trash_service.restore_folder(folder, current_user),
        lambda: gettext("Folder %(name)s restored.", name=folder.name),
        lambda: url_for("spaces.show", space_id=space.id, folder=folder.id),
    )


@bp.route("/spaces/<int:space_id>/trash/files/<int:file_id>/delete", methods=("POST",))
@login_required
def delete_trashed_file(space_id: int, file_id: int):
    """Delete a trashed file for good before the purge (whoever may restore it)."""
    space, member = rights.get_space_or_404(space_id, current_user)
    file = trash_service.trashed_file(space, file_id, current_user, member)
    title = file.title
    return _from_trash(
        space,
        lambda: trash_service.delete_file_for_good(file, current_user),
        lambda: gettext("%(title)s deleted for good.", title=title),
    )


@bp.route("/spaces/<int:space_id>/trash/folders/<int:folder_id>/delete", methods=("POST",))
@login_required
def delete_trashed_folder(space_id: int, folder_id: int):
    """Delete a trashed folder for good with what went with it (the space's admins)."""
    space, member = rights.get_space_or_404(space_id, current_user)
    folder = trash_service.trashed_folder(space, folder_id, member)
    name = folder.name
    return _from_trash(
        space,
        lambda: trash_service.delete_folder_for_good(folder, current_user),
        lambda: gettext("Folder %(name)s deleted for good.", name=name),
    )
