import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from curation import engine, registry


@pytest.fixture(autouse=True)
def _engine_stop_flag_cleared():
    engine.clear_stop()
    yield
    engine.clear_stop()


@pytest.fixture
def wf_check():
    return registry.get("widget_check")


@pytest.fixture
def wf_index():
    return registry.get("widget_index")


def bearer(client: APIClient, user) -> APIClient:
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def api_client(admin_user):
    """An API client with a real JWT of a superuser."""
    return bearer(APIClient(), admin_user)


def in_group(user, name: str):
    """Put `user` in one of the shipped groups (scrapersky/access/roles.py), creating the groups if a flush
    removed them."""
    from django.apps import apps
    from django.contrib.auth.models import Group

    from scrapersky.access.roles import sync_groups

    if not Group.objects.filter(name=name).exists():
        sync_groups(apps)
    user.groups.add(Group.objects.get(name=name))
    return type(user).objects.get(pk=user.pk)  # fresh: permission caches empty


@pytest.fixture
def nobody(django_user_model):
    """A user who may log in but has no permissions at all."""
    return django_user_model.objects.create_user(username="nobody", password="nobody-pass-123")


@pytest.fixture
def nobody_client(nobody):
    return bearer(APIClient(), nobody)


@pytest.fixture
def viewer(django_user_model):
    """A user in the shipped `viewer` group: reads everything, changes nothing."""
    user = django_user_model.objects.create_user(username="viewer", password="viewer-pass-123")
    return in_group(user, "viewer")


@pytest.fixture
def viewer_client(viewer):
    return bearer(APIClient(), viewer)


@pytest.fixture
def curator(django_user_model):
    """A user in the shipped `curator` group: reads, and changes statuses (select/reject), no requeue."""
    user = django_user_model.objects.create_user(username="curator", password="curator-pass-123")
    return in_group(user, "curator")


@pytest.fixture
def curator_client(curator):
    return bearer(APIClient(), curator)


@pytest.fixture
def operator(django_user_model):
    """A user in the shipped `operator` group: a curator who also requeues, searches, submits domains."""
    user = django_user_model.objects.create_user(username="operator", password="operator-pass-123")
    return in_group(user, "operator")


@pytest.fixture
def operator_client(operator):
    return bearer(APIClient(), operator)


@pytest.fixture
def postgres_only():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks, SKIP LOCKED); .ci/run runs it there")


@pytest.fixture(autouse=True, scope="session")
def _database_is_what_ci_asked_for(django_db_setup, django_db_blocker):
    """.ci/run sets REQUIRE_POSTGRES: a run that silently fell back to SQLite fails."""
    import os

    from django.db import connection

    if os.environ.get("REQUIRE_POSTGRES") and connection.vendor != "postgresql":
        pytest.exit(f"REQUIRE_POSTGRES is set but the tests run on {connection.vendor}", returncode=3)


@pytest.fixture
def processes(tmp_path):
    """Start real `manage.py` processes (qcluster, run_workflow) against the test database."""
    from tests.support import Processes

    procs = Processes(tmp_path)
    yield procs
    procs.stop_all()


@pytest.fixture(autouse=True)
def _cache_cleared():
    """The throttles count in the cache (a per-process LocMemCache in the tests): every test starts at zero."""
    from django.core.cache import cache

    cache.clear()
    yield
