"""`manage.py reextract_contacts [--domain NAME ...]`: extract contacts again from stored page content.

Thin: calls `contacts.services.contacts_reextract` (no page is fetched again;
the same upsert as page_scrape: no duplicates, provenance updated).
"""
from django.core.management.base import BaseCommand, CommandError

from contacts import services
from pages.models import Domain


class Command(BaseCommand):
    help = "Extract contacts again from the stored HTML of scraped pages (all domains, or --domain ...)."

    def add_arguments(self, parser):
        parser.add_argument("--domain", action="append", default=[], help="a domain name (repeatable)")

    def handle(self, *args, **options):
        domain_ids = None
        if options["domain"]:
            names = [d.strip().lower() for d in options["domain"]]
            found = dict(Domain.objects.filter(domain__in=names).values_list("domain", "pk"))
            missing = [n for n in names if n not in found]
            if missing:
                raise CommandError(f"Unknown domain(s): {', '.join(missing)}")
            domain_ids = list(found.values())
        result = services.contacts_reextract(domain_ids=domain_ids)
        self.stdout.write(
            f"{result.contacts_created} contact(s) created, {result.contacts_updated} seen again, "
            f"{result.sources_created} new source(s), {result.sources_gone} no longer on their page, "
            f"{result.socials} social link(s)")
