"""Counts that stay fast on tables of millions: exact while cheap, the planner's estimate otherwise.

Admin change lists and API list pages count their rows for the paginator. On PostgreSQL an exact
`COUNT(*)` over millions of rows costs seconds, so the count runs under a short statement timeout and,
if it does not finish in time, the planner's row estimate (`EXPLAIN`) stands in. Small results are
therefore always exact; only results of hundreds of thousands of rows may be approximate, which a person
paging through them cannot tell apart. SQLite (the embedded default) always counts exactly.
"""
from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.paginator import Paginator
from django.db import DatabaseError, connections, transaction
from django.db.models import QuerySet
from django.utils.functional import cached_property

logger = logging.getLogger(__name__)


def _timeout_ms() -> int:
    return int(getattr(settings, "COUNT_TIMEOUT_MS", 150))


def planner_estimate(queryset: QuerySet) -> int:
    """PostgreSQL's estimate of the number of rows `queryset` returns (EXPLAIN, no execution)."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def fast_count(queryset: QuerySet) -> int:
    """The exact count if it takes under COUNT_TIMEOUT_MS, else the planner's estimate (PostgreSQL)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.count()
    try:
        # A savepoint of its own: on a timeout it rolls back (and the setting with it); on success the
        # previous timeout is put back, because a released savepoint keeps a transaction-local setting.
        with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('statement_timeout')")
            previous = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(_timeout_ms())])
            count = queryset.count()
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
            return count
    except DatabaseError as exc:  # the timeout: QueryCanceled, an OperationalError subclass in psycopg
        if "statement timeout" not in str(exc):
            raise
    estimate = planner_estimate(queryset.order_by())
    logger.debug("count of %s estimated at %s rows", queryset.model._meta.label, estimate)
    return estimate


class FastCountPaginator(Paginator):
    """A paginator whose count is `fast_count` (used by admin change lists and the API's page pagination)."""

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            return fast_count(self.object_list)
        return super().count


def table_is_large(model, limit: int | None = None) -> bool:
    """Whether the statistics say `model`'s table holds more than `limit` rows (PostgreSQL; never on SQLite)."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return False
    limit = limit if limit is not None else int(getattr(settings, "ADMIN_FACETS_MAX_ROWS", 50_000))
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    return bool(row) and row[0] > limit


class PageAnnotationsMixin:
    """For a ModelAdmin whose list shows per-row counts (pages of a domain, …): the counts are worked out for
    the rows on the page only, not annotated on the whole table's query, where PostgreSQL may evaluate them
    for every row before sorting and the paginator's count would evaluate them all again.

    Define `list_annotations(request) -> dict` (name → expression). The whole queryset is annotated only
    where it must be: when a curator sorts a list by one of its columns (`o` in the query), and outside the
    change list (a change page is one row).
    """

    def list_annotations(self, request) -> dict:
        raise NotImplementedError

    def _on_changelist(self, request) -> bool:
        match = getattr(request, "resolver_match", None)
        return bool(match and match.url_name and match.url_name.endswith("_changelist"))

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not self._on_changelist(request) or "o" in request.GET:
            queryset = queryset.annotate(**self.list_annotations(request))
        return queryset

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        annotations = self.list_annotations(request)
        missing = [row for row in changelist.result_list if not hasattr(row, next(iter(annotations)))]
        if missing:
            values = (self.model._default_manager.filter(pk__in=[row.pk for row in missing])
                      .annotate(**annotations).values("pk", *annotations))
            by_pk = {v.pop("pk"): v for v in values}
            for row in missing:
                for name, value in by_pk.get(row.pk, {}).items():
                    setattr(row, name, value)
        return changelist
