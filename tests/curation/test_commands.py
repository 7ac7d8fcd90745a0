import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.factories import WidgetFactory
from tests.testapp.models import Widget

pytestmark = pytest.mark.django_db


def run(*args, **kwargs) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_run_workflow_drains_the_queue():
    WidgetFactory.create_batch(12, queued=True)
    WidgetFactory(queued=True, behaviour="permanent", name="broken")
    output = run("run_workflow", "widget_check")
    assert "13 claimed, 12 completed" in output and "1 errored" in output
    assert "error:" in output and "HTTP 404 from https://broken.example/" in output


def test_run_workflow_once_runs_one_batch():
    WidgetFactory.create_batch(12, queued=True)
    report = json.loads(run("run_workflow", "widget_check", "--once", "--json"))
    assert report["claimed"] == 10 and report["batches"] == 1
    assert Widget.objects.filter(widget_check_processing_status="Queued").count() == 2


def test_run_workflow_unknown_name_is_a_command_error():
    with pytest.raises(CommandError, match="Unknown workflow 'nope'"):
        run("run_workflow", "nope")


def test_workflow_status_prints_the_operator_table():
    WidgetFactory.create_batch(2, queued=True)
    WidgetFactory(errored=True)
    output = run("workflow_status")
    line = next(l for l in output.splitlines() if l.startswith("widget_check"))
    assert line.split()[1:6] == ["0", "2", "0", "0", "1"]
    assert "not_found=1" in line
    rows = json.loads(run("workflow_status", "--json"))
    assert {r["name"] for r in rows} >= {"widget_check", "widget_index"}


def test_sync_schedules_and_rescue_leases():
    from curation import registry

    n = 2 * len(registry.all_workflows())
    assert f"{n} created" in run("sync_schedules")
    assert f"0 created, 0 updated, {n} unchanged" in run("sync_schedules")
    WidgetFactory(stuck=True)
    assert "widget_check: 1 requeued, 0 errored" in run("rescue_leases", "widget_check")
    with pytest.raises(CommandError):
        run("rescue_leases", "nope")


def test_ensure_admin_creates_once(monkeypatch, django_user_model):
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-admin-password")
    output = run("ensure_admin")
    assert "admin account created: user 'admin', password from ADMIN_PASSWORD" in output
    assert "shown only this once" not in output and "a-long-admin-password" not in output
    assert django_user_model.objects.get(username="admin").check_password("a-long-admin-password")
    assert "exists (unchanged)" in run("ensure_admin")
    assert django_user_model.objects.count() == 1


def test_ensure_admin_prints_a_generated_password(monkeypatch, django_user_model):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    output = run("ensure_admin")
    password = output.split("password ")[1].split()[0]
    assert "(the password is shown only this once)" in output
    assert django_user_model.objects.get(username="admin").check_password(password)
