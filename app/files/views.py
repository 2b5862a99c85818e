"""File pages: the file with its versions, rights and share links. Every route loads the file
through the rights check first; each action stages through a service and commits once."""

from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from flask_login import login_required
from markupsafe import Markup

from app import downloads
from app import pagination
from app import transaction
from app.files import bp
from app.files.forms import CommentForm
from app.files.forms import ConvertForm
from app.files.forms import LinkForm
from app.files.forms import PlaceForm
from app.files.forms import RenameForm
from app.files.forms import RightsForm
from app.files.forms import VersionUploadForm
from app.files.forms import end_of_day
from app.forms import ConfirmForm
from app.models import File
from app.models import FileVersion
from app.models.user import username_key
from app.security import is_safe_next_url
from app.services import conversions
from app.services import favourites
from app.services import files as file_service
from app.services import formats
from app.services import locks
from app.services import posts
from app.services import rights
from app.services import settings
from app.services import share_links
from app.services import spaces as space_service
from app.services import trash as trash_service
from app.services.exceptions import BadRequestError
from app.services.exceptions import CoeditError
from app.services.exceptions import ConflictError

# The rights dialog lists every member of a space up to this many; beyond, those with a level of
# their own, and a field to name anyone else.
RIGHTS_LISTED = 100
NEW_LINK_KEY = "share_new_link"  # the secret URL of a link just created, shown once on the file page


@bp.route("/<int:file_id>")
@login_required
def show(file_id: int):
    """The file with its versions and what the user may do with it."""
    file, level = rights.get_file_or_404(file_id, current_user)
    listed = pagination.of_select(
        file.versions_select().order_by(FileVersion.number.desc()), *pagination.requested(), anchor="versions"
    )
    versions = listed.items
    manages = rights.can_manage_file(file, current_user)
    members, abridged = rights.members_for_dialog(file, RIGHTS_LISTED) if manages else ([], False)
    return render_template(
        "files/show.html",
        file=file,
        level=level,
        versions=versions,
        versions_page=listed,
        version_authors=file_service.version_authors(versions),
        can_edit=rights.at_least(level, "edit") and formats.edit_mode_possible(file.ext, settings.lossy_formats()),
        can_open=formats.opens_in_editor(file.ext),
        icon=formats.icon(file.ext),
        unopenable=formats.unopenable_reason(file.ext),
        can_manage=manages,
        can_download=rights.may_download(file, level),
        docs_configured=settings.docs_configured(),
        save_pending=file_service.save_on_its_way(file),
        rename_form=RenameForm(title=file.stem),
        rights_form=_rights_form(file),
        people=_rights_people(file, members),
        rights_abridged=abridged,
        level_options=_level_options(file),
        members={user.username: (user, membership, effective) for user, membership, effective, _ in members},
        level_labels=rights.LEVEL_LABELS,
        **share_links_context(file),
        version_form=VersionUploadForm(),
        confirm_form=ConfirmForm(),
        place_form=_place_form(file),
        trash_days=trash_service.days(),
        starred=favourites.is_starred(file, current_user),
        **conversion_context(file, level),
    )


def conversion_context(file: File, level: str) -> dict:
    """Convert to OOXML, Download as, the preview, and the job the page was sent back to watch."""
    from app.services import thumbnails

    convert_to = formats.ooxml_target(file.ext) if conversions.may_convert(file, level, current_user) else None
    job = None
    job_id = request.args.get("job", type=int)
    if job_id:
        try:
            job = conversions.job_for(job_id, current_user)
        except CoeditError:
            job = None
    may_download = rights.may_download(file, level)
    return {
        "convert_to": convert_to,
        "convert_form": ConvertForm(target=convert_to),
        "download_targets": formats.conversion_targets(file.ext) if may_download else (),
        "has_preview": may_download and bool(thumbnails.head_thumbnail_keys([file])),
        "job": job,
    }


def _rights_form(file: File) -> RightsForm:
    """The rights dialog's default and download switch; its people are ``_rights_people``."""
    return RightsForm(data={"default": file.default_level, "allow_download": file.allow_download})


def _level_options(file: File) -> dict[str | None, Markup]:
    """The options of a person's level in the rights dialog, made once for each level chosen
    (None: following the file's default) rather than once per member."""
    choices = [
        ("", gettext("Default (%(level)s)", level=rights.LEVEL_LABELS[file.default_level])),
        *rights.LEVEL_LABELS.items(),
    ]
    option = Markup('<option {}value="{}">{}</option>')
    return {
        chosen: Markup("").join(
            option.format(Markup("selected ") if value == (chosen or "") else "", value, label)
            for value, label in choices
        )
        for chosen in (None, *rights.LEVEL_LABELS)
    }


def _rights_people(file: File, members: list) -> list:
    """The members who may get a level of their own, as (user, membership, override or None)."""
    return [
        (user, membership, override)
        for user, membership, _, override in members
        if user.id != file.owner_id and not membership.manages_space
    ]


def share_links_context(file: File) -> dict:
    """What ``files/_share_links.html`` needs; ``new_link`` is a link just made, handed out once.

    Links only for the file's managers; nothing for anyone else.
    """
    if not rights.can_manage_file(file, current_user):
        return {"links": [], "link_states": {}, "link_form": None, "new_link": None}
    new_link = session.get(NEW_LINK_KEY)
    if isinstance(new_link, dict) and new_link.get("file_id") == file.id:
        session.pop(NEW_LINK_KEY, None)
    else:
        new_link = None
    links = share_links.links_for(file)
    return {
        "links": links,
        "link_states": {link.id: share_links.state(link) for link in links},
        "link_form": LinkForm(),
        "new_link": new_link,
    }


@bp.route("/<int:file_id>/download")
@login_required
def download(file_id: int):
    """The head version, or ?version=N, as an attachment; with ?format=pdf (Download as) converted
    by Docs into any target of the file's format, named with the new extension."""
    file, level = rights.require(file_id, current_user, "download")
    number = request.args.get("version", type=int) or file.version
    version = file_service.get_version(file, number)
    if version is None:
        abort(404)
    target = request.args.get("format", "").strip().lower()
    return downloads.send_download(file, version, level, current_user, target, "download")


@bp.route("/<int:file_id>/convert", methods=("POST",))
@login_required
def convert(file_id: int):
    """Convert to DOCX/XLSX/PPTX (or PDF form) in a job; the file page then shows its progress."""
    file, level = rights.get_file_or_404(file_id, current_user)
    form = ConvertForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        job = conversions.start(file, level, current_user, form.target.data or None)
    except CoeditError as exc:
        if exc.http_status == 403:
            raise
        flash(exc.message, "danger")
        return redirect(url_for("files.show", file_id=file.id))
    conversions.enqueue(job, form.password.data or None)
    transaction.commit()
    return redirect(url_for("files.show", file_id=file.id, job=job.id))


@bp.route("/<int:file_id>/favourite", methods=("POST",))
@login_required
def favourite(file_id: int):
    """Star (``star=1``) or unstar the file, then go back where the person was (a local ``next``).

    :raise 404: the person may not read the file.
    """
    file, _ = rights.get_file_or_404(file_id, current_user)
    if ConfirmForm().validate_on_submit():
        if request.form.get("star") == "1":
            favourites.star(file, current_user)
        else:
            favourites.unstar(file, current_user)
        transaction.commit()
    target = request.form.get("next")
    return redirect(target if is_safe_next_url(target) else url_for("files.show", file_id=file.id))


@bp.route("/<int:file_id>/rename", methods=("POST",))
@login_required
def rename(file_id: int):
    file, _ = rights.require(file_id, current_user, "manage")
    form = RenameForm()
    if form.validate_on_submit():
        try:
            file_service.rename(file, form.title.data)
        except (BadRequestError, ConflictError) as exc:
            flash(exc.message, "danger")
        else:
            transaction.commit()
            flash(
                file_service.name_note(form.title.data, file.title)
                or gettext("Renamed to %(title)s.", title=file.title),
                "success",
            )
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
    except ConflictError as exc:
        flash(
            exc.message
            + (
                " As an administrator you can delete it anyway; changes that arrive later are "
                "kept by the Document Server."
                if current_user.is_admin and not isinstance(exc, locks.Busy)
                else ""
            ),
            "warning",
        )
        return redirect(url_for("files.show", file_id=file_id, _anchor="delete"))
    transaction.commit()
    flash(f"{title} deleted.", "success")
    return redirect(url_for("spaces.show", space_id=space_id, folder=folder_id))


@bp.route("/<int:file_id>/versions", methods=("POST",))
@login_required
def upload_version(file_id: int):
    """A new version from disk (editors only); open editors get a new key."""
    file, _ = rights.require(file_id, current_user, "edit")
    form = VersionUploadForm()
    if form.validate_on_submit():
        try:
            version = file_service.upload_version(file, current_user, form.file.data.stream)
        except (BadRequestError, ConflictError) as exc:
            flash(exc.message, "danger")
        else:
            transaction.commit()
            flash(gettext("Version %(number)s uploaded.", number=version.number), "success")
    return redirect(url_for("files.show", file_id=file.id))


@bp.route("/<int:file_id>/rights", methods=("POST",))
@login_required
def change_rights(file_id: int):
    """The Change access rights dialog: a default for members, per-person levels, reader downloads."""
    file, _ = rights.require(file_id, current_user, "manage")
    form = RightsForm()
    if not form.validate_on_submit():
        flash(gettext("Choose a level for the space's members."), "danger")
        return redirect(url_for("files.show", file_id=file.id))
    # By username_key: a large space's dialog has people named by hand ("Bob" for bob).
    members = {
        user.username_key: (user.username, override) for user, _, _, override in rights.members_with_levels(file)
    }
    named = [(members.get(username_key(entry["username"])), entry["level"] or None) for entry in form.people.data]
    users = {member[0]: level for member, level in named if member is not None and level != member[1]}
    try:
        rights.change_rights(file, current_user, form.default.data, users, form.allow_download.data)
    except BadRequestError as exc:
        flash(exc.message, "danger")
    else:
        transaction.commit()
        flash(gettext("Access rights saved."), "success")
    return redirect(url_for("files.show", file_id=file.id))


@bp.route("/<int:file_id>/thread", methods=("GET", "POST"))
@login_required
def thread(file_id: int):
    """The file's thread: notices about its versions and rights, and members' comments, newest last."""
    file, _ = rights.get_file_or_404(file_id, current_user)
    form = CommentForm()
    if form.validate_on_submit():
        entry = posts.comment(file, current_user, form.body.data.strip())
        posts.notify_mentions(entry, current_user)
        transaction.commit()
        return redirect(url_for("files.thread", file_id=file.id) + "#end")
    listed = posts.thread_page(file, *pagination.requested())
    return render_template("files/thread.html", file=file, posts=listed.items, listed=listed, form=form)


@bp.route("/<int:file_id>/versions/<int:number>/restore", methods=("POST",))
@login_required
def restore_version(file_id: int, number: int):
    """Restore from the versions panel (editors only); open editors get a new key."""
    file, _ = rights.require(file_id, current_user, "edit")
    if ConfirmForm().validate_on_submit():
        try:
            version = file_service.restore(file, number, current_user)
        except (BadRequestError, ConflictError) as exc:
            flash(exc.message, "danger")
        else:
            transaction.commit()
            flash(
                gettext("Version %(number)s restored as version %(number2)s.", number=number, number2=version.number),
                "success",
            )
    return redirect(url_for("files.show", file_id=file.id))


def _back_to_links(file: File):
    return redirect(url_for("files.show", file_id=file.id, _anchor="share-links"))


@bp.route("/<int:file_id>/links", methods=("POST",))
@login_required
def create_link(file_id: int):
    """Create a share link; its URL is shown once on the file page.

    :raise 404: the user may not read the file. :raise 403: they may read but not manage it.
    """
    file, _ = rights.require(file_id, current_user, "manage")
    form = LinkForm()
    if form.validate_on_submit():
        expires = end_of_day(form.expires_on.data) if form.expires_on.data else None
        try:
            link, secret = share_links.create(
                file, current_user, form.mode.data, expires, form.link_password.data or None
            )
        except BadRequestError as exc:
            flash(exc.message, "danger")
        else:
            transaction.commit()
            session[NEW_LINK_KEY] = {
                "file_id": file.id,
                "link_id": link.id,
                "url": url_for("share.landing", secret=secret, _external=True),
            }
            flash(
                gettext("Edit link created. Copy it now: it is shown only this once.")
                if link.mode == "edit"
                else gettext("View link created. Copy it now: it is shown only this once."),
                "success",
            )
    else:
        for name, errors in form.errors.items():
            label = getattr(form, name).label.text if hasattr(form, name) else name
            flash(gettext("%(label)s: %(error)s", label=label, error=errors[0]), "danger")
    return _back_to_links(file)


@bp.route("/<int:file_id>/links/<int:link_id>/revoke", methods=("POST",))
@login_required
def revoke_link(file_id: int, link_id: int):
    """Revoke a link: it stops opening the file at once."""
    file, _ = rights.require(file_id, current_user, "manage")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    share_links.revoke(share_links.get_link(file, link_id), current_user)
    transaction.commit()
    flash(gettext("The link is revoked: it no longer opens the file."), "success")
    return _back_to_links(file)


def _place_form(file: File) -> PlaceForm:
    form = PlaceForm()
    form.target.choices = space_service.destinations(current_user)
    form.target.data = f"{file.space_id}:{file.folder_id}" if file.folder_id else str(file.space_id)
    return form


@bp.route("/<int:file_id>/trash", methods=("POST",))
@login_required
def trash(file_id: int):
    """Move to the trash (owner and space admins); restorable from the space's trash."""
    file, _ = rights.require(file_id, current_user, "manage")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        trash_service.trash_file(file, current_user)
    except ConflictError as exc:
        flash(exc.message, "warning")
        return redirect(url_for("files.show", file_id=file_id, _anchor="delete"))
    transaction.commit()
    flash(f"{file.title} moved to the trash.", "success")
    return redirect(url_for("spaces.show", space_id=file.space_id, folder=file.folder_id))


@bp.route("/<int:file_id>/place", methods=("POST",))
@login_required
def place(file_id: int):
    """Move (owner and space admins) or copy (whoever may download it) the file into a folder or
    space where the person may add files."""
    copying = "copy" in request.form
    file, _ = rights.require(file_id, current_user, "download" if copying else "manage")
    form = PlaceForm()
    if not form.validate_on_submit():
        abort(400)
    space, folder = space_service.place(form.target.data, current_user)
    try:
        if copying:
            result = file_service.copy(file, current_user, space, folder)
        else:
            file_service.move(file, current_user, space, folder)
            result = file
    except (BadRequestError, ConflictError) as exc:
        flash(exc.message, "warning")
        return redirect(url_for("files.show", file_id=file_id))
    transaction.commit()
    where = space.name + (" / " + space_service.folder_path(folder) if folder else "")
    if copying:
        flash(gettext("Copied to %(where)s as %(title)s.", where=where, title=result.title), "success")
    else:
        flash(gettext("Moved to %(where)s as %(title)s.", where=where, title=result.title), "success")
    return redirect(url_for("files.show", file_id=result.id))
