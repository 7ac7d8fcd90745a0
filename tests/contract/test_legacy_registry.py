"""The contract of every generated legacy route family (curation.legacy), parametrised over the registry.

A workflow that declares a `Legacy` description gets these tests with no test
code of its own: both slash forms answer without a redirect, the listing has
the original shape, and a legacy "Selected" leaves every row exactly as our
own `PUT /api/v3/workflows/<name>/status` leaves its twin.
"""
from __future__ import annotations

import pytest

from curation import registry
from curation.legacy import Legacy
from curation.models import CurationEvent
from tests.factories import make_rows, put_in_state

pytestmark = pytest.mark.django_db

LEGACY = sorted((wf for wf in registry.all_workflows() if isinstance(wf.legacy, Legacy)), key=lambda w: w.name)
STATES = [None, "Queued", "Processing", "Completed", "Error"]


def test_the_six_stages_of_the_original_declare_their_routes():
    assert {wf.name for wf in LEGACY} >= {"deep_scan", "domain_extraction", "sitemap_discovery", "sitemap_import",
                                          "page_scrape", "contact_validation"}


def _url(path: str) -> str:
    return f"/api/v3/{path}"


def _body_ids(wf, rows) -> list[str]:
    attr = wf.legacy.id_attr
    return [str(getattr(row, "pk" if attr == "pk" else attr)) for row in rows]


def _state(wf, row) -> tuple:
    row.refresh_from_db()
    return (getattr(row, wf.curation_field), getattr(row, wf.status_field), getattr(row, wf.error_field),
            getattr(row, wf.f("attempts")))


@pytest.mark.parametrize("wf", LEGACY, ids=lambda w: w.name)
def test_listing_answers_both_slash_forms_without_redirect_in_the_original_shape(wf, api_client):
    make_rows(wf, 3)
    legacy = wf.legacy
    offset_style = legacy.pagination.startswith("offset")
    marker = {"limit": 2} if offset_style else {"size": 2, "tenant_id": "any-tenant"}
    for path in (legacy.list_route, legacy.list_route + "/"):
        response = api_client.get(_url(path), marker)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        body = response.json()
        if legacy.pagination == "offset-list":
            rows = body
        elif legacy.pagination == "offset":
            assert set(body) == {legacy.list_key, "total", "offset", "limit", "filters_applied"}
            rows = body[legacy.list_key]
            assert (body["total"], body["limit"], body["offset"]) == (3, 2, 0)
        else:
            assert set(body) == {"items", "total", "page", "size", "pages"}
            rows = body["items"]
            assert (body["total"], body["page"], body["size"], body["pages"]) == (3, 1, 2, 2)
        assert len(rows) == 2
        assert set(rows[0]) == set(legacy.fields), "exactly the declared original field names"


@pytest.mark.parametrize("wf", LEGACY, ids=lambda w: w.name)
def test_listing_shows_the_original_status_strings(wf, api_client):
    rows = make_rows(wf, 2)
    put_in_state(wf, rows[:1], processing="Completed", curation="Rejected")
    put_in_state(wf, rows[1:], processing="Error", curation="Selected")
    legacy = wf.legacy
    offset_style = legacy.pagination.startswith("offset")
    body = api_client.get(_url(legacy.list_route), {"limit" if offset_style else "size": 10}).json()
    items = body if legacy.pagination == "offset-list" else body[legacy.list_key if offset_style else "items"]
    curation = next(k for k, v in legacy.fields.items() if v == "@curation")
    processing = next(k for k, v in legacy.fields.items() if v == "@processing")
    seen = {(i[curation], i[processing]) for i in items}
    assert seen == {(legacy.curation_to_original("Rejected"), legacy.processing_to_original("Completed")),
                    (legacy.curation_to_original("Selected"), legacy.processing_to_original("Error"))}
    assert legacy.curation_to_original("Rejected") in ("Not a Fit", "Skipped"), "the original's name for it"
    assert legacy.processing_to_original("Completed") in ("Completed", "Complete", "submitted")


@pytest.mark.parametrize("wf", LEGACY, ids=lambda w: w.name)
def test_legacy_selected_queues_exactly_what_our_api_queues(wf, api_client):
    """Twin rows in every processing state: one set selected by the original route, one by ours."""
    ours, theirs = make_rows(wf, len(STATES)), make_rows(wf, len(STATES))
    for state, a, b in zip(STATES, ours, theirs):
        put_in_state(wf, [a, b], processing=state, curation="New")
    response = api_client.put(f"/api/v3/workflows/{wf.name}/status",
                              {"ids": [str(r.pk) for r in ours], "status": "Selected"}, format="json")
    assert response.status_code == 200, response.content
    legacy = wf.legacy
    path = _url(f"{legacy.prefix}/{legacy.status_path}")
    response = api_client.put(path, {legacy.ids_field: _body_ids(wf, theirs), legacy.status_field: "Selected",
                                     "tenant_id": "ignored"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["updated_count"] == len(STATES) and body["queued_count"] == 2, body  # the None and Error rows
    for state, a, b in zip(STATES, ours, theirs):
        assert _state(wf, a) == _state(wf, b), f"{wf.name}: a {state} row ends differently"
    events = CurationEvent.objects.filter(workflow=wf.name)
    assert events.filter(object_id__in=[str(r.pk) for r in theirs]).count() == \
        events.filter(object_id__in=[str(r.pk) for r in ours]).count() > 0, "audited like ours"


@pytest.mark.parametrize("wf", LEGACY, ids=lambda w: w.name)
def test_legacy_status_routes_answer_both_slash_forms_and_refuse_bad_input(wf, api_client):
    rows = make_rows(wf, 1)
    legacy = wf.legacy
    path = _url(f"{legacy.prefix}/{legacy.status_path}")
    for variant in (path, path + "/"):
        ok = api_client.put(variant, {legacy.ids_field: _body_ids(wf, rows), legacy.status_field: "Maybe"},
                            format="json")
        assert ok.status_code == 200, (variant, ok.content)
    for bad in ({legacy.ids_field: _body_ids(wf, rows), legacy.status_field: "Done"},
                {legacy.ids_field: [], legacy.status_field: "Selected"},
                {legacy.status_field: "Selected"}):
        response = api_client.put(path, bad, format="json")
        assert response.status_code == 400 and response.json()["detail"], (bad, response.content)
    assert _state(wf, rows[0])[0] == "Maybe", "bad requests changed nothing"


@pytest.mark.parametrize("wf", LEGACY, ids=lambda w: w.name)
def test_legacy_status_needs_the_change_permission(wf, viewer_client, curator_client):
    rows = make_rows(wf, 1)
    legacy = wf.legacy
    path = _url(f"{legacy.prefix}/{legacy.status_path}")
    body = {legacy.ids_field: _body_ids(wf, rows), legacy.status_field: "Selected"}
    assert viewer_client.put(path, body, format="json").status_code == 403
    assert _state(wf, rows[0])[1] is None
    assert curator_client.put(path, body, format="json").status_code == 200
    assert _state(wf, rows[0])[1] == "Queued"


@pytest.mark.parametrize("wf", LEGACY, ids=lambda w: w.name)
def test_legacy_routes_need_a_token(wf, client):
    legacy = wf.legacy
    assert client.get(_url(legacy.list_route)).status_code == 401
    response = client.put(_url(f"{legacy.prefix}/{legacy.status_path}"), {}, content_type="application/json")
    assert response.status_code == 401 and response["Content-Type"].startswith("application/json")


def test_schema_tags_every_legacy_route_as_the_compatibility_surface(api_client):
    schema = api_client.get("/api/v3/schema/", {"format": "json"}).json()
    tags = {t["name"]: t.get("description", "") for t in schema.get("tags", [])}
    assert "compatibility" in tags["legacy (compatibility)"].lower()
    for wf in LEGACY:
        legacy = wf.legacy
        list_path = f"/api/v3/{legacy.list_route}" + ("/" if legacy.list_slash and not legacy.own_list else "")
        status_path = f"/api/v3/{legacy.prefix}/{legacy.status_path}"
        for path, method in ((list_path, "get"), (status_path, "put"), (status_path + "/filtered", "put")):
            assert schema["paths"][path][method]["tags"] == ["legacy (compatibility)"], (path, method)
