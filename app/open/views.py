"""Render the DocEditor page for a file."""

from urllib.parse import urlsplit

from flask import render_template
from flask import request
from flask_login import current_user
from flask_login import login_required

from app.open import bp
from app.security import allow_docs_origin
from app.services import editor_config
from app.services import formats
from app.services import rights
from app.services import settings


@bp.route("/files/<int:file_id>/open")
@login_required
def editor(file_id: int):
    """The editor page; ``mode=view`` opens the viewer even for editors.

    :raise 404: the user may not read the file.
    """
    file, level = rights.get_file_or_404(file_id, current_user)
    if formats.document_type(file.ext) is None:
        return render_template("open/unavailable.html", file=file,
                               reason=f"ONLYOFFICE Docs cannot open .{file.ext} files."), 415
    if not settings.docs_configured():
        return render_template("open/unavailable.html", file=file, reason=None), 503
    config = editor_config.build(file, current_user, level, request.args.get("mode", "edit"),
                                 request.headers.get("User-Agent", ""))
    docs_url = settings.get("docs_url").rstrip("/")
    parts = urlsplit(docs_url)
    allow_docs_origin(f"{parts.scheme}://{parts.netloc}")
    return render_template(
        "open/editor.html",
        file=file,
        config=config,
        api_js=f"{docs_url}/web-apps/apps/api/documents/api.js",
    )
