"""`manage.py demo`: the whole pipeline, selected as a curator would, in this process, against the sandbox.

Search → places → businesses → domains → sitemaps → pages → contacts →
validation → Brevo and webhook sync, then a CSV export. No worker is needed:
each stage is selected with `curation.services.curation_status_set` (source
"demo", audited like any other change) and run with
`curation.engine.workflow_run`, the code the django-q2 workers run.

The sandbox servers (Places API, business websites, CRMs + webhook receiver)
start in threads on free loopback ports, and the settings point at them for
the duration of the command only; contact validation asks the sandbox DNS
(`scrapersky.sandbox.dns`), so nothing leaves the machine. With a real
GOOGLE_MAPS_API_KEY the command refuses unless --allow-real is given (then it
uses the configured real services and spends real quota).
"""
from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.test import override_settings

DEFAULT_QUERY = "dentist"
DEFAULT_LOCATION = "Austin, TX"
DEFAULT_MAX = 20
DEFAULT_OUTPUT = "demo-contacts.csv"
RUN_BUDGET_SECONDS = 2.0  # one workflow_run call; the loop prints progress between calls
EXCLUDED_CURATION = ("Rejected", "Archived")  # a curator's "no" is respected on a re-run


@dataclass
class StageResult:
    name: str
    label: str
    rows: int = 0
    queued: int = 0
    skipped: int = 0
    completed: int = 0
    errors: int = 0
    waiting: int = 0
    seconds: float = 0.0
    note: str = ""
    problem: str = ""
    products: str = ""
    error_lines: list[str] = field(default_factory=list)


class Command(BaseCommand):
    help = ("Run the whole chain (search → … → contacts → validation → sync → CSV) in this process against the "
            "offline sandbox, selecting as a curator would. No worker needed; nothing leaves the machine.")

    def add_arguments(self, parser):
        parser.add_argument("--query", default=DEFAULT_QUERY, help=f"what to search for (default {DEFAULT_QUERY!r})")
        parser.add_argument("--location", default=DEFAULT_LOCATION,
                            help=f"where (default {DEFAULT_LOCATION!r}; the sandbox has Austin, Chicago, London, "
                                 "Berlin, Madrid, Toronto, Sydney…)")
        parser.add_argument("--max", type=int, default=DEFAULT_MAX, dest="max_results",
                            help=f"places to take from the search, 1–60 (default {DEFAULT_MAX})")
        parser.add_argument("--output", default=DEFAULT_OUTPUT,
                            help=f"where to write the contacts CSV (default ./{DEFAULT_OUTPUT})")
        parser.add_argument("--reprocess", action="store_true",
                            help="re-run rows an earlier demo already completed (default: they are skipped)")
        parser.add_argument("--allow-real", action="store_true",
                            help="with GOOGLE_MAPS_API_KEY set, run against the real services (spends quota)")

    # --- entry point -----------------------------------------------------------------------------
    def handle(self, *args, **options):
        self.tty = bool(getattr(self.stdout, "isatty", lambda: False)())
        real = bool(getattr(settings, "GOOGLE_MAPS_API_KEY", ""))
        if real and not options["allow_real"]:
            raise CommandError(
                "GOOGLE_MAPS_API_KEY is set, so this demo would call the real Google Places API (billed per request) "
                "and crawl real websites. Unset it to run the demo on the offline sandbox, or pass --allow-real "
                "to spend real quota on purpose.")
        if not 1 <= options["max_results"] <= 60:
            raise CommandError(f"--max must be between 1 and 60 (Google's ceiling), got {options['max_results']}")
        with ExitStack() as stack:
            if options["verbosity"] < 2:  # the progress lines say it; -v 2 shows every HTTP request and batch
                for name in ("httpx", "httpcore", "curation", "places", "pages", "contacts"):
                    logger = logging.getLogger(name)
                    stack.callback(logger.setLevel, logger.level)
                    logger.setLevel(logging.WARNING)
            if real:
                self.stdout.write(self.style.WARNING(
                    "--allow-real: using the configured Google Places key, real websites, real DNS and the "
                    "configured CRMs."))
                stack.enter_context(override_settings(CURATION_WAKE_ON_QUEUE=False))
                self.sandbox_dns = False
            else:
                stack.enter_context(self._sandbox(stack))
                self.sandbox_dns = True
            return self._run(options)

    # --- sandbox -----------------------------------------------------------------------------------
    def _sandbox(self, stack: ExitStack):
        from pages import fetch
        from scrapersky.sandbox import crm
        from scrapersky.sandbox.dns import QUERY_LOG
        from scrapersky.sandbox.registry import SERVERS
        from scrapersky.sandbox.server import serve_in_thread

        running = {}
        for server in SERVERS:
            handle = serve_in_thread(server.make_app(), port=0)  # any free port: never clashes with `make run`
            stack.callback(handle.stop)
            running[server.port_setting] = handle
            self.stdout.write(f"sandbox: {server.name} on {handle.base_url}")
        places, websites, crms = (running["SANDBOX_PLACES_PORT"], running["SANDBOX_WEBSITES_PORT"],
                                  running["SANDBOX_CRM_PORT"])
        fetch.clear_caches()
        stack.callback(fetch.clear_caches)
        QUERY_LOG.reset()
        self.stdout.write("sandbox: DNS for contact validation is scrapersky.sandbox.dns (in process, offline)\n")
        return override_settings(
            SANDBOX_ENABLED=True,
            GOOGLE_MAPS_API_KEY="",
            GOOGLE_PLACES_BASE_URL=places.base_url,
            SANDBOX_PLACES_PORT=places.port,
            SANDBOX_WEBSITES_PORT=websites.port,
            FETCH_HOST_MAP={"*": f"127.0.0.1:{websites.port}"},
            FETCH_ALLOW_PRIVATE=["127.0.0.0/8", "::1/128"],
            FETCH_PER_HOST_DELAY=0.0,
            SANDBOX_CRM_PORT=crms.port,
            BREVO_API_KEY=crm.BREVO_KEY,
            BREVO_BASE_URL=f"{crms.base_url}/brevo",
            HUBSPOT_ACCESS_TOKEN=crm.HUBSPOT_TOKEN,
            HUBSPOT_BASE_URL=f"{crms.base_url}/hubspot",
            WEBHOOK_SYNC_URL=f"{crms.base_url}/webhook/sync",
            WEBHOOK_SYNC_SECRET=crm.WEBHOOK_SECRET,
            CONTACTS_DNS_RESOLVER_FACTORY="scrapersky.sandbox.dns.make_resolver",
            CURATION_WAKE_ON_QUEUE=False,  # this process runs the queue itself; no worker is woken
        )

    # --- the chain ---------------------------------------------------------------------------------
    def _run(self, options):
        from contacts.models import Contact, ContactKind, ValidationResult
        from pages.models import Domain, Page, PageContent, SitemapFile
        from places import services as place_services
        from places.models import LocalBusiness, Place
        from curation.services import CurationInputError

        self.reprocess = options["reprocess"]
        started = time.monotonic()
        results: list[StageResult] = []
        self.stdout.write(self.style.MIGRATE_HEADING(
            f"ScraperSky demo: {options['query']!r} in {options['location']!r}, up to {options['max_results']} places"))

        # WF1: a search is queued when it is created (no curation gate).
        try:
            search = place_services.place_search_create(
                query=options["query"], location_text=options["location"], max_results=options["max_results"])
        except CurationInputError as exc:
            raise CommandError(f"Place search: {exc.message}") from None
        results.append(self._stage("place_search", [search.pk], selected=None, products=lambda: (
            "{found} place(s) found, {new} new".format(
                found=self._refresh(search).results_found or 0, new=search.results_new or 0))))

        def not_rejected(qs, wf_name):
            return qs.exclude(**{f"{wf_name}_curation_status__in": EXCLUDED_CURATION})

        def places():
            return not_rejected(Place.objects.filter(search_results__search=search), "deep_scan")

        def businesses():
            # A curator sends on the businesses that have a website: without one there is nothing to crawl.
            return not_rejected(LocalBusiness.objects.filter(source_place__search_results__search=search)
                                .exclude(website=""), "domain_extraction")

        def domains():
            return not_rejected(Domain.objects.filter(businesses__source_place__search_results__search=search)
                                .distinct(), "sitemap_discovery")

        def sitemap_files():
            # Top-level files only: importing an index follows its children itself.
            return not_rejected(SitemapFile.objects.filter(domain__in=domains(), parent__isnull=True),
                                "sitemap_import")

        def contacts():
            return Contact.objects.filter(domain__in=domains())

        def contents():
            return PageContent.objects.filter(page__domain__in=domains())

        def valid(qs):
            return qs.filter(validation_result=ValidationResult.VALID)

        steps = [
            ("deep_scan", places, lambda: f"{LocalBusiness.objects.filter(source_place__in=places()).count()} "
                                          "business(es)"),
            ("domain_extraction", businesses, lambda: self._domains_note(businesses())),
            ("sitemap_discovery", domains, lambda: self._discovery_note(domains())),
            ("sitemap_import", sitemap_files, lambda: (
                f"{Page.objects.filter(domain__in=domains()).count()} page(s), "
                f"{Page.objects.filter(domain__in=domains(), suggested=True).count()} suggested (contact, about, "
                "team, imprint…)")),
            ("page_scrape", "suggested", lambda: f"{contents().count()} page(s) stored"),
            # processing-only: page_scrape queued the content it stored (no curator step)
            ("contact_extraction", contents, lambda: self._contacts_note(contacts())),
            ("contact_validation", lambda: not_rejected(contacts(), "contact_validation"),
             lambda: self._validation_note(contacts())),
            ("brevo_sync", lambda: not_rejected(valid(contacts()).filter(kind=ContactKind.EMAIL), "brevo_sync"),
             lambda: f"{contacts().exclude(brevo_remote_id='').count()} contact(s) in Brevo"
                     + (" (the sandbox's)" if self.sandbox_dns else "")),
            ("webhook_sync", lambda: not_rejected(valid(contacts()), "webhook_sync"),
             lambda: f"{contacts().exclude(webhook_delivery_id='').count()} contact(s) delivered to the webhook"
                     + (" (the sandbox's receiver)" if self.sandbox_dns else "")),
        ]
        for name, select, products in steps:
            if name == "page_scrape":
                results.append(self._stage(name, None, selected="suggested", products=products,
                                           domain_ids=list(domains().values_list("pk", flat=True))))
            elif name == "contact_extraction":
                results.append(self._stage(name, list(select().values_list("pk", flat=True)), selected=None,
                                           products=products))
            else:
                results.append(self._stage(name, None, selected=select, products=products))
        self._summary(results, time.monotonic() - started)
        self._export(contacts(), options["output"])

    # --- one stage --------------------------------------------------------------------------------
    def _stage(self, name, ids, *, selected, products, domain_ids=None) -> StageResult:
        from curation import engine, registry, services

        wf = registry.get(name)
        result = StageResult(name=name, label=wf.label)
        self.stdout.write(self.style.MIGRATE_HEADING(f"\n{wf.label} ({name})"))
        started = time.monotonic()
        try:
            if selected == "suggested":
                from pages.services import pages_select_suggested

                if not domain_ids:
                    raise services.CurationInputError("no domains to take pages from")
                from pages.models import Page

                status = pages_select_suggested(domain_ids=domain_ids, source="demo")
                ids = list(Page.objects.filter(domain_id__in=domain_ids, suggested=True)
                           .values_list("pk", flat=True))
                if self.reprocess:
                    status = services.curation_status_set(workflow=wf, ids=ids, status=wf.trigger, reprocess=True,
                                                          source="demo")
                self._selection_line(wf, status)
                result.queued, result.skipped = status.queued_count, status.skipped_count
            elif selected is not None:
                ids = list(selected().values_list("pk", flat=True))
                if not ids:
                    raise services.CurationInputError("nothing to select: the previous stage produced no rows")
                status = services.curation_status_set(workflow=wf, ids=ids, status=wf.trigger,
                                                      reprocess=self.reprocess, source="demo")
                self._selection_line(wf, status)
                result.queued, result.skipped = status.queued_count, status.skipped_count
            else:
                result.queued = len(ids)
                self.stdout.write(f"  created and queued (no curation gate): {len(ids)} row(s)")
            result.rows = len(ids)
            self._drain(wf, ids, result)
            result.products = products()
        except services.CurationInputError as exc:
            result.problem = exc.message
            self.stdout.write(self.style.WARNING(f"  skipped: {exc.message}"))
        except Exception as exc:  # the demo goes on; the class and message say what broke
            result.problem = f"{exc.__class__.__name__}: {exc}"
            self.stdout.write(self.style.ERROR(f"  stage failed: {result.problem}"))
        result.seconds = round(time.monotonic() - started, 2)
        if result.products:
            self.stdout.write(f"  → {result.products}")
        if name == "contact_validation" and self.sandbox_dns and not result.problem and result.queued:
            from scrapersky.sandbox.dns import QUERY_LOG

            self.stdout.write(
                f"  → validation used the sandbox DNS (scrapersky.sandbox.dns): {QUERY_LOG.total} quer(ies) for "
                f"{len(QUERY_LOG.names)} domain(s), {QUERY_LOG.nxdomain} NXDOMAIN; no query left this machine")
        for line in result.error_lines:
            self.stdout.write(self.style.ERROR(f"  ✗ {line}"))
        return result

    def _selection_line(self, wf, status) -> None:
        self.stdout.write(f"  curator (source=demo): {status.updated_count} row(s) marked {wf.trigger} → "
                          f"{status.queued_count} queued"
                          + (f", {status.skipped_count} already done (--reprocess to run them again)"
                             if status.skipped_count else ""))

    def _counts(self, wf, ids) -> dict:
        from curation.lookups import pk_in

        counts = {"Queued": 0, "Processing": 0, "Completed": 0, "Error": 0}
        model = wf.model_class
        for row in (model.objects.filter(pk_in(ids)).values(wf.status_field).annotate(n=Count("pk")).order_by()):
            key = row[wf.status_field]
            if key in counts:
                counts[key] = row["n"]
        return counts

    def _drain(self, wf, ids, result: StageResult) -> None:
        """workflow_run until none of the stage's rows is Queued (or the queued ones wait for a retry)."""
        from curation import engine

        total = len(ids)
        counts = self._counts(wf, ids)
        last_line = self._progress(wf, counts, total, final=False)
        while counts["Queued"] or counts["Processing"]:
            report = engine.workflow_run(wf, time_budget=RUN_BUDGET_SECONDS)
            counts = self._counts(wf, ids)
            line = self._progress(wf, counts, total, final=False, last=last_line)
            last_line = line
            if report.paused:
                result.note = f"paused: {report.paused}"
                break
            if not report.claimed and (counts["Queued"] or counts["Processing"]):
                break  # rows wait for a retry (backoff) or are held by another worker: they are not due now
        self._progress(wf, counts, total, final=True, last=last_line)
        result.completed, result.errors = counts["Completed"], counts["Error"]
        result.waiting = counts["Queued"] + counts["Processing"]
        if result.waiting and not result.note:
            result.note = (f"{result.waiting} row(s) wait for a retry (backoff) or another worker; "
                           "a worker (`make run`) finishes them")
        if result.note:
            self.stdout.write(self.style.WARNING(f"  {result.note}"))
        if counts["Error"]:
            result.error_lines = self._error_lines(wf, ids)

    def _progress(self, wf, counts, total, *, final, last=None) -> str:
        done = counts["Completed"] + counts["Error"]
        width = 24
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        line = (f"  [{bar}] {done}/{total}  queued {counts['Queued']} · processing {counts['Processing']} · "
                f"completed {counts['Completed']} · errors {counts['Error']}")
        if self.tty:  # one line, rewritten in place
            self.stdout.write("\r" + line + "\033[K", ending="\n" if final else "")
            self.stdout.flush()
        elif line != last:  # a log or a pipe: a plain line whenever something changed
            self.stdout.write(line)
        return line

    def _error_lines(self, wf, ids) -> list[str]:
        from curation.lookups import pk_in

        rows = (wf.model_class.objects.filter(pk_in(ids), **{wf.status_field: "Error"})
                .values_list(wf.f("error_class"), wf.error_field))
        grouped: dict[tuple, int] = {}
        for error_class, message in rows:
            key = (error_class or "bug", (message or "").splitlines()[0][:200] if message else "(no message)")
            grouped[key] = grouped.get(key, 0) + 1
        lines = [f"[{cls}] {msg}" + (f"  ({n} rows)" if n > 1 else "")
                 for (cls, msg), n in sorted(grouped.items(), key=lambda item: -item[1])]
        if len(lines) > 8:
            lines = [*lines[:8], f"… and {len(lines) - 8} more kinds of error (admin: filter by Error)"]
        return lines

    # --- notes ------------------------------------------------------------------------------------
    @staticmethod
    def _refresh(obj):
        obj.refresh_from_db()
        return obj

    @staticmethod
    def _count_note(qs, noun) -> str:
        n = qs.count()
        return f"{n} {noun}(s)"

    @staticmethod
    def _discovery_note(domains) -> str:
        from pages.models import Page, SitemapFile

        note = f"{SitemapFile.objects.filter(domain__in=domains).count()} sitemap file(s)"
        fallback = Page.objects.filter(domain__in=domains, source="homepage_links").count()
        if fallback:
            note += f"; {fallback} page(s) from the homepage links of sites without a sitemap"
        return note

    @staticmethod
    def _domains_note(businesses) -> str:
        kinds = dict(businesses.values_list("website_kind").annotate(n=Count("pk")).order_by())
        with_domain = businesses.filter(domain__isnull=False).values("domain").distinct().count()
        detail = ", ".join(f"{n} {(kind or 'unclassified').replace('_', ' ')}" for kind, n in sorted(kinds.items()))
        return f"{with_domain} domain(s) to crawl; websites: {detail}"

    @staticmethod
    def _contacts_note(contacts) -> str:
        kinds = dict(contacts.values_list("kind").annotate(n=Count("pk")).order_by())
        return (f"{sum(kinds.values())} contact(s): {kinds.get('email', 0)} email(s), "
                f"{kinds.get('phone', 0)} phone(s)")

    @staticmethod
    def _validation_note(contacts) -> str:
        results = dict(contacts.exclude(validation_result="").values_list("validation_result")
                       .annotate(n=Count("pk")).order_by())
        return ", ".join(f"{results.get(k, 0)} {k}" for k in ("valid", "risky", "unknown", "invalid"))

    # --- the end ----------------------------------------------------------------------------------
    def _summary(self, results: list[StageResult], seconds: float) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"\nSummary ({seconds:.1f} s)"))
        header = f"  {'stage':<20} {'rows':>6} {'completed':>10} {'errors':>7} {'waiting':>8} {'seconds':>8}"
        self.stdout.write(header)
        self.stdout.write("  " + "-" * (len(header) - 2))
        for r in results:
            line = f"  {r.name:<20} {r.rows:>6} {r.completed:>10} {r.errors:>7} {r.waiting:>8} {r.seconds:>8.1f}"
            if r.problem:
                line += f"  skipped: {r.problem}"
            self.stdout.write(line)
        self.summary = results

    def _export(self, contacts, output: str) -> None:
        from contacts import exports, services

        path = Path(output).expanduser()
        if not path.is_absolute():
            path = Path.cwd() / path
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            count = services.contacts_export(queryset=contacts, columns=list(exports.DEFAULT_COLUMNS), fmt="csv",
                                             out=out)
        self.stdout.write(self.style.SUCCESS(f"\nContacts CSV: {count} contact(s) → {path}"))
        self.stdout.write("Browse every row in admin: `make run`, then http://127.0.0.1:8000/admin/ "
                          "(the same database).")
