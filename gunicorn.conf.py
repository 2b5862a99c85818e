"""gunicorn settings every start command shares (gunicorn reads this file from the working directory)."""

import glob
import os
import shutil
import tempfile

# Access log lines without query strings (signed tokens) or share-link secrets.
logger_class = "app.ops.access_log.AccessLogger"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# Keep idle connections longer than the proxy in front does (nginx closes its upstream ones after
# keepalive_timeout, 60 s in deploy/nginx): otherwise gunicorn (2 s by default) may close one just
# as the proxy sends a request on it, which the proxy can only answer 502.
keepalive = 75

# Prometheus metrics across workers: each worker writes its values into files in
# PROMETHEUS_MULTIPROC_DIR and /metrics adds them up. The folder must be this instance's own and
# empty at start; unless the operator names one, each start makes its own and removes it on exit.
# Set here, in the master, before any worker imports prometheus_client (which reads it on import).
_OWNED = "COEDIT_METRICS_DIR_OWNED"  # this start made the folder (survives a config reload on HUP)
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="coedit-metrics-")
    os.environ[_OWNED] = "1"


def on_starting(server):
    # Values a previous run left in an operator's folder would be added to this run's.
    for path in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.unlink(path)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if os.environ.get(_OWNED):
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
