"""Admin of the pages app: change lists, links between the models, the "select suggested pages" action,
and the issue's end-to-end curation flow against the website sandbox."""
import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from curation import engine, registry
from pages.models import Domain, Page, PageContent, SitemapFile
from tests.pages.factories import DomainFactory, PageFactory, SitemapFileFactory

pytestmark = pytest.mark.django_db


def changelist(model: str) -> str:
    return reverse(f"admin:pages_{model}_changelist")


def act(admin_client, model: str, action: str, ids, **extra):
    return admin_client.post(changelist(model), {ACTION_CHECKBOX_NAME: [str(i) for i in ids], "action": action,
                                                 "index": 0, **extra}, follow=True)


@pytest.fixture
def site():
    domain = DomainFactory(domain="acme.com")
    index = SitemapFileFactory(domain=domain, url="https://acme.com/sitemap_index.xml", sitemap_type="index")
    child = SitemapFileFactory(domain=domain, url="https://acme.com/sitemap-pages.xml", parent=index, depth=1,
                               discovered_how="sitemap_index")
    pages = {path: PageFactory(domain=domain, url=f"https://acme.com{path}", sitemap_file=child)
             for path in ("/contact", "/impressum", "/team", "/blog/post", "/products/a")}
    PageContent.objects.create(page=pages["/contact"], final_url="https://acme.com/contact", status_code=200,
                               content_hash="0" * 64, fetched_at=timezone.now(), title="Contact us", html="<html/>")
    return domain, index, child, pages


def test_change_lists_and_detail_pages_render_with_links(admin_client, site):
    domain, index, child, pages = site
    page = admin_client.get(changelist("domain")).content.decode()
    assert "acme.com" in page
    assert f"?domain__id__exact={domain.pk}" in page and "5 page(s)" in page and "3 suggested" in page
    assert "select_suggested_pages" in page and "sitemap_discovery__selected" in page
    detail = admin_client.get(reverse("admin:pages_domain_change", args=[domain.pk])).content.decode()
    assert "sitemap_index.xml" in detail and "business(es)" in detail
    files = admin_client.get(changelist("sitemapfile")).content.decode()
    assert "sitemap_import__selected" in files and "acme.com/sitemap-pages.xml" in files
    child_page = admin_client.get(reverse("admin:pages_sitemapfile_change", args=[child.pk])).content.decode()
    assert "1 child file(s)" not in child_page and f"sitemap_file__id__exact={child.pk}" in child_page
    assert reverse("admin:pages_sitemapfile_change", args=[index.pk]) in child_page
    page_list = admin_client.get(changelist("page")).content.decode()
    assert "page_scrape__selected" in page_list and "select_suggested_pages" in page_list
    assert "Contact us" in page_list
    content = pages["/contact"].content
    content_page = admin_client.get(reverse("admin:pages_pagecontent_change", args=[content.pk])).content.decode()
    assert reverse("admin:pages_page_change", args=[pages["/contact"].pk]) in content_page
    assert admin_client.get(changelist("pagecontent")).status_code == 200


@pytest.mark.parametrize("query,count", [
    ("category__exact=contact", 1), ("suggested__exact=1", 3), ("suggested__exact=0", 2), ("has_content=yes", 1),
    ("has_content=no", 4), ("q=impressum", 1),
])
def test_page_filters(admin_client, site, query, count):
    response = admin_client.get(f"{changelist('page')}?{query}")
    assert response.status_code == 200
    assert response.context["cl"].result_count == count


def test_sitemap_file_filters(admin_client, site):
    response = admin_client.get(f"{changelist('sitemapfile')}?sitemap_type__exact=index")
    assert response.context["cl"].result_count == 1
    response = admin_client.get(f"{changelist('sitemapfile')}?has_fetch_error=no")
    assert response.context["cl"].result_count == 2


def test_select_suggested_pages_of_these_domains_from_a_page(admin_client, site):
    domain, _, _, pages = site
    other = PageFactory(domain=DomainFactory(domain="b.com"), url="https://b.com/contact")
    response = act(admin_client, "page", "select_suggested_pages", [pages["/blog/post"].pk])
    assert response.status_code == 200
    assert "3 queued" in response.content.decode()
    selected = set(Page.objects.filter(page_scrape_processing_status="Queued").values_list("url", flat=True))
    assert selected == {"https://acme.com/contact", "https://acme.com/impressum", "https://acme.com/team"}
    other.refresh_from_db()
    assert other.page_scrape_curation_status == "New"
    from curation.models import CurationEvent

    assert CurationEvent.objects.filter(workflow="page_scrape", source="admin", curation_to="Selected").count() == 3


def test_select_suggested_pages_from_the_domain_list(admin_client, site):
    domain, *_ = site
    act(admin_client, "domain", "select_suggested_pages", [domain.pk])
    assert Page.objects.filter(page_scrape_curation_status="Selected").count() == 3


def test_select_suggested_pages_without_suggestions_says_so(admin_client):
    domain = DomainFactory(domain="empty.com")
    response = act(admin_client, "domain", "select_suggested_pages", [domain.pk])
    assert "no suggested pages yet" in response.content.decode()


def test_the_action_needs_the_change_permission_on_pages(client, django_user_model, site):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(username="looker", password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_domain", "view_page", "change_domain"]))
    client.force_login(user)
    page = client.get(changelist("page")).content.decode()
    assert "select_suggested_pages" not in page


def test_adding_a_domain_by_hand_normalises_it(admin_client):
    response = admin_client.post(reverse("admin:pages_domain_add"), {"domain": "https://www.Foo.co.uk/about"})
    assert response.status_code == 302, response.content
    domain = Domain.objects.get()
    assert (domain.domain, domain.source, domain.homepage_url) == ("foo.co.uk", "direct", "https://www.foo.co.uk")
    again = admin_client.post(reverse("admin:pages_domain_add"), {"domain": "foo.co.uk"})
    assert again.status_code == 200 and "already known" in again.content.decode()
    bad = admin_client.post(reverse("admin:pages_domain_add"), {"domain": "https://facebook.com/foo"})
    assert "Not a site to crawl" in bad.content.decode()


def test_curator_flow_end_to_end_against_the_sandbox(admin_client, websites):
    """The issue's "done when": domain → sitemaps → import → suggested pages → selected → contents with metadata."""
    domain = DomainFactory(domain="index-acme.de")
    act(admin_client, "domain", "sitemap_discovery__selected", [domain.pk])
    engine.workflow_run(registry.get("sitemap_discovery"))
    detail = admin_client.get(reverse("admin:pages_domain_change", args=[domain.pk])).content.decode()
    assert "sitemap_index.xml" in detail and "sitemap-pages.xml" in detail
    index = SitemapFile.objects.get(domain=domain, depth=0)
    act(admin_client, "sitemapfile", "sitemap_import__selected", [index.pk])
    engine.workflow_run(registry.get("sitemap_import"))
    suggested = admin_client.get(f"{changelist('page')}?domain__id__exact={domain.pk}&suggested__exact=1")
    assert suggested.context["cl"].result_count == 4
    any_page = Page.objects.filter(domain=domain).first()
    act(admin_client, "page", "select_suggested_pages", [any_page.pk])
    report = engine.workflow_run(registry.get("page_scrape"))
    assert (report.completed, report.errored) == (4, 0)
    report = engine.workflow_run(registry.get("contact_extraction"))  # queued by the scrape: no curator step
    assert (report.completed, report.errored) == (4, 0)
    contents = PageContent.objects.filter(page__domain=domain)
    assert sorted(c.title.split(" |")[0] for c in contents) == ["Impressum", "Kontakt", "Unser Team", "Über uns"]
    assert all(c.language == "de" and c.word_count and c.h1 for c in contents)
    listing = admin_client.get(f"{changelist('page')}?domain__id__exact={domain.pk}&has_content=yes")
    assert listing.context["cl"].result_count == 4


def test_domain_and_page_rows_link_to_their_contacts_and_back(admin_client):
    from tests.contacts.factories import ContactFactory, ContactSourceFactory

    domain = DomainFactory()
    page = PageFactory(domain=domain, url=f"https://{domain.domain}/contact")
    other_page = PageFactory(domain=domain, url=f"https://{domain.domain}/about")
    contact = ContactFactory(domain=domain, value=f"info@{domain.domain}")
    ContactSourceFactory(contact=contact, page=page)
    ContactFactory(value="someone@else.example")

    domains = admin_client.get(changelist("domain")).content.decode()
    assert f"{reverse('admin:contacts_contact_changelist')}?domain={domain.pk}" in domains

    pages = admin_client.get(f"{changelist('page')}?domain__id__exact={domain.pk}").content.decode()
    by_page = f"{reverse('admin:contacts_contact_changelist')}?page={page.pk}"
    assert by_page in pages and "1 contact(s)" in pages
    listed = admin_client.get(by_page)
    assert listed.status_code == 200 and list(listed.context["cl"].queryset) == [contact]

    back = admin_client.get(f"{changelist('page')}?contact={contact.pk}")
    assert back.status_code == 200 and list(back.context["cl"].queryset) == [page]
    assert other_page not in back.context["cl"].queryset
    assert admin_client.get(f"{changelist('page')}?contact=not-a-uuid").context["cl"].result_count == 0


def test_the_scrape_priority_filter_names_the_priorities_without_reading_the_table(admin_client):
    domain = DomainFactory(domain="prio.com")
    PageFactory(domain=domain, url="https://prio.com/kontakt", scrape_priority=1)
    PageFactory(domain=domain, url="https://prio.com/blog", scrape_priority=3)
    response = admin_client.get(reverse("admin:pages_page_changelist") + "?scrape_priority__exact=1")
    assert response.status_code == 200
    assert [p.url for p in response.context["cl"].result_list] == ["https://prio.com/kontakt"]
    assert "1 · contact / impressum" in response.content.decode()
