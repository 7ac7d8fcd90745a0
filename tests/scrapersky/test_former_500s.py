"""Each former 500 of issue #11 is a 400 (or a form error) with a message, and nothing changes; unsafe URL
schemes are never admin links; `size` over the limit and NUL in `search` answer like every other error."""
import pytest
from django.test import Client

from pages.models import Domain
from places.models import PlaceSearch
from tests.pages.factories import DomainFactory, PageFactory
from tests.places.factories import LocalBusinessFactory, PlaceFactory

pytestmark = pytest.mark.django_db

UNSAFE = ["javascript:alert(document.cookie)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
          "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "vbscript:msgbox(1)"]


@pytest.fixture
def admin_browser(admin_user):
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


def test_a_csv_field_over_131072_characters_is_a_400_and_imports_nothing(api_client):
    body = "domain\nexample.com\n\"" + "x" * 131_073 + "\"\n"
    api_client.raise_request_exception = False
    response = api_client.post("/api/v3/domains/import/", body, content_type="text/csv")
    assert response.status_code == 400, response.content[:300]
    assert "not readable as CSV" in response.json()["detail"] and "field larger than field limit" in \
        response.json()["detail"]
    assert not Domain.objects.exists()


@pytest.mark.parametrize("query", ["q=%00", "q=a%00b", "website_domain=%00", "has_website=%00",
                                   "deep_scan_curation_status__exact=%00"])
def test_a_nul_in_an_admin_list_filter_is_a_400(admin_browser, query):
    PlaceFactory()
    response = admin_browser.get(f"/admin/places/place/?{query}")
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_a_nul_in_an_api_search_is_a_json_detail(api_client):
    response = api_client.get("/api/v3/places/?search=a%00b")
    assert response.status_code == 400 and "NUL" in response.json()["detail"]


def test_new_place_search_in_admin_without_key_and_sandbox_off_is_a_form_error(admin_browser, settings):
    settings.SANDBOX_ENABLED, settings.GOOGLE_MAPS_API_KEY = False, ""
    assert admin_browser.get("/admin/places/placesearch/add/").status_code == 200
    response = admin_browser.post("/admin/places/placesearch/add/",
                                  {"query": "dentist", "location_text": "Berlin", "max_results": 20})
    assert response.status_code == 200
    assert "Place search cannot run: no Google API key" in response.content.decode()
    assert not PlaceSearch.objects.exists()


def test_unsafe_url_schemes_are_never_links_in_admin(admin_browser):
    for url in UNSAFE:
        PlaceFactory(website=url, google_maps_uri=url)
        LocalBusinessFactory(website=url)
        domain = DomainFactory(homepage_url=url)
        PageFactory(domain=domain, url=url)
    pages = ["/admin/places/place/", "/admin/places/localbusiness/", "/admin/pages/domain/", "/admin/pages/page/"]
    from places.models import LocalBusiness, Place

    pages += [f"/admin/places/place/{Place.objects.first().pk}/change/",
              f"/admin/places/localbusiness/{LocalBusiness.objects.first().pk}/change/",
              f"/admin/pages/domain/{Domain.objects.first().pk}/change/"]
    for page in pages:
        response = admin_browser.get(page)
        assert response.status_code == 200, page
        html = response.content.decode().lower().replace("&#x27;", "'").replace("&quot;", '"')
        for scheme in ("javascript:", "data:text", "vbscript:"):
            assert f'href="{scheme}' not in html and f'href=" {scheme}' not in html, (page, scheme)
    assert "javascript:alert(" in admin_browser.get("/admin/places/place/").content.decode()  # shown as text


def test_the_shared_link_helper():
    from scrapersky.links import external_link, is_safe_url

    assert is_safe_url("https://example.com/a?b=1") and is_safe_url("http://xn--mnchen-3ya.de/")
    assert not any(is_safe_url(url) for url in [*UNSAFE, "/relative", "ftp://x.example/", "", None])
    assert external_link("https://example.com/").startswith('<a href="https://example.com/" title=')
    assert "<a" not in external_link("javascript:alert(1)") and "javascript:alert(1)" in external_link(
        "javascript:alert(1)")


def _list_routes():
    from tests.reliability.test_auth import ROUTES

    return sorted({path for path, view in ROUTES
                   if getattr(view, "actions", {}).get("get") == "list" and "{" not in path})


@pytest.mark.parametrize("path", _list_routes())
def test_size_over_the_limit_is_a_400_on_every_list(api_client, path):
    response = api_client.get(f"{path}?size=100000")
    assert response.status_code == 400, (path, response.status_code)
    body = response.json()
    assert "size must be a whole number from 1 to 500" in body["detail"] and body["size"]
    assert api_client.get(f"{path}?size=500").status_code == 200
    assert api_client.get(f"{path}?size=0").status_code == 400
    assert api_client.get(f"{path}?size=abc").status_code == 400


def test_the_staging_endpoint_answers_the_same(api_client):
    response = api_client.get("/api/v3/places/staging?size=100000")
    assert response.status_code == 400 and "size" in response.json()["detail"]
