"""`manage.py startworkflow`: a workflow generated into a throwaway app, then its contract tests run."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from curation import scaffold

REPO = Path(__file__).resolve().parents[2]

UNWRITTEN_HOOK_TEST = '''
import pytest
from curation import engine, registry, services

pytestmark = pytest.mark.django_db


def test_the_unwritten_hook_fails_rows_with_a_clear_error():
    from gadgets.models import Gadget

    wf = registry.get("gadget_check")
    gadget = Gadget.objects.create(name="first")
    services.curation_status_set(workflow=wf, ids=[gadget.pk], status="Selected", source="test")
    engine.workflow_run(wf)
    gadget.refresh_from_db()
    assert gadget.gadget_check_processing_status == "Error"
    assert gadget.gadget_check_error_class == "config"
    assert "gadgets.services.gadget_check is not written yet" in gadget.gadget_check_processing_error
'''


def run(args, env, cwd=REPO, timeout=900):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_startworkflow_end_to_end_in_a_new_app(tmp_path):
    app = tmp_path / "gadgets"
    (app / "migrations").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "migrations" / "__init__.py").write_text("")
    (app / "apps.py").write_text("from django.apps import AppConfig\n\n\nclass GadgetsConfig(AppConfig):\n"
                                 "    name = 'gadgets'\n    default_auto_field = 'django.db.models.BigAutoField'\n")
    (app / "models.py").write_text("from django.db import models  # noqa: F401\n")
    (tmp_path / "gadget_settings.py").write_text(
        "from scrapersky.test_settings import *  # noqa: F403\nfrom scrapersky.test_settings import INSTALLED_APPS\n"
        "INSTALLED_APPS = [*INSTALLED_APPS, 'gadgets']\n")
    (tmp_path / "test_gadget_hook.py").write_text(UNWRITTEN_HOOK_TEST)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}", "DJANGO_SETTINGS_MODULE": "gadget_settings"}

    made = run([sys.executable, "manage.py", "startworkflow", "gadgets", "Gadget", "gadget_check",
                "--after", "webhook_sync"], env)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "0001_initial.py" in made.stdout and "next: Write the hook gadgets.services.gadget_check" in made.stdout
    assert {p.name for p in app.iterdir()} >= {"models.py", "services.py", "workflows.py", "admin.py"}
    assert (app / "migrations" / "0001_initial.py").exists()
    assert 'after="webhook_sync"' in (app / "workflows.py").read_text()

    checked = run([sys.executable, "manage.py", "check"], env)
    assert checked.returncode == 0, checked.stderr
    assert "curation.W002" in checked.stderr + checked.stdout and "gadgets.services.gadget_check is not written yet" \
        in checked.stderr + checked.stdout

    again = run([sys.executable, "manage.py", "startworkflow", "gadgets", "Gadget", "gadget_check"], env)
    assert again.returncode != 0 and "already registered" in again.stderr

    contract = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--ds", "gadget_settings",
                    "--rootdir", str(REPO), "-c", str(REPO / "pytest.ini"), "tests/contract", "-k", "gadget_check",
                    str(tmp_path / "test_gadget_hook.py")], env)
    assert contract.returncode == 0, contract.stdout[-4000:] + contract.stderr[-2000:]
    summary = contract.stdout.strip().splitlines()[-1]
    passed = int(summary.split(" passed")[0].split()[-1])
    assert passed >= 90, summary  # the transition table through service, API and admin, checks, engine, lists


EXISTING = '''"""Models."""
from django.db import models

from curation.fields import BaseModel


class Thing(BaseModel):
    name = models.CharField(max_length=10)

    class Meta:
        indexes = [models.Index(fields=["name"])]

    def __str__(self):
        return self.name
'''


def test_an_existing_model_gets_the_fields_indexes_and_constraints(tmp_path):
    (tmp_path / "models.py").write_text(EXISTING)
    (tmp_path / "admin.py").write_text("from django.contrib import admin\n")
    plan = scaffold.plan_workflow(app_path=tmp_path, app_label="things", model="Thing", name="thing_check",
                                  processing_only=True, after=None, model_exists=True, known_workflows={"deep_scan"})
    models_py = plan.files[tmp_path / "models.py"]
    assert 'class Thing(workflow_fields("thing_check", curation=False), BaseModel):' in models_py
    assert 'indexes = [*indexes, *workflow_indexes("thing_check")]' in models_py
    assert 'constraints = workflow_constraints("thing_check")' in models_py
    meta = next(n for n in ast.walk(ast.parse(models_py)) if isinstance(n, ast.ClassDef) and n.name == "Meta")
    assigned = [ast.unparse(n) for n in meta.body]
    assert assigned == ["indexes = [models.Index(fields=['name'])]",
                        "indexes = [*indexes, *workflow_indexes('thing_check')]",
                        "constraints = workflow_constraints('thing_check')"], "the model's own index is kept"
    assert "curation=False" in plan.files[tmp_path / "workflows.py"]
    assert any("WorkflowAdminMixin" in note for note in plan.notes), "an existing admin is left alone, with a note"
    assert tmp_path / "admin.py" not in plan.files


@pytest.mark.parametrize("args,message", [
    (["places", "Widget", "Bad-Name"], "snake_case"),
    (["places", "widget", "widget_scan"], "CamelCase"),
    (["places", "Gizmo", "deep_scan"], "already registered"),
    (["places", "Gizmo", "gizmo_scan", "--after", "nowhere"], "not a registered workflow"),
    (["nowhere", "Gizmo", "gizmo_scan"], "No installed app"),
])
def test_bad_input_is_refused_and_writes_nothing(args, message):
    before = {p: p.read_text() for p in (REPO / "places").glob("*.py")}
    with pytest.raises(CommandError, match=message):
        call_command("startworkflow", *args)
    assert {p: p.read_text() for p in (REPO / "places").glob("*.py")} == before
