"""Property-based tests generated from our own OpenAPI schema (schemathesis): every operation,
random valid and invalid inputs, as a superuser: never a 5xx, and responses match the schema."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from scrapersky.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v3/schema/?format=json", application)


@pytest.fixture(autouse=True)
def _keep_the_test_connection_open():
    """As Django's test client does: a request must not close the test transaction's connection."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def auth_headers(admin_user):
    from rest_framework_simplejwt.tokens import RefreshToken

    return {"Authorization": f"Bearer {RefreshToken.for_user(admin_user).access_token}"}


# Autocommit, as in production: a request that fails in the database must not poison the next one.
@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_api_operation(case, auth_headers):
    case.call_and_validate(headers=auth_headers, checks=[not_a_server_error, response_schema_conformance])
