"""Settings live in one table (app/config.py), documented by the README and read from COEDIT_*."""

import os
import re

from app.config import SETTINGS
from app.config import Config
from app.config import from_environment
from app.config import markdown_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_readme_shows_exactly_the_settings_table():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    table = re.search(r"<!-- settings table[^>]*-->\n(.*?)\n<!-- end of settings table -->", readme, re.S).group(1)
    assert table == markdown_table(), "run `flask --app wsgi settings` and paste its table into the README"


def test_every_setting_the_code_reads_is_declared():
    declared = {setting.name for setting in SETTINGS}
    read = set()
    for folder, _, names in os.walk(os.path.join(ROOT, "app")):
        for name in names:
            if name.endswith(".py"):
                text = open(os.path.join(folder, name), encoding="utf-8").read()
                read |= set(re.findall(r"""config(?:\.get\(|\[)["']([A-Z][A-Z0-9_]+)["']""", text))
    framework = {"SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "TESTING", "DEBUG", "SECRET_KEY_FALLBACKS"}
    assert read - declared - framework == set()
    assert all(getattr(Config, setting.name) == setting.default for setting in SETTINGS)


def test_settings_come_from_the_environment_typed_by_their_default():
    values = from_environment(
        {
            "COEDIT_DOCS_URL": "http://docs.example",
            "COEDIT_EDITOR_TOKEN_SECONDS": "90",
            "COEDIT_SESSION_COOKIE_SECURE": "true",
            "COEDIT_DOCS_TIMEOUT": "3, 30",
            "COEDIT_UNKNOWN": "x",
            "COEDIT_REDIS_URL": "",
        }
    )
    assert values == {
        "DOCS_URL": "http://docs.example",
        "EDITOR_TOKEN_SECONDS": 90,
        "SESSION_COOKIE_SECURE": True,
        "DOCS_TIMEOUT": (3, 30),
    }
