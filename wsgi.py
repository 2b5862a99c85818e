"""The entry points: ``gunicorn wsgi:app`` (or ``flask --app wsgi ...``) and the job workers,
``celery -A wsgi:celery worker`` and ``celery -A wsgi:celery beat`` (app/jobs.py).

Settings come from COEDIT_* environment variables (app/config.py); COEDIT_INSTANCE_PATH names
the instance folder.
"""

import os

from app import create_app
from app.config import from_environment

app = create_app(from_environment(os.environ), instance_path=os.environ.get("COEDIT_INSTANCE_PATH"))
celery = app.extensions["celery"]
