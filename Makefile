# Two commands for a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
APP_PORT ?= 5000
DOCS_PORT ?= 8090
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export COEDIT_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test lint format browser libreoffice services promtool bench soak clean translations

# The runtime requirements for `make run`; the development ones on top for tests, lint and bench.
$(VENV)/.installed: requirements.txt
	@$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# The catalogues' compiled form (app/translations/*/LC_MESSAGES/messages.mo), which the app reads;
# built from the .po files, never committed.
translations: $(VENV)/.installed
	@$(VENV)/bin/pybabel -q compile -d app/translations

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	@$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# ruff: lint and formatting (configured in pyproject.toml); part of `make test`.
lint: $(VENV)/.dev-installed
	@$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev-installed
	@$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Debian's Chromium drives the browser tests (Playwright never downloads a browser here), with a
# font for Chinese pages (WenQuanYi Micro Hei) so their screenshots show characters, not boxes.
browser:
	@if ! command -v chromium >/dev/null || ! fc-list :lang=zh | grep -q .; then
		$(SUDO) apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-wqy-microhei
	fi

# axe-core (pinned in package.json) checks every page's accessibility in the browser tests; npm
# (Debian's package) installs it into node_modules, which is never served.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm; }
	npm ci --no-audit --no-fund --silent
	touch $@

# LibreOffice (Debian's headless packages) does the emulator's real conversions and the OOXML form of
# lossy-edit files (docs_emulator/conversion.py); poppler-utils' pdftoppm renders its thumbnails and
# pdftotext reads converted PDFs in the tests.
libreoffice:
	@if ! command -v soffice >/dev/null || ! command -v pdftoppm >/dev/null; then
		$(SUDO) apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui poppler-utils
	fi

# promtool (Debian's prometheus package) checks deploy/prometheus's configuration and alert rules.
promtool:
	@command -v promtool >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq prometheus; }

# Redis on 127.0.0.1:6379, RabbitMQ on 127.0.0.1:5672 and PostgreSQL on 127.0.0.1:5432 for the
# tests that share state between processes, run job workers on either broker, and for the
# suite's second run: each installed (Debian's package) and started when nothing answers there.
# The tests reach PostgreSQL as its superuser `postgres` over TCP (tests/databases.py;
# COEDIT_TEST_POSTGRES_URL names another server); on a cluster started here that role is trusted
# from the loopback address only. Debian's OpenSSH server for the SFTP storage tests, which start
# their own sshd on a free loopback port (it needs its privilege separation folder); the S3 tests
# start moto's server themselves. Debian's nginx for the tests of several instances behind a
# proxy (they run it in the foreground with a configuration of their own).
services:
	@if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
		command -v redis-server >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server; }
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
		for _ in $$(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.1; done
	fi
	# A second Redis on 6380 for the suite's PostgreSQL pass, which runs beside the SQLite pass.
	if ! (exec 3<>/dev/tcp/127.0.0.1/6380) 2>/dev/null; then
		redis-server --daemonize yes --bind 127.0.0.1 --port 6380 --save "" --appendonly no
		for _ in $$(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/6380) 2>/dev/null && break; sleep 0.1; done
	fi
	if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
		command -v rabbitmq-server >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq rabbitmq-server; }
		# The package may have started it already (it takes seconds to listen): start it only if not.
		$(SUDO) rabbitmqctl -q status >/dev/null 2>&1 || $(SUDO) rabbitmq-server -detached
		for _ in $$(seq 120); do (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && break; sleep 0.5; done
	fi
	if [ ! -x /usr/sbin/sshd ]; then
		$(SUDO) apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openssh-server
	fi
	[ -d /run/sshd ] || $(SUDO) mkdir -p -m 0755 /run/sshd
	if [ ! -x /usr/sbin/nginx ]; then
		$(SUDO) apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx
	fi
	if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
		ls /etc/postgresql/*/main/pg_hba.conf >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql; }
		version=$$(ls /etc/postgresql | sort -V | tail -n 1)
		hba=/etc/postgresql/$$version/main/pg_hba.conf
		trusted="host all postgres 127.0.0.1/32 trust"
		$(SUDO) grep -qxF "$$trusted" "$$hba" || $(SUDO) sed -i "1i $$trusted" "$$hba"
		# The package may have started the cluster already: then a reload reads the new line.
		$(SUDO) pg_ctlcluster --skip-systemctl-redirect "$$version" main start || $(SUDO) pg_ctlcluster --skip-systemctl-redirect "$$version" main reload
		for _ in $$(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && break; sleep 0.1; done
	fi

run: $(VENV)/.installed translations
	@mkdir -p "$$COEDIT_INSTANCE_PATH"
	$(PY) -m flask --app wsgi db upgrade
	$(PY) -m flask --app wsgi seed-demo
	pids=()
	# One stop for every way out: Ctrl-C and TERM end the recipe with success (stopping is what was
	# asked); a process that dies on its own still fails it. The traps are cleared first so the EXIT
	# trap does not stop (and say so) a second time. Each server runs in a process group of its own
	# (setsid): Ctrl-C reaches only this shell, which stops each group with TERM, so gunicorn does
	# not see its workers die of the Ctrl-C and start new ones while stopping; whatever is left
	# 10 s later is killed, workers included.
	stop() {
		trap - EXIT INT TERM
		for pid in "$${pids[@]}"; do kill -TERM -- "-$$pid" 2>/dev/null || true; done
		for _ in $$(seq 50); do
			alive=0
			for pid in "$${pids[@]}"; do kill -0 -- "-$$pid" 2>/dev/null && alive=1; done
			[ "$$alive" = 0 ] && break
			sleep 0.2
		done
		for pid in "$${pids[@]}"; do kill -KILL -- "-$$pid" 2>/dev/null || true; done
		wait 2>/dev/null || true
		echo "Stopped."
	}
	trap 'stop; exit 0' INT TERM
	trap stop EXIT
	if [ -z "$${COEDIT_DOCS_URL:-}" ]; then
		secret_file="$$COEDIT_INSTANCE_PATH/dev-docs-secret"
		[ -s "$$secret_file" ] || $(PY) -c 'import secrets; print(secrets.token_hex(24))' > "$$secret_file"
		export COEDIT_DOCS_URL=http://127.0.0.1:$(DOCS_PORT)
		export COEDIT_DOCS_JWT_SECRET="$$(cat "$$secret_file")"
		export COEDIT_APP_URL_FOR_DOCS=http://127.0.0.1:$(APP_PORT)
		echo "Starting the Document Server emulator (a test double, not an editor) on $$COEDIT_DOCS_URL"
		DOCS_EMULATOR_JWT_SECRET="$$COEDIT_DOCS_JWT_SECRET" setsid $(PY) -m docs_emulator --host 127.0.0.1 --port $(DOCS_PORT) &
		pids+=($$!)
	fi
	# Jobs (app/jobs.py): with a broker, a worker runs them and beat schedules retention, each a
	# process of its own as in production; without one they run inside the app's processes.
	if [ -n "$${COEDIT_BROKER_URL:-}$${COEDIT_REDIS_URL:-}" ]; then
		echo "Starting a job worker and the job schedule (celery beat) on the configured broker"
		setsid $(VENV)/bin/celery -A wsgi:celery worker --loglevel INFO &
		pids+=($$!)
		setsid $(VENV)/bin/celery -A wsgi:celery beat --loglevel INFO &
		pids+=($$!)
	else
		echo "No broker (COEDIT_BROKER_URL or COEDIT_REDIS_URL): jobs run in-process, no worker started"
	fi
	echo "Coedit on http://127.0.0.1:$(APP_PORT)  (sign in as admin / demo-password, or bob / demo-password)"
	setsid $(VENV)/bin/gunicorn --workers 2 --threads 4 --bind 127.0.0.1:$(APP_PORT) --access-logfile - wsgi:app &
	pids+=($$!)
	wait -n

# The whole suite on SQLite and, at the same time, on PostgreSQL (tests/databases.py): the tests
# mostly wait on servers, so two passes share the two cores well. Each pass has its own Redis
# server (tests/helpers.py) and temporary folder; their lines are prefixed with the pass's name.
# Both run to the end, and either failing fails the target.
test: lint translations browser node_modules/.installed libreoffice services promtool
	@mkdir -p test-output
	temp=$$(mktemp -d)
	pass() {
		name=$$1
		shift
		env "$$@" $(PY) -m pytest -q -p no:cacheprovider --basetemp="$$temp/$$name" \
			--junitxml=test-output/junit-$$name.xml 2>&1 | sed -u "s/^/$$name | /"
	}
	pass sqlite COEDIT_TEST_DATABASE=sqlite &
	sqlite=$$!
	pass postgresql COEDIT_TEST_DATABASE=postgresql COEDIT_TEST_REDIS_URL=redis://127.0.0.1:6380 &
	postgresql=$$!
	failed=0
	wait $$sqlite || failed=1
	wait $$postgresql || failed=1
	exit $$failed

bench: $(VENV)/.dev-installed
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }
	$(PY) -m bench

# The soak (tests/soak.py): 1,000 co-editing sessions for 10 minutes through the Docs emulator against
# two instances behind nginx on PostgreSQL; SOAK_SESSIONS, SOAK_SECONDS, SOAK_WORKERS change it.
soak: $(VENV)/.dev-installed services
	@$(PY) -m tests.soak

clean:
	rm -rf $(VENV) node_modules test-output .pytest_cache
