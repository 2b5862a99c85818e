"""The WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``.

Settings come from COEDIT_* environment variables (app/config.py); COEDIT_INSTANCE_PATH names
the instance folder.
"""

import os

from app import create_app
from app.config import from_environment

app = create_app(from_environment(os.environ), instance_path=os.environ.get("COEDIT_INSTANCE_PATH"))
