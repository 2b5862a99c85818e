"""The files an integrator hands the editor through its methods: insertImage, setRequestedDocument,
setRequestedSpreadsheet, setReferenceData, setReferenceSource (and the older setRevisedFile,
setMailMergeRecipients).

Checked as Docs does: with JWT on, the object's token must verify with the Docs secret and its
payload is what counts; then each URL is fetched with Docs' own JWT, like any download.
"""

from __future__ import annotations

import base64

from . import tokens
from .outbound import DownloadError

IMAGES = ("bmp", "gif", "jpe", "jpeg", "jpg", "png", "tif", "tiff")
DOCUMENTS = ("doc", "docm", "docx", "dot", "dotm", "dotx", "epub", "fodt", "odt", "ott", "rtf", "wps")
SPREADSHEETS = ("csv", "fods", "ods", "ots", "xls", "xlsm", "xlsx", "xlt", "xltm", "xltx")
# Inserted images the emulated editor shows (its page allows data: images), small ones only.
PREVIEWED = {"png": "image/png", "gif": "image/gif", "jpg": "image/jpeg", "jpeg": "image/jpeg", "bmp": "image/bmp"}
PREVIEW_BYTES = 256 * 1024
# Method -> (where its object names the files, the types Docs accepts) [api.onlyoffice.com, docEditor methods].
METHODS = {
    "insertImage": ("images", IMAGES),
    "setRequestedDocument": ("url", DOCUMENTS),
    "setRevisedFile": ("url", DOCUMENTS),
    "setRequestedSpreadsheet": ("url", SPREADSHEETS),
    "setMailMergeRecipients": ("url", SPREADSHEETS),
    "setReferenceData": ("url", SPREADSHEETS),
    "setReferenceSource": ("url", SPREADSHEETS),
}
# Linked data's answers name the source besides its link (the editor keeps them in the link).
REFERENCES = ("setReferenceData", "setReferenceSource")


def check(emu, method: str, data) -> dict:
    """``{"ok": True, "method", "c", "files": [{fileType, bytes}], ...}`` when Docs would use the object,
    else ``{"error": <what the editor would say>}``."""
    if method not in METHODS:
        return {"error": f"unknown method {method!r}"}
    if not isinstance(data, dict):
        return {"error": "no object"}
    if data.get("error"):
        return {"error": str(data["error"])}
    if emu.options.jwt_enabled:
        try:
            decoded = tokens.verify(data.get("token"), emu.options.jwt_secret)
        except tokens.TokenExpired:
            return {"error": "the token has expired"}
        except tokens.TokenInvalid as exc:
            return {"error": f"invalid token ({exc})"}
        data = tokens.strip_claims(decoded)  # Docs uses what was signed, not what sits beside it
    field, accepted = METHODS[method]
    if field == "images":
        items = data.get("images") if isinstance(data.get("images"), list) else []
    else:
        items = [data]
    if not items:
        return {"error": "no file"}
    files = []
    for item in items:
        file_type = str((item or {}).get("fileType") or "").lower() if isinstance(item, dict) else ""
        if file_type not in accepted:
            return {"error": f"unsupported file type {file_type!r}"}
        try:
            content = emu.downloader.fetch(item.get("url"), method)
        except DownloadError as exc:
            return {"error": f"download failed ({exc})"}
        entry = {"fileType": file_type, "bytes": len(content)}
        if field == "images" and file_type in PREVIEWED and len(content) <= PREVIEW_BYTES:
            entry["preview"] = f"data:{PREVIEWED[file_type]};base64,{base64.b64encode(content).decode()}"
        files.append(entry)
    answer = {"ok": True, "method": method, "c": data.get("c"), "files": files}
    if method in REFERENCES:
        answer.update(path=data.get("path"), key=data.get("key"), referenceData=data.get("referenceData"))
    return answer
