"""`GET /api/v3/workflows/<name>/rows/` (curation.resources): every workflow's list API from the registry.

Parametrised over the registry, so a new workflow is covered by registering it
(and, where its rows need more than defaults, a factory in tests/factories.py).
"""
from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from curation import registry
from tests.factories import make_rows, put_in_state

pytestmark = pytest.mark.django_db

ALL = sorted(registry.all_workflows(), key=lambda w: w.name)


@pytest.mark.parametrize("wf", ALL, ids=lambda w: w.name)
def test_rows_list_filters_orders_and_shows_the_statuses(wf, api_client):
    rows = make_rows(wf, 3)
    put_in_state(wf, rows[:1], processing="Error", curation="Selected" if wf.curation else None)
    put_in_state(wf, rows[1:2], processing="Completed", curation="Selected" if wf.curation else None)
    url = f"/api/v3/workflows/{wf.name}/rows/"
    body = api_client.get(url, {"size": 2}).json()
    assert set(body) == {"count", "next", "previous", "results"} and body["count"] >= 3
    first = body["results"][0]
    assert {wf.status_field, wf.error_field, wf.f("attempts")} <= set(first)
    assert wf.f("lease_token") not in first and "raw" not in first, "internals stay hidden"
    errored = api_client.get(url, {wf.status_field: "Error"}).json()["results"]
    assert [r["id"] for r in errored] == [str(rows[0].pk)] and errored[0][wf.error_field]
    never = api_client.get(url, {wf.status_field: "none"}).json()["results"]
    assert str(rows[2].pk) in {r["id"] for r in never} and str(rows[0].pk) not in {r["id"] for r in never}
    ordered = api_client.get(url, {"ordering": f"-{wf.status_field}", "size": 500}).json()["results"]
    statuses = [r[wf.status_field] for r in ordered if r[wf.status_field]]
    assert statuses == sorted(statuses, reverse=True)
    one = api_client.get(f"{url}{rows[0].pk}/").json()
    assert one["id"] == str(rows[0].pk) and one[wf.status_field] == "Error"
    assert api_client.get(url, {wf.status_field: "Bogus"}).status_code == 400
    assert api_client.get(f"{url}{uuid.uuid4()}/").status_code == 404


def test_rows_of_an_unknown_workflow_are_a_404_and_need_a_token(api_client):
    assert api_client.get("/api/v3/workflows/nope/rows/").status_code == 404
    assert APIClient().get("/api/v3/workflows/widget_check/rows/").status_code == 401
