"""`manage.py search_places "dentist" "Austin, TX" [--max 60] [--wait]`: start a place search.

Thin: parses the arguments and calls `places.services.place_search_create`
(the same service as the admin's "New search" and `POST /api/v3/place-searches/`).
With --wait it runs the place_search queue in this process (no worker needed)
and prints the counts.
"""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from curation import engine, registry
from curation.services import CurationInputError
from places import services
from places.google import MAX_SEARCH_RESULTS
from places.models import PlaceSearch


class Command(BaseCommand):
    help = 'Start a Google Places search: search_places "dentist" "Austin, TX" [--max 60] [--wait]'

    def add_arguments(self, parser):
        parser.add_argument("query", help='business type, e.g. "dentist"')
        parser.add_argument("location", nargs="?", default="", help='where, e.g. "Austin, TX"')
        parser.add_argument("--max", dest="max_results", type=int, default=MAX_SEARCH_RESULTS,
                            help=f"at most this many results (1–{MAX_SEARCH_RESULTS}, default {MAX_SEARCH_RESULTS})")
        parser.add_argument("--lat", dest="latitude", type=float, default=None, help="latitude of the bias circle")
        parser.add_argument("--lng", dest="longitude", type=float, default=None, help="longitude of the bias circle")
        parser.add_argument("--radius", dest="radius_m", type=int, default=None, help="radius in metres (≤ 50000)")
        parser.add_argument("--language", default="", help="languageCode, e.g. en")
        parser.add_argument("--region", default="", help="regionCode, e.g. us")
        parser.add_argument("--user", default=None, help="username recorded as the search's creator")
        parser.add_argument("--wait", action="store_true",
                            help="run the search now, in this process, and print the counts")

    def handle(self, *args, **options):
        user = None
        if options["user"]:
            try:
                user = get_user_model().objects.get_by_natural_key(options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user {options['user']!r}") from None
        try:
            search = services.place_search_create(
                query=options["query"], location_text=options["location"], max_results=options["max_results"],
                latitude=options["latitude"], longitude=options["longitude"], radius_m=options["radius_m"],
                language=options["language"], region=options["region"], user=user,
            )
        except CurationInputError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Search {search.pk} queued: {search}")
        if not options["wait"]:
            self.stdout.write("A worker runs it within seconds (make run), or run: manage.py run_workflow place_search")
            return
        report = engine.workflow_run(registry.get("place_search"), time_budget=float("inf"))
        search = PlaceSearch.objects.get(pk=search.pk)
        status = search.place_search_processing_status
        if status == "Completed":
            self.stdout.write(self.style.SUCCESS(
                f"{search.results_found} found, {search.results_new} new, {search.results_known} already known"))
            return
        if report.paused:
            raise CommandError(f"Paused: {report.paused}")
        raise CommandError(f"Search {status}: {search.place_search_processing_error or 'not run'}")
