"""The status services: every status change of every workflow goes through here.

Curators (admin actions, the API, commands) call `curation_status_set*` and
`processing_requeue`; the engine calls the `processing_*` services. Each owns
its transaction and changes rows with set-based, guarded UPDATEs, never a
read-modify-`save()` of a status (DESIGN §2).
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Sequence

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from curation.backoff import backoff_delay
from curation.choices import CURATION_ALIASES, ProcessingStatus
from curation.exceptions import ErrorClass
from curation.lookups import pk_in
from curation.models import CurationEvent
from curation.workflow import Workflow

logger = logging.getLogger(__name__)

QUEUED = ProcessingStatus.QUEUED.value
PROCESSING = ProcessingStatus.PROCESSING.value
COMPLETED = ProcessingStatus.COMPLETED.value
ERROR = ProcessingStatus.ERROR.value


class CurationInputError(Exception):
    """Bad input from a curator or client: nothing was changed (API 400, admin error message)."""

    def __init__(self, message: str, *, not_found_ids: Sequence[str] = ()):
        super().__init__(message)
        self.message = message
        self.not_found_ids = list(not_found_ids)


@dataclass
class StatusSetResult:
    workflow: str
    status: str
    updated_count: int = 0
    queued_count: int = 0
    dequeued_count: int = 0
    skipped_count: int = 0
    not_found_ids: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        text = f"{self.updated_count} row(s) marked {self.status}"
        parts = []
        if self.queued_count:
            parts.append(f"{self.queued_count} queued")
        if self.dequeued_count:
            parts.append(f"{self.dequeued_count} taken off the queue")
        if self.skipped_count:
            parts.append(
                f"{self.skipped_count} not queued (already queued, in flight, or completed: use Re-run to process again)"
            )
        return text + (": " + ", ".join(parts) if parts else "") + "."

    def as_dict(self) -> dict:
        return {**asdict(self), "message": self.message}


@dataclass
class RequeueResult:
    workflow: str
    queued_count: int = 0
    skipped_count: int = 0

    @property
    def message(self) -> str:
        text = f"{self.queued_count} row(s) queued again"
        if self.skipped_count:
            text += f"; {self.skipped_count} skipped (not in a state that can be re-run)"
        return text + "."

    def as_dict(self) -> dict:
        return {**asdict(self), "message": self.message}


# --- helpers ------------------------------------------------------------------

def _clean_status(workflow: Workflow, status: str) -> str:
    if not workflow.curation:
        raise CurationInputError(
            f"Workflow {workflow.name} has no curation status: its rows are queued when they are "
            "created. Use requeue to run rows again."
        )
    if not isinstance(status, str) or not status:
        raise CurationInputError("status is required")
    status = CURATION_ALIASES.get(status, status)
    allowed = workflow.curation_values()
    if status not in allowed:
        raise CurationInputError(f"Unknown status {status!r}; allowed: {', '.join(allowed)}")
    return status


def _clean_ids(workflow: Workflow, ids: Iterable) -> list:
    if ids is None:
        raise CurationInputError("ids is required")
    if isinstance(ids, (str, bytes)):
        raise CurationInputError("ids must be a list of ids")
    pk_field = workflow.model_class._meta.pk
    cleaned, bad = [], []
    for raw in ids:
        try:
            value = pk_field.to_python(raw)
        except (ValidationError, TypeError, ValueError):
            value = None
        if value is None:
            bad.append(str(raw))
        else:
            cleaned.append(value)
    if bad:
        raise CurationInputError(f"{len(bad)} invalid id(s): {', '.join(bad[:10])}", not_found_ids=bad)
    cleaned = list(dict.fromkeys(cleaned))  # de-duplicate, keep order
    if not cleaned:
        raise CurationInputError("ids must not be empty")
    limit = settings.CURATION_MAX_BATCH
    if len(cleaned) > limit:
        raise CurationInputError(f"Too many ids: {len(cleaned)}; the limit is {limit} per request")
    return cleaned


def _actor_fields(actor) -> dict:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {"actor": None, "actor_label": "system"}
    return {"actor": actor, "actor_label": actor.get_username()}


def _audit(workflow: Workflow, changes: list[tuple], *, at: datetime, actor, source: str) -> None:
    """Append one audit event per changed row: (object_id, curation from, to, processing from, to, note).

    On PostgreSQL one INSERT … SELECT FROM unnest(arrays) writes them all (a 10,000-row
    batch costs about as much as the status UPDATE itself); elsewhere bulk_create.
    """
    if not changes:
        return
    who = _actor_fields(actor)
    if connection.vendor != "postgresql":
        CurationEvent.objects.bulk_create(
            [
                CurationEvent(
                    at=at, workflow=workflow.name, model_label=workflow.model_class._meta.label, object_id=oid,
                    curation_from=cf, curation_to=ct, processing_from=pf, processing_to=pt, note=note,
                    source=source, **who,
                )
                for oid, cf, ct, pf, pt, note in changes
            ],
            batch_size=500,
        )
        return
    columns = list(zip(*changes))
    # Server-side binding: six 10,000-element arrays travel as parameters instead of being
    # quoted into the SQL text by the client (Django's default cursor binds client-side).
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"""
            INSERT INTO {CurationEvent._meta.db_table}
                (at, workflow, model_label, object_id, curation_from, curation_to,
                 processing_from, processing_to, actor_id, actor_label, source, note)
            SELECT %s, %s, %s, u.oid, u.cf, u.ct, u.pf, u.pt, %s, %s, %s, u.note
            FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])
                AS u(oid, cf, ct, pf, pt, note)
            """,
            [at, workflow.name, workflow.model_class._meta.label, who["actor"].pk if who["actor"] else None,
             who["actor_label"], source, *[list(c) for c in columns]],
        )


def _wake_on_commit(workflow: Workflow) -> None:
    if not settings.CURATION_WAKE_ON_QUEUE:
        return
    from curation.tasks import wake  # late import: tasks imports the engine

    transaction.on_commit(lambda: wake(workflow.name))


def _queue_values(workflow: Workflow, now: datetime) -> dict:
    return {
        workflow.status_field: QUEUED,
        workflow.error_field: "",
        workflow.f("error_class"): "",
        workflow.f("attempts"): 0,
        workflow.f("queued_at"): now,
        workflow.f("available_at"): now,
        workflow.f("lease_until"): None,
        workflow.f("lease_token"): None,
        workflow.f("locked_by"): "",
    }


# --- curation: set by people ------------------------------------------------

@transaction.atomic
def curation_status_set(
    *,
    workflow: Workflow,
    ids: Iterable,
    status: str,
    actor=None,
    reprocess: bool = False,
    source: str = "api",
) -> StatusSetResult:
    """Set the curation status of `ids`; the trigger status queues them (DESIGN §2 table).

    Unknown ids, an unknown status or an oversized batch raise
    `CurationInputError` and change nothing.
    """
    status = _clean_status(workflow, status)
    ids = _clean_ids(workflow, ids)
    is_trigger = status == workflow.trigger
    if is_trigger:
        problem = workflow.readiness_problem()
        if problem:
            raise CurationInputError(f"{workflow.label} cannot run: {problem}")

    model = workflow.model_class
    rows = list(
        model.objects.select_for_update()
        .filter(pk_in(ids))
        .order_by("pk")
        .values_list("pk", workflow.curation_field, workflow.status_field)
    )
    if len(rows) != len(ids):
        found = {pk for pk, _, _ in rows}
        missing = [str(pk) for pk in ids if pk not in found]
        raise CurationInputError(
            f"{len(missing)} id(s) not found in {model._meta.verbose_name_plural}: {', '.join(missing[:10])}",
            not_found_ids=missing,
        )

    result = StatusSetResult(workflow=workflow.name, status=status, updated_count=len(rows))
    to_queue, to_dequeue, plain = [], [], []
    for pk, _curation, processing in rows:
        if is_trigger:
            if processing in (None, "", ERROR) or (processing == COMPLETED and reprocess):
                to_queue.append(pk)
                continue
            result.skipped_count += 1
        elif processing == QUEUED:
            to_dequeue.append(pk)
            continue
        plain.append(pk)

    now = timezone.now()
    objects = model.objects
    if to_queue:
        result.queued_count = objects.filter(pk_in(to_queue)).exclude(**{workflow.status_field: PROCESSING}).update(
            **{workflow.curation_field: status}, **_queue_values(workflow, now)
        )
    if to_dequeue:
        result.dequeued_count = objects.filter(pk_in(to_dequeue), **{workflow.status_field: QUEUED}).update(
            **{
                workflow.curation_field: status,
                workflow.status_field: None,
                workflow.f("queued_at"): None,
                workflow.f("available_at"): None,
            }
        )
    if plain:
        objects.filter(pk_in(plain)).update(**{workflow.curation_field: status})

    queued, dequeued = set(to_queue), set(to_dequeue)
    changes = []
    for pk, curation, processing in rows:
        new_processing = QUEUED if pk in queued else (None if pk in dequeued else processing)
        if curation == status and new_processing == processing:
            continue
        note = "reprocess" if reprocess and pk in queued and processing == COMPLETED else ""
        changes.append((str(pk), curation or "", status, processing or "", new_processing or "", note))
    _audit(workflow, changes, at=now, actor=actor, source=source)
    if result.queued_count:
        _wake_on_commit(workflow)
    return result


def curation_status_set_filtered(
    *,
    workflow: Workflow,
    filters: dict,
    status: str,
    actor=None,
    reprocess: bool = False,
    source: str = "api",
) -> StatusSetResult:
    """The same as `curation_status_set`, for every row matching `filters` (the list API's filters)."""
    from curation.filters import filterset_for_workflow

    status = _clean_status(workflow, status)
    if not isinstance(filters, dict) or not filters:
        raise CurationInputError("filters must be a non-empty object, e.g. {\"deep_scan_processing_status\": \"Error\"}")
    filterset_class = filterset_for_workflow(workflow)
    allowed = set(filterset_class.base_filters)
    unknown = sorted(set(filters) - allowed)
    if unknown:
        raise CurationInputError(f"Unknown filter(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    filterset = filterset_class(data=filters, queryset=workflow.model_class.objects.all())
    if not filterset.is_valid():
        details = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())
        raise CurationInputError(f"Invalid filters: {details}")
    ids = list(filterset.qs.values_list("pk", flat=True)[: settings.CURATION_MAX_BATCH + 1])
    if len(ids) > settings.CURATION_MAX_BATCH:
        raise CurationInputError(
            f"The filters match more than {settings.CURATION_MAX_BATCH} rows; narrow them down"
        )
    if not ids:
        return StatusSetResult(workflow=workflow.name, status=status)
    return curation_status_set(
        workflow=workflow, ids=ids, status=status, actor=actor, reprocess=reprocess, source=source
    )


@transaction.atomic
def processing_requeue(
    *,
    workflow: Workflow,
    ids: Iterable,
    from_statuses: Sequence[str] = (ERROR,),
    error_class: str | None = None,
    actor=None,
    source: str = "admin",
) -> RequeueResult:
    """Queue rows again ("Retry errors", "Retry errors of class…", "Re-run" of processing-only workflows).

    Rows Queued or Processing are never touched; attempts start again from zero.
    """
    ids = _clean_ids(workflow, ids)
    invalid = [s for s in from_statuses if s not in (COMPLETED, ERROR)]
    if invalid:
        raise CurationInputError(f"Only Completed or Error rows can be queued again, not {', '.join(invalid)}")
    if error_class is not None and error_class not in ErrorClass.ALL:
        raise CurationInputError(f"Unknown error class {error_class!r}; known: {', '.join(ErrorClass.ALL)}")
    if workflow.readiness_problem():
        raise CurationInputError(f"{workflow.label} cannot run: {workflow.readiness_problem()}")
    model = workflow.model_class
    eligible = Q(**{f"{workflow.status_field}__in": list(from_statuses)})
    if error_class is not None:
        eligible &= Q(**{workflow.f("error_class"): error_class})
    rows = list(
        model.objects.select_for_update().filter(pk_in(ids) & eligible).order_by("pk").values_list("pk", workflow.status_field)
    )
    now = timezone.now()
    count = model.objects.filter(pk_in([pk for pk, _ in rows])).filter(eligible).update(**_queue_values(workflow, now))
    _audit(
        workflow,
        [(str(pk), "", "", processing or "", QUEUED, f"requeue {error_class}" if error_class else "requeue") for pk, processing in rows],
        at=now, actor=actor, source=source,
    )
    if count:
        _wake_on_commit(workflow)
    return RequeueResult(workflow=workflow.name, queued_count=count, skipped_count=len(ids) - count)


@transaction.atomic
def processing_enqueue(*, workflow: Workflow, ids: Iterable) -> int:
    """Queue freshly created rows of a processing-only workflow (never-queued rows only)."""
    ids = _clean_ids(workflow, ids)
    count = workflow.model_class.objects.filter(pk_in(ids), **{f"{workflow.status_field}__isnull": True}).update(
        **_queue_values(workflow, timezone.now())
    )
    if count:
        _wake_on_commit(workflow)
    return count


# --- processing: set by the engine --------------------------------------------

@dataclass
class Claim:
    workflow: Workflow
    token: uuid.UUID
    worker_id: str
    attempts: dict  # pk -> attempts after this claim
    lease_until: datetime

    @property
    def ids(self) -> list:
        return list(self.attempts)


def processing_claim(*, workflow: Workflow, worker_id: str, limit: int | None = None, now: datetime | None = None) -> Claim:
    """Claim up to `limit` due Queued rows: SKIP LOCKED, then mark Processing with a fresh lease token.

    A short transaction of its own; the hooks run after it has committed.
    """
    now = now or timezone.now()
    limit = limit or workflow.batch_size
    token = uuid.uuid4()
    lease_until = now + timedelta(seconds=workflow.lease_seconds)
    model = workflow.model_class
    due = Q(**{workflow.status_field: QUEUED}) & (
        Q(**{f"{workflow.f('available_at')}__lte": now}) | Q(**{f"{workflow.f('available_at')}__isnull": True})
    )
    if connection.vendor == "postgresql":
        attempts = _claim_postgres(workflow, now=now, limit=limit, token=token, lease_until=lease_until, worker_id=worker_id)
        return Claim(workflow=workflow, token=token, worker_id=worker_id, attempts=attempts, lease_until=lease_until)
    with transaction.atomic():
        ids = list(
            model.objects.filter(due)
            .order_by(workflow.f("available_at"), "pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return Claim(workflow=workflow, token=token, worker_id=worker_id, attempts={}, lease_until=lease_until)
        # Guarded again on status: without row locks (SQLite) this is the compare-and-set.
        model.objects.filter(pk__in=ids, **{workflow.status_field: QUEUED}).update(
            **{
                workflow.status_field: PROCESSING,
                workflow.f("attempts"): F(workflow.f("attempts")) + 1,
                workflow.f("lease_token"): token,
                workflow.f("lease_until"): lease_until,
                workflow.f("locked_by"): worker_id[:100],
            }
        )
        attempts = dict(
            model.objects.filter(**{workflow.f("lease_token"): token}).values_list("pk", workflow.f("attempts"))
        )
    return Claim(workflow=workflow, token=token, worker_id=worker_id, attempts=attempts, lease_until=lease_until)


def processing_due_exists(*, workflow: Workflow, now: datetime | None = None) -> bool:
    """Whether any Queued row is due now (a plain read: it sees rows that a claim's SKIP LOCKED passed over)."""
    now = now or timezone.now()
    available = workflow.f("available_at")
    return workflow.model_class.objects.filter(
        Q(**{workflow.status_field: QUEUED}) & (Q(**{f"{available}__lte": now}) | Q(**{f"{available}__isnull": True}))
    ).exists()


def _claim_postgres(workflow: Workflow, *, now, limit, token, lease_until, worker_id) -> dict:
    """The claim as one statement: pick due rows with SKIP LOCKED and mark them, RETURNING their attempts."""
    meta = workflow.model_class._meta
    q = connection.ops.quote_name

    def col(name: str) -> str:
        return q(meta.get_field(name).column)

    table, pk = q(meta.db_table), q(meta.pk.column)
    status, available, attempts = col(workflow.status_field), col(workflow.f("available_at")), col(workflow.f("attempts"))
    sql = f"""
        WITH picked AS (
            SELECT {pk} FROM {table}
            WHERE {status} = %s AND ({available} <= %s OR {available} IS NULL)
            ORDER BY {available}, {pk}
            LIMIT %s
            FOR UPDATE SKIP LOCKED
        )
        UPDATE {table} AS row SET
            {status} = %s, {attempts} = row.{attempts} + 1, {col(workflow.f("lease_token"))} = %s,
            {col(workflow.f("lease_until"))} = %s, {col(workflow.f("locked_by"))} = %s
        FROM picked WHERE row.{pk} = picked.{pk}
        RETURNING row.{pk}, row.{attempts}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [QUEUED, now, limit, PROCESSING, token, lease_until, worker_id[:100]])
        return dict(cursor.fetchall())


def _fenced(workflow: Workflow, pk, token: uuid.UUID):
    return workflow.model_class.objects.filter(
        pk=pk, **{workflow.status_field: PROCESSING, workflow.f("lease_token"): token}
    )


def _lease_cleared(workflow: Workflow) -> dict:
    return {workflow.f("lease_token"): None, workflow.f("lease_until"): None, workflow.f("locked_by"): ""}


def processing_complete_many(*, workflow: Workflow, ids: Sequence, token: uuid.UUID) -> int:
    """Success of several rows of one claim in one UPDATE; returns how many were still ours."""
    if not ids:
        return 0
    return workflow.model_class.objects.filter(
        pk_in(ids), **{workflow.status_field: PROCESSING, workflow.f("lease_token"): token}
    ).update(
        **{
            workflow.status_field: COMPLETED,
            workflow.error_field: "",
            workflow.f("error_class"): "",
            workflow.f("processed_at"): timezone.now(),
            **_lease_cleared(workflow),
        }
    )


def processing_complete(*, workflow: Workflow, pk, token: uuid.UUID) -> bool:
    """Success. False when the lease was lost (rescued): the newer state wins."""
    return bool(
        _fenced(workflow, pk, token).update(
            **{
                workflow.status_field: COMPLETED,
                workflow.error_field: "",
                workflow.f("error_class"): "",
                workflow.f("processed_at"): timezone.now(),
                **_lease_cleared(workflow),
            }
        )
    )


@dataclass
class FailOutcome:
    status: str | None  # Queued / Error, or None when the lease was lost
    available_at: datetime | None = None


def processing_fail(
    *,
    workflow: Workflow,
    pk,
    token: uuid.UUID,
    attempts: int,
    message: str,
    error_class: str,
    retryable: bool,
    retry_after: float | None = None,
    now: datetime | None = None,
) -> FailOutcome:
    """A failed attempt: back to Queued with backoff while attempts remain, else Error."""
    now = now or timezone.now()
    if retryable and attempts < workflow.max_attempts:
        delay = backoff_delay(attempts, base=workflow.backoff_base_seconds, cap=workflow.backoff_cap_seconds)
        if retry_after:
            delay = max(delay, float(retry_after))
        available_at = now + timedelta(seconds=delay)
        changed = _fenced(workflow, pk, token).update(
            **{
                workflow.status_field: QUEUED,
                workflow.error_field: f"Attempt {attempts} of {workflow.max_attempts} failed, retrying: {message}",
                workflow.f("error_class"): error_class,
                workflow.f("available_at"): available_at,
                **_lease_cleared(workflow),
            }
        )
        return FailOutcome(QUEUED if changed else None, available_at)
    if retryable:
        message = f"{message} (gave up after {attempts} attempts)"
    changed = _fenced(workflow, pk, token).update(
        **{
            workflow.status_field: ERROR,
            workflow.error_field: message,
            workflow.f("error_class"): error_class,
            workflow.f("processed_at"): now,
            **_lease_cleared(workflow),
        }
    )
    return FailOutcome(ERROR if changed else None)


def processing_release(
    *, workflow: Workflow, ids: Sequence, token: uuid.UUID, delay_seconds: float = 0.0, note: str = ""
) -> int:
    """Give claimed rows back without counting the attempt (shutdown, time budget, pause)."""
    if not ids:
        return 0
    values = {
        workflow.status_field: QUEUED,
        workflow.f("attempts"): F(workflow.f("attempts")) - 1,
        workflow.f("available_at"): timezone.now() + timedelta(seconds=delay_seconds),
        **_lease_cleared(workflow),
    }
    if note:
        values[workflow.error_field] = note
    return workflow.model_class.objects.filter(
        pk_in(ids), **{workflow.status_field: PROCESSING, workflow.f("lease_token"): token}
    ).update(**values)


def processing_heartbeat(*, workflow: Workflow, ids: Sequence, token: uuid.UUID) -> int:
    """Extend the lease of rows still being worked on; returns how many are still ours."""
    if not ids:
        return 0
    return workflow.model_class.objects.filter(
        pk_in(ids), **{workflow.status_field: PROCESSING, workflow.f("lease_token"): token}
    ).update(**{workflow.f("lease_until"): timezone.now() + timedelta(seconds=workflow.lease_seconds)})


@dataclass
class RescueResult:
    workflow: str
    requeued: int = 0
    errored: int = 0


@transaction.atomic
def processing_rescue(*, workflow: Workflow, now: datetime | None = None) -> RescueResult:
    """Rows whose lease expired (their worker died): back to Queued, or Error "worker lost"."""
    now = now or timezone.now()
    expired = workflow.model_class.objects.filter(
        **{workflow.status_field: PROCESSING, f"{workflow.f('lease_until')}__lt": now}
    )
    errored = expired.filter(**{f"{workflow.f('attempts')}__gte": workflow.max_attempts}).update(
        **{
            workflow.status_field: ERROR,
            workflow.error_field: (
                f"Worker lost: the lease expired before the row finished "
                f"(after {workflow.max_attempts} attempts; the hook may crash its worker)"
            ),
            workflow.f("error_class"): ErrorClass.WORKER_LOST,
            workflow.f("processed_at"): now,
            **_lease_cleared(workflow),
        }
    )
    requeued = expired.update(
        **{
            workflow.status_field: QUEUED,
            workflow.error_field: "Worker lost: the lease expired before the row finished; queued again",
            workflow.f("error_class"): ErrorClass.WORKER_LOST,
            workflow.f("available_at"): now + timedelta(seconds=workflow.backoff_base_seconds),
            **_lease_cleared(workflow),
        }
    )
    if requeued or errored:
        logger.warning("rescued %s: %d requeued, %d errored (worker lost)", workflow.name, requeued, errored)
    return RescueResult(workflow=workflow.name, requeued=requeued, errored=errored)
