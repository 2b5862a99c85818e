"""Scale of content: each page and API list of a large space against the same page of a small one.

``seed_large`` fills a database (bulk inserts through SQLAlchemy Core, seconds) with a space of
10,000 files in 200 folders and 500 members, a file of 2,000 versions and 5,000 notifications for
its owner, beside a space of 10 files; ``run`` times every page (median of REQUESTS sequential
requests, one keep-alive session) for both and records large / small, which must stay <= 2.

Standalone: ``python -m bench.scale`` (SQLite) or ``python -m bench.scale --postgresql`` (a
database made on the suite's PostgreSQL server for the run and dropped after it).
"""

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta

import requests
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app.models import ApiToken
from app.models import File
from app.models import FileVersion
from app.models import Folder
from app.models import Membership
from app.models import Notification
from app.models import Post
from app.models import Space
from app.models import User
from app.models.base import utcnow

FILES, FOLDERS, MEMBERS, VERSIONS, NOTIFICATIONS, POSTS, TRASHED = 10_000, 200, 500, 2_000, 5_000, 1_000, 500
SMALL_FILES = 10
REQUESTS = int(os.environ.get("BENCH_SCALE_REQUESTS", "15"))
LIMIT = 2.0
SMALL_USER_PASSWORD = "bench-small"


def _file_text(connection, rows: list[dict]) -> None:
    """Index the files' text as search does (app/services/search.py keeps one row per file)."""
    if connection.dialect.name == "postgresql":
        statement = sa.text("INSERT INTO file_text (file_id, version, body) VALUES (:id, 1, :body)")
    else:
        statement = sa.text("INSERT INTO file_text (rowid, body, version) VALUES (:id, :body, 1)")
    connection.execute(statement, rows)


def _space(connection, name: str, owner_id: int) -> int:
    space_id = connection.execute(
        sa.insert(Space).values(name=name, default_level="edit").returning(Space.id)
    ).scalar_one()
    connection.execute(sa.insert(Membership).values(space_id=space_id, user_id=owner_id, role="owner"))
    return space_id


def _files(connection, space_id: int, owner_id: int, places: list, prefix: str, trashed: bool = False) -> list[int]:
    """One file (with its head version 1) per entry of places (a folder id or None); their ids."""
    now = utcnow()
    tag = secrets.token_hex(4)
    connection.execute(
        sa.insert(File),
        [
            {
                "space_id": space_id,
                "folder_id": folder_id,
                "title": f"{prefix} {i:05d}.docx",
                "ext": "docx",
                "owner_id": owner_id,
                "version": 1,
                "doc_key": f"{tag}-{i}",
                "updated_at": now - timedelta(minutes=i),
                "trashed_at": now if trashed else None,
                "trashed_by": owner_id if trashed else None,
                "default_level": "edit",
            }
            for i, folder_id in enumerate(places)
        ],
    )
    ids = list(connection.scalars(sa.select(File.id).where(File.doc_key.like(f"{tag}-%")).order_by(File.id)))
    connection.execute(
        sa.insert(FileVersion),
        [
            {
                "file_id": fid,
                "number": 1,
                "storage_key": f"bench/{fid}",
                "size": 1000 + fid % 5000,
                "sha256": "0" * 64,
                "source": "upload",
                "author_id": owner_id,
            }
            for fid in ids
        ],
    )
    return ids


def _history(connection, file_id: int, authors: list[int], count: int) -> None:
    connection.execute(
        sa.insert(FileVersion),
        [
            {
                "file_id": file_id,
                "number": number,
                "storage_key": f"bench/{file_id}/{number}",
                "size": number,
                "sha256": "0" * 64,
                "source": "save",
                "author_id": authors[number % len(authors)],
                "coauthors_json": f'["{authors[(number + 1) % len(authors)]}"]',
            }
            for number in range(2, count + 1)
        ],
    )
    connection.execute(sa.update(File).where(File.id == file_id).values(version=count))


def _notifications(connection, user_id: int, file_ids: list[int], count: int) -> None:
    now = utcnow()
    connection.execute(
        sa.insert(Notification),
        [
            {
                "user_id": user_id,
                "kind": "mention",
                "text": f"Someone mentioned you ({i})",
                "link": f"/files/{file_ids[i % len(file_ids)]}",
                "file_id": file_ids[i % len(file_ids)],
                "created_at": now - timedelta(seconds=i),
                "read_at": now if i % 3 else None,
            }
            for i in range(count)
        ],
    )


def _posts(connection, space_id: int, authors: list[int], file_ids: list[int], count: int) -> None:
    now = utcnow()
    connection.execute(
        sa.insert(Post),
        [
            {
                "space_id": space_id,
                "author_id": authors[i % len(authors)],
                "file_id": file_ids[i % len(file_ids)] if i % 2 else None,
                "kind": "post",
                "body": f"Post {i}",
                "created_at": now - timedelta(seconds=i),
            }
            for i in range(count)
        ],
    )


def seed_large(database_url: str, owner_username: str) -> dict:
    """Fill the database: a large space owned by owner_username and a small one beside it, and a
    second person who only belongs to the small one (the small side of the per-person lists).

    Returns the ids ``run`` needs, with the small person's login and API token.
    """
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    started = time.monotonic()
    try:
        with engine.begin() as connection:
            owner = connection.scalar(sa.select(User.id).where(User.username == owner_username))
            small_name = f"{owner_username}-small"
            small_user = connection.execute(
                sa.insert(User)
                .values(
                    username=small_name,
                    username_key=small_name,
                    display_name="Small Bench",
                    password_hash=generate_password_hash(SMALL_USER_PASSWORD, "pbkdf2:sha256:1000"),
                )
                .returning(User.id)
            ).scalar_one()
            small_token = "cot_" + secrets.token_urlsafe(32)
            connection.execute(
                sa.insert(ApiToken).values(user_id=small_user, token_hash=ApiToken.hash(small_token), name="bench")
            )
            connection.execute(
                sa.insert(User),
                [
                    {
                        "username": f"member{i:03d}",
                        "username_key": f"member{i:03d}",
                        "display_name": f"Member {i:03d}",
                        "password_hash": "!",
                    }
                    for i in range(MEMBERS)
                ],
            )
            members = list(connection.scalars(sa.select(User.id).where(User.username.like("member%"))))

            large = _space(connection, "Large", owner)
            connection.execute(
                sa.insert(Membership), [{"space_id": large, "user_id": uid, "role": "member"} for uid in members]
            )
            connection.execute(
                sa.insert(Folder), [{"space_id": large, "name": f"Folder {i:03d}"} for i in range(FOLDERS)]
            )
            folders = list(connection.scalars(sa.select(Folder.id).where(Folder.space_id == large)))
            per_folder = FILES // FOLDERS - 1  # and one per folder at the top level
            places = [folder for folder in folders for _ in range(per_folder)] + [None] * FOLDERS
            large_files = _files(connection, large, owner, places, "Report")
            _files(connection, large, owner, [None] * TRASHED, "Old report", trashed=True)
            _history(connection, large_files[0], members, VERSIONS)
            _notifications(connection, owner, large_files, NOTIFICATIONS)
            _posts(connection, large, members, large_files, POSTS)
            _file_text(connection, [{"id": fid, "body": f"quarterly figures {fid}"} for fid in large_files])

            small = _space(connection, "Small", owner)
            connection.execute(sa.insert(Membership).values(space_id=small, user_id=small_user, role="member"))
            connection.execute(
                sa.insert(Membership), [{"space_id": small, "user_id": uid, "role": "member"} for uid in members[:8]]
            )
            small_files = _files(connection, small, owner, [None] * SMALL_FILES, "Report")
            _files(connection, small, owner, [None] * 2, "Old report", trashed=True)
            _history(connection, small_files[0], members[:8], SMALL_FILES)
            _notifications(connection, small_user, small_files, SMALL_FILES)
            _posts(connection, small, members[:8], small_files, SMALL_FILES)
            _file_text(connection, [{"id": fid, "body": f"quarterly figures {fid}"} for fid in small_files])
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("ANALYZE")  # fresh statistics, as autovacuum would make them
    finally:
        engine.dispose()
    print(f"seeded in {time.monotonic() - started:.1f} s", flush=True)
    return {
        "large_space": large,
        "small_space": small,
        "large_folder": folders[0],
        "large_history": large_files[0],
        "small_history": small_files[0],
        "small_user": (small_name, SMALL_USER_PASSWORD),
        "small_auth": {"Authorization": f"Bearer {small_token}"},
    }


def login(base_url: str, username: str, password: str) -> requests.Session:
    """A session signed in through the login form (its CSRF token included)."""
    session = requests.Session()
    page = session.get(base_url + "/auth/login", timeout=30).text
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"username": username, "password": password}
    if found:
        data["csrf_token"] = found.group(1)
    answer = session.post(base_url + "/auth/login", data=data, allow_redirects=False, timeout=30)
    if answer.status_code != 302:
        raise RuntimeError(f"could not sign in as {username}: {answer.status_code}")
    return session


def _timed(session: requests.Session, url: str, headers: dict | None) -> float:
    started = time.perf_counter()
    answer = session.get(url, headers=headers, timeout=60)
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise RuntimeError(f"{url}: {answer.status_code} {answer.text[:200]}")
    return elapsed * 1000


def medians_ms(large: tuple, small: tuple) -> tuple[float, float]:
    """The median times of REQUESTS GETs of each (session, url, headers), the two taking turns so
    that whatever else the machine does weighs on both alike (after two rounds to warm caches)."""
    large_times, small_times = [], []
    for round_ in range(REQUESTS + 2):
        large_ms, small_ms = _timed(*large), _timed(*small)
        if round_ >= 2:
            large_times.append(large_ms)
            small_times.append(small_ms)
    return statistics.median(large_times), statistics.median(small_times)


def run(
    table,
    base_url: str,
    auth_headers: dict,
    ids: dict,
    owner_login: tuple[str, str] = ("bench", "bench"),
    engine: str = "",
):
    """Time each page and API list on the large space and on the small one; large / small <= 2.

    ``auth_headers`` carry the owner's API token, ``owner_login`` their username and password (the
    pages need a signed-in session).
    """
    where = f" on {engine}" if engine else ""
    table.begin(f"Scale of content{where}: large space / small space (median of {REQUESTS} requests)")
    owner = login(base_url, *owner_login)
    small_person = login(base_url, *ids["small_user"])
    api = requests.Session()
    large, small = ids["large_space"], ids["small_space"]
    big_file, small_file = ids["large_history"], ids["small_history"]
    # (name, large session, large path, large headers, small session, small path, small headers)
    pages = [
        ("space page", owner, f"/spaces/{large}", None, owner, f"/spaces/{small}", None),
        (
            "space page by size",
            owner,
            f"/spaces/{large}?sort=size&order=desc",
            None,
            owner,
            f"/spaces/{small}?sort=size&order=desc",
            None,
        ),
        ("space page 4", owner, f"/spaces/{large}?page=4", None, owner, f"/spaces/{small}", None),
        ("folder page", owner, f"/spaces/{large}?folder={ids['large_folder']}", None, owner, f"/spaces/{small}", None),
        (
            "space settings (members)",
            owner,
            f"/spaces/{large}/settings",
            None,
            owner,
            f"/spaces/{small}/settings",
            None,
        ),
        ("trash", owner, f"/spaces/{large}/trash", None, owner, f"/spaces/{small}/trash", None),
        ("file page (versions)", owner, f"/files/{big_file}", None, owner, f"/files/{small_file}", None),
        ("notifications page", owner, "/notifications", None, small_person, "/notifications", None),
        ("home", owner, "/", None, small_person, "/", None),
        ("search", owner, "/search?q=quarterly", None, small_person, "/search?q=quarterly", None),
        (
            "API space files",
            api,
            f"/api/v1/spaces/{large}/files",
            auth_headers,
            api,
            f"/api/v1/spaces/{small}/files",
            auth_headers,
        ),
        (
            "API versions",
            api,
            f"/api/v1/files/{big_file}/versions",
            auth_headers,
            api,
            f"/api/v1/files/{small_file}/versions",
            auth_headers,
        ),
        (
            "API notifications",
            api,
            "/api/v1/notifications",
            auth_headers,
            api,
            "/api/v1/notifications",
            ids["small_auth"],
        ),
        (
            "API search",
            api,
            "/api/v1/search?q=quarterly",
            auth_headers,
            api,
            "/api/v1/search?q=quarterly",
            ids["small_auth"],
        ),
    ]
    ratios = {}
    for name, large_session, large_path, large_headers, small_session, small_path, small_headers in pages:
        large_ms, small_ms = medians_ms(
            (large_session, base_url + large_path, large_headers), (small_session, base_url + small_path, small_headers)
        )
        table.note(f"{name}: small space", small_ms, "ms")
        table.at_most(f"{name}: large / small", large_ms / small_ms, "x", LIMIT)
        ratios[name] = (large_ms, small_ms)
    return ratios


def main() -> None:
    """Start Coedit under gunicorn on a fresh database, seed it, and print the table."""
    from bench.__main__ import ROOT
    from bench.__main__ import Gunicorn
    from bench.table import Table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", action="store_true", help="on a PostgreSQL database made for the run")
    options = parser.parse_args()
    work = tempfile.mkdtemp(prefix="coedit-bench-scale-")
    server_engine = None
    if options.postgresql:
        from tests.databases import POSTGRES_URL

        name = f"coedit_bench_scale_{secrets.token_hex(4)}"
        server_engine = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with server_engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        database_url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    else:
        database_url = f"sqlite:///{work}/bench.db"
    env = {
        **os.environ,
        "COEDIT_INSTANCE_PATH": os.path.join(work, "instance"),
        "COEDIT_DATABASE_URL": database_url,
        "COEDIT_STORAGE_DIR": os.path.join(work, "storage"),
        "COEDIT_SECRET_KEY": "bench-app-secret",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    coedit = None
    try:
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run(
            [*flask, "create-user", "bench", "--password", "bench"], cwd=ROOT, env=env, check=True, capture_output=True
        )
        token = subprocess.run(
            [*flask, "create-token", "bench"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        ids = seed_large(database_url, "bench")
        coedit = Gunicorn("wsgi:app", env)
        table = Table()
        run(table, coedit.url, {"Authorization": f"Bearer {token.splitlines()[-1]}"}, ids)
        missed = table.failed()
        print(f"\n{len(missed)} of {len(table.rows)} figures missed their target" if missed else "\nall within target")
    finally:
        if coedit is not None:
            coedit.stop()
        if server_engine is not None:
            with server_engine.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            server_engine.dispose()


if __name__ == "__main__":
    main()
