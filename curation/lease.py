"""The lease handles a workflow hook writes its results through (docs/architecture.md "Hooks").

A worker owns a claimed row only while its lease token is the row's token and
the row is `Processing`. A hook does its slow I/O outside any transaction, then
writes its results inside `with lease.complete():` — one transaction that first
marks the row `Completed` *guarded by the token* (which also locks the row until
commit), then runs the block's writes. If another worker reclaimed the row in
the meantime (our lease expired and was rescued), nothing is written: the block
never runs and `LeaseLost` tells the engine to log "lease lost, results
discarded". So a stale worker can never overwrite a newer worker's results.

A batch hook gets a `LeaseBatch` for its rows: `with leases.complete(pks) as
ours:` completes the rows of `pks` still held under the token and yields them;
the block writes results for those only.
"""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Iterator

from django.db import transaction
from django.utils import timezone

from curation import services
from curation.workflow import Workflow


class LeaseLost(Exception):
    """The row is no longer ours (rescued, reclaimed or changed by a curator): the results are discarded."""


@dataclass
class Lease:
    """One claimed row as its hook sees it: the row, the lease token, the attempt number and the lease's deadline."""

    workflow: Workflow
    record: Any
    token: uuid.UUID
    attempt: int
    deadline: datetime  # lease_until at claim time; the heartbeat extends the row's lease while the hook runs
    worker: str = ""
    claimed_at: datetime | None = None
    started_at: datetime = field(default_factory=timezone.now)
    completed: bool = False

    @contextmanager
    def complete(self) -> Iterator[None]:
        """One transaction: verify and lock the row under this lease, mark it Completed, run the block's writes.

        Raises `LeaseLost` before the block runs when the row is no longer ours.
        An exception from the block rolls everything back (the row stays
        Processing under this lease and the engine records the failure).
        Call it once, as the hook's last step.
        """
        if self.completed:
            raise RuntimeError(f"{self.workflow.name}: lease of {self.record.pk} already completed")
        with transaction.atomic():
            if not services.processing_complete_fenced(lease=self):
                raise LeaseLost(f"{self.workflow.name}: lease of {self.record.pk} lost, results discarded")
            yield
        self.completed = True

    @contextmanager
    def fenced(self) -> Iterator[None]:
        """One transaction for intermediate results of a long hook (the row stays Processing): verify and
        lock the row under this lease first; `LeaseLost` before the block runs when it is no longer ours."""
        with transaction.atomic():
            if not services.processing_hold(workflow=self.workflow, pk=self.record.pk, token=self.token):
                raise LeaseLost(f"{self.workflow.name}: lease of {self.record.pk} lost, results discarded")
            yield

    def __repr__(self) -> str:
        return f"<Lease {self.workflow.name}:{self.record.pk} attempt {self.attempt} token {self.token}>"


@dataclass
class LeaseBatch:
    """The claimed rows of one batch-hook call (`Workflow.hook_batch_size`), under one lease token."""

    workflow: Workflow
    records: list
    token: uuid.UUID
    attempts: dict  # pk -> attempt number
    deadline: datetime
    worker: str = ""
    claimed_at: datetime | None = None
    started_at: datetime = field(default_factory=timezone.now)
    completed: set = field(default_factory=set)  # rows completed through this handle
    lost: set = field(default_factory=set)  # rows this handle found taken over: their results were discarded

    @contextmanager
    def complete(self, pks: Iterable) -> Iterator[set]:
        """One transaction: mark the rows of `pks` still ours Completed (locking them) and yield that set;
        the block writes the results of those rows only. The others' results are discarded."""
        wanted = [pk for pk in dict.fromkeys(pks) if pk not in self.completed]
        with transaction.atomic():
            ours = services.processing_complete_fenced_many(leases=self, pks=wanted) if wanted else set()
            yield ours
        self.completed |= ours
        self.lost |= set(wanted) - ours
