"""The status services: every status change of every workflow goes through here.

Curators (admin actions, the API, commands) call `curation_status_set*` and
`processing_requeue`; the engine calls the `processing_*` services. Each owns
its transaction and changes rows with set-based, guarded UPDATEs, never a
read-modify-`save()` of a status (DESIGN §2).
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable, Sequence

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from curation.backoff import backoff_delay
from curation.choices import CURATION_ALIASES, ProcessingStatus
from curation.exceptions import ErrorClass
from curation.filters import filterset_for_workflow
from curation.history import Attempt, attempts_record, duration_ms
from curation.lookups import pk_in
from curation.models import AttemptOutcome, CurationEvent, ProcessingAttempt
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


# What wakes a worker once queued rows are committed: `curation.tasks.wake`, given by CurationConfig.ready().
# Injected because the tasks run the engine, which builds on this module (a one-way house, issue #16).
_waker: Callable[[str], None] | None = None


def waker_set(waker: Callable[[str], None] | None) -> None:
    """Set the function called with a workflow's name after rows of it were queued (None: nobody)."""
    global _waker
    _waker = waker


class _WakeCoalescer:
    """At most one wake-up per workflow per window in this process, plus one at the window's end if more
    were asked for meanwhile (so the last rows of a burst never wait for the schedule). A hook that queues
    one row of the next stage per row it finishes (page_scrape → contact_extraction) would otherwise send
    one broker task per row, each a worker run that mostly finds the queue already drained."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sent: dict[str, float] = {}
        self._trailing: dict[str, threading.Timer] = {}

    def __call__(self, waker: Callable[[str], None], name: str, window: float) -> None:
        now = time.monotonic()
        with self._lock:
            if name in self._trailing:
                return  # a wake-up at the end of the window is already planned
            wait = self._sent.get(name, -window) + window - now
            if wait > 0:
                timer = threading.Timer(wait, self._fire, args=(waker, name))
                timer.name = f"wake:{name}"
                self._trailing[name] = timer
                timer.start()
                return
            self._sent[name] = now
        waker(name)

    def _fire(self, waker: Callable[[str], None], name: str) -> None:
        with self._lock:
            self._trailing.pop(name, None)
            self._sent[name] = time.monotonic()
        try:
            waker(name)
        except Exception:  # the schedule drains the queue within a minute anyway
            logger.exception("could not wake a worker for %s", name)
        finally:
            connections.close_all()  # this timer thread's own connection (the ORM broker)


_coalesce = _WakeCoalescer()


def _wake_on_commit(workflow: Workflow) -> None:
    waker = _waker
    if not settings.CURATION_WAKE_ON_QUEUE or waker is None:
        return
    window = settings.CURATION_WAKE_COALESCE_SECONDS
    if window <= 0:
        transaction.on_commit(lambda: waker(workflow.name))
    else:
        transaction.on_commit(lambda: _coalesce(waker, workflow.name, window))


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


@transaction.atomic(savepoint=False)  # one UPDATE: called inside a hook's transaction, no savepoint needed
def processing_enqueue(*, workflow: Workflow, ids: Iterable, again: bool = False) -> int:
    """Queue freshly created rows of a processing-only workflow (never-queued rows only).

    `again=True`: the rows' input was replaced (a page scraped again → new content to extract), so they are
    queued whatever their state, attempts reset; a run in flight loses its lease, so its results, computed
    from the old input, are discarded (`LeaseLost`) and the new input is processed instead.
    """
    ids = _clean_ids(workflow, ids)
    rows = workflow.model_class.objects.filter(pk_in(ids))
    if not again:
        rows = rows.filter(**{f"{workflow.status_field}__isnull": True})
    count = rows.update(**_queue_values(workflow, timezone.now()))
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
    claimed_at: datetime | None = None

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
        return Claim(workflow=workflow, token=token, worker_id=worker_id, attempts=attempts, lease_until=lease_until,
                     claimed_at=now)
    with transaction.atomic():
        ids = list(
            model.objects.filter(due)
            .order_by(workflow.f("available_at"), "pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return Claim(workflow=workflow, token=token, worker_id=worker_id, attempts={}, lease_until=lease_until,
                         claimed_at=now)
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
    return Claim(workflow=workflow, token=token, worker_id=worker_id, attempts=attempts, lease_until=lease_until,
                 claimed_at=now)


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
        RETURNING row.{pk}, row.{attempts}, row.{available}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [QUEUED, now, limit, PROCESSING, token, lease_until, worker_id[:100]])
        rows = cursor.fetchall()
    # RETURNING comes in the order rows were updated, not the ORDER BY: the hooks run oldest-due first.
    rows.sort(key=lambda r: (r[2] is None, r[2] or now, r[0]))
    return {pk_value: attempts_value for pk_value, attempts_value, _ in rows}


def _fenced(workflow: Workflow, pk, token: uuid.UUID):
    return workflow.model_class.objects.filter(
        pk=pk, **{workflow.status_field: PROCESSING, workflow.f("lease_token"): token}
    )


def _lease_cleared(workflow: Workflow) -> dict:
    return {workflow.f("lease_token"): None, workflow.f("lease_until"): None, workflow.f("locked_by"): ""}


def processing_complete_many(
    *, workflow: Workflow, ids: Sequence, token: uuid.UUID, claim: Claim | None = None, durations: dict | None = None
) -> int:
    """Success of several rows of one claim (hooks that wrote no results), with their attempt log;
    returns how many were still ours. `claim` and `durations` (pk -> ms) fill in the history."""
    if not ids:
        return 0
    attempts = claim.attempts if claim else {}
    worker, claimed_at = (claim.worker_id, claim.claimed_at) if claim else ("", None)
    return len(_complete_rows(workflow, ids, token, attempts=attempts, durations=durations or {}, worker=worker,
                              claimed_at=claimed_at))


def processing_complete_fenced_many(*, leases, pks: Sequence) -> set:
    """The first statement of a batch hook's result transaction (`LeaseBatch.complete`): the rows of `pks`
    still held under the token become Completed (locked until the caller commits); returns their pks."""
    now = timezone.now()
    duration = duration_ms(leases.started_at, now)
    return _complete_rows(leases.workflow, pks, leases.token, attempts=leases.attempts,
                          durations={pk: duration for pk in pks}, worker=leases.worker, claimed_at=leases.claimed_at)


def _complete_rows(workflow: Workflow, ids: Sequence, token: uuid.UUID, *, attempts: dict, durations: dict,
                   worker: str, claimed_at) -> set:
    """Completed (guarded by the token) plus one attempt-log row each; returns the pks that were still ours."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        return _complete_rows_postgres(workflow, ids, token, now=now, attempts=attempts, durations=durations,
                                       worker=worker, claimed_at=claimed_at)
    with transaction.atomic():
        done = workflow.model_class.objects.filter(
            pk_in(ids), **{workflow.status_field: PROCESSING, workflow.f("lease_token"): token}
        ).update(**_completed_values(workflow, now))
        ours = set(ids)
        if done < len(ours):  # some leases were lost: only the rows this UPDATE completed are ours
            ours = set(workflow.model_class.objects.filter(
                pk_in(ids), **{workflow.status_field: COMPLETED, workflow.f("processed_at"): now}
            ).values_list("pk", flat=True))
        attempts_record(workflow=workflow, attempts=[
            Attempt(object_id=str(pk), attempt=attempts.get(pk, 0), outcome=AttemptOutcome.COMPLETED, finished_at=now,
                    claimed_at=claimed_at, duration_ms=durations.get(pk), worker=worker)
            for pk in ours
        ])
    return ours


def _completed_values(workflow: Workflow, now: datetime) -> dict:
    return {
        workflow.status_field: COMPLETED,
        workflow.error_field: "",
        workflow.f("error_class"): "",
        workflow.f("processed_at"): now,
        **_lease_cleared(workflow),
    }


def _complete_rows_postgres(workflow: Workflow, ids, token, *, now, attempts, durations, worker, claimed_at) -> set:
    """The completion and its attempt log as one statement: UPDATE … RETURNING feeds the INSERT."""
    meta = workflow.model_class._meta
    q = connection.ops.quote_name

    def col(name: str) -> str:
        return q(meta.get_field(name).column)

    table, pk = q(meta.db_table), q(meta.pk.column)
    sql = f"""
        WITH done AS (
            UPDATE {table} SET {col(workflow.status_field)} = %s, {col(workflow.error_field)} = '',
                {col(workflow.f("error_class"))} = '', {col(workflow.f("processed_at"))} = %s,
                {col(workflow.f("lease_token"))} = NULL, {col(workflow.f("lease_until"))} = NULL,
                {col(workflow.f("locked_by"))} = ''
            WHERE {pk} = ANY(%s) AND {col(workflow.status_field)} = %s AND {col(workflow.f("lease_token"))} = %s
            RETURNING {pk}::text AS oid
        )
        INSERT INTO {q(ProcessingAttempt._meta.db_table)}
            (workflow, object_id, attempt, claimed_at, finished_at, duration_ms, worker, outcome, error_class, message)
        SELECT %s, done.oid, COALESCE(u.attempt, 0), %s, %s, u.ms, %s, %s, '', ''
        FROM done LEFT JOIN unnest(%s::text[], %s::int[], %s::int[]) AS u(oid, attempt, ms) ON u.oid = done.oid
        RETURNING object_id
    """
    by_oid = {str(pk_value): pk_value for pk_value in ids}
    with connection.cursor() as cursor:
        cursor.execute(sql, [
            COMPLETED, now, list(ids), PROCESSING, token,
            workflow.name, claimed_at, now, worker[:100], AttemptOutcome.COMPLETED.value,
            list(by_oid), [attempts.get(pk_value) for pk_value in ids], [durations.get(pk_value) for pk_value in ids],
        ])
        return {by_oid[oid] for (oid,) in cursor.fetchall()}


def processing_hold(*, workflow: Workflow, pk, token: uuid.UUID) -> bool:
    """Inside the caller's transaction: lock the row if it is still Processing under `token` (a no-op
    UPDATE, so SQLite takes its write lock too); False when the lease was lost."""
    return bool(_fenced(workflow, pk, token).update(**{workflow.f("lease_token"): token}))


def processing_complete_fenced(*, lease) -> bool:
    """The first statement of a hook's result transaction (`Lease.complete`): Completed, guarded by the token.

    Must run inside the caller's transaction: the UPDATE locks the row (PostgreSQL row lock, SQLite
    write lock) until the results commit with it, so a rescue or another worker cannot interleave.
    False when the lease was lost: the caller writes nothing.
    """
    workflow = lease.workflow
    now = timezone.now()
    changed = _fenced(workflow, lease.record.pk, lease.token).update(
        **{
            workflow.status_field: COMPLETED,
            workflow.error_field: "",
            workflow.f("error_class"): "",
            workflow.f("processed_at"): now,
            **_lease_cleared(workflow),
        }
    )
    if changed:
        attempts_record(workflow=workflow, attempts=[Attempt(
            object_id=str(lease.record.pk), attempt=lease.attempt, outcome=AttemptOutcome.COMPLETED, finished_at=now,
            claimed_at=lease.claimed_at, duration_ms=duration_ms(lease.started_at, now), worker=lease.worker,
        )])
    return bool(changed)


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
    claim: Claim | None = None,
    started_at: datetime | None = None,
) -> FailOutcome:
    """A failed attempt: back to Queued with backoff while attempts remain, else Error (with its attempt log)."""
    now = now or timezone.now()
    with transaction.atomic():
        outcome = _fail(workflow, pk, token, attempts, message, error_class, retryable, retry_after, now)
        if outcome.status is not None:
            attempts_record(workflow=workflow, attempts=[Attempt(
                object_id=str(pk), attempt=attempts, finished_at=now, error_class=error_class, message=message,
                outcome=AttemptOutcome.RETRYING if outcome.status == QUEUED else AttemptOutcome.ERROR,
                claimed_at=claim.claimed_at if claim else None, worker=claim.worker_id if claim else "",
                duration_ms=duration_ms(started_at, now),
            )])
    return outcome


def _fail(workflow: Workflow, pk, token, attempts: int, message: str, error_class: str, retryable: bool,
          retry_after: float | None, now: datetime) -> FailOutcome:
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
    *, workflow: Workflow, ids: Sequence, token: uuid.UUID, delay_seconds: float = 0.0, note: str = "",
    error_class: str = "", claim: Claim | None = None, started_at: datetime | None = None,
) -> int:
    """Give claimed rows back without counting the attempt (shutdown, time budget, pause, database blip).

    With an `error_class` (a pause, a database blip) the rows ran: the class is kept on the row and
    each release is logged in the processing history; rows that never started are not.
    """
    if not ids:
        return 0
    now = timezone.now()
    values = {
        workflow.status_field: QUEUED,
        workflow.f("attempts"): F(workflow.f("attempts")) - 1,
        workflow.f("available_at"): now + timedelta(seconds=delay_seconds),
        **_lease_cleared(workflow),
    }
    if note:
        values[workflow.error_field] = note
    if error_class:
        values[workflow.f("error_class")] = error_class
    with transaction.atomic():
        released = workflow.model_class.objects.filter(
            pk_in(ids), **{workflow.status_field: PROCESSING, workflow.f("lease_token"): token}
        ).update(**values)
        if error_class and released:
            attempts_record(workflow=workflow, attempts=[
                Attempt(object_id=str(pk), attempt=claim.attempts.get(pk, 0) if claim else 0,
                        outcome=AttemptOutcome.RELEASED, finished_at=now, error_class=error_class, message=note,
                        claimed_at=claim.claimed_at if claim else None, worker=claim.worker_id if claim else "",
                        duration_ms=duration_ms(started_at, now))
                for pk in ids
            ])
    return released


def processing_attempt_lost(*, lease) -> None:
    """Log that a worker finished after losing its lease: its results were discarded (history only)."""
    processing_attempts_lost(workflow=lease.workflow, attempts={lease.record.pk: lease.attempt}, worker=lease.worker,
                             claimed_at=lease.claimed_at, started_at=lease.started_at)


def processing_attempts_lost(*, workflow: Workflow, attempts: dict, worker: str = "", claimed_at=None,
                             started_at=None) -> None:
    """The same for several rows ({pk: attempt number}) of one batch hook."""
    now = timezone.now()
    attempts_record(workflow=workflow, attempts=[
        Attempt(object_id=str(pk), attempt=number, outcome=AttemptOutcome.LEASE_LOST, finished_at=now,
                claimed_at=claimed_at, duration_ms=duration_ms(started_at, now), worker=worker,
                message="Lease lost (the row was rescued and taken over): results discarded")
        for pk, number in attempts.items()
    ])


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
    # Lock what we rescue (a row whose results are being committed is waited for, then no longer matches).
    lost = list(expired.select_for_update().order_by("pk").values_list("pk", workflow.f("attempts"), workflow.f("locked_by")))
    if not lost:
        return RescueResult(workflow=workflow.name)
    expired = expired.filter(pk_in([pk for pk, _, _ in lost]))
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
    attempts_record(workflow=workflow, attempts=[
        Attempt(object_id=str(pk), attempt=attempts, outcome=AttemptOutcome.WORKER_LOST, finished_at=now, worker=worker,
                error_class=ErrorClass.WORKER_LOST, message="The lease expired before the row finished (worker lost)")
        for pk, attempts, worker in lost
    ])
    if requeued or errored:
        logger.warning("rescued %s: %d requeued, %d errored (worker lost)", workflow.name, requeued, errored)
    return RescueResult(workflow=workflow.name, requeued=requeued, errored=errored)


def processing_rescue_dead_workers(*, workflow: Workflow, host: str, alive) -> int:
    """Rows held by worker processes of `host` that no longer exist (`alive(pid)` is False): queued again
    at once as "worker lost" (the attempt counts: the row may be what killed it), without waiting for
    the lease. For the supervisor of that machine (`curation.supervisor`)."""
    holders = set(
        workflow.model_class.objects.filter(
            **{workflow.status_field: PROCESSING, f"{workflow.f('locked_by')}__startswith": f"{host}:"}
        ).values_list(workflow.f("locked_by"), flat=True)
    )
    dead = set()
    for holder in holders:
        parts = holder.split(":")
        if len(parts) >= 3 and parts[-2].isdigit() and not alive(int(parts[-2])):
            dead.add(holder)
    if not dead:
        return 0
    return _requeue_lost(workflow, Q(**{f"{workflow.f('locked_by')}__in": sorted(dead)}), spend=True,
                         note="Worker lost: its process died while running the row; queued again")


def processing_release_workers(*, workflow: Workflow, worker_prefixes: Sequence[str], note: str = "shutdown") -> int:
    """Rows still held by worker processes the supervisor itself stopped (a shutdown or a restart):
    queued again at once without spending the attempt (stopping them was not the row's fault)."""
    if not worker_prefixes:
        return 0
    held = Q()
    for prefix in worker_prefixes:
        held |= Q(**{f"{workflow.f('locked_by')}__startswith": prefix})
    return _requeue_lost(workflow, held, spend=False,
                         note=f"Released: the worker was stopped ({note}) before the row finished; no attempt spent")


@transaction.atomic
def _requeue_lost(workflow: Workflow, held: Q, *, spend: bool, note: str) -> int:
    now = timezone.now()
    rows = workflow.model_class.objects.filter(held, **{workflow.status_field: PROCESSING})
    lost = list(rows.select_for_update().order_by("pk").values_list("pk", workflow.f("attempts"), workflow.f("locked_by")))
    if not lost:
        return 0
    values = {
        workflow.status_field: QUEUED,
        workflow.error_field: note,
        workflow.f("available_at"): now,
        **_lease_cleared(workflow),
    }
    if spend:
        values[workflow.f("error_class")] = ErrorClass.WORKER_LOST
    else:
        values[workflow.f("attempts")] = F(workflow.f("attempts")) - 1
    if spend:  # a row that has used up its attempts is not run again
        spent = workflow.model_class.objects.filter(
            pk_in([pk for pk, attempts, _ in lost if attempts >= workflow.max_attempts]),
            **{workflow.status_field: PROCESSING},
        )
        spent.update(**{
            workflow.status_field: ERROR,
            workflow.error_field: f"{note.removesuffix('; queued again')} (after {workflow.max_attempts} attempts)",
            workflow.f("error_class"): ErrorClass.WORKER_LOST,
            workflow.f("processed_at"): now,
            **_lease_cleared(workflow),
        })
    count = workflow.model_class.objects.filter(pk_in([pk for pk, _, _ in lost]), **{workflow.status_field: PROCESSING}).update(**values)
    attempts_record(workflow=workflow, attempts=[
        Attempt(object_id=str(pk), attempt=attempts, finished_at=now, worker=worker, message=note,
                outcome=AttemptOutcome.WORKER_LOST if spend else AttemptOutcome.RELEASED,
                error_class=ErrorClass.WORKER_LOST if spend else "")
        for pk, attempts, worker in lost
    ])
    if count:
        logger.warning("%s: %d row(s) of stopped or dead workers queued again (%s)", workflow.name, count, note)
    return count + (len(lost) - count if spend else 0)
