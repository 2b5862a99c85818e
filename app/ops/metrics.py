"""Prometheus metrics of the things that matter: callbacks and their outcomes."""

from prometheus_client import Counter

CALLBACKS = Counter("coedit_docs_callbacks_total", "Callbacks from the Document Server", ["status", "outcome"])
DOWNLOADS = Counter(
    "coedit_docs_downloads_total", "Files fetched by the Document Server (or its editor)", ["purpose", "outcome"]
)
