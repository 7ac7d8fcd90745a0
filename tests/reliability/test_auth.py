"""Every API URL in the resolver refuses anonymous callers (401) and writers without permission (403);
admin requires staff. Walks the URL resolver, so endpoints added later are covered without new tests."""
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PUBLIC = {"auth/token/", "auth/token/refresh/", "auth/logout/", "schema/", "docs/",
          # The original system's unauthenticated health check (docs/api-compat.md).
          "localminer-discoveryscan/health", "localminer-discoveryscan/health/"}
SAMPLE_VALUES = {"workflow": "widget_check", "pk": str(uuid.uuid4()), "id": str(uuid.uuid4()), "format": "json",
                 "job_id": str(uuid.uuid4()), "batch_id": str(uuid.uuid4()), "contact_id": str(uuid.uuid4()),
                 "discovery_job_id": str(uuid.uuid4())}


def api_routes():
    """(route, view) for every URL under /api/v3/, with path parameters filled in."""
    found = []

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                found.append((prefix + str(p.pattern), p.callback))

    walk(get_resolver().url_patterns, "")
    routes = []
    for route, view in found:
        if not route.startswith("api/v3/"):
            continue
        route = route.replace("^", "").replace("$", "").replace("\\.", ".")
        if "(?P<" in route or "<" in route:
            import re

            route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLE_VALUES.get(m.group(1), "x"), route)
            route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLE_VALUES.get(m.group(1), "x"), route)
        if "format" in route or route.endswith(".json"):
            continue
        routes.append(("/" + route, view))
    return routes


ROUTES = api_routes()


def test_the_walk_finds_the_workflow_endpoints():
    paths = {r for r, _ in ROUTES}
    assert "/api/v3/workflows/widget_check/status" in paths
    assert len(paths) >= 8


@pytest.mark.parametrize("path,view", ROUTES, ids=[r for r, _ in ROUTES])
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_anonymous_is_401(path, view, method):
    if path.removeprefix("/api/v3/") in PUBLIC:
        pytest.skip("public by design")
    response = getattr(APIClient(), method)(path, {}, format="json")
    assert response.status_code == 401, f"{method.upper()} {path} → {response.status_code}"


@pytest.mark.parametrize("path,view", ROUTES, ids=[r for r, _ in ROUTES])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writing_without_permission_is_403(path, view, method, viewer_client):
    if path.removeprefix("/api/v3/") in PUBLIC or "webhooks/" in path:
        pytest.skip("public or shared-secret endpoint")
    response = getattr(viewer_client, method)(path, {"ids": [str(uuid.uuid4())], "status": "Selected"}, format="json")
    assert response.status_code in (403, 405), f"{method.upper()} {path} → {response.status_code}"
    if response.status_code == 405:
        assert method.upper() not in response.get("Allow", ""), f"{path} allows {method.upper()} but did not check permission"


def test_no_development_bypass_token():
    client = APIClient()
    for token in ["scraper_sky_2024", "dev", "test", "admin"]:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert client.get("/api/v3/workflows/").status_code == 401


def test_admin_requires_staff(client, viewer):
    assert client.get("/admin/").status_code == 302
    client.force_login(viewer)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
