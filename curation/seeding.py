"""Bulk synthetic rows at server speed, for volume benchmarks only (`manage.py seed_volume`).

Rows are made by PostgreSQL itself with `INSERT … SELECT … FROM generate_series`, so a million rows cost
no Python per row. Every concrete column gets a value: the caller names the interesting ones as SQL
expressions of the series number `i`, the rest come from the model (its default, NULL, or now()), so
columns added later by migrations never break the seeder.
"""
from __future__ import annotations

import json
from collections.abc import Callable

from django.db import connection, models, transaction

NOW_SPREAD = "now() - ((i % 2592000) * interval '1 second')"  # created over the last 30 days


def row_uuid(prefix: str, expr: str = "i") -> str:
    """A deterministic UUID for row `expr` of `prefix`: other tables can point at it without a lookup."""
    return f"md5('{prefix}:' || ({expr})::text)::uuid"


def _default_expr(field: models.Field) -> str:
    if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
        return NOW_SPREAD
    if field.has_default():
        value = field.get_default()
        if value is None:
            return "NULL"
        if isinstance(field, models.JSONField):
            return f"'{json.dumps(value)}'::jsonb"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"
    if field.null:
        return "NULL"
    raise ValueError(f"{field.model.__name__}.{field.name} has no default: give seed_rows an expression for it")


def seed_rows(
    *,
    model: type[models.Model],
    count: int,
    columns: dict[str, str],
    batch_size: int = 250_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert `count` rows of `model`; `columns` maps field names to SQL expressions of `i` (1…count)."""
    if connection.vendor != "postgresql":
        raise RuntimeError("seed_rows needs PostgreSQL (generate_series)")
    fields = [f for f in model._meta.concrete_fields]
    unknown = set(columns) - {f.name for f in fields} - {f.attname for f in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no field(s) {sorted(unknown)}")
    names, exprs = [], []
    for field in fields:
        expr = columns.get(field.name, columns.get(field.attname))
        if expr is None:
            expr = row_uuid(model._meta.label) if field.primary_key else _default_expr(field)
        names.append(connection.ops.quote_name(field.column))
        exprs.append(expr)
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(exprs)} FROM generate_series(@START@, @END@) AS g(i)"
    done = 0
    while done < count:
        upto = min(count, done + batch_size)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql.replace("@START@", str(done + 1)).replace("@END@", str(upto)))  # no params: `%` stays modulo
        done = upto
        if progress:
            progress(done)
    return done


def pick(values: list[str], expr: str = "i") -> str:
    """An SQL CASE cycling through `values` by `expr` (deterministic spread of statuses and kinds)."""
    arms = " ".join(f"WHEN {n} THEN '{v}'" for n, v in enumerate(values))
    return f"(CASE (({expr}) % {len(values)}) {arms} END)"
