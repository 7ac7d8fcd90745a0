"""The declaration of one workflow: data, not code paths (DESIGN §3)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django.apps import apps
from django.db import models
from django.utils.module_loading import import_string

from curation.choices import CurationStatus


@dataclass(frozen=True)
class Workflow:
    """One stage of the pipeline.

    `name` defines every name around it: the model fields
    `<name>_curation_status`, `<name>_processing_status`,
    `<name>_processing_error` (and the engine's bookkeeping fields), the admin
    actions, the API route, the schedules.
    """

    name: str
    model: str  # "app_label.ModelName", resolved lazily
    # dotted path of `def hook(*, record, lease) -> None`, or of a batch hook (see hook_batch_size);
    # a hook writes its results through the lease (docs/architecture.md "Hooks")
    hook: str
    label: str  # what curators read: "Deep scan"
    curation: bool = True  # False: processing-only, rows are queued on creation
    trigger: str = CurationStatus.SELECTED
    curation_choices: type[models.TextChoices] = CurationStatus
    batch_size: int = 25
    concurrency: int = 1  # threads per batch for I/O-bound hooks
    # > 0: the hook is a batch hook, `def hook(*, records, leases) -> dict[pk, Exception]`, called with up to
    # this many claimed rows at once (one vendor batch call); the rows missing from its answer succeeded;
    # it writes results inside `with leases.complete(pks) as ours:` (only the rows still ours).
    hook_batch_size: int = 0
    lease_seconds: int = 300  # must exceed the worker's hard timeout
    max_attempts: int = 5
    backoff_base_seconds: float = 30.0
    backoff_cap_seconds: float = 3600.0
    schedule_minutes: int = 1
    time_budget_seconds: float = 120.0  # one run stops claiming after this long
    # Optional dotted path of `def check() -> str | None`: a message when the
    # workflow cannot run (e.g. a CRM key is missing); queueing is refused.
    readiness: str | None = None
    description: str = ""
    # The workflow whose results this one's rows come from (None: the chain starts here). It orders
    # and numbers the stages on the operator page and the dashboard.
    after: str | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)
    # The original system's routes for this stage (curation.legacy.Legacy); None: no legacy surface.
    legacy: object | None = field(default=None, compare=False, hash=False)

    # --- names ------------------------------------------------------------
    @property
    def curation_field(self) -> str:
        return f"{self.name}_curation_status"

    @property
    def status_field(self) -> str:
        return f"{self.name}_processing_status"

    @property
    def error_field(self) -> str:
        return f"{self.name}_processing_error"

    def f(self, suffix: str) -> str:
        """An engine field of this workflow: f("attempts") -> "<name>_attempts"."""
        return f"{self.name}_{suffix}"

    def required_fields(self) -> list[str]:
        names = [self.status_field, self.error_field]
        names += [self.f(s) for s in ENGINE_FIELD_SUFFIXES]
        if self.curation:
            names.insert(0, self.curation_field)
        return names

    # --- resolution -------------------------------------------------------
    @cached_property
    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    def load_hook(self):
        return import_string(self.hook)

    def readiness_problem(self) -> str | None:
        if not self.readiness:
            return None
        return import_string(self.readiness)()

    def curation_values(self) -> list[str]:
        return [value for value, _ in self.curation_choices.choices]

    def __str__(self) -> str:
        return self.name


# Bookkeeping fields the engine needs besides the three named statuses.
ENGINE_FIELD_SUFFIXES = (
    "error_class",
    "attempts",
    "queued_at",
    "available_at",
    "lease_until",
    "lease_token",
    "locked_by",
    "processed_at",
)
