"""Render the DocEditor page for a file."""

from urllib.parse import urlsplit

from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from app.models import File
from app.open import bp
from app.security import allow_docs_origin
from app.services import access
from app.services import editor_config
from app.services import formats
from app.services import rights
from app.services import settings


def unavailable_reason(file: File, user=None) -> tuple[str | None, int] | None:
    """Why the file cannot be opened in an editor (None, 503 when Docs is not set up), or None."""
    if user is not None and not access.may_use_editors(user):
        return "An administrator has not allowed you to use the editors. You can still download the file.", 403
    if formats.document_type(file.ext) is None:
        return f"ONLYOFFICE Docs cannot open .{file.ext} files.", 415
    if not settings.docs_configured():
        return None, 503
    return None


def render_editor_page(file: File, config: dict, back_url: str | None = None, back_label: str = ""):
    """The editor page for a signed config, allowed by the CSP to load api.js and frame Docs."""
    docs_url = settings.get("docs_url").rstrip("/")
    parts = urlsplit(docs_url)
    allow_docs_origin(f"{parts.scheme}://{parts.netloc}")
    return render_template("open/editor.html", file=file, config=config, back_url=back_url, back_label=back_label,
                           api_js=f"{docs_url}/web-apps/apps/api/documents/api.js")


@bp.route("/files/<int:file_id>/open")
@login_required
def editor(file_id: int):
    """The editor page; ``mode=view`` opens the viewer even for editors.

    :raise 404: the user may not read the file.
    """
    file, level = rights.get_file_or_404(file_id, current_user)
    blocked = unavailable_reason(file, current_user)
    if blocked:
        reason, status = blocked
        return render_template("open/unavailable.html", file=file, reason=reason), status
    config = editor_config.build(file, current_user, level, request.args.get("mode", "edit"),
                                 request.headers.get("User-Agent", ""))
    return render_editor_page(file, config, url_for("spaces.show", space_id=file.space_id), file.space.name)
