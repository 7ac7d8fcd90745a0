"""The workflow API: auth, permissions, validation (400 that changes nothing), counts, filtered and requeue."""
import uuid

import pytest
from rest_framework.test import APIClient

from curation.models import CurationEvent
from tests.factories import WidgetFactory
from tests.testapp.models import Widget

pytestmark = pytest.mark.django_db

STATUS_URL = "/api/v3/workflows/widget_check/status"


def unchanged(*rows):
    return all(
        (w.widget_check_curation_status, w.widget_check_processing_status) == ("New", None)
        for w in Widget.objects.filter(pk__in=[r.pk for r in rows])
    ) and not CurationEvent.objects.exists()


def test_token_obtain_and_refresh(admin_user):
    client = APIClient()
    admin_user.set_password("s3cret-pass-word")
    admin_user.save()
    response = client.post("/api/v3/auth/token/", {"username": admin_user.username, "password": "s3cret-pass-word"}, format="json")
    assert response.status_code == 200
    tokens = response.json()
    assert {"access", "refresh"} <= set(tokens)
    refreshed = client.post("/api/v3/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200 and "access" in refreshed.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get("/api/v3/workflows/").status_code == 200


def test_wrong_password_is_401(admin_user):
    response = APIClient().post("/api/v3/auth/token/", {"username": admin_user.username, "password": "nope"}, format="json")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", "/api/v3/workflows/"),
        ("get", "/api/v3/workflows/widget_check/"),
        ("put", STATUS_URL),
        ("put", STATUS_URL + "/filtered"),
        ("post", "/api/v3/workflows/widget_check/requeue"),
    ],
)
def test_every_endpoint_needs_a_token(method, url):
    response = getattr(APIClient(), method)(url, {}, format="json")
    assert response.status_code == 401
    assert "detail" in response.json()


def test_forged_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer scraper_sky_2024")  # the original's development token
    assert client.get("/api/v3/workflows/").status_code == 401


def test_changing_statuses_needs_the_change_permission(viewer_client):
    w = WidgetFactory()
    response = viewer_client.put(STATUS_URL, {"ids": [str(w.pk)], "status": "Selected"}, format="json")
    assert response.status_code == 403
    assert "change permission" in response.json()["detail"]
    assert unchanged(w)
    assert viewer_client.get("/api/v3/workflows/").status_code == 200, "reading needs no change permission"


def test_curator_selects_and_gets_the_counts(curator_client, curator):
    rows = WidgetFactory.create_batch(3)
    response = curator_client.put(STATUS_URL, {"ids": [str(r.pk) for r in rows], "status": "Selected"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["updated_count"], body["queued_count"], body["skipped_count"]) == (3, 3, 0)
    assert body["message"].startswith("3 row(s) marked Selected")
    assert set(CurationEvent.objects.values_list("actor_label", "source")) == {(curator.username, "api")}


@pytest.mark.parametrize(
    "payload,message",
    [
        ({"status": "Selected"}, "ids"),
        ({"ids": [], "status": "Selected"}, "ids"),
        ({"ids": "abc", "status": "Selected"}, "ids"),
        ({"ids": ["BAD"], "status": "Selected"}, "invalid id"),
        ({"ids": ["ROW", "MISSING"], "status": "Selected"}, "not found"),
        ({"ids": ["ROW"], "status": "Done"}, "Unknown status 'Done'"),
        ({"ids": ["ROW"]}, "status"),
        ({"ids": ["ROW"], "status": "Selected", "reprocess": "maybe"}, "reprocess"),
        ({"ids": [["nested"]], "status": "Selected"}, "ids"),
    ],
)
def test_bad_input_is_400_and_changes_nothing(api_client, payload, message):
    w = WidgetFactory()
    if "ids" in payload and isinstance(payload["ids"], list):
        tokens = {"ROW": str(w.pk), "MISSING": str(uuid.uuid4()), "BAD": "not-a-uuid"}
        payload["ids"] = [tokens.get(i, i) if isinstance(i, str) else i for i in payload["ids"]]
    response = api_client.put(STATUS_URL, payload, format="json")
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert unchanged(w)


def test_malformed_json_is_400(api_client):
    response = api_client.generic("PUT", STATUS_URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_oversized_batch_is_400(api_client, settings):
    settings.CURATION_MAX_BATCH = 2
    rows = WidgetFactory.create_batch(3)
    response = api_client.put(STATUS_URL, {"ids": [str(r.pk) for r in rows], "status": "Selected"}, format="json")
    assert response.status_code == 400
    assert "At most 2 ids" in response.json()["detail"]
    assert unchanged(*rows)


def test_unknown_workflow_is_404(api_client):
    response = api_client.put("/api/v3/workflows/teleport/status", {"ids": [str(uuid.uuid4())], "status": "Selected"}, format="json")
    assert response.status_code == 404
    assert "Unknown workflow 'teleport'" in response.json()["detail"]
    assert api_client.get("/api/v3/workflows/teleport/").status_code == 404


def test_processing_only_workflow_status_is_400(api_client):
    w = WidgetFactory()
    response = api_client.put("/api/v3/workflows/widget_index/status", {"ids": [str(w.pk)], "status": "Selected"}, format="json")
    assert response.status_code == 400
    assert "has no curation status" in response.json()["detail"]


def test_wrong_method_is_405(api_client):
    assert api_client.get(STATUS_URL).status_code == 405


def test_workflow_list_shows_counts(api_client):
    WidgetFactory.create_batch(2, queued=True)
    WidgetFactory(errored=True)
    response = api_client.get("/api/v3/workflows/")
    assert response.status_code == 200
    check = next(w for w in response.json() if w["name"] == "widget_check")
    assert check["processing_counts"] == {"none": 0, "Queued": 2, "Processing": 0, "Completed": 0, "Error": 1}
    assert check["curation_counts"]["Selected"] == 3
    assert check["errors_by_class"] == {"not_found": 1}
    assert check["oldest_queued_age_seconds"] is not None
    index = next(w for w in response.json() if w["name"] == "widget_index")
    assert index["curation"] is False and index["processing_counts"]["none"] == 3


def test_filtered_status(api_client):
    errors = WidgetFactory.create_batch(2, errored=True)
    WidgetFactory()
    response = api_client.put(
        STATUS_URL + "/filtered",
        {"filters": {"widget_check_processing_status": ["Error"]}, "status": "Selected"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["queued_count"] == 2
    assert set(Widget.objects.filter(pk__in=[e.pk for e in errors]).values_list("widget_check_processing_status", flat=True)) == {"Queued"}


@pytest.mark.parametrize(
    "payload,message",
    [
        ({"filters": {"nope": 1}, "status": "Selected"}, "Unknown filter"),
        ({"filters": "x", "status": "Selected"}, "filters"),
        ({"filters": {"widget_check_processing_status": ["Nope"]}, "status": "Selected"}, "Invalid filters"),
        ({"filters": {"widget_check_processing_status": ["Error"]}, "status": "Nope"}, "Unknown status"),
    ],
)
def test_filtered_status_bad_input(api_client, payload, message):
    w = WidgetFactory(errored=True)
    response = api_client.put(STATUS_URL + "/filtered", payload, format="json")
    assert response.status_code == 400
    assert message in response.json()["detail"]
    w.refresh_from_db()
    assert w.widget_check_processing_status == "Error"


def test_requeue_errors_by_class(api_client):
    a = WidgetFactory(errored=True)
    b = WidgetFactory(errored=True, widget_check_error_class="timeout")
    response = api_client.post(
        "/api/v3/workflows/widget_check/requeue", {"ids": [str(a.pk), str(b.pk)], "error_class": "timeout"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["queued_count"], response.json()["skipped_count"]) == (1, 1)
    bad = api_client.post("/api/v3/workflows/widget_check/requeue", {"ids": [str(a.pk)], "error_class": "zzz"}, format="json")
    assert bad.status_code == 400 and "Unknown error class" in bad.json()["detail"]


def test_schema_and_docs_are_public():
    client = APIClient()
    schema = client.get("/api/v3/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v3/workflows/{workflow}/status" in paths
    assert "put" in paths["/api/v3/workflows/{workflow}/status"]
    docs = client.get("/api/v3/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr" not in docs.content, "docs work offline"


def test_unhandled_error_is_a_json_500_without_internals(api_client, monkeypatch):
    from curation import selectors

    def explode():
        raise RuntimeError("password=hunter2 in some internal state")

    monkeypatch.setattr(selectors, "workflows_overview", explode)
    client = api_client
    client.raise_request_exception = False
    response = client.get("/api/v3/workflows/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error; it has been logged."}
    assert b"hunter2" not in response.content
