"""Bench-only volume: millions of places, businesses, domains, pages and contacts at server speed.

    manage.py seed_volume --places 1000000 --pages 5000000 --contacts 2000000

Never for a real database: it refuses to run unless the tables it fills are empty, and it refuses SQLite.
Rows carry a realistic spread of curation and processing statuses for every registered workflow of their
model (most New, some Selected and Queued, Completed and Error with error classes), so filters, facets and
the claim query meet the selectivity they meet in production.
"""
from __future__ import annotations

import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from curation import registry
from curation.seeding import NOW_SPREAD, pick, row_uuid, seed_rows

# (curation, processing, error class) per 100 rows: mostly untouched, a working set in flight.
STATUS_MIX = (
    [("New", None, "")] * 70 + [("Selected", "Completed", "")] * 15 + [("Rejected", None, "")] * 8
    + [("Selected", "Queued", "")] * 2 + [("Selected", "Error", "network")] * 3 + [("Selected", "Error", "parse")] * 2
)
CITIES = ["Austin", "Berlin", "Madrid", "Lyon", "Denver", "Leeds", "Porto", "Graz", "Utrecht", "Malmo"]


def _case(values: list[str | None], expr: str) -> str:
    arms = " ".join(f"WHEN {n} THEN " + ("NULL" if v is None else f"'{v}'") for n, v in enumerate(values))
    return f"(CASE (({expr}) % {len(values)}) {arms} END)"


def workflow_columns(model, salt: int) -> dict[str, str]:
    """Status columns of every workflow on `model`, spread by STATUS_MIX (shifted per workflow)."""
    columns: dict[str, str] = {}
    for n, wf in enumerate(registry.for_model(model)):
        slot = f"((i * 7 + {salt + n * 13}) % 100)"
        curation, processing, error = zip(*STATUS_MIX)
        if wf.curation:
            columns[wf.curation_field] = _case(list(curation), slot)
        columns[wf.status_field] = _case(list(processing), slot)
        columns[wf.f("error_class")] = _case(list(error), slot)
        columns[wf.error_field] = f"(CASE WHEN {_case(list(error), slot)} <> '' THEN 'Synthetic failure ' || i ELSE '' END)"
        queued = f"{_case(list(processing), slot)} = 'Queued'"
        columns[wf.f("queued_at")] = f"(CASE WHEN {queued} THEN now() - interval '1 hour' END)"
        columns[wf.f("available_at")] = f"(CASE WHEN {queued} THEN {NOW_SPREAD} END)"
        columns[wf.f("attempts")] = f"(CASE WHEN {_case(list(processing), slot)} IS NULL OR {queued} THEN 0 ELSE 1 END)"
        columns[wf.f("processed_at")] = (
            f"(CASE WHEN {_case(list(processing), slot)} IN ('Completed', 'Error') THEN {NOW_SPREAD} END)"
        )
    return columns


class Command(BaseCommand):
    help = "Fill empty tables with bench-only synthetic rows at server speed (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--places", type=int, default=1_000_000)
        parser.add_argument("--businesses", type=int, help="default: half the places")
        parser.add_argument("--domains", type=int, help="default: a fifth of the businesses")
        parser.add_argument("--pages", type=int, default=5_000_000)
        parser.add_argument("--contacts", type=int, default=2_000_000)

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("seed_volume needs PostgreSQL (it is for the volume benchmark)")
        counts = {k: opts[k] for k in ("places", "pages", "contacts")}
        counts["businesses"] = opts["businesses"] if opts["businesses"] is not None else counts["places"] // 2
        counts["domains"] = opts["domains"] if opts["domains"] is not None else max(1, counts["businesses"] // 5)
        if any(v < 0 for v in counts.values()):
            raise CommandError("counts must be zero or more")
        if (counts["pages"] or counts["contacts"]) and not counts["domains"]:
            raise CommandError("pages and contacts need at least one domain")
        models = {
            "places": apps.get_model("places", "Place"),
            "businesses": apps.get_model("places", "LocalBusiness"),
            "domains": apps.get_model("pages", "Domain"),
            "pages": apps.get_model("pages", "Page"),
            "contacts": apps.get_model("contacts", "Contact"),
        }
        filled = [name for name, model in models.items() if counts[name] and model.objects.exists()]
        if filled:
            raise CommandError(f"refusing to add synthetic rows to tables that hold data: {', '.join(filled)}")
        n_domains = counts["domains"]
        domain_of = lambda expr: row_uuid("pages.Domain", f"1 + (({expr}) % {n_domains})")  # noqa: E731
        plan = [
            ("places", {
                "place_id": "'vol-place-' || i", "name": "'Volume Place ' || i",
                "formatted_address": "i || ' Main St, ' || " + pick(CITIES), "primary_type": pick(["dentist", "plumber", "cafe"]),
                "first_seen_at": NOW_SPREAD, "last_seen_at": NOW_SPREAD,
                "website": "'https://vol-' || (1 + (i % 50000)) || '.example/'",
            }),
            ("businesses", {
                "place_id": "'vol-place-' || i", "source_place_id": row_uuid("places.Place"),
                "name": "'Volume Business ' || i", "city": pick(CITIES), "country_code": pick(["US", "DE", "ES", "FR"]),
                "website": "'https://vol-' || i || '.example/'",
            }),
            ("domains", {"domain": "'vol-' || i || '.example'"}),
            ("pages", {
                "domain_id": domain_of("i"), "url": "'https://vol-' || (1 + (i % " + str(n_domains) + ")) || '.example/p/' || i",
            }),
            ("contacts", {
                "domain_id": domain_of("i"), "kind": pick(["email", "phone"]),
                "value": "'contact' || i || '@vol.example'", "normalized": "'contact' || i || '@vol.example'",
                "is_role": "(i % 20 = 0)",  # exactly a twentieth: the volume benchmark's 100,000-row export
            }),
        ]
        for name, columns in plan:
            model = models[name]
            if not counts[name]:
                continue
            if name == "businesses" and counts["businesses"] > counts["places"]:
                columns = {k: v for k, v in columns.items() if k != "source_place_id"}
            columns = {**workflow_columns(model, salt=len(name)), **columns}
            started = time.monotonic()
            seed_rows(model=model, count=counts[name], columns=columns,
                      progress=lambda done, n=name: self.stdout.write(f"  {n}: {done:,}/{counts[n]:,}"))
            self.stdout.write(f"{name}: {counts[name]:,} rows in {time.monotonic() - started:.1f} s")
        with connection.cursor() as cursor:
            for model in models.values():
                # VACUUM too: the visibility map lets counts use index-only scans, as on a settled table
                # (not possible inside a transaction, e.g. a test's: statistics only, then).
                verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
                cursor.execute(f"{verb} {connection.ops.quote_name(model._meta.db_table)}")
        self.stdout.write(self.style.SUCCESS("seeded; tables vacuumed and analysed"))
