"""Share links as people meet them.

A guest opens ``/s/<secret>``, gives a display name (and the link's password, if it has one)
and goes on to ``/s/<secret>/open``, the editor. Both resolve the link on every request, so a
revoked or expired link stops working at once. The guest is remembered in the Flask session
under a per-link key; guests get ``guest:<random>`` ids and strict co-editing.

A file's managers create and revoke links from the file page (``share_context`` gives the
page what the ``share/_file_links.html`` partial needs).
"""

from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from app import limits
from app.forms import ConfirmForm
from app.models import File
from app.models import ShareLink
from app.open.views import render_editor_page
from app.open.views import unavailable_reason
from app.services import editor_config
from app.services import rights
from app.services import share_links
from app.services.exceptions import BadRequest
from app.services.share_links import LinkExpired
from app.share import bp
from app.share.forms import GuestForm
from app.share.forms import GuestPasswordForm
from app.share.forms import LinkForm
from app.share.forms import end_of_day

NEW_LINK_KEY = "share_new_link"  # the secret URL of a link just created, shown once on the file page


def _session_key(link: ShareLink) -> str:
    return f"share:{link.id}"


def _tag(link: ShareLink) -> str:
    # Ties the session entry to this link's secret, not just its row id (ids can come back
    # after a file is deleted); a prefix of the hash says nothing about the secret.
    return link.token_hash[:16]


def _guest_entry(link: ShareLink) -> dict | None:
    """The guest this browser is for this link, if it has passed the landing page."""
    entry = session.get(_session_key(link))
    if not isinstance(entry, dict) or entry.get("tag") != _tag(link):
        return None
    guest_id, name = entry.get("guest_id"), entry.get("name")
    if not isinstance(guest_id, str) or not guest_id.startswith(share_links.GUEST_PREFIX):
        return None
    if not isinstance(name, str) or not name:
        return None
    return entry


@bp.errorhandler(LinkExpired)
def link_expired(error: LinkExpired):
    return render_template("share/expired.html", message=error.message), 410


@bp.after_request
def private_pages(response):
    # Pages behind a secret URL: never cached, never indexed.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.app_template_global()
def share_link_status(link: ShareLink) -> str:
    """revoked, expired, inactive (its creator lost the right) or active."""
    if link.revoked_at is not None:
        return "revoked"
    if share_links.is_expired(link):
        return "expired"
    return "active" if share_links.is_active(link) else "inactive"


@bp.route("/s/<secret>", methods=("GET", "POST"))
@limits.share_link_password
def landing(secret: str):
    """Ask the guest's name (and the link's password), then go to the editor.

    :raise 404: unknown or revoked link, or its creator lost the right.
    :raise 410: the link has expired.
    """
    link = share_links.resolve(secret)
    entry = _guest_entry(link)
    form = (GuestPasswordForm if link.has_password else GuestForm)()
    if request.method == "GET":
        if entry:
            form.name.data = entry["name"]
        elif current_user.is_authenticated:
            form.name.data = current_user.display_name
    status = 200
    if form.validate_on_submit():
        try:
            name = share_links.clean_guest_name(form.name.data)
        except BadRequest as exc:
            form.name.errors.append(exc.message)
            name = None
        if name is not None:
            if not share_links.check_password(link, form.password.data if link.has_password else None):
                form.password.errors.append("Wrong password. Please check it with the person who shared the link.")
                status = 403
            else:
                guest_id = entry["guest_id"] if entry else share_links.new_guest_id()
                share_links.record_use(link, guest_id, name, request.remote_addr)
                session[_session_key(link)] = {"guest_id": guest_id, "name": name, "tag": _tag(link)}
                return redirect(url_for("share.open_link", secret=secret))
    return render_template("share/landing.html", form=form, link=link, file=link.file), status


@bp.route("/s/<secret>/open")
def open_link(secret: str):
    """The editor for the guest; the link's stored mode decides view or edit, never the URL."""
    link = share_links.resolve(secret)
    entry = _guest_entry(link)
    if entry is None:
        return redirect(url_for("share.landing", secret=secret))
    file = link.file
    people = [link.creator] + ([current_user] if current_user.is_authenticated else [])
    blocked = unavailable_reason(file, *people)
    if blocked:
        reason, status = blocked
        return render_template("share/unavailable.html", file=file, reason=reason), status
    guest = editor_config.Guest(entry["guest_id"], entry["name"])
    config = editor_config.build(file, guest, share_links.level_for(link), "edit" if link.mode == "edit" else "view",
                                 request.headers.get("User-Agent", ""))
    return render_editor_page(file, config, back_url=None)


def _back(file: File):
    return redirect(url_for("files.show", file_id=file.id, _anchor="share-links"))


@bp.route("/files/<int:file_id>/links", methods=("POST",))
@login_required
def create_link(file_id: int):
    """Create a link; its URL is shown once on the file page.

    :raise 404: the user may not read the file. :raise 403: they may read but not manage it.
    """
    file, _ = rights.require(file_id, current_user, "manage")
    form = LinkForm()
    if form.validate_on_submit():
        expires = end_of_day(form.expires_on.data) if form.expires_on.data else None
        try:
            link, secret = share_links.create(file, current_user, form.mode.data, expires,
                                              form.link_password.data or None)
        except BadRequest as exc:
            flash(exc.message, "danger")
        else:
            session[NEW_LINK_KEY] = {"file_id": file.id, "link_id": link.id,
                                     "url": url_for("share.landing", secret=secret, _external=True)}
            flash(f"{'Edit' if link.mode == 'edit' else 'View'} link created. Copy it now: "
                  "it is shown only this once.", "success")
    else:
        for name, errors in form.errors.items():
            label = getattr(form, name).label.text if hasattr(form, name) else name
            flash(f"{label}: {errors[0]}", "danger")
    return _back(file)


@bp.route("/files/<int:file_id>/links/<int:link_id>/revoke", methods=("POST",))
@login_required
def revoke_link(file_id: int, link_id: int):
    """Revoke a link: it stops opening the file at once."""
    file, _ = rights.require(file_id, current_user, "manage")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    link = share_links.get_link(file, link_id)
    share_links.revoke(link, current_user)
    flash("The link is revoked: it no longer opens the file.", "success")
    return _back(file)


def share_context(file: File) -> dict:
    """What the file page merges into its context for ``share/_file_links.html``.

    ``links`` and ``link_form`` only for those who may manage the file (else [] and None);
    ``new_link`` is the URL of a link just created for this file, handed out once.
    """
    if not current_user.is_authenticated or not rights.can_manage_file(file, current_user):
        return {"links": [], "link_form": None, "new_link": None}
    new_link = session.get(NEW_LINK_KEY)
    if isinstance(new_link, dict) and new_link.get("file_id") == file.id:
        session.pop(NEW_LINK_KEY, None)
    else:
        new_link = None
    return {"links": share_links.links_for(file), "link_form": LinkForm(), "new_link": new_link}
