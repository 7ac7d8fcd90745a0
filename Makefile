# ScraperSky: `make run` (the app on its embedded defaults) and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: run serve serve-only test install check clean-db bench bench-quick demo

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# Local use only: DEBUG on (detailed error pages, no HTTPS redirect, a generated SECRET_KEY). Production
# settings are the defaults (docs/deployment.md).
run demo: export DEBUG := 1
# The demo is the offline sandbox's, even with a Google key in the environment.
demo: export SANDBOX := 1

run: $(STAMP)
	$(PY) manage.py migrate --no-input
	$(PY) manage.py ensure_admin
	$(PY) manage.py sync_schedules
	$(PY) manage.py runall

# Production-like (docs/deployment.md): DEBUG off, static files collected and served by whitenoise,
# gunicorn with GUNICORN_WORKERS workers on PORT. Needs SECRET_KEY (and the production environment) set.
serve: $(STAMP)
	$(PY) manage.py collectstatic --no-input -v0
	$(PY) manage.py migrate --no-input
	$(MAKE) -s serve-only

serve-only:
	DEBUG=$${DEBUG:-false} $(VENV)/bin/gunicorn scrapersky.wsgi:application --bind 127.0.0.1:$${PORT:-8000} \
	  --workers $${GUNICORN_WORKERS:-4} --timeout 60 --graceful-timeout 10 --preload --access-logfile -

# The whole chain in this process against the offline sandbox, then a contacts CSV (see README "Demo").
# DEMO_ARGS="--query plumber --location Chicago --max 10" changes the search.
demo: $(STAMP)
	$(PY) manage.py migrate --no-input
	$(PY) manage.py demo $(DEMO_ARGS)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

check: export DEBUG := 1
check: $(STAMP)
	$(PY) manage.py check

clean-db:
	rm -f db.sqlite3 db.sqlite3-wal db.sqlite3-shm

# Benchmarks (PostgreSQL: BENCH_DATABASE_URL, default the local server's scrapersky_bench database).
bench: $(STAMP)
	$(PY) -m pip install --quiet -r bench/requirements.txt
	$(PY) bench/run.py

bench-quick: $(STAMP)
	$(PY) bench/run.py --quick
