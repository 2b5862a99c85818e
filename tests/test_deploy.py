"""The schema builds from migrations, matches the models, and the app runs under gunicorn."""

import os
import socket
import subprocess
import sys
import time

import requests
import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def env_for(tmp_path, database_url, **extra):
    env = dict(os.environ)
    env.update(
        {
            "COEDIT_INSTANCE_PATH": str(tmp_path / "instance"),
            "COEDIT_DATABASE_URL": database_url,
            "COEDIT_STORAGE_DIR": str(tmp_path / "storage"),
            "COEDIT_SECRET_KEY": "deploy-test-secret",
        }
    )
    env.update(extra)
    return env


def flask(tmp_path, database_url, *args, **extra):
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env_for(tmp_path, database_url, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_db_upgrade_from_empty_builds_the_schema_the_models_describe(tmp_path, fresh_database_url):
    result = flask(tmp_path, fresh_database_url, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            """
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from wsgi import app
from app.extensions import db
from app.models.search import not_ours
with app.app_context():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": not_ours})
        diff = compare_metadata(context, db.metadata)
print(repr(diff))
""",
        ],
        cwd=ROOT,
        env=env_for(tmp_path, fresh_database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "[]", check.stdout
    from app.models import Setting

    engine = sa.create_engine(fresh_database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            installation = connection.scalar(sa.select(Setting.value).where(Setting.key == "installation_id"))
    finally:
        engine.dispose()
    assert len(installation) == 32  # made by the migrations, so no request has to


def test_cli_creates_users_and_tokens(tmp_path, fresh_database_url):
    assert flask(tmp_path, fresh_database_url, "db", "upgrade").returncode == 0
    made = flask(tmp_path, fresh_database_url, "create-user", "dora", "--password", "pw-dora", "--admin")
    assert made.returncode == 0 and "admin" in made.stdout
    token = flask(tmp_path, fresh_database_url, "create-token", "dora")
    assert token.returncode == 0
    last = token.stdout.strip().splitlines()[-1]
    assert last.startswith("cot_") and len(last) > 30
    assert flask(tmp_path, fresh_database_url, "create-token", "nobody").returncode != 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_app_starts_with_gunicorn(tmp_path, fresh_database_url):
    assert flask(tmp_path, fresh_database_url, "db", "upgrade").returncode == 0
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env_for(tmp_path, fresh_database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except requests.RequestException:  # not up yet (or slow on a busy machine)
                assert time.time() < deadline, "gunicorn did not start"
                assert process.poll() is None, process.stdout.read().decode()
                time.sleep(0.2)
        assert response.status_code == 200 and response.json() == {"status": "ok"}
        assert requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).json()["status"] == "ok"
        login = requests.get(f"http://127.0.0.1:{port}/auth/login", timeout=5)
        assert login.status_code == 200 and "Sign in to Coedit" in login.text
    finally:
        process.terminate()
        process.wait(10)


def test_document_keys_survive_a_restart(tmp_path, fresh_database_url):
    """Keys are stored and derived from the installation id in the database, not the process."""
    assert flask(tmp_path, fresh_database_url, "db", "upgrade").returncode == 0
    script = """
import sqlalchemy as sa
from wsgi import app
from app.extensions import db
from app.models import File, Space, User
from app import transaction
from app.services import files, settings
from app.services.docs import keys
with app.app_context():
    file = db.session.scalar(sa.select(File))
    if file is None:
        user = User(username="u", display_name="U"); user.set_password("p")
        space = Space(name="S"); db.session.add_all([user, space]); db.session.commit()
        file = files.create_document(space, None, user, "Doc", "docx")
        transaction.commit()
    made = keys.make_key(settings.installation_id(), file.id, file.key_salt, file.version, file.key_serial)
    print(file.doc_key, made)
"""
    runs = [
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env_for(tmp_path, fresh_database_url),
            capture_output=True,
            text=True,
            timeout=120,
        )
        for _ in range(2)
    ]
    outputs = [run.stdout.split() for run in runs]
    assert all(run.returncode == 0 for run in runs), runs[0].stderr
    assert outputs[0] == outputs[1]
    stored, derived = outputs[0]
    assert stored == derived
    import re

    assert re.fullmatch(r"[0-9A-Za-z._=-]{1,128}", stored)


def test_the_compose_file_runs_the_production_shape():
    """deploy/compose.yaml (no Docker here to run it): nginx before two instances, a worker and one
    scheduler, PostgreSQL, Redis, MinIO and Docs 9 with JWT, migrations once, health checks."""
    import yaml

    with open(os.path.join(ROOT, "deploy", "compose.yaml")) as handle:
        compose = yaml.safe_load(handle)
    services = compose["services"]
    assert {
        "nginx",
        "coedit-1",
        "coedit-2",
        "worker",
        "scheduler",
        "migrate",
        "postgres",
        "redis",
        "minio",
        "documentserver",
    } <= set(services)
    for name in ("coedit-1", "coedit-2"):
        instance = services[name]
        assert instance["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "healthcheck" in instance and "gunicorn" in instance["command"]
        env = instance["environment"]
        assert env["COEDIT_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["COEDIT_STORAGE_URL"].startswith("s3://") and env["COEDIT_REDIS_URL"].startswith("redis://")
        assert env["COEDIT_DOCS_INTERNAL_URL"] == "http://documentserver"
        assert env["COEDIT_APP_URL_FOR_DOCS"] == "http://nginx"  # Docs reaches Coedit through the proxy
    assert "db" in services["migrate"]["command"] and services["migrate"]["restart"] == "no"
    assert not any("upgrade" in str(services[name].get("command")) for name in ("coedit-1", "coedit-2", "worker"))
    docs = services["documentserver"]
    assert docs["image"].startswith("onlyoffice/documentserver:9.") and docs["environment"]["JWT_ENABLED"] == "true"
    assert "beat" in services["scheduler"]["command"] and "worker" in services["worker"]["command"]
    template = services["nginx"]["volumes"][0].split(":")[0]
    assert os.path.exists(os.path.join(ROOT, "deploy", template))
    for name in ("postgres", "redis", "minio", "documentserver"):
        assert "healthcheck" in services[name], name


def test_the_compose_file_runs_prometheus_over_both_instances():
    """Prometheus with deploy/prometheus mounted, a pinned image, and the metrics token shared with
    the instances as a secret; the instances log JSON."""
    import yaml

    with open(os.path.join(ROOT, "deploy", "compose.yaml")) as handle:
        compose = yaml.safe_load(handle)
    services = compose["services"]
    prometheus = services["prometheus"]
    image, _, tag = prometheus["image"].partition(":")
    assert image == "prom/prometheus" and tag.startswith("v") and tag != "latest"
    mounted = {volume.split(":")[1]: volume.split(":")[0] for volume in prometheus["volumes"]}
    assert mounted["/etc/prometheus"] == "./prometheus"
    assert os.path.exists(os.path.join(ROOT, "deploy", "prometheus", "prometheus.yml"))
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    assert prometheus["secrets"] == ["metrics_token"]
    assert compose["secrets"]["metrics_token"] == {"environment": "COEDIT_METRICS_TOKEN"}
    with open(os.path.join(ROOT, "deploy", "prometheus", "prometheus.yml")) as handle:
        scrape = yaml.safe_load(handle)["scrape_configs"][0]
    assert scrape["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
    assert {target.split(":")[0] for target in scrape["static_configs"][0]["targets"]} == {"coedit-1", "coedit-2"}
    assert {"coedit-1", "coedit-2"} <= set(prometheus["depends_on"])
    for name in ("coedit-1", "coedit-2"):
        env = services[name]["environment"]
        assert env["COEDIT_LOG_FORMAT"] == "json"
        assert env["COEDIT_METRICS_TOKEN"].startswith("${COEDIT_METRICS_TOKEN:?")


def test_the_proxy_closes_idle_upstream_connections_before_gunicorn_does():
    """A keep-alive connection gunicorn closes just as nginx sends a request on it is reset, and
    nginx answers that POST (a Docs callback) 502 without retrying: nginx must give up first."""
    import re

    with open(os.path.join(ROOT, "gunicorn.conf.py")) as handle:
        gunicorn_idle = int(re.search(r"^keepalive = (\d+)$", handle.read(), re.M).group(1))
    with open(os.path.join(ROOT, "deploy", "nginx", "coedit.conf.template")) as handle:
        upstream = re.search(r"upstream coedit \{(.*?)\n\}", handle.read(), re.S).group(1)
    nginx_idle = int(re.search(r"keepalive_timeout (\d+)s;", upstream).group(1))
    assert gunicorn_idle > nginx_idle
