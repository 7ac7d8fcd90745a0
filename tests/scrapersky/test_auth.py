"""Logging in (issue #11): throttles (API token endpoint and admin login), refresh rotation with
blacklisting, logout, tokens refused after a password change, a deleted user's refresh token."""
import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

TOKEN, REFRESH, LOGOUT = "/api/v3/auth/token/", "/api/v3/auth/token/refresh/", "/api/v3/auth/logout/"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def user(django_user_model):
    from tests.conftest import in_group

    return in_group(django_user_model.objects.create_user(username="ana", password=PASSWORD, is_staff=True),
                    "viewer")


def _login(client=None, username="ana", password=PASSWORD, **extra):
    return (client or APIClient()).post(TOKEN, {"username": username, "password": password}, format="json", **extra)


def _get(access, path="/api/v3/places/"):
    return APIClient().get(path, HTTP_AUTHORIZATION=f"Bearer {access}")


def test_the_token_endpoint_throttles_per_address_after_ten_attempts(user):
    for i in range(10):
        assert _login(password=f"wrong-{i}").status_code == 401
    response = _login()  # even the right password: the address is throttled
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0 and "throttled" in response.json()["detail"].lower()
    # another address is not throttled (for another username: this one is throttled too by now)
    assert _login(REMOTE_ADDR="10.9.8.7", username="bob", password="wrong").status_code == 401


def test_the_token_endpoint_throttles_per_username_across_addresses(user):
    for i in range(10):
        assert _login(REMOTE_ADDR=f"10.0.0.{i + 1}", password="wrong").status_code == 401
    assert _login(REMOTE_ADDR="10.0.1.1").status_code == 429
    assert _login(REMOTE_ADDR="10.0.1.2", username="someone-else", password="x").status_code == 401


def test_the_api_throttles_per_user(user, settings):
    from rest_framework.settings import api_settings

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "3/min"}}
    assert api_settings.DEFAULT_THROTTLE_RATES["user"] == "3/min"
    access = _login().json()["access"]
    assert [_get(access).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_admin_login_is_throttled(user):
    client = Client()
    for i in range(10):
        response = client.post("/admin/login/", {"username": "ana", "password": f"wrong-{i}"})
        assert response.status_code == 200 and b"Please enter the correct username" in response.content
    response = client.post("/admin/login/", {"username": "ana", "password": PASSWORD})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert b"Too many login attempts" in response.content
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/login/").status_code == 200  # the form itself is still shown


def test_admin_login_still_works(user):
    response = Client().post("/admin/login/?next=/admin/", {"username": "ana", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_refresh_rotates_and_the_old_refresh_token_is_refused(user):
    tokens = _login().json()
    first = APIClient().post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert first.status_code == 200 and first.json()["refresh"] != tokens["refresh"]
    assert _get(first.json()["access"]).status_code == 200
    replay = APIClient().post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert replay.status_code == 401 and "blacklisted" in replay.json()["detail"]
    assert APIClient().post(REFRESH, {"refresh": first.json()["refresh"]}, format="json").status_code == 200


def test_logout_blacklists_the_refresh_token(user):
    tokens = _login().json()
    response = APIClient().post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 200 and "revoked" in response.json()["detail"]
    assert APIClient().post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 401
    bad = APIClient().post(LOGOUT, {"refresh": "not-a-token"}, format="json")
    assert bad.status_code == 401 and bad.json()["detail"]


def test_a_password_change_refuses_every_token_issued_before(user):
    tokens = _login().json()
    assert _get(tokens["access"]).status_code == 200
    user.set_password("a-new-password-123")
    user.save()
    assert _get(tokens["access"]).status_code == 401
    response = APIClient().post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 401 and "password has changed" in response.json()["detail"]
    fresh = _login(password="a-new-password-123").json()
    assert _get(fresh["access"]).status_code == 200


def test_a_deleted_users_refresh_token_is_a_401_not_a_500(user):
    tokens = _login().json()
    user.delete()
    client = APIClient()
    client.raise_request_exception = False
    response = client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 401
    assert response.json()["detail"] == "No active account found for the given token."
    assert client.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json").status_code == 200


def test_a_deactivated_users_refresh_token_is_refused(user):
    tokens = _login().json()
    user.is_active = False
    user.save()
    assert APIClient().post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 401


def test_the_api_throttle_keys_a_caller_without_a_user_row_by_address():
    """The enrichment callback authenticates by secret (no user row, no pk): counted per address, no crash."""
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from contacts.api import EnrichmentCaller
    from scrapersky.throttles import ApiUserThrottle

    request = Request(APIRequestFactory().get("/api/v3/x/", REMOTE_ADDR="10.1.2.3"))
    request.user = EnrichmentCaller()
    assert ApiUserThrottle().get_cache_key(request, None) == "throttle_user_10.1.2.3"
