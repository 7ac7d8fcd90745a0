"""`field__any=[...]`: `field = ANY(%s)` with one array parameter on PostgreSQL.

A 10,000-id `IN (%s, …)` costs psycopg and the planner ten thousand
placeholders; an array is one. Other databases fall back to `IN`.
"""
from __future__ import annotations

from django.db import connection
from django.db.models import Field, Lookup, Q
from django.db.models.lookups import In


@Field.register_lookup
class Any(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [self.lhs.output_field.get_prep_value(v) for v in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]

    def as_sqlite(self, compiler, connection):
        return In(self.lhs, self.rhs).as_sql(compiler, connection)


def pk_in(ids) -> Q:
    """Filter on primary keys, with one array parameter where the database has arrays."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return Q(pk__any=ids)
    return Q(pk__in=ids)
