"""Admin: the "New search" form, curators' filters, links and the engine's actions."""
from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse

from pages.models import Domain
from places.models import Place, PlaceSearch, PlaceSearchResult
from tests.places.factories import LocalBusinessFactory, PlaceFactory, PlaceSearchFactory

pytestmark = pytest.mark.django_db


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_new_search_form_creates_a_queued_search(admin_client, admin_user):
    url = reverse("admin:places_placesearch_add")
    page = admin_client.get(url)
    assert page.status_code == 200 and "New place search" in page.content.decode()
    data = {"query": "dentist", "location_text": "Austin, TX", "max_results": 30, "language": "", "region": "",
            "min_tile_m": 250}
    # First the cost, and nothing is created.
    confirm = admin_client.post(url, data)
    assert confirm.status_code == 200 and not PlaceSearch.objects.exists()
    text = confirm.content.decode()
    assert "dentist: at most 2 Text Search request(s) ≈ $0.07 (Text Search Enterprise)" in text
    assert 'name="_confirmed"' in text and 'name="location_text" value="Austin, TX"' in text
    response = admin_client.post(url, {**data, "_confirmed": "1"})
    assert response.status_code == 302, response.content.decode()[:2000]
    search = PlaceSearch.objects.get()
    assert (search.query, search.location_text, search.max_results) == ("dentist", "Austin, TX", 30)
    assert search.place_search_processing_status == "Queued" and search.created_by == admin_user
    change = admin_client.get(reverse("admin:places_placesearch_change", args=[search.pk]))
    assert change.status_code == 200 and "Queued" in change.content.decode()


@pytest.mark.parametrize("data,message", [
    ({"query": "dentist", "latitude": "30.1", "max_results": 60}, "latitude and longitude go together"),
    ({"query": "dentist", "max_results": 61}, "60"),
    ({"query": "", "max_results": 10}, "required"),
])
def test_new_search_form_shows_errors_and_creates_nothing(admin_client, data, message):
    response = admin_client.post(reverse("admin:places_placesearch_add"), {"language": "", "region": "", **data})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PlaceSearch.objects.exists()


def test_search_changelist_shows_status_counts_and_links_to_its_places(admin_client):
    search = PlaceSearchFactory(ran=True)
    place = PlaceFactory()
    PlaceSearchResult.objects.create(search=search, place=place, rank=1)
    PlaceFactory()
    page = admin_client.get(reverse("admin:places_placesearch_changelist")).content.decode()
    assert '<b class="s-Completed">Completed</b>' in page and "3 place(s)" in page
    assert "place_search__rerun" in page
    found = admin_client.get(reverse("admin:places_place_changelist"), {"search": str(search.pk)})
    assert found.status_code == 200
    assert list(found.context["cl"].queryset) == [place]


@pytest.mark.parametrize("param,expected", [
    ({"has_website": "yes"}, {"site", "chain1", "chain2"}),
    ({"has_website": "no"}, {"plain"}),
    ({"has_phone": "yes"}, {"site"}),
    ({"chain": "yes"}, {"chain1", "chain2"}),
    ({"rating_band": "4.5+"}, {"site"}),
    ({"rating_band": "none"}, {"plain"}),
    ({"business_status__exact": "CLOSED_PERMANENTLY"}, {"chain2"}),
    ({"primary_type": "plumber"}, {"chain1"}),
])
def test_place_filters(admin_client, param, expected):
    PlaceFactory(name="site", with_website=True, rating=4.7)
    PlaceFactory(name="chain1", website="https://a.chain.com", website_domain="chain.com", rating=4.0,
                 primary_type="plumber")
    PlaceFactory(name="chain2", website="https://b.chain.com", website_domain="chain.com", rating=3.2,
                 business_status="CLOSED_PERMANENTLY")
    PlaceFactory(name="plain", rating=None)
    response = admin_client.get(reverse("admin:places_place_changelist"), param)
    assert response.status_code == 200
    assert {p.name for p in response.context["cl"].queryset} == expected


def test_select_action_on_places_shows_the_cost_then_queues_the_deep_scan(admin_client):
    rows = PlaceFactory.create_batch(2)
    scanned = PlaceFactory(deep_scan_processing_status="Completed", deep_scan_curation_status="Selected")
    data = {ACTION_CHECKBOX_NAME: [str(r.pk) for r in rows], "action": "deep_scan__selected", "index": 0}
    confirm = admin_client.post(reverse("admin:places_place_changelist"),
                                {**data, ACTION_CHECKBOX_NAME: [*data[ACTION_CHECKBOX_NAME], str(scanned.pk)]})
    assert confirm.status_code == 200  # the scanned place is not counted: "Selected" skips it
    assert "this will cost ≈ $0.04 for 2 place(s) (Place Details Enterprise, $0.02 each)" in confirm.content.decode()
    again = admin_client.post(reverse("admin:places_place_changelist"),
                              {ACTION_CHECKBOX_NAME: [str(scanned.pk)], "action": "deep_scan__rerun", "index": 0})
    assert "this will cost ≈ $0.02 for 1 place(s)" in again.content.decode()  # a re-run does scan it again
    statuses = lambda: set(Place.objects.filter(pk__in=[r.pk for r in rows]).values_list(  # noqa: E731
        "deep_scan_processing_status", flat=True))
    assert statuses() == {None}, "nothing queued yet"
    response = admin_client.post(reverse("admin:places_place_changelist"), {**data, "_confirmed": "1"})
    assert response.status_code == 302
    assert messages_of(response) == ["Deep scan: 2 row(s) marked Selected: 2 queued."]
    assert statuses() == {"Queued"}


def test_place_business_and_domain_link_to_each_other(admin_client):
    place = PlaceFactory()
    search = PlaceSearchFactory()
    PlaceSearchResult.objects.create(search=search, place=place, rank=4)
    domain = Domain.objects.create(domain="linked.com")
    business = LocalBusinessFactory(place_id=place.place_id, source_place=place, domain=domain)
    LocalBusinessFactory(domain=domain)
    place_page = admin_client.get(reverse("admin:places_place_change", args=[place.pk])).content.decode()
    assert reverse("admin:places_localbusiness_change", args=[business.pk]) in place_page
    assert "searches (provenance)" in place_page.lower() and str(search) in place_page
    business_page = admin_client.get(reverse("admin:places_localbusiness_change", args=[business.pk])).content.decode()
    assert reverse("admin:places_place_change", args=[place.pk]) in business_page
    assert reverse("admin:pages_domain_change", args=[domain.pk]) in business_page
    domains = admin_client.get(reverse("admin:pages_domain_changelist")).content.decode()
    assert "2 business(es)" in domains
    back = admin_client.get(reverse("admin:places_localbusiness_changelist"), {"domain__id__exact": str(domain.pk)})
    assert back.status_code == 200 and back.context["cl"].result_count == 2


def test_business_changelist_filters_and_action(admin_client):
    a = LocalBusinessFactory(website_kind="social_profile")
    LocalBusinessFactory(no_website=True)
    page = admin_client.get(reverse("admin:places_localbusiness_changelist"), {"website_kind__exact": "social_profile"})
    assert list(page.context["cl"].queryset) == [a]
    assert "domain_extraction__selected" in page.content.decode()
    response = admin_client.post(reverse("admin:places_localbusiness_changelist"),
                                 {ACTION_CHECKBOX_NAME: [str(a.pk)], "action": "domain_extraction__selected", "index": 0})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.domain_extraction_processing_status == "Queued"


def test_places_and_businesses_cannot_be_added_by_hand(admin_client):
    assert admin_client.get(reverse("admin:places_place_add")).status_code == 403
    assert admin_client.get(reverse("admin:places_localbusiness_add")).status_code == 403


# --- curators working through thousands of rows: facets, links along the chain ------------------------

def test_changelists_show_facet_counts_next_to_the_status_filters(admin_client):
    PlaceFactory.create_batch(3, completed=True)
    PlaceFactory(errored=True)
    page = admin_client.get(reverse("admin:places_place_changelist"))
    assert page.context["cl"].add_facets, "facets always on (ShowFacets.ALWAYS)"
    content = page.content.decode()
    assert "Completed (3)" in content and "Error (1)" in content
    assert page.context["cl"].list_per_page == 100


def test_a_place_row_links_to_its_search_and_its_business(admin_client):
    search = PlaceSearchFactory(ran=True, query="dentist")
    place = PlaceFactory(first_search=search)
    business = LocalBusinessFactory(source_place=place, place_id=place.place_id)
    content = admin_client.get(reverse("admin:places_place_changelist")).content.decode()
    assert reverse("admin:places_localbusiness_change", args=[business.pk]) in content
    assert reverse("admin:places_placesearch_change", args=[search.pk]) in content


def test_a_business_row_links_to_its_place_domain_and_contacts(admin_client):
    from tests.contacts.factories import ContactFactory

    business = LocalBusinessFactory()
    mine = ContactFactory(business=business, value="info@mine.example")
    ContactFactory(value="other@elsewhere.example")
    content = admin_client.get(reverse("admin:places_localbusiness_changelist")).content.decode()
    link = f"{reverse('admin:contacts_contact_changelist')}?business={business.pk}"
    assert link in content and "1 contact(s)" in content
    listed = admin_client.get(link)
    assert listed.status_code == 200 and list(listed.context["cl"].queryset) == [mine]
    detail = admin_client.get(reverse("admin:places_localbusiness_change", args=[business.pk])).content.decode()
    assert link in detail, "the change page links to the products too"


def test_new_area_search_shows_the_planner_estimate_then_runs(admin_client):
    url = reverse("admin:places_placesearch_add")
    data = {"query": "dentist", "cover_area": "on", "area_text": "Quillhaven, OR", "max_results": 60,
            "min_tile_m": 250, "max_requests": 200, "language": "", "region": ""}
    confirm = admin_client.post(url, data)
    assert confirm.status_code == 200 and not PlaceSearch.objects.exists()
    text = confirm.content.decode()
    assert ("first pass over the area (+1 request to look it up): ≈ $0.14 for 4 request(s) (Text Search Enterprise)"
            in text)
    assert "never more than 200 requests ≈ $7.00" in text
    assert admin_client.post(url, {**data, "_confirmed": "1"}).status_code == 302
    search = PlaceSearch.objects.get()
    assert search.cover_area and search.area_text == "Quillhaven, OR" and search.max_requests == 200


def test_area_search_change_page_shows_tiles_and_progress(admin_client):
    from places.models import PlaceSearchTile

    search = PlaceSearchFactory(ran=True, cover_area=True, area_text="Quillhaven", location_text="", tiles_total=5, tiles_done=4,
                                tiles_saturated=1, requests_used=9, cost_micros=315_000)
    PlaceSearchTile.objects.create(search=search, key="0", south=1, west=1, north=2, east=2, status="split",
                                   results=60, pages=3, requests=3)
    page = admin_client.get(reverse("admin:places_placesearch_change", args=[search.pk])).content.decode()
    assert "Tiles (coverage planner)" in page and "Full: split in four" in page
    assert "4 of 5 tiles, 1 saturated" in page and "$0.315 (9 requests)" in page
    listing = admin_client.get(reverse("admin:places_placesearch_changelist")).content.decode()
    assert '<progress max="5" value="4"' in listing


def test_area_search_form_errors_create_nothing(admin_client):
    response = admin_client.post(reverse("admin:places_placesearch_add"),
                                 {"query": "dentist", "cover_area": "on", "max_results": 60, "min_tile_m": 250,
                                  "language": "", "region": ""})
    assert response.status_code == 200
    assert "an area search needs an area" in response.content.decode()
    assert not PlaceSearch.objects.exists()


def test_business_rescan_action_shows_the_cost_and_skips_rejected(admin_client):
    fresh = LocalBusinessFactory(source_place=PlaceFactory())
    rejected = LocalBusinessFactory(source_place=PlaceFactory())
    Place.objects.filter(pk=rejected.source_place_id).update(deep_scan_curation_status="Rejected")
    data = {ACTION_CHECKBOX_NAME: [str(fresh.pk), str(rejected.pk)], "action": "rescan", "index": 0}
    url = reverse("admin:places_localbusiness_changelist")
    confirm = admin_client.post(url, data)
    assert confirm.status_code == 200 and "for 2 place(s)" in confirm.content.decode()
    response = admin_client.post(url, {**data, "_confirmed": "1"})
    assert response.status_code == 302
    assert messages_of(response) == ["Re-scan: 1 queued for a deep scan; 1 skipped (Rejected, or already queued)."]
    assert Place.objects.get(pk=fresh.source_place_id).deep_scan_processing_status == "Queued"
    assert Place.objects.get(pk=rejected.source_place_id).deep_scan_processing_status is None


def test_operator_page_and_usage_show_todays_spend(admin_client):
    from places.budget import spend

    spend("search", "places.id,places.rating")  # Enterprise: $0.035
    spend("details", "id,displayName")  # Pro: $0.017
    page = admin_client.get(reverse("curation-operator")).content.decode()
    assert "<td>Spent today (UTC, list price)</td><td>$0.052 of $50.00</td>" in page
    assert "<td>Requests today</td><td>2 of 1000</td>" in page
    usage = admin_client.get(reverse("admin:places_googleplacesusage_changelist")).content.decode()
    assert "$0.052" in usage
