"""`make serve`: the production server (gunicorn, DEBUG off, whitenoise, pooled connections) really serves."""
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from tests.support import database_url, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.postgres]
BASE_DIR = Path(settings.BASE_DIR)


@pytest.fixture(autouse=True)
def _needs_postgres(postgres_only):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(tmp_path, port: int, **extra) -> dict:
    return {
        **{k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_SETTINGS_MODULE")},
        "DJANGO_SETTINGS_MODULE": "scrapersky.settings", "DEBUG": "0", "SECRET_KEY": "serve-test-" + "x" * 40,
        "DATABASE_URL": database_url(), "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0",
        "STATIC_ROOT": str(tmp_path / "static"), "PORT": str(port), "GUNICORN_WORKERS": "2",
        "DATABASE_POOL_MAX_SIZE": "2", **extra,
    }


def test_make_serve_answers_with_debug_off_static_files_and_json_errors(tmp_path):
    port = free_port()
    env = production_env(tmp_path, port)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=BASE_DIR, env=env,
                   check=True, timeout=300)
    log = open(tmp_path / "gunicorn.log", "w")
    server = subprocess.Popen(["make", "-s", "serve-only"], cwd=BASE_DIR, env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"

        def up():
            try:
                return httpx.get(f"{base}/admin/login/", timeout=5).status_code == 200
            except httpx.TransportError:
                return server.poll() is not None  # stop waiting if it died; asserted below
        wait_until(up, 120, "gunicorn to answer")
        assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-2000:]
        static = httpx.get(f"{base}/static/admin/css/base.css", timeout=60)  # must not fire on a loaded machine
        assert static.status_code == 200 and "text/css" in static.headers["content-type"]
        assert "max-age" in static.headers.get("cache-control", ""), "whitenoise serves it, with caching headers"
        missing = httpx.get(f"{base}/api/v3/no-such-thing/", timeout=60)
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/json")
        assert "Traceback" not in missing.text and "URLconf" not in missing.text, "no debug page"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_the_pool_is_on_for_the_web_and_never_in_qcluster():
    code = ("import sys; sys.argv = {argv!r}; import scrapersky.settings as s; "
            "print(s.DATABASES['default'].get('OPTIONS', {{}}).get('pool'))")
    env = {**os.environ, "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/x", "DATABASE_POOL_MAX_SIZE": "4",
           "DEBUG": "1"}
    web = subprocess.run([sys.executable, "-c", code.format(argv=["gunicorn"])], cwd=BASE_DIR, env=env,
                         capture_output=True, text=True, check=True)
    assert "'max_size': 4" in web.stdout
    worker = subprocess.run([sys.executable, "-c", code.format(argv=["manage.py", "qcluster"])], cwd=BASE_DIR,
                            env=env, capture_output=True, text=True, check=True)
    assert worker.stdout.strip() == "None"
