"""Benchmark 10 — coverage: "every dentist in Quillhaven, OR", the sandbox's dense city (1,200 fictional
dentists), through the place_search workflow over real HTTP (the Places sandbox in this process's thread).

Figures: the share of the city's dentists found, and the Text Search requests used against the minimum (one
request returns at most 20 places: ceil(1,200 / 20) = 60, plus the one request that looks the area up).
Baselines in the same run: one plain Text Search ("dentist in Quillhaven, OR": Google's 60-result ceiling),
and a uniform grid as scrapers without a planner tile an area (gosom's grid), with cells small enough that
none is full (its requests counted on the same sandbox, without HTTP). Not a speed target: the machine's load
does not change these numbers.
"""
import math

from common import Timer, emit, setup

args = setup(__doc__)

from django.conf import settings  # noqa: E402

from curation import engine, registry  # noqa: E402
from places.coverage import Box, grid  # noqa: E402
from places.models import PlaceSearch, PlaceSearchResult  # noqa: E402
from places.services import place_search_create  # noqa: E402
from scrapersky.sandbox import places_api  # noqa: E402
from scrapersky.sandbox.server import serve_in_thread  # noqa: E402

app = places_api.make_app()
running = serve_in_thread(app, port=0)
settings.SANDBOX_ENABLED = True
settings.GOOGLE_PLACES_BASE_URL = running.base_url
settings.GOOGLE_MAPS_API_KEY = places_api.SANDBOX_API_KEY
settings.GOOGLE_PLACES_DAILY_LIMIT = 0
settings.GOOGLE_PLACES_DAILY_BUDGET_USD = 0
expected = {p["id"] for p in places_api.load_dense_city()["places"]}
minimum = math.ceil(len(expected) / 20)


def run(search):
    for _ in range(200):
        engine.workflow_run(registry.get("place_search"), time_budget=600)
        search.refresh_from_db()
        if search.place_search_processing_status in ("Completed", "Error"):
            return search
    raise RuntimeError(f"search still {search.place_search_processing_status}")


def found(search) -> set[str]:
    return set(PlaceSearchResult.objects.filter(search=search).values_list("place__place_id", flat=True))


with Timer() as t:
    area = run(place_search_create(query="dentist", cover_area=True, area_text="Quillhaven, OR"))
plain = run(place_search_create(query="dentist", location_text="Quillhaven, OR"))

# A uniform grid over the same viewport, halving the cell until no cell holds more than 60 dentists.
box = Box(area.south, area.west, area.north, area.east)
side = 20_000.0
while True:
    cells = grid(box, side)
    counts = [len(app._match("dentist", None, None, c.as_tuple())) for c in cells]
    if max(counts) < 60:
        break
    side /= 2
grid_requests = sum(max(1, math.ceil(n / 20)) for n in counts)

ours = found(area) & expected
running.stop()
emit("coverage", args.quick,
     places_in_city=len(expected), found=len(ours), coverage_pct=round(100 * len(ours) / len(expected), 2),
     requests=area.requests_used, minimum_requests=minimum + 1, ratio_to_minimum=round(area.requests_used / (minimum + 1), 2),
     tiles=area.tiles_total, tiles_saturated=area.tiles_saturated, cost_usd=area.cost_micros / 1e6, seconds=round(t.seconds, 1),
     baseline_plain_search={"found": len(found(plain) & expected), "requests": plain.requests_used},
     baseline_uniform_grid={"cell_m": round(side), "cells": len(cells), "requests": grid_requests,
                            "ratio_to_minimum": round(grid_requests / minimum, 2)})
