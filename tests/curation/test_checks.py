import dataclasses

import pytest

from curation.checks import check_workflow


def ids(errors):
    return sorted(e.id for e in errors)


def test_registered_test_workflow_is_clean(wf_check):
    assert check_workflow(wf_check) == []


@pytest.mark.parametrize(
    "change,expected",
    [
        ({"name": "widget_colour"}, ["curation.E002"] * 11),
        ({"model": "testapp.Nothing"}, ["curation.E001"]),
        ({"hook": "tests.testapp.hooks.nope"}, ["curation.E003"]),
        ({"hook": "tests.testapp.models.Widget.__str__"}, ["curation.E003"]),
        ({"lease_seconds": 30}, ["curation.E004"]),
        ({"time_budget_seconds": 600, "lease_seconds": 900}, ["curation.W001"]),
        ({"trigger": "Chosen"}, ["curation.E007"]),
        ({"batch_size": 0}, ["curation.E008"]),
        ({"name": "Widget-Check"}, ["curation.E002"] * 11 + ["curation.E006"]),
        ({"readiness": "tests.testapp.hooks.missing"}, ["curation.E003"]),
    ],
)
def test_bad_declarations_are_rejected(wf_check, change, expected):
    assert ids(check_workflow(dataclasses.replace(wf_check, **change))) == sorted(expected)


def test_lease_must_exceed_the_worker_timeout(wf_check, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": wf_check.lease_seconds}
    errors = check_workflow(wf_check)  # lease == timeout
    assert [e.id for e in errors] == ["curation.E004"]
    assert "must exceed the worker timeout" in errors[0].msg


def test_manage_py_check_is_clean():
    from django.core.management import call_command

    call_command("check", fail_level="WARNING")


def test_a_broken_resource_declaration_fails_the_check(monkeypatch):
    from curation import registry
    from curation.checks import check_resources
    from curation.resource import Resource

    assert check_resources() == []
    monkeypatch.setitem(registry._resources, "testapp.widget",
                        Resource(model="testapp.Widget", serializer="tests.testapp.nope.WidgetSerializer"))
    assert [e.id for e in check_resources()] == ["curation.E010"]
    monkeypatch.setitem(registry._resources, "testapp.widget", Resource(model="testapp.Widget", route="pages"))
    errors = check_resources()
    assert [e.id for e in errors] == ["curation.E010"] and "/api/v3/pages/" in errors[0].msg
