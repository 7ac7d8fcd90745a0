"""Settings for the test suite: the project's settings plus a test-only app.

The throwaway workflow on `tests.testapp.Widget` exercises the engine; a
qcluster subprocess started by the tests uses this module too.
"""
from scrapersky.settings import *  # noqa: F403
from scrapersky.settings import INSTALLED_APPS, Q_CLUSTER

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests decide themselves when a worker runs; the e2e test turns wake-up back on.
CURATION_WAKE_ON_QUEUE = env_bool("CURATION_WAKE_ON_QUEUE", False)  # noqa: F405
Q_CLUSTER = {**Q_CLUSTER, "workers": env_int("Q_WORKERS", 1)}  # noqa: F405
