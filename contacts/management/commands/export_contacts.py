"""`manage.py export_contacts [--format csv|xlsx] [--columns a,b] [--output FILE] [filters]`: export contacts.

Thin: builds the same FilterSet as `GET /api/v3/contacts/export/` and calls
`contacts.services.contacts_export`. Without --output the file goes to stdout
(binary: redirect it, e.g. `> contacts.csv`).
"""
import sys

from django.core.management.base import BaseCommand, CommandError

from contacts import exports, services
from contacts.filters import ContactFilterSet
from contacts.models import WORKFLOWS, Contact


class Command(BaseCommand):
    help = "Export contacts as CSV (UTF-8 with BOM, Excel-safe) or XLSX, with a choice of columns and filters."

    def add_arguments(self, parser):
        parser.add_argument("--format", dest="fmt", choices=sorted(services.EXPORT_FORMATS), default="csv")
        parser.add_argument("--columns", default="",
                            help="comma-separated columns (default: " + ",".join(exports.DEFAULT_COLUMNS)
                            + "); allowed: " + ",".join(exports.EXPORT_COLUMNS))
        parser.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
        parser.add_argument("--filter", action="append", default=[], metavar="NAME=VALUE",
                            help="a filter of GET /api/v3/contacts/ (repeatable), e.g. validation_result=valid")
        parser.add_argument("--workflow-status", action="append", default=[], metavar="WORKFLOW=STATUS",
                            help="processing status of a workflow, e.g. brevo_sync=Completed (repeatable)")
        parser.add_argument("--kind", choices=["email", "phone"], default=None)
        parser.add_argument("--domain", default=None, help="only contacts of this domain name")

    def handle(self, *args, **options):
        try:
            columns = exports.parse_columns(options["columns"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        data: dict[str, list[str]] = {}
        for item in options["filter"]:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--filter needs NAME=VALUE, got {item!r}")
            data.setdefault(name.strip(), []).append(value.strip())
        for item in options["workflow_status"]:
            name, sep, value = item.partition("=")
            if not sep or name.strip() not in WORKFLOWS:
                raise CommandError(f"--workflow-status needs WORKFLOW=STATUS with a workflow of {', '.join(WORKFLOWS)}; "
                                   f"got {item!r}")
            data.setdefault(f"{name.strip()}_processing_status", []).append(value.strip())
        if options["kind"]:
            data["kind"] = [options["kind"]]
        if options["domain"]:
            data["domain_name"] = [options["domain"]]
        unknown = sorted(set(data) - set(ContactFilterSet.base_filters))
        if unknown:
            raise CommandError(f"Unknown filter(s): {', '.join(unknown)}; allowed: "
                               f"{', '.join(sorted(ContactFilterSet.base_filters))}")
        from django.http import QueryDict

        query = QueryDict(mutable=True)
        for name, values in data.items():
            query.setlist(name, values)
        filterset = ContactFilterSet(data=query, queryset=Contact.objects.all())
        if not filterset.is_valid():
            details = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())
            raise CommandError(f"Invalid filters: {details}")
        queryset = filterset.qs
        if options["output"] == "-":
            out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
            if out is None:
                raise CommandError("stdout is not binary here: use --output FILE")
            count = services.contacts_export(queryset=queryset, columns=columns, fmt=options["fmt"], out=out)
            out.flush()
            self.stderr.write(f"{count} contact(s) exported")
            return
        with open(options["output"], "wb") as out:
            count = services.contacts_export(queryset=queryset, columns=columns, fmt=options["fmt"], out=out)
        self.stdout.write(f"{count} contact(s) exported to {options['output']}")
