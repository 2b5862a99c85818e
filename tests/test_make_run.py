"""`make run` starts the app and the emulator, and Ctrl-C stops them with one message."""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
def test_ctrl_c_stops_make_run_once_and_cleanly(tmp_path):
    app_port, docs_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COEDIT_")}
    env["COEDIT_INSTANCE_PATH"] = str(tmp_path / "instance")
    # -o: the shared virtualenv is taken as installed; the test must not reinstall it.
    command = ["make", "--no-print-directory", "-o", ".venv/.installed", "run"]
    command += [f"APP_PORT={app_port}", f"DOCS_PORT={docs_port}"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                if requests.get(f"http://127.0.0.1:{app_port}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "make run did not serve within 60 s"
            time.sleep(0.3)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert output.count("Stopped.") == 1, output
    assert "Error" not in output.split("Stopped.")[-1], output  # make saw the recipe succeed
    # GNU make re-raises a SIGINT it received itself once its recipe ended (here with success), so
    # the process exits by that signal: no error status of its own.
    assert process.returncode in (0, -signal.SIGINT), (process.returncode, output)
    for port in (app_port, docs_port):
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/", timeout=2)
