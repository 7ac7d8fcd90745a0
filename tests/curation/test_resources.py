"""The generated resources (curation.resources): a model's API from its declaration, with no view code.

tests/testapp declares two workflows on `Widget` and no API at all: its list, detail, filters, ordering
and permissions below come from the workflow declarations alone. A Resource declaration (data) then
shapes the same generated views: fields, search, default order, a standard delete, the route.
"""
from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import include, path
from django.utils.module_loading import import_string
from rest_framework.test import APIClient

from curation import registry, resources
from curation.resource import Resource
from tests.factories import WidgetFactory, put_in_state

pytestmark = pytest.mark.django_db


def test_a_workflow_model_without_any_api_code_gets_its_list_and_detail(api_client, wf_check):
    rows = WidgetFactory.create_batch(3)
    put_in_state(wf_check, rows[:1], processing="Error", curation="Selected")
    body = api_client.get("/api/v3/widgets/", {"size": 2}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    first = body["results"][0]
    assert {"id", "name", "behaviour", "widget_check_curation_status", "widget_check_processing_status",
            "widget_check_processing_error", "widget_index_processing_status"} <= set(first)
    assert not {"widget_check_lease_token", "widget_check_locked_by", "widget_check_available_at"} & set(first)
    one = api_client.get(f"/api/v3/widgets/{rows[0].pk}/").json()
    assert one["id"] == str(rows[0].pk) and one["widget_check_processing_status"] == "Error"
    assert one["widget_check_processing_error"].startswith("HTTP 500")
    missing = api_client.get(f"/api/v3/widgets/{uuid.uuid4()}/")
    assert missing.status_code == 404 and "detail" in missing.json()


def test_the_generated_list_filters_and_orders_by_every_workflow_status(api_client, wf_check):
    rows = WidgetFactory.create_batch(3)
    put_in_state(wf_check, rows[:1], processing="Error", curation="Selected")
    put_in_state(wf_check, rows[1:2], processing="Completed", curation="Selected")
    errored = api_client.get("/api/v3/widgets/", {"widget_check_processing_status": "Error"}).json()["results"]
    assert [r["id"] for r in errored] == [str(rows[0].pk)]
    never = api_client.get("/api/v3/widgets/", {"widget_check_processing_status": "none"}).json()["results"]
    assert [r["id"] for r in never] == [str(rows[2].pk)]
    by_class = api_client.get("/api/v3/widgets/", {"widget_check_error_class": "http_5xx"}).json()["results"]
    assert [r["id"] for r in by_class] == [str(rows[0].pk)]
    ordered = api_client.get("/api/v3/widgets/", {"ordering": "-widget_check_processing_status"}).json()["results"]
    assert [r["widget_check_processing_status"] for r in ordered if r["widget_check_processing_status"]] == [
        "Error", "Completed"]
    assert api_client.get("/api/v3/widgets/", {"widget_check_processing_status": "Bogus"}).status_code == 400


def test_curating_through_the_workflow_route_shows_in_the_generated_list(curator, wf_check):
    from tests.conftest import bearer

    client = bearer(APIClient(), curator)
    row = WidgetFactory()
    answer = client.put("/api/v3/workflows/widget_check/status", {"ids": [str(row.pk)], "status": "Selected"},
                        format="json")
    assert answer.status_code == 200 and answer.json()["queued_count"] == 1
    queued = client.get("/api/v3/widgets/", {"widget_check_processing_status": "Queued"}).json()["results"]
    assert [(r["id"], r["widget_check_curation_status"]) for r in queued] == [(str(row.pk), "Selected")]


def test_the_generated_api_follows_the_model_permissions(nobody_client, viewer_client, curator, api_client):
    from tests.conftest import bearer

    row = WidgetFactory()
    detail = f"/api/v3/widgets/{row.pk}/"
    assert APIClient().get("/api/v3/widgets/").status_code == 401
    for url in ("/api/v3/widgets/", detail):
        refused = nobody_client.get(url)
        assert refused.status_code == 403 and "permission" in refused.json()["detail"]
        assert viewer_client.get(url).status_code == 200
    # Nothing but list and retrieve is declared: writes need their permission first, then find no method.
    assert viewer_client.post("/api/v3/widgets/", {}, format="json").status_code == 403
    assert bearer(APIClient(), curator).delete(detail).status_code == 403
    assert api_client.post("/api/v3/widgets/", {}, format="json").status_code == 405
    assert api_client.delete(detail).status_code == 405


def test_the_schema_documents_the_generated_resource_and_its_workflow_routes(api_client):
    paths = api_client.get("/api/v3/schema/", {"format": "json"}).json()["paths"]
    listing = paths["/api/v3/widgets/"]["get"]
    assert "/api/v3/workflows/widget_check/status" in listing["description"]
    params = {p["name"] for p in listing["parameters"]}
    assert {"page", "size", "ordering", "widget_check_processing_status", "widget_check_curation_status"} <= params
    assert "search" not in params, "no search fields declared: no search parameter"
    assert set(paths["/api/v3/widgets/{id}/"]) == {"get"}


def _serve_resources():
    """A URLconf of the generated resources as they are declared now (the project's is built once)."""
    return type("Urls", (), {"urlpatterns": [path("api/v3/", include(resources.urlpatterns()))]})


def test_a_resource_declaration_shapes_the_generated_views(monkeypatch, api_client, curator, wf_check):
    from tests.conftest import bearer

    monkeypatch.setitem(registry._resources, "testapp.widget", Resource(
        model="testapp.Widget", route="gadgets", basename="gadget",
        fields=("id", "name", "widget_check_curation_status", "widget_check_processing_status"),
        search_fields=("name",), ordering=("name",), workflows=("widget_check",),
        operations=("list", "retrieve", "destroy"),
    ))
    WidgetFactory(name="beta")
    gone = WidgetFactory(name="alpha")
    WidgetFactory(name="gamma-ray")
    with override_settings(ROOT_URLCONF=_serve_resources()):
        listing = api_client.get("/api/v3/gadgets/").json()
        assert [r["name"] for r in listing["results"]] == ["alpha", "beta", "gamma-ray"]
        assert set(listing["results"][0]) == {"id", "name", "widget_check_curation_status",
                                              "widget_check_processing_status"}
        assert [r["name"] for r in api_client.get("/api/v3/gadgets/", {"search": "ray"}).json()["results"]] == ["gamma-ray"]
        assert api_client.get("/api/v3/widgets/").status_code == 404
        assert bearer(APIClient(), curator).delete(f"/api/v3/gadgets/{gone.pk}/").status_code == 403
        assert api_client.delete(f"/api/v3/gadgets/{gone.pk}/").status_code == 204
        assert [r["name"] for r in api_client.get("/api/v3/gadgets/").json()["results"]] == ["beta", "gamma-ray"]


def test_two_resources_on_one_route_are_refused(monkeypatch):
    monkeypatch.setitem(registry._resources, "testapp.widget", Resource(model="testapp.Widget", route="places"))
    with pytest.raises(ImproperlyConfigured, match="/api/v3/places/"):
        resources.urlpatterns()


def test_the_former_viewset_names_resolve_to_the_generated_viewsets():
    # The legacy declarations name our own lists by these dotted paths (Legacy.own_list).
    for dotted, model in (("places.api.LocalBusinessViewSet", "places.LocalBusiness"),
                          ("pages.api.DomainViewSet", "pages.Domain"), ("pages.api.PageViewSet", "pages.Page"),
                          ("pages.api.SitemapFileViewSet", "pages.SitemapFile"),
                          ("contacts.api.ContactViewSet", "contacts.Contact")):
        assert import_string(dotted) is resources.viewset_for(model)
    with pytest.raises(ImportError):
        import_string("places.api.NoSuchViewSet")
