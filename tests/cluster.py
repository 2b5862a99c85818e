"""An installation of several instances on loopback, as production runs it: Debian's nginx in front
of two gunicorn instances (each with its own instance folder and job worker), sharing PostgreSQL,
Redis, an S3 server and one secret, with the Docs emulator.

Used by tests/test_two_instances.py; every part is a real server on 127.0.0.1.
"""

import concurrent.futures
import os
import shutil
import signal
import string
import subprocess
import sys
import time
import uuid

import requests

from docs_emulator.testing import start_emulator
from tests.databases import Databases
from tests.helpers import SECRET
from tests.helpers import AppProcess
from tests.helpers import csrf_token
from tests.helpers import redis_url
from tests.helpers import wait_for
from tests.storage_servers import AWS_ENVIRONMENT
from tests.storage_servers import S3Server
from tests.storage_servers import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(ROOT, "deploy", "nginx", "coedit.conf.template")
REDIS = redis_url(13)
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Nginx:
    """Debian's nginx in the foreground, with deploy/nginx's site rendered for these upstreams."""

    def __init__(self, workdir, upstreams: list[str], port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access_log = os.path.join(workdir, "nginx-access.log")
        with open(TEMPLATE) as handle:
            site = string.Template(handle.read()).safe_substitute(
                NGINX_LISTEN=f"127.0.0.1:{self.port}",
                NGINX_ACCESS_LOG=self.access_log,
                COEDIT_UPSTREAM_1=upstreams[0],
                COEDIT_UPSTREAM_2=upstreams[1],
            )
        temp = os.path.join(workdir, "nginx-temp")
        os.makedirs(temp, exist_ok=True)
        config = os.path.join(workdir, "nginx.conf")
        with open(config, "w") as handle:
            handle.write(f"""
daemon off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{site}
}}
""")
        self.process = subprocess.Popen(
            [NGINX, "-c", config, "-e", os.path.join(workdir, "nginx-error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: self._answers(), 20, "nginx")

    def _answers(self) -> bool:
        try:
            return requests.get(self.url + "/healthz", timeout=2).status_code in (200, 502)
        except requests.RequestException:
            return False

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Instance:
    """One app instance: gunicorn (and, once jobs have a broker, its worker) with its own folder."""

    def __init__(self, name: str, workdir, env: dict, port: int | None = None):
        self.name, self.workdir, self.env = name, workdir, env
        self.folder = os.path.join(workdir, name)
        os.makedirs(self.folder, exist_ok=True)
        self.access_log = os.path.join(self.folder, "access.log")
        args = ("--access-logfile", self.access_log, "--threads", "4")
        self.app = AppProcess(self.folder, env, workers=2, args=args, port=port)
        self.url = self.app.url
        self.upstream = f"127.0.0.1:{self.app.port}"
        self.worker = None
        self.start_worker()

    def start_worker(self):
        """A Celery worker of this instance, on the shared broker (Redis)."""
        self.worker_log_path = os.path.join(self.folder, f"worker-{time.monotonic_ns()}.log")
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wsgi:celery",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--hostname",
            f"{self.name}@%h",
        ]
        with open(self.worker_log_path, "wb") as log:
            self.worker = subprocess.Popen(
                command, cwd=ROOT, env=self.app.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def worker_log(self) -> str:
        with open(self.worker_log_path, errors="replace") as handle:
            return handle.read()

    def stop_worker(self):
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait(10)

    def requests_seen(self, path_part: str) -> int:
        try:
            with open(self.access_log) as handle:
                return sum(1 for line in handle if path_part in line)
        except FileNotFoundError:
            return 0

    def kill(self):
        """SIGKILL the instance's gunicorn, master and workers at once, as a crash would."""
        os.killpg(self.app.process.pid, signal.SIGKILL)
        self.app.process.wait(10)

    def stop(self):
        self.app.stop()
        self.stop_worker()


class Cluster:
    """Two instances behind nginx on shared PostgreSQL, Redis and S3, with the Docs emulator."""

    def __init__(self, workdir, docs_options: dict | None = None, env: dict | None = None, tokens: bool = False):
        """``docs_options`` override the emulator's; ``env`` adds settings every instance shares;
        ``tokens`` gives each person an API token (``self.tokens``)."""
        self.workdir = str(workdir)
        self.with_tokens, self.tokens = tokens, {}
        self.docs_options = {"save_delay": 0.3, "retry_base": 0.5, **(docs_options or {})}
        self.extra_env = env or {}
        self.parts = []
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        import redis

        redis.Redis.from_url(REDIS).flushdb()
        # Always PostgreSQL and S3, whatever engine and backend the rest of the suite runs on.
        self.databases = self._keep(Databases("postgresql"))
        self.database = database = self.databases.fresh(self.workdir, schema=False)
        self.s3 = self._keep(S3Server())
        self.docs = self._keep(start_emulator(jwt_secret=SECRET, **self.docs_options))
        proxy_port = free_port()  # nginx's, known before it starts: Docs reaches the app through it
        self.env = {
            "COEDIT_DATABASE_URL": database,
            "COEDIT_SECRET_KEY": "cluster-secret-" + uuid.uuid4().hex,
            "COEDIT_REDIS_URL": REDIS,
            **{f"COEDIT_{name}": value for name, value in self.s3.new_place().items()},
            **AWS_ENVIRONMENT,
            "COEDIT_DOCS_URL": self.docs.url,
            "COEDIT_DOCS_JWT_SECRET": SECRET,
            "COEDIT_APP_URL_FOR_DOCS": f"http://127.0.0.1:{proxy_port}",
            "COEDIT_PROXY_HOPS": "1",
            # No preview jobs: their conversions would take the Docs faults these tests arm for saves.
            "COEDIT_PREVIEWS": "false",
            "COEDIT_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            **self.extra_env,
        }
        self.flask("db", "upgrade")  # once, before any instance starts
        # The people and the instances at once: each is a process that takes seconds to start.
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            people = [pool.submit(self._create_person, name) for name in ("alice", "bob")]
            starting = [pool.submit(Instance, name, self.workdir, self.env) for name in ("one", "two")]
        self.instances = [self._keep(future.result()) for future in starting if future.exception() is None]
        for future in [*starting, *people]:
            if future.exception() is not None:
                raise future.exception()
        self.nginx = self._keep(Nginx(self.workdir, [i.upstream for i in self.instances], port=proxy_port))
        self.url = self.nginx.url

    def _create_person(self, name: str) -> None:
        self.flask("create-user", name, "--password", f"{name}-password", *(["--admin"] if name == "alice" else []))
        if self.with_tokens:
            self.tokens[name] = self.flask("create-token", name).strip().splitlines()[-1]

    def _keep(self, part):
        self.parts.append(part)
        return part

    def flask(self, *args) -> str:
        env = {**os.environ, "COEDIT_INSTANCE_PATH": os.path.join(self.workdir, "cli"), **self.env}
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def revive(self, instance: "Instance") -> "Instance":
        """Start a killed instance again on its old port (nginx still names it)."""
        instance.stop_worker()
        revived = Instance(instance.name, self.workdir, self.env, port=instance.app.port)
        self.instances[self.instances.index(instance)] = revived
        self.parts[self.parts.index(instance)] = revived
        return revived

    def sign_in(self, name: str) -> requests.Session:
        browser = requests.Session()
        token = csrf_token(browser.get(self.url + "/auth/login", timeout=10).text)
        answer = browser.post(
            self.url + "/auth/login",
            data={"username": name, "password": f"{name}-password", "csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302, answer.text
        return browser

    def stop(self):
        for part in reversed(self.parts):
            try:
                if isinstance(part, Databases):
                    part.drop(self.database)
                    part.close()
                else:
                    part.stop()
            except Exception:
                pass
