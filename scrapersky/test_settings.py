"""Settings for the test suite: the project's settings plus a test-only app.

The production defaults stay as they are (DEBUG off, secure cookies, HSTS,
throttles); only what a test client over plain HTTP needs is set here. The
throwaway workflow on `tests.testapp.Widget` exercises the engine; a qcluster
subprocess started by the tests uses this module too.
"""
import os

# DEBUG is off, so a key is required; tests get a fixed one unless the environment gives one.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-never-used-in-production-0123456789abcdef")

from scrapersky.env import env  # noqa: E402
from scrapersky.settings import *  # noqa: E402,F403
from scrapersky.settings import INSTALLED_APPS, Q_CLUSTER, REST_FRAMEWORK  # noqa: E402

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
ACCESS_EXTRA_APPS = ["testapp"]  # the shipped groups cover the test workflow's model too
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test client speaks plain HTTP: no redirect to https (secure cookies and HSTS stay as in production).
SECURE_SSL_REDIRECT = False
# Tests make hundreds of API calls a minute with one user; the login throttles keep their production rate.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
    **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": env.rate("API_THROTTLE_USER", "100000/min")}}
# One cache per test process, emptied before each test (tests/conftest.py), so that one test's login attempts
# never throttle the next; production uses Redis or the database table (scrapersky/settings.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "scrapersky-tests"}}
# Tests decide themselves when a worker runs; the e2e test turns wake-up back on.
CURATION_WAKE_ON_QUEUE = env.bool("CURATION_WAKE_ON_QUEUE", False)
# Every queueing wakes at once (tests count the wake-ups); production coalesces them (scrapersky/settings.py).
CURATION_WAKE_COALESCE_SECONDS = env.float("CURATION_WAKE_COALESCE_SECONDS", 0.0, minimum=0)
Q_CLUSTER = {**Q_CLUSTER, "workers": env.int("Q_WORKERS", 1)}
