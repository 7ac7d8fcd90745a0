"""The coverage planner: an area search past Google's 60-result ceiling.

Text Search returns at most 60 places per query. An area search tiles its area
with `locationRestriction` rectangles and searches each tile (every page); a
tile that comes back full (60 results: there may be more) is split in four at
the median of the places it returned, so the quarters hold similar numbers,
until the tiles are no bigger than `min_tile_m`. A tile still full at that size
is kept and reported as saturated. Places are deduplicated across tiles; the
provenance row of each place keeps every tile that returned it, with its rank.

Every tile is written when it is done (`lease.fenced()`: one transaction that
first checks the search is still Processing under this worker's lease), so
admin shows progress per tile and a later attempt resumes at the first pending
tile; the closing note is written with the completion (`lease.complete()`). The search stops at
its own request/money budget (Completed, with a note), pauses at the daily
budgets (WorkflowPaused: no attempt spent), and hands its row back every
`SLICE_SECONDS` so that no worker is held longer than a task may run.
"""
from __future__ import annotations

import logging
import math
import statistics
import time
from dataclasses import dataclass

from django.db.models import F
from django.dispatch import Signal

from curation.exceptions import ErrorClass, PermanentError, WorkflowError, WorkflowPaused
from places.google import MAX_SEARCH_RESULTS, SEARCH_FIELD_MASK, PlacesClient, SearchOutcome
from places.models import PlaceSearch, PlaceSearchTile, TileStatus
from places.pricing import price_micros, usd_to_micros

logger = logging.getLogger(__name__)

METRES_PER_DEGREE = 111_320.0
MAX_TOP_TILE_M = 20_000.0  # the first grid: tiles no bigger than this
SLICE_SECONDS = 40.0  # one run of the hook; the row is handed back (no attempt spent) and resumed


# Sent after each tile is written (kwargs: search_id); `search_places --area` draws its progress bar from it.
tile_searched = Signal()


class SliceEnded(WorkflowPaused):
    """The hook's time slice is over: the row goes back to the queue at once, no attempt spent."""


@dataclass(frozen=True)
class Box:
    south: float
    west: float
    north: float
    east: float

    @property
    def height_m(self) -> float:
        return (self.north - self.south) * METRES_PER_DEGREE

    @property
    def width_m(self) -> float:
        mid = math.radians((self.north + self.south) / 2)
        return (self.east - self.west) * METRES_PER_DEGREE * max(math.cos(mid), 0.01)

    def as_tuple(self) -> tuple[float, float, float, float]:
        return self.south, self.west, self.north, self.east


def circle_box(latitude: float, longitude: float, radius_m: float) -> Box:
    """The bounding box of a circle (small-area approximation, clamped to valid coordinates)."""
    dlat = radius_m / METRES_PER_DEGREE
    dlng = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(latitude)), 0.01))
    return Box(max(-90.0, latitude - dlat), max(-180.0, longitude - dlng),
               min(90.0, latitude + dlat), min(180.0, longitude + dlng))


def grid(box: Box, max_side_m: float = MAX_TOP_TILE_M) -> list[Box]:
    """The first tiling: rows × columns of equal tiles no bigger than `max_side_m`."""
    rows = max(1, math.ceil(round(box.height_m / max_side_m, 6)))
    cols = max(1, math.ceil(round(box.width_m / max_side_m, 6)))
    dlat, dlng = (box.north - box.south) / rows, (box.east - box.west) / cols
    return [Box(box.south + r * dlat, box.west + c * dlng, box.south + (r + 1) * dlat, box.west + (c + 1) * dlng)
            for r in range(rows) for c in range(cols)]


def can_split(box: Box, min_tile_m: float) -> bool:
    return max(box.height_m, box.width_m) / 2 >= min_tile_m


def split(box: Box, points: list[tuple[float, float]]) -> list[Box]:
    """Four quarters of `box`, cut at the median of `points` (the places it returned) so they hold similar
    numbers; at the centre when the points say nothing useful. The quarters cover the box exactly."""
    def cut(values: list[float], low: float, high: float) -> float:
        margin = (high - low) * 0.2  # never a sliver: the cut stays in the middle 60 %
        middle = statistics.median(values) if values else (low + high) / 2
        return min(max(middle, low + margin), high - margin)

    inside = [(lat, lng) for lat, lng in points if box.south <= lat <= box.north and box.west <= lng <= box.east]
    lat_cut = cut([p[0] for p in inside], box.south, box.north)
    lng_cut = cut([p[1] for p in inside], box.west, box.east)
    return [Box(box.south, box.west, lat_cut, lng_cut), Box(box.south, lng_cut, lat_cut, box.east),
            Box(lat_cut, box.west, box.north, lng_cut), Box(lat_cut, lng_cut, box.north, box.east)]


def first_pass_requests(box: Box | None) -> tuple[int, int]:
    """(tiles, requests) of the first tiling of `box`: each tile costs 1–3 requests (here: the 3 of a full one)."""
    tiles = len(grid(box)) if box is not None else 1
    return tiles, tiles * 3


# --- running an area search (the place_search hook delegates here) ----------------------------


def _budget_left(record: PlaceSearch) -> tuple[bool, str]:
    """Whether the search's own budget allows one more request, and why not."""
    search = PlaceSearch.objects.only("requests_used", "cost_micros").get(pk=record.pk)
    if record.max_requests is not None and search.requests_used + 1 > record.max_requests:
        return False, f"request budget of {record.max_requests} reached"
    if record.max_cost_usd is not None:
        price = price_micros("search", SEARCH_FIELD_MASK)
        if search.cost_micros + price > usd_to_micros(record.max_cost_usd):
            return False, f"money budget of ${record.max_cost_usd} reached"
    return True, ""


def _count(record: PlaceSearch, client: PlacesClient, before: tuple[int, int]) -> None:
    """Add the requests the client sent since `before` to the search's counters."""
    requests, cost = client.requests_sent - before[0], client.cost_micros - before[1]
    if requests:
        PlaceSearch.objects.filter(pk=record.pk).update(requests_used=F("requests_used") + requests,
                                                        cost_micros=F("cost_micros") + cost)


def _resolve_area(record: PlaceSearch, client: PlacesClient, lease) -> Box:
    if record.south is not None:
        return Box(record.south, record.west, record.north, record.east)
    if record.latitude is not None:
        box = circle_box(record.latitude, record.longitude, float(record.radius_m or 1000))
        resolved = ""
    else:
        before = (client.requests_sent, client.cost_micros)
        try:
            area = client.geocode(record.area_text, language=record.language or None, region=record.region or None)
        finally:
            _count(record, client, before)
        box = Box(*area["bounds"])
        resolved = f"{area['name']}, {area['formatted_address']}".strip(", ")[:500]
    with lease.fenced():
        PlaceSearch.objects.filter(pk=record.pk).update(south=box.south, west=box.west, north=box.north,
                                                        east=box.east, area_resolved=resolved)
    record.south, record.west, record.north, record.east = box.as_tuple()
    return box


def _start_tiles(record: PlaceSearch, box: Box, lease) -> None:
    with lease.fenced():
        if PlaceSearchTile.objects.filter(search=record).exists():
            return
        tiles = [PlaceSearchTile(search=record, key=str(i), depth=0, **vars(tile)) for i, tile in enumerate(grid(box))]
        PlaceSearchTile.objects.bulk_create(tiles)
        PlaceSearch.objects.filter(pk=record.pk).update(tiles_total=len(tiles))


def _finish_tile(record: PlaceSearch, lease, tile: PlaceSearchTile, outcome: SearchOutcome, *, status: str,
                 children: list[Box], store, error: str = "") -> None:
    with lease.fenced():
        new = store(search=record, raw_places=outcome.places, tile_key=tile.key)
        if children:
            PlaceSearchTile.objects.bulk_create([
                PlaceSearchTile(search=record, key=f"{tile.key}.{i}", depth=tile.depth + 1, **vars(child))
                for i, child in enumerate(children)])
        PlaceSearchTile.objects.filter(pk=tile.pk).update(
            status=status, results=len(outcome.places), new_places=new, pages=outcome.pages,
            requests=F("requests") + outcome.pages + (1 if outcome.error else 0), error=error[:2000])
        PlaceSearch.objects.filter(pk=record.pk).update(
            tiles_total=F("tiles_total") + len(children),
            tiles_done=F("tiles_done") + (0 if status == TileStatus.PENDING else 1),
            tiles_saturated=F("tiles_saturated") + (1 if status == TileStatus.SATURATED else 0),
        )
    tile_searched.send(sender=PlaceSearch, search_id=record.pk)


def _note_tile_error(lease, tile: PlaceSearchTile, exc: WorkflowError) -> None:
    with lease.fenced():
        PlaceSearchTile.objects.filter(pk=tile.pk).update(requests=F("requests") + 1, error=exc.message[:2000])


def _coverage_note(record: PlaceSearch, reason: str) -> str:
    search = PlaceSearch.objects.get(pk=record.pk)
    left = PlaceSearchTile.objects.filter(search=record, status=TileStatus.PENDING).count()
    return f"{reason}: {search.tiles_done} of {search.tiles_total} tiles searched, {left} not searched"


def area_search_run(*, record: PlaceSearch, client: PlacesClient, lease, last_attempt: bool, store,
                    slice_seconds: float | None = None) -> str:
    """Run (or resume) an area search until every tile is done, its budget is spent or its slice is over.

    Tile results are written as each tile finishes (`lease.fenced()`); returns
    the note the search completes with ("" when every tile was searched) for
    the caller to write with the completion (`lease.complete()`). Raises to
    hand the row back: `SliceEnded`, a daily-budget pause, or a tile's error
    while attempts remain. `store(search=, raw_places=, tile_key=)` upserts a tile's places
    (places.services.place_search_store, passed in: the services run this module, which does not import them).
    """
    started = time.monotonic()
    slice_seconds = SLICE_SECONDS if slice_seconds is None else slice_seconds
    box = _resolve_area(record, client, lease)
    _start_tiles(record, box, lease)
    searched = 0  # every slice searches at least one tile, however short
    while True:
        tile = PlaceSearchTile.objects.filter(search=record, status=TileStatus.PENDING).order_by("id").first()
        if tile is None:
            break
        allowed, why = _budget_left(record)
        if not allowed:
            return _coverage_note(record, f"stopped: {why}")
        if searched and time.monotonic() - started > slice_seconds:
            search = PlaceSearch.objects.only("tiles_done", "tiles_total").get(pk=record.pk)
            raise SliceEnded(f"continuing: {search.tiles_done} of {search.tiles_total} tiles searched",
                             error_class=ErrorClass.QUOTA, retry_after=0.001)
        searched += 1
        tile_box = Box(tile.south, tile.west, tile.north, tile.east)
        before = (client.requests_sent, client.cost_micros)
        body = client.search_body(query=record.query, rectangle=tile_box.as_tuple(),
                                  language=record.language or None, region=record.region or None)
        try:
            outcome = client.search_pages(body, max_results=MAX_SEARCH_RESULTS)
        except WorkflowPaused:
            _count(record, client, before)
            raise
        except WorkflowError as exc:
            _count(record, client, before)
            _note_tile_error(lease, tile, exc)
            if last_attempt or isinstance(exc, PermanentError):
                return _end_partial(record, lease, tile, exc)
            raise
        _count(record, client, before)
        if outcome.error is not None:
            # A later page failed: keep what was read; search the tile again on the next attempt.
            if isinstance(outcome.error, WorkflowPaused):
                _finish_tile(record, lease, tile, outcome, store=store, status=TileStatus.PENDING, children=[],
                             error=outcome.partial_note)
                raise outcome.error
            if last_attempt or isinstance(outcome.error, PermanentError):
                _finish_tile(record, lease, tile, outcome, store=store, status=TileStatus.FAILED, children=[],
                             error=outcome.partial_note)
                return _end_partial(record, lease, tile, outcome.error, page=outcome.failed_page)
            _finish_tile(record, lease, tile, outcome, store=store, status=TileStatus.PENDING, children=[], error=outcome.partial_note)
            raise outcome.error
        children: list[Box] = []
        status = TileStatus.DONE
        if outcome.saturated:
            if can_split(tile_box, record.min_tile_m):
                points = [(p["location"]["latitude"], p["location"]["longitude"]) for p in outcome.places
                          if isinstance(p.get("location"), dict) and "latitude" in p["location"]]
                children, status = split(tile_box, points), TileStatus.SPLIT
            else:
                status = TileStatus.SATURATED
        _finish_tile(record, lease, tile, outcome, store=store, status=status, children=children)
    search = PlaceSearch.objects.get(pk=record.pk)
    if search.tiles_saturated:
        return _coverage_note(record, f"{search.tiles_saturated} tile(s) still full at {record.min_tile_m} m: "
                                      "places may be missing there")
    return ""


def _end_partial(record: PlaceSearch, lease, tile: PlaceSearchTile, exc: WorkflowError, page: int | None = None) -> str:
    """The last attempt failed on a tile: the search ends with what it has (or Error if it has nothing)."""
    search = PlaceSearch.objects.get(pk=record.pk)
    if not search.tiles_done:
        raise exc
    where = f"tile {tile.key}" + (f" page {page}" if page else "")
    with lease.fenced():
        PlaceSearchTile.objects.filter(pk=tile.pk, status=TileStatus.PENDING).update(status=TileStatus.FAILED)
    left = PlaceSearchTile.objects.filter(search=record, status=TileStatus.PENDING).count()
    return (f"partial: {where} failed ({exc.message}); {search.tiles_done} of {search.tiles_total} tiles "
            f"searched, {left} not searched")
