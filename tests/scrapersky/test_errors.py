"""Every response under /api/ is JSON in one shape, whatever DEBUG is; error pages hide secrets (issue #11)."""
import pytest
from django.test import Client, override_settings

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.scrapersky.urls_errors")]

SECRETS = {"DATABASE_URL": "postgres://scrapersky:hunter2-db@db.internal:5432/scrapersky",
           "REDIS_URL": "redis://:s3cret-redis@redis.internal:6379/0"}


def _json(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body, dict) and isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.fixture(params=[False, True], ids=["DEBUG off", "DEBUG on"])
def client(request):
    with override_settings(DEBUG=request.param):
        yield Client(raise_request_exception=False)


def test_404_under_api_is_json(client):
    body = _json(client.get("/api/v3/no-such-thing/"), 404)
    assert body == {"detail": "Not found."}  # no URL pattern list, whatever DEBUG is
    _json(client.get("/api/nothing-here"), 404)


def test_405_under_api_is_json_from_drf_and_from_django_views(client):
    body = _json(client.delete("/api/v3/auth/token/"), 405)
    assert "DELETE" in body["detail"]
    response = client.post("/api/v3/_test/get-only/")
    body = _json(response, 405)
    assert body["detail"] == 'Method "POST" not allowed.' and response["Allow"] == "GET"


def test_500_under_api_is_json_and_says_nothing_internal(client):
    for url in ("/api/v3/_test/boom/", "/api/v3/_test/drf-boom/"):
        response = client.get(url)
        body = _json(response, 500)
        assert "must not leak" not in response.content.decode() and "Traceback" not in response.content.decode()
        assert body["detail"] == "Internal server error; it has been logged."


def test_errors_outside_the_api_stay_html():
    with override_settings(DEBUG=False):
        response = Client(raise_request_exception=False).get("/elsewhere/boom/")
    assert response.status_code == 500 and not response["Content-Type"].startswith("application/json")


def test_validation_errors_have_detail_plus_field_errors(admin_client):
    from rest_framework.test import APIClient

    response = APIClient().post("/api/v3/auth/token/", {"username": "x"}, format="json")
    body = _json(response, 400)
    assert body["password"] == ["This field is required."]
    assert "password" in body["detail"]


def test_the_debug_page_hides_passwords_inside_urls():
    """DEBUG on, an exception outside the API: the technical 500 page shows settings, but no password."""
    with override_settings(DEBUG=True, **SECRETS, Q_CLUSTER={"name": "x", "redis": SECRETS["REDIS_URL"]}):
        response = Client(raise_request_exception=False).get("/elsewhere/boom/")
    page = response.content.decode()
    assert response.status_code == 500 and "DATABASE_URL" in page  # it is the debug page
    assert "hunter2-db" not in page and "s3cret-redis" not in page
    assert "postgres://scrapersky:********************@db.internal" in page
