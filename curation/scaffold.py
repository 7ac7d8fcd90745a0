"""`manage.py startworkflow`: a new workflow written into an app, ready for its hook (README "Adding a workflow").

What it writes, each step refusing rather than guessing when the file does not look as expected:
- `<app>/models.py`: the model with `workflow_fields(name)` (a new model with a `name` field, or the base and
  the indexes/constraints added to an existing model's class);
- `<app>/services.py`: the hook, with its signature and docstring, marked `@not_written_yet` so that it
  raises a clear error when a row reaches it and `manage.py check` warns until the mark is removed;
- `<app>/workflows.py`: the declaration;
- `<app>/admin.py`: the admin of a new model (the workflow mixin gives it the columns, filters, actions).
Then `makemigrations <app>`. The contract suite (tests/contract) covers the workflow from then on.
"""
from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from curation.exceptions import ErrorClass, PermanentError

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MODEL_RE = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def not_written_yet(hook):
    """Marks a generated hook whose body is still to be written: calling it fails the row with a clear
    message (class `config`), and the system check curation.W002 warns while the mark is there."""

    @functools.wraps(hook)
    def stub(*, record, lease):
        raise PermanentError(
            f"The hook {hook.__module__}.{hook.__qualname__} is not written yet: fill in its body and remove "
            "@not_written_yet (manage.py check lists the hooks still to write)",
            error_class=ErrorClass.CONFIG,
        )

    stub.not_written_yet = True
    return stub


class ScaffoldError(Exception):
    """The workflow cannot be written as asked (a clear message, nothing changed)."""


@dataclass
class Plan:
    """The edits, computed first and applied together, so that a refusal changes nothing."""

    files: dict[Path, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def _ensure_import(source: str, line: str) -> str:
    if line in source:
        return source
    lines = source.splitlines(keepends=True)
    insert_at = 0
    for i, text in enumerate(lines):  # after the module docstring, `from __future__` and the other imports
        if text.startswith(("import ", "from ")):
            insert_at = i + 1
    if insert_at == 0 and lines and lines[0].startswith(('"""', "'''")):
        tree = ast.parse(source)
        insert_at = tree.body[0].end_lineno if tree.body else 0
    lines.insert(insert_at, line + "\n")
    return "".join(lines)


def plan_workflow(*, app_path: Path, app_label: str, model: str, name: str, processing_only: bool,
                  after: str | None, model_exists: bool, known_workflows: set[str]) -> Plan:
    if not NAME_RE.match(name):
        raise ScaffoldError(f"The workflow name {name!r} must be snake_case (letters, digits, _), e.g. gadget_check")
    if not MODEL_RE.match(model):
        raise ScaffoldError(f"The model name {model!r} must be CamelCase, e.g. Gadget")
    if name in known_workflows:
        raise ScaffoldError(f"A workflow named {name!r} is already registered")
    if after is not None and after not in known_workflows:
        raise ScaffoldError(f"--after {after!r} is not a registered workflow; known: {', '.join(sorted(known_workflows))}")
    plan = Plan()
    curation = not processing_only
    fields_call = f'workflow_fields("{name}"{", curation=False" if processing_only else ""})'

    # models.py
    models_path = app_path / "models.py"
    source = _read(models_path) or "from django.db import models\n"
    if model_exists:
        source = _add_to_existing_model(source, model, name, fields_call)
    else:
        if re.search(rf"^class {model}\b", source, re.M):
            raise ScaffoldError(f"{models_path} already defines {model}")
        source = _ensure_import(source, "from django.db import models")
        source = source.rstrip("\n") + f'''


class {model}({fields_call}, BaseModel):
    """Rows of the {name} workflow."""

    name = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        indexes = workflow_indexes("{name}")
        constraints = workflow_constraints("{name}")

    def __str__(self) -> str:
        return self.name or str(self.pk)
'''
    source = _ensure_import(source, "from curation.fields import BaseModel, workflow_constraints, workflow_fields, "
                                    "workflow_indexes")
    plan.files[models_path] = source

    # services.py: the hook
    services_path = app_path / "services.py"
    source = _read(services_path) or f'"""Services of the {app_label} app."""\nfrom __future__ import annotations\n'
    if re.search(rf"^def {name}\b", source, re.M):
        raise ScaffoldError(f"{services_path} already defines {name}()")
    source = _ensure_import(source, "from curation.scaffold import not_written_yet")
    source = _ensure_import(source, f"from {app_label}.models import {model}") if model not in source else source
    source = source.rstrip("\n") + f'''


@not_written_yet
def {name}(*, record: {model}, lease) -> None:
    """The {name} workflow's hook: process one {model} row.

    Called by the engine outside any transaction for each claimed row, possibly more than once for the
    same row (a retry, a rescued lease): make it safe to run twice. Do the slow work first, then write
    the results inside `with lease.complete():` (nothing is written if another worker took the row
    over; docs/architecture.md "Hooks"). Raise
    curation.exceptions.RetryableError (temporary: retried with backoff) or PermanentError (the row goes
    to Error) with a specific message and error class; return normally when the row is done.
    Remove @not_written_yet once the body is written.
    """
'''
    plan.files[services_path] = source

    # workflows.py: the declaration
    workflows_path = app_path / "workflows.py"
    source = _read(workflows_path) or f'"""The workflows of the {app_label} app."""\n'
    source = _ensure_import(source, "from curation.registry import register")
    source = _ensure_import(source, "from curation.workflow import Workflow")
    label = name.replace("_", " ").capitalize()
    source = source.rstrip("\n") + f'''

{name} = register(Workflow(
    name="{name}",
    model="{app_label}.{model}",
    hook="{app_label}.services.{name}",
    label="{label}",{"" if curation else chr(10) + "    curation=False,  # processing-only: rows are queued when created"}{chr(10) + f'    after="{after}",' if after else ""}
    description="",
))
'''
    plan.files[workflows_path] = source

    # admin.py: a new model's admin (an existing model keeps its own, which should use WorkflowAdminMixin)
    admin_path = app_path / "admin.py"
    source = _read(admin_path) or "from django.contrib import admin\n"
    if not model_exists:
        source = _ensure_import(source, "from django.contrib import admin")
        source = _ensure_import(source, "from curation.admin import WorkflowAdminMixin")
        source = _ensure_import(source, f"from {app_label}.models import {model}")
        source = source.rstrip("\n") + f'''


@admin.register({model})
class {model}Admin(WorkflowAdminMixin, admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)
'''
        plan.files[admin_path] = source
    elif "WorkflowAdminMixin" not in source:
        plan.notes.append(f"{admin_path}: give {model}'s admin curation.admin.WorkflowAdminMixin for the workflow's "
                          "columns, filters and actions")
    plan.notes.append(f"Write the hook {app_label}.services.{name} and remove its @not_written_yet.")
    if curation:
        plan.notes.append(f"Curators queue rows by marking them Selected (admin action \"{label}: mark as Selected\").")
    else:
        plan.notes.append("Processing-only: create rows already queued (curation.services.processing_enqueue).")
    return plan


def _add_to_existing_model(source: str, model: str, name: str, fields_call: str) -> str:
    tree = ast.parse(source)
    node = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == model), None)
    if node is None:
        raise ScaffoldError(f"models.py has no class {model}")
    lines = source.splitlines(keepends=True)
    # the base: first in the list, before BaseModel (Django takes abstract parents' fields from all of them)
    header = lines[node.lineno - 1]
    if f"class {model}(" not in header:
        raise ScaffoldError(f"{model}'s class statement is not on one line as `class {model}(...)`; add "
                            f"{fields_call} to its bases by hand")
    lines[node.lineno - 1] = header.replace(f"class {model}(", f"class {model}({fields_call}, ", 1)
    meta = next((n for n in node.body if isinstance(n, ast.ClassDef) and n.name == "Meta"), None)
    indent = " " * (node.body[0].col_offset if node.body else 4)
    if meta is None:
        block = (f"\n{indent}class Meta:\n{indent}    indexes = workflow_indexes(\"{name}\")\n"
                 f"{indent}    constraints = workflow_constraints(\"{name}\")\n")
        lines.insert(node.end_lineno, block)
    else:
        assigned = {t.id for n in meta.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        inner = " " * (meta.body[0].col_offset)
        extra = [
            f"{inner}indexes = [*indexes, *workflow_indexes(\"{name}\")]\n" if "indexes" in assigned
            else f"{inner}indexes = workflow_indexes(\"{name}\")\n",
            f"{inner}constraints = [*constraints, *workflow_constraints(\"{name}\")]\n" if "constraints" in assigned
            else f"{inner}constraints = workflow_constraints(\"{name}\")\n",
        ]
        lines[meta.end_lineno:meta.end_lineno] = extra
    return "".join(lines)


def apply(plan: Plan) -> list[Path]:
    for path, text in plan.files.items():
        ast.parse(text)  # never write a file that does not parse
    for path, text in plan.files.items():
        path.write_text(text)
    return list(plan.files)
