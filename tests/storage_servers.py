"""Real storage servers on loopback for the tests: an S3-compatible HTTP server (moto's server
mode) and Debian's OpenSSH sshd serving SFTP with a host key and a user key made here.

Each is started once per test run, on a free port of 127.0.0.1, and stopped at its end. Every
app gets a place of its own on them (a fresh bucket prefix, a fresh remote folder), so tests
never see each other's blobs.
"""

import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid

BACKENDS = ("local", "s3", "sftp")
SSHD = os.environ.get("SSHD") or shutil.which("sshd") or "/usr/sbin/sshd"
BUCKET = "coedit-tests"
# moto accepts any credentials; boto3 reads these standard variables, as the app does in production.
AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "coedit-test-key",
    "AWS_SECRET_ACCESS_KEY": "coedit-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            said = process.stderr.read() if process.stderr else ""
            raise RuntimeError(f"the server on port {port} exited: {said}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on 127.0.0.1:{port}")


class S3Server:
    """moto's S3 implementation in server mode: real HTTP on 127.0.0.1, in a process of its own."""

    def __init__(self):
        os.environ.update(AWS_ENVIRONMENT)
        port = free_port()
        # moto logs every request on stderr: into a file, since a pipe nobody reads fills up after a
        # few hundred requests and then stops the server in the middle of the next one.
        self._log = tempfile.TemporaryFile("w+")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            text=True,
        )
        _wait_for_port(port, self._process)
        self.endpoint_url = f"http://127.0.0.1:{port}"
        self.client().create_bucket(Bucket=BUCKET)

    def client(self):
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name="us-east-1", **_lowercase(AWS_ENVIRONMENT)
        )

    def new_place(self) -> dict:
        """Settings for an app with a prefix of its own in the shared bucket."""
        return {
            "STORAGE_URL": f"s3://{BUCKET}/{uuid.uuid4().hex}",
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_REGION": "us-east-1",
        }

    def keys(self, storage_url: str, under: str = "") -> list[str]:
        """The blob keys an app stored (relative to its prefix), optionally under a folder."""
        bucket, _, prefix = storage_url.removeprefix("s3://").partition("/")
        base = prefix.strip("/") + "/" if prefix.strip("/") else ""
        found = []
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=base + under):
            found += [item["Key"][len(base) :] for item in page.get("Contents", [])]
        return sorted(found)

    def stop(self) -> None:
        _stop(self._process)
        self._log.close()


def _lowercase(environment: dict) -> dict:
    return {
        "aws_access_key_id": environment["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": environment["AWS_SECRET_ACCESS_KEY"],
    }


class SFTPServer:
    """Debian's sshd on a free loopback port, serving SFTP to this user with a key made here."""

    def __init__(self):
        if not os.path.exists(SSHD):
            raise RuntimeError("sshd is not installed; `make services` installs Debian's openssh-server")
        self.dir = tempfile.mkdtemp(prefix="coedit-sftp-")
        self.root = os.path.join(self.dir, "data")
        os.makedirs(self.root)
        self.user = _username()
        host_key = os.path.join(self.dir, "host_key")
        self.key_file = os.path.join(self.dir, "user_key")
        for path in (host_key, self.key_file):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True)
        shutil.copy(self.key_file + ".pub", os.path.join(self.dir, "authorized_keys"))
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation folder
        self.port = free_port()
        with open(host_key + ".pub", encoding="ascii") as handle:
            host_public = " ".join(handle.read().split()[:2])
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        with open(self.known_hosts, "w", encoding="ascii") as handle:
            handle.write(f"[127.0.0.1]:{self.port} {host_public}\n")
        config = os.path.join(self.dir, "sshd_config")
        with open(config, "w", encoding="ascii") as handle:
            handle.write(
                f"Port {self.port}\n"
                "ListenAddress 127.0.0.1\n"
                f"HostKey {host_key}\n"
                f"PidFile {os.path.join(self.dir, 'sshd.pid')}\n"
                f"AuthorizedKeysFile {os.path.join(self.dir, 'authorized_keys')}\n"
                "PubkeyAuthentication yes\n"
                "PasswordAuthentication no\n"
                "KbdInteractiveAuthentication no\n"
                "PermitRootLogin prohibit-password\n"
                "UsePAM no\n"
                "StrictModes no\n"  # the key files live in a temporary folder
                "MaxStartups 100\n"
                "MaxSessions 100\n"
                "Subsystem sftp internal-sftp\n"
                "LogLevel ERROR\n"
            )
        os.chmod(self.key_file, stat.S_IRUSR | stat.S_IWUSR)
        self._process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", config], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        _wait_for_port(self.port, self._process)

    def new_place(self) -> dict:
        """Settings for an app with a folder of its own on the server."""
        folder = os.path.join(self.root, uuid.uuid4().hex)
        return {
            "STORAGE_URL": f"sftp://{self.user}@127.0.0.1:{self.port}{folder}",
            "SFTP_KEY_FILE": self.key_file,
            "SFTP_KNOWN_HOSTS": self.known_hosts,
        }

    def keys(self, storage_url: str, under: str = "") -> list[str]:
        folder = "/" + storage_url.split("/", 3)[3]
        return _walk(folder, under)

    def stop(self) -> None:
        _stop(self._process)
        shutil.rmtree(self.dir, ignore_errors=True)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
    if process.stderr:
        process.stderr.close()


def _username() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def _walk(root: str, under: str = "") -> list[str]:
    found = []
    for folder, _, names in os.walk(os.path.join(root, under) if under else root):
        found += [os.path.relpath(os.path.join(folder, name), root) for name in names]
    return sorted(found)


class Servers:
    """Started on first use, stopped once at the end of the run."""

    def __init__(self):
        self._running = {}

    def get(self, backend: str):
        if backend not in self._running:
            self._running[backend] = {"s3": S3Server, "sftp": SFTPServer}[backend]()
        return self._running[backend]

    def new_place(self, backend: str, tmp_path) -> dict:
        """The settings of an app's storage on this backend ('local', 's3' or 'sftp')."""
        if backend == "local":
            return {"STORAGE_DIR": str(tmp_path / "storage")}
        return self.get(backend).new_place()

    def keys(self, app_config, under: str = "") -> list[str]:
        """Every blob key an app's storage holds (optionally under a folder such as 'files/3')."""
        url = app_config.get("STORAGE_URL")
        if not url:
            root = app_config["STORAGE_DIR"]
            keys = _walk(root, under) if os.path.isdir(root) else []
            return [key for key in keys if not key.startswith("tmp/")]  # temporary files are no blobs
        backend = url.split("://", 1)[0]
        return self.get(backend).keys(url, under)

    def stop(self) -> None:
        for server in self._running.values():
            server.stop()
        self._running.clear()


SERVERS = Servers()
