"""The app killed between downloading a save and swapping it in: at restart the file is whole,
the temporary file is gone, and Docs' retry stores the save exactly once."""

import json
import os
import signal
import subprocess
import sys
import time

from tests.helpers import SECRET
from tests.helpers import docx_text
from tests.helpers import docx_with

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PRELUDE = """
import json, os, sys, time
from app import create_app
app = create_app({{"DATABASE_URL": {db!r}, "STORAGE_DIR": {storage!r}, "SECRET_KEY": "crash",
                  "DOCS_URL": {docs!r}, "DOCS_JWT_SECRET": {secret!r}, "APP_URL_FOR_DOCS": "http://127.0.0.1:1"}},
                 instance_path={instance!r})
"""

SETUP = """
from app.extensions import db
from app.models import Membership, Space, User
from app import transaction
from app.services import files
from app.services.docs import editor_config
with app.app_context():
    db.create_all()
    user = User(username="u", display_name="U"); user.set_password("p")
    space = Space(name="S"); db.session.add_all([user, space])
    db.session.add(Membership(space=space, user=user, role="owner"))
    db.session.commit()
    file = files.create_document(space, None, user, "Doc", "docx")
    transaction.commit()
    with app.test_request_context():
        config = editor_config.build(file, user, "edit")
    print(json.dumps({{"id": file.id, "key": file.doc_key, "callback": config["editorConfig"]["callbackUrl"]}}))
"""

SAVE = """
import jwt
from app.services.storage import local
body = json.loads({body!r})
if {crash!r}:
    def hang(self, path, prefix):
        open({marker!r}, "w").write(path)
        time.sleep(120)  # killed here: downloaded and validated, not yet in storage
    local.LocalStorage.put_file = hang
signed = dict(body, token=jwt.encode(dict(body, iat=int(time.time()), exp=int(time.time()) + 300), {secret!r},
                                    algorithm="HS256"))
path = {callback!r}.split("127.0.0.1:1", 1)[1]
response = app.test_client().post(path, json=signed)
print(response.status_code, response.get_data(as_text=True))
"""


def run(tmp_path, database_url, fake_docs, script, **values):
    settings = dict(
        db=database_url,
        storage=str(tmp_path / "storage"),
        docs=fake_docs.url,
        secret=SECRET,
        instance=str(tmp_path / "instance"),
    )
    code = (PRELUDE + script).format(**settings, **values)
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_killed_between_download_and_swap(tmp_path, fresh_database_url, fake_docs):
    setup = run(tmp_path, fresh_database_url, fake_docs, SETUP)
    out, err = setup.communicate(timeout=60)
    assert setup.returncode == 0, err
    doc = json.loads(out.strip().splitlines()[-1])
    url = fake_docs.put("saved.docx", docx_with("the saved edit"))
    body = json.dumps({"key": doc["key"], "status": 2, "url": url, "filetype": "docx", "users": ["1"]})
    marker = str(tmp_path / "marker")

    crashing = run(
        tmp_path, fresh_database_url, fake_docs, SAVE, body=body, crash=True, marker=marker, callback=doc["callback"]
    )
    deadline = time.time() + 60
    while not os.path.exists(marker):
        assert time.time() < deadline and crashing.poll() is None, crashing.stderr.read()
        time.sleep(0.05)
    temp_path = open(marker).read()
    assert os.path.exists(temp_path)
    crashing.send_signal(signal.SIGKILL)
    crashing.wait(10)

    # Restart: the orphaned temporary file is swept, the file is whole at version 1.
    check = run(
        tmp_path,
        fresh_database_url,
        fake_docs,
        """
from app.services import files
from app.models import File
from app.extensions import db
with app.app_context():
    file = db.session.get(File, {id})
    head = files.head_version(file)
    print(json.dumps({{"version": file.version, "key": file.doc_key,
                      "tmp": os.listdir(os.path.join({storage!r}, "tmp")),
                      "path": os.path.join({storage!r}, head.storage_key)}}))
""".replace("{id}", str(doc["id"])),
    )
    out, err = check.communicate(timeout=60)
    assert check.returncode == 0, err
    state = json.loads(out.strip().splitlines()[-1])
    assert state["version"] == 1 and state["key"] == doc["key"] and state["tmp"] == []
    assert not os.path.exists(temp_path)
    assert docx_text(open(state["path"], "rb").read()) == []

    # Docs retries (the connection broke, so it never saw an answer): stored exactly once.
    for _ in range(2):
        retry = run(
            tmp_path,
            fresh_database_url,
            fake_docs,
            SAVE,
            body=body,
            crash=False,
            marker=marker,
            callback=doc["callback"],
        )
        out, err = retry.communicate(timeout=60)
        assert out.startswith("200"), (out, err)
    final = run(
        tmp_path,
        fresh_database_url,
        fake_docs,
        """
from app.services import files
from app.models import File, FileVersion
from app.extensions import db
import sqlalchemy as sa
with app.app_context():
    file = db.session.get(File, {id})
    count = db.session.scalar(sa.select(sa.func.count(FileVersion.id)).where(FileVersion.file_id == file.id))
    print(json.dumps({{"version": file.version, "count": count,
                      "path": os.path.join({storage!r}, files.head_version(file).storage_key)}}))
""".replace("{id}", str(doc["id"])),
    )
    out, err = final.communicate(timeout=60)
    state = json.loads(out.strip().splitlines()[-1])
    assert state["version"] == 2 and state["count"] == 2
    assert docx_text(open(state["path"], "rb").read()) == ["the saved edit"]
