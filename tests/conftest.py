"""Fixtures: a fresh app and database per test, served over real HTTP on 127.0.0.1.

The database engine is SQLite unless COEDIT_TEST_DATABASE=postgresql (tests/databases.py).
"""

import json
import logging
import os
import shutil
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.models import ApiToken
from app.models import Membership
from app.models import Space
from app.models import User
from app.ops.logs import JsonFormatter
from app.ops.logs import RequestContextFilter
from tests.databases import DATABASES
from tests.helpers import SECRET
from tests.helpers import FakeDocsFiles
from tests.helpers import LiveServer
from tests.helpers import post_signed_callback
from tests.storage_servers import BACKENDS
from tests.storage_servers import SERVERS


def pytest_addoption(parser):
    parser.addoption(
        "--storage",
        choices=BACKENDS,
        default=os.environ.get("COEDIT_TEST_STORAGE", "local"),
        help="where the apps of the tests keep their blobs: local disk, S3 (moto's server) or SFTP (sshd), "
        "the servers started on loopback by the tests (default: local, or COEDIT_TEST_STORAGE)",
    )


def pytest_configure(config):
    global STORAGE_BACKEND
    STORAGE_BACKEND = config.getoption("--storage")


def pytest_unconfigure(config):
    SERVERS.stop()


STORAGE_BACKEND = "local"


def build_app(tmp_path, **overrides):
    """An app on tmp_path's database (apps built on one folder in a test share it), its blobs on the
    backend of this run (--storage) unless overridden."""
    storage_given = {"STORAGE_DIR", "STORAGE_URL"} & set(overrides)
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-app-secret",
        "DATABASE_URL": DATABASES.of_folder(tmp_path),
        **({} if storage_given else SERVERS.new_place(STORAGE_BACKEND, tmp_path)),
        "WTF_CSRF_ENABLED": False,
        "DOCS_JWT_SECRET": SECRET,
        "DOCS_TIMEOUT": (2, 5),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests only
        "PREVIEWS": False,  # no conversion after every upload; tests/test_conversions.py turns them on
    }
    config.update(overrides)
    app = create_app(config, instance_path=str(tmp_path / "instance"))
    DATABASES.own(app)
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture(scope="session", autouse=True)
def databases():
    """Fresh databases of the engine under test (tests/databases.py)."""
    yield DATABASES
    DATABASES.close()


@pytest.fixture(autouse=True)
def _databases_end_with_the_test(databases):
    yield
    databases.end_test()


@pytest.fixture
def fresh_database_url(databases, tmp_path):
    """An empty database of the engine under test, for an app in another process to migrate or build."""
    url = databases.fresh(tmp_path, "fresh", schema=False)
    yield url
    databases.drop(url)


class World:
    """The app with users alice (owner), bob (member), carol (outsider) and one space."""

    def __init__(self, app, server):
        self.app = app
        self.server = server
        self.url = server.url
        with app.app_context():
            users = {}
            for name, display, admin in (
                ("alice", "Alice Archer", True),
                ("bob", "Bob Baker", False),
                ("carol", "Carol Cook", False),
            ):
                user = User(username=name, display_name=display, is_admin=admin)
                user.set_password("pw-" + name)
                db.session.add(user)
                users[name] = user
            # The suite's rights expectations were written when members read new files by default;
            # this space keeps that (new spaces default to edit: tests/test_space_default.py).
            space = Space(name="Team", default_level="read")
            db.session.add(space)
            db.session.add(Membership(space=space, user=users["alice"], role="owner"))
            db.session.add(Membership(space=space, user=users["bob"], role="member"))
            self.tokens = {}
            for name, user in users.items():
                token, plain = ApiToken.issue(user)
                db.session.add(token)
                self.tokens[name] = plain
            db.session.commit()
            self.space_id = space.id
            self.user_ids = {name: user.id for name, user in users.items()}

    def client(self, name: str | None = None):
        """A test client signed in as name (session cookie)."""
        client = self.app.test_client()
        if name:
            response = client.post("/auth/login", data={"username": name, "password": "pw-" + name})
            assert response.status_code == 302
        return client

    def api(self, name: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def create_document(self, name="alice", title="Report", kind="docx") -> dict:
        response = self.client().post(
            f"/api/v1/spaces/{self.space_id}/documents", json={"title": title, "type": kind}, headers=self.api(name)
        )
        assert response.status_code == 201, response.data
        return response.get_json()

    def set_level(self, file_id: int, username: str, level: str) -> None:
        """Give one member a level on a file (as the rights dialog would)."""
        from app.models import FileRight

        def apply():
            right = db.session.scalar(
                sa.select(FileRight).where(FileRight.file_id == file_id, FileRight.user_id == self.user_ids[username])
            )
            if right is None:
                db.session.add(FileRight(file_id=file_id, user_id=self.user_ids[username], level=level))
            else:
                right.level = level
            db.session.commit()

        self.query(apply)

    def query(self, fn):
        with self.app.app_context():
            return fn()

    def file(self, file_id):
        from app.models import File

        return self.query(lambda: _detach(db.session.get(File, file_id)))

    def versions(self, file_id):
        from app.models import FileVersion

        return self.query(
            lambda: [
                _detach(v)
                for v in db.session.scalars(
                    sa.select(FileVersion).where(FileVersion.file_id == file_id).order_by(FileVersion.number)
                )
            ]
        )

    def blob_keys(self, under: str = "") -> list[str]:
        """The keys of the blobs the app's storage holds, asked of the storage itself (disk, S3, SFTP)."""
        return SERVERS.keys(self.app.config, under)

    def blob_bytes(self, key: str) -> bytes:
        from app.services.storage import get_storage

        def read():
            with get_storage().open(key) as stream:
                return stream.read()

        return self.query(read)

    def head_bytes(self, file_id) -> bytes:
        response = self.client().get(f"/api/v1/files/{file_id}/content", headers=self.api("alice"))
        assert response.status_code == 200
        return response.data


def _detach(obj):
    if obj is not None:
        db.session.expunge(obj)
    return obj


@pytest.fixture
def fake_docs():
    docs = FakeDocsFiles()
    yield docs
    docs.stop()


@pytest.fixture
def make_world(tmp_path):
    """Build worlds (app + server + people) with config overrides; all are stopped afterwards."""
    servers = []

    def make(**overrides):
        app = build_app(tmp_path, **overrides)
        server = LiveServer(app)  # also sets APP_URL_FOR_DOCS to where it listens
        servers.append(server)
        return World(app, server)

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def world(make_world, fake_docs):
    """The app wired to a scriptable Docs file server (for callback tests)."""
    return make_world(DOCS_URL=fake_docs.url)


@pytest.fixture
def csrf_world(make_world, fake_docs):
    """Like world, with CSRF checks on, as in production."""
    return make_world(DOCS_URL=fake_docs.url, WTF_CSRF_ENABLED=True)


@pytest.fixture
def open_world(make_world):
    """Docs settings not fixed by the environment, so the admin page can change them."""
    return make_world(DOCS_JWT_SECRET=None)


CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# As the machine's notes advise: without the background-networking flags Chromium keeps
# trying hosts this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole run, driven by Playwright (never its own download)."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is not installed; `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


# --- the rights matrix's people: every role a file knows ----------------------------------

# Role -> (level set on the file, space role)
MEMBERS = {
    "alice": (None, "owner"),  # owner of the file and the space
    "dave": (None, "admin"),  # space admin
    "bob": ("edit", "member"),  # member with an override
    "erin": ("review", "member"),
    "fred": ("comment", "member"),
    "gail": ("fill", "member"),
    "hank": (None, "member"),  # follows the default: read
    "ivy": ("none", "member"),  # override: no access
}
EXPECTED_MODE = {
    "alice": "edit",
    "dave": "edit",
    "bob": "edit",
    "erin": "edit",
    "fred": "edit",
    "gail": "edit",
    "hank": "view",
}


@pytest.fixture
def matrix(world):
    from app.extensions import db
    from app.models import ApiToken
    from app.models import Membership
    from app.models import User

    def add_people():
        space_id = world.space_id
        for name, (_, role) in MEMBERS.items():
            if name in world.user_ids:
                continue
            user = User(username=name, display_name=name.title())
            user.set_password("pw-" + name)
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(space_id=space_id, user_id=user.id, role=role))
            token, plain = ApiToken.issue(user)
            db.session.add(token)
            world.tokens[name] = plain
            world.user_ids[name] = user.id
        db.session.commit()

    world.query(add_people)
    doc = world.create_document("alice", "Matrix")
    for name, (level, _) in MEMBERS.items():
        if level:
            world.set_level(doc["id"], name, level)
    links = {}
    for mode in ("view", "edit"):
        links[mode] = (
            world.client()
            .post(f"/api/v1/files/{doc['id']}/links", json={"mode": mode}, headers=world.api("alice"))
            .get_json()
        )
    for state in ("revoked", "expired"):
        links[state] = (
            world.client()
            .post(f"/api/v1/files/{doc['id']}/links", json={"mode": "edit"}, headers=world.api("alice"))
            .get_json()
        )
    world.client().delete(f"/api/v1/files/{doc['id']}/links/{links['revoked']['id']}", headers=world.api("alice"))

    def expire():
        from app.models import ShareLink

        db.session.execute(
            sa.update(ShareLink)
            .where(ShareLink.id == links["expired"]["id"])
            .values(expires_at=datetime.now(timezone.utc) - timedelta(minutes=1))
        )
        db.session.commit()

    world.query(expire)
    return {"doc": doc, "links": links}


class Lines(logging.Handler):
    """The JSON lines the app would write, as the json LOG_FORMAT formats them."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestContextFilter())
        self.lines: list[dict] = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines():
    """The app's log lines at INFO and above while the test runs, as JSON objects."""
    handler = Lines()
    logger = logging.getLogger("coedit")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def opened(world):
    """A docx of alice's that bob may edit, with bob's editor config and a first status 1 (he joined)."""
    file = world.create_document("alice", "Report")
    world.set_level(file["id"], "bob", "edit")
    config = world.client().get(f"/api/v1/files/{file['id']}/editor-config", headers=world.api("bob")).get_json()
    bob = str(world.user_ids["bob"])
    joined = {"key": config["document"]["key"], "status": 1, "users": [bob], "actions": [{"type": 1, "userid": bob}]}
    callback = config["editorConfig"]["callbackUrl"]
    assert post_signed_callback(callback, joined).json() == {"error": 0}
    return {"id": file["id"], "callback": callback, "joined": joined, "bob": bob}
