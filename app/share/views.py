"""Share links as guests meet them.

A guest opens ``/s/<secret>``, gives a display name (and the link's password, if it has one)
and goes on to ``/s/<secret>/open``, the editor. Both resolve the link on every request, so a
revoked or expired link stops working at once. The guest is remembered in the Flask session
under a per-link key; guests get ``guest:<random>`` ids and strict co-editing. A file's managers
create and revoke links on the file page (the files blueprint).
"""

from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_login import current_user

from app import limits
from app import transaction
from app.models import ShareLink
from app.pages import render_editor_page
from app.services import share_links
from app.services.docs import editor_config
from app.services.exceptions import BadRequestError
from app.services.exceptions import NotFoundError
from app.services.share_links import LinkExpiredError
from app.share import bp
from app.share.forms import GuestForm
from app.share.forms import GuestPasswordForm


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


@bp.errorhandler(LinkExpiredError)
def link_expired(error: LinkExpiredError):
    return render_template("share/expired.html", message=error.message), 410


@bp.errorhandler(NotFoundError)
def link_not_found(error: NotFoundError):
    # Written for a guest: what happened and whom to ask, without the members' error page.
    return render_template("share/revoked.html"), 404


@bp.after_request
def private_pages(response):
    # Pages behind a secret URL: never cached, never indexed.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


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
        except BadRequestError as exc:
            form.name.errors.append(exc.message)
            name = None
        if name is not None:
            if not share_links.check_password(link, form.password.data if link.has_password else None):
                form.password.errors.append("Wrong password. Please check it with the person who shared the link.")
                status = 403
            else:
                guest_id = entry["guest_id"] if entry else share_links.new_guest_id()
                share_links.record_use(link, guest_id, name, request.remote_addr)
                transaction.commit()
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
    # Opening a link uses the editors as its creator, and as whoever is signed in.
    accounts = (link.creator,) + ((current_user._get_current_object(),) if current_user.is_authenticated else ())
    guest = editor_config.Guest(entry["guest_id"], entry["name"], accounts)
    try:
        config = editor_config.open_for(
            file,
            guest,
            share_links.level_for(link),
            "edit" if link.mode == "edit" else "view",
            request.headers.get("User-Agent", ""),
        )
    except editor_config.EditorUnavailableError as exc:
        return render_template("share/unavailable.html", file=file, reason=exc.reason), exc.http_status
    return render_editor_page(file, config, back_url=None)
