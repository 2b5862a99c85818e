"""Create a blank document in a space and open it in the editor."""

from flask import flash
from flask import redirect
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from app.create import bp
from app.services import files as file_service
from app.services import rights
from app.services.exceptions import BadRequest
from app.spaces.forms import CreateDocumentForm
from app.spaces.views import back_to
from app.spaces.views import folder_of


@bp.route("/spaces/<int:space_id>/documents", methods=("POST",))
@login_required
def document(space_id: int):
    """Make the blank file as version 1, then open it for editing."""
    space, _ = rights.get_space_or_404(space_id, current_user)
    form = CreateDocumentForm()
    folder = folder_of(space, form.folder.data)
    if not form.validate_on_submit():
        flash("Give the document a name and choose its type.", "danger")
        return back_to(space, folder)
    try:
        file = file_service.create_document(space, folder, current_user, form.name.data, form.kind.data)
    except BadRequest as exc:
        flash(exc.message, "danger")
        return back_to(space, folder)
    return redirect(url_for("open.editor", file_id=file.id, mode="edit"))
