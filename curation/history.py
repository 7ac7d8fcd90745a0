"""The processing history: one append-only `ProcessingAttempt` per worker attempt at a row.

The status services call `attempts_record` in the transaction (or statement,
see `services._complete_rows_postgres`) that changes the row's status, so a
row's history and its status never disagree. `row_history` is what the admin
change page and `GET /api/v3/workflows/<name>/<id>/history` show.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from curation.models import AttemptOutcome, CurationEvent, ProcessingAttempt
from curation.workflow import Workflow

MESSAGE_MAX = 2000


@dataclass(frozen=True)
class Attempt:
    """What one finished (or abandoned) attempt records."""

    object_id: str
    attempt: int
    outcome: str
    finished_at: datetime
    claimed_at: datetime | None = None
    duration_ms: int | None = None
    worker: str = ""
    error_class: str = ""
    message: str = ""


def duration_ms(started_at: datetime | None, finished_at: datetime) -> int | None:
    if started_at is None:
        return None
    return max(0, int((finished_at - started_at).total_seconds() * 1000))


def attempts_record(*, workflow: Workflow, attempts: Sequence[Attempt]) -> None:
    """Append attempts of `workflow` (one INSERT); call inside the status change's transaction."""
    if not attempts:
        return
    ProcessingAttempt.objects.bulk_create(
        [
            ProcessingAttempt(
                workflow=workflow.name, object_id=a.object_id, attempt=min(max(a.attempt, 0), 32767),
                claimed_at=a.claimed_at, finished_at=a.finished_at, duration_ms=a.duration_ms,
                worker=a.worker[:100], outcome=a.outcome, error_class=a.error_class[:20],
                message=a.message[:MESSAGE_MAX],
            )
            for a in attempts
        ],
        batch_size=500,
    )


def row_history(*, workflows: Sequence[Workflow], pk, limit: int = 100) -> dict:
    """A row's processing attempts (newest first) and its curation events, for the given workflows of its model."""
    names = [wf.name for wf in workflows]
    attempts = ProcessingAttempt.objects.filter(workflow__in=names, object_id=str(pk))[:limit]
    label = workflows[0].model_class._meta.label if workflows else ""
    events = CurationEvent.objects.filter(model_label=label, object_id=str(pk), workflow__in=names)[:limit]
    return {
        "attempts": [
            {
                "workflow": a.workflow, "attempt": a.attempt, "outcome": a.outcome,
                "outcome_label": AttemptOutcome(a.outcome).label if a.outcome in AttemptOutcome.values else a.outcome,
                "claimed_at": a.claimed_at, "finished_at": a.finished_at, "duration_ms": a.duration_ms,
                "worker": a.worker, "error_class": a.error_class, "message": a.message,
            }
            for a in attempts
        ],
        "curation_events": [
            {
                "workflow": e.workflow, "at": e.at, "curation_from": e.curation_from, "curation_to": e.curation_to,
                "processing_from": e.processing_from, "processing_to": e.processing_to,
                "actor": e.actor_label, "source": e.source, "note": e.note,
            }
            for e in events
        ],
    }
