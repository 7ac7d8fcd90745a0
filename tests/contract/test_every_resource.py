"""Every model's generated resource (curation.resources), parametrised over the registry's declarations.

A new workflow's model gets `/api/v3/<route>/` with no view code; registering it here is enough to be
covered (its rows come from tests/factories.py's make_rows, as for the workflow contract tests).
"""
from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from curation import registry, resources
from tests.factories import make_rows, put_in_state

pytestmark = pytest.mark.django_db

RESOURCES = registry.all_resources()


@pytest.mark.parametrize("resource", RESOURCES, ids=str)
def test_the_resource_lists_and_answers_by_the_model_permissions(resource, viewer_client, nobody_client):
    url = f"/api/v3/{resources.resource_route(resource)}/"
    body = viewer_client.get(url, {"size": 2}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert APIClient().get(url).status_code == 401
    assert nobody_client.get(url).status_code == 403
    assert viewer_client.get(url, {"size": 0}).status_code == 400, "sizes are checked as on every list"


@pytest.mark.parametrize("resource", [r for r in RESOURCES if resources.resource_workflows(r)], ids=str)
def test_the_resource_shows_filters_and_retrieves_its_workflow_rows(resource, api_client):
    url = f"/api/v3/{resources.resource_route(resource)}/"
    for wf in resources.resource_workflows(resource):
        rows = make_rows(wf, 2)
        put_in_state(wf, rows[:1], processing="Error", curation="Selected" if wf.curation else None)
        errored = api_client.get(url, {wf.status_field: "Error", "size": 500})
        assert errored.status_code == 200, errored.content[:300]
        assert str(rows[0].pk) in {r["id"] for r in errored.json()["results"]}
        assert str(rows[1].pk) not in {r["id"] for r in errored.json()["results"]}
        one = api_client.get(f"{url}{rows[0].pk}/")
        assert one.status_code == 200 and one.json()["id"] == str(rows[0].pk)
    assert api_client.get(f"{url}{uuid.uuid4()}/").status_code == 404
