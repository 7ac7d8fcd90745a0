"""`manage.py search_places "dentist" "Austin, TX" [--max 60] [--wait]`: start a place search.

Area searches (the coverage planner, places/coverage.py) go past Google's 60 results:

    manage.py search_places dentist --area "Quillhaven, OR" [--max-requests 200] [--max-cost 5] --wait
    manage.py search_places dentist --bbox 43.79,-120.65,44.01,-120.35 --wait
    manage.py search_places dentist --lat 43.9 --lng -120.5 --radius 3000 --cover --wait

Thin: parses the arguments, prints the estimate (`place_search_estimate`) and
calls `places.services.place_search_create` (the same service as the admin's
"New search" and `POST /api/v3/place-searches/`). With --wait it runs the
place_search queue in this process (no worker needed) until the search is
finished, with a progress bar of the tiles for area searches, and prints the
counts and the cost.
"""
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from curation import engine, registry
from curation.services import CurationInputError
from places import services
from places.coverage import tile_searched
from places.google import MAX_SEARCH_RESULTS
from places.models import PlaceSearch
from places.pricing import format_usd

BAR_WIDTH = 30


def _bbox(value: str) -> list[float]:
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 4:
        raise CommandError(f"--bbox takes south,west,north,east (four numbers), got {value!r}")
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise CommandError(f"--bbox takes four numbers, got {value!r}") from None


class Command(BaseCommand):
    help = 'Start a Google Places search: search_places "dentist" "Austin, TX" [--max 60] [--wait], or --area …'

    def add_arguments(self, parser):
        parser.add_argument("query", help='business type, e.g. "dentist"')
        parser.add_argument("location", nargs="?", default="", help='where, e.g. "Austin, TX"')
        parser.add_argument("--max", dest="max_results", type=int, default=MAX_SEARCH_RESULTS,
                            help=f"at most this many results (1–{MAX_SEARCH_RESULTS}, default {MAX_SEARCH_RESULTS})")
        parser.add_argument("--lat", dest="latitude", type=float, default=None, help="latitude of the circle")
        parser.add_argument("--lng", dest="longitude", type=float, default=None, help="longitude of the circle")
        parser.add_argument("--radius", dest="radius_m", type=int, default=None, help="radius in metres (≤ 50000)")
        parser.add_argument("--area", dest="area_text", default="",
                            help='every place in this area (past the 60-result ceiling), e.g. "Austin, TX"')
        parser.add_argument("--bbox", default="", help="every place in south,west,north,east")
        parser.add_argument("--cover", action="store_true", help="every place in the --lat/--lng/--radius circle")
        parser.add_argument("--min-tile", dest="min_tile_m", type=int, default=None,
                            help="smallest tile in metres for area searches (default 250)")
        parser.add_argument("--max-requests", dest="max_requests", type=int, default=None,
                            help="stop an area search after this many requests")
        parser.add_argument("--max-cost", dest="max_cost_usd", default=None,
                            help="stop an area search before its list price exceeds this many dollars")
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
        params = {
            "query": options["query"], "location_text": options["location"], "max_results": options["max_results"],
            "latitude": options["latitude"], "longitude": options["longitude"], "radius_m": options["radius_m"],
            "language": options["language"], "region": options["region"], "area_text": options["area_text"],
            "max_requests": options["max_requests"], "max_cost_usd": options["max_cost_usd"],
            "cover_area": bool(options["area_text"] or options["bbox"] or options["cover"]),
        }
        if options["bbox"]:
            params.update(zip(("south", "west", "north", "east"), _bbox(options["bbox"])))
        if options["min_tile_m"] is not None:
            params["min_tile_m"] = options["min_tile_m"]
        try:
            estimate = services.place_search_estimate(**services.place_search_clean(**params))
            search = services.place_search_create(**params, user=user)
        except CurationInputError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Search {search.pk} queued: {search}")
        self.stdout.write(f"Estimated cost: {estimate['summary']}")
        if not options["wait"]:
            self.stdout.write("A worker runs it within seconds (make run), or run: manage.py run_workflow place_search")
            return
        search = self._run(search)
        status = search.place_search_processing_status
        cost = f"{search.requests_used} request(s), {format_usd(search.cost_micros)}"
        if status == "Completed":
            coverage = ""
            if search.cover_area:
                coverage = (f"; {search.tiles_done} of {search.tiles_total} tiles"
                            f"{f', {search.tiles_saturated} saturated' if search.tiles_saturated else ''}")
            self.stdout.write(self.style.SUCCESS(
                f"{search.results_found} found, {search.results_new} new, {search.results_known} already known"
                f"{coverage}; {cost}"))
            if search.note:
                self.stdout.write(self.style.WARNING(search.note))
            return
        raise CommandError(f"Search {status}: {search.place_search_processing_error or 'not run'} ({cost})")

    def _run(self, search: PlaceSearch) -> PlaceSearch:
        """Run the queue until this search is finished; area searches come back between slices."""
        def draw(sender, search_id, **kwargs):
            if search_id == search.pk:
                self._bar(PlaceSearch.objects.get(pk=search.pk))

        tile_searched.connect(draw, weak=False)
        try:
            while True:
                report = engine.workflow_run(registry.get("place_search"), time_budget=float("inf"))
                search = PlaceSearch.objects.get(pk=search.pk)
                status = search.place_search_processing_status
                if status in ("Completed", "Error"):
                    break
                if report.paused and not report.paused.startswith("continuing"):
                    raise CommandError(f"Paused: {report.paused}")
                if not report.claimed:  # waiting out a retry backoff: say so rather than spin
                    raise CommandError(f"Search {status}: {search.place_search_processing_error} "
                                       "(a worker retries it when it is due: make run, or run_workflow place_search)")
        finally:
            tile_searched.disconnect(draw)
            if search.cover_area and search.tiles_total:
                self.stdout.write("")
        return search

    def _bar(self, search: PlaceSearch) -> None:
        total = max(search.tiles_total, 1)
        filled = BAR_WIDTH * search.tiles_done // total
        line = (f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {search.tiles_done}/{search.tiles_total} tiles · "
                f"{search.results_found or 0} places · {search.requests_used} requests {format_usd(search.cost_micros)}")
        ending = "\r" if getattr(self.stdout, "isatty", lambda: False)() else "\n"
        self.stdout.write(line, ending=ending)
        if ending == "\r":
            sys.stdout.flush()
