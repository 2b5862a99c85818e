"""Page helpers several blueprints share (the editor page of members and of guests)."""

from flask import render_template

from app.models import File
from app.security import allow_docs_origin
from app.services import settings


def render_editor_page(
    file: File,
    config: dict,
    back_url: str | None = None,
    back_label: str = "",
    mentions: bool = False,
    can_restore: bool = False,
    can_rename: bool = False,
):
    """The editor page for a signed config, allowed by the CSP to load api.js and frame Docs.

    ``file`` is only read (its id and title): the File, or the row ``rights.file_row_or_404`` gives.

    ``mentions`` wires @mentions, history and the editor's requests (signed-in members only).
    """
    docs_url = settings.get("docs_url").rstrip("/")
    allow_docs_origin(settings.http_origin(docs_url))  # checked by editor_config.open_for
    return render_template(
        "editor/editor.html",
        file=file,
        config=config,
        back_url=back_url,
        back_label=back_label,
        api_js=f"{docs_url}/web-apps/apps/api/documents/api.js",
        mentions=mentions,
        can_restore=can_restore,
        can_rename=can_rename,
    )
