"""manage.py search_places."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from places.models import Place, PlaceSearch

pytestmark = pytest.mark.django_db


def test_search_places_wait_runs_in_process_and_prints_counts(google):
    out = StringIO()
    call_command("search_places", "dentist", "Austin, TX", "--max", "5", "--wait", stdout=out)
    assert "5 found, 5 new, 0 already known" in out.getvalue()
    assert Place.objects.count() == 5
    out = StringIO()
    call_command("search_places", "dentist", "Austin, TX", "--max", "7", "--wait", stdout=out)
    assert "7 found, 2 new, 5 already known" in out.getvalue()


def test_search_places_without_wait_only_queues(google, admin_user):
    out = StringIO()
    call_command("search_places", "plumber", "Chicago", "--user", admin_user.username, stdout=out)
    search = PlaceSearch.objects.get()
    assert search.place_search_processing_status == "Queued" and search.created_by == admin_user
    assert str(search.pk) in out.getvalue()


@pytest.mark.parametrize("args,message", [
    (["dentist", "Austin", "--max", "61"], "max_results"),
    (["", "Austin"], "query"),
    (["dentist", "--radius", "100"], "radius needs latitude"),
    (["dentist", "--user", "nobody"], "No user"),
])
def test_search_places_bad_input_is_a_command_error(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("search_places", *args)
    assert not PlaceSearch.objects.exists()


def test_search_places_wait_reports_a_failure(google, settings):
    settings.GOOGLE_MAPS_API_KEY = "not-a-valid-key"
    with pytest.raises(CommandError, match="Error: Google Places"):
        call_command("search_places", "dentist", "Austin", "--wait", stdout=StringIO())


def test_search_places_area_shows_the_estimate_and_a_progress_bar(dense_google, _dense_city, monkeypatch):
    from places import coverage

    monkeypatch.setattr(coverage, "SLICE_SECONDS", 1.0)  # several slices: the command carries on between them
    out = StringIO()
    call_command("search_places", "dentist", "--area", "Quillhaven, OR", "--max-requests", "400", "--wait", stdout=out)
    text = out.getvalue()
    search = PlaceSearch.objects.get()
    assert "Estimated cost: first pass over the area (+1 request to look it up)" in text
    bars = [line for line in text.splitlines() if line.startswith("[")]
    assert len(bars) == search.tiles_done >= 10
    assert bars[-1].startswith(f"[{'#' * 30}] {search.tiles_done}/{search.tiles_total} tiles · 1200 places · ")
    assert f"1200 found, 1200 new, 0 already known; {search.tiles_done} of {search.tiles_total} tiles" in text
    assert f"{search.requests_used} request(s), $" in text


@pytest.mark.parametrize("args,message", [
    (["dentist", "--bbox", "1,2,3"], "four numbers"),
    (["dentist", "--bbox", "2,1,1,2"], "south"),
    (["dentist", "--area", "X", "--max-requests", "0"], "request budget"),
    (["dentist", "--lat", "1", "--lng", "1", "--cover"], "needs a radius"),
])
def test_search_places_bad_area_is_a_command_error(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("search_places", *args, stdout=StringIO())
    assert not PlaceSearch.objects.exists()
