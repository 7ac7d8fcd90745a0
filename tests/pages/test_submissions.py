"""pages.submissions: sitemap files typed in by hand (the original's POST / DELETE /sitemap-files/)."""
from __future__ import annotations

import pytest

from curation.services import CurationInputError
from pages.models import SitemapFile
from pages.services import AlreadyKnown
from pages.submissions import sitemap_file_create, sitemap_file_delete
from tests.pages.factories import DomainFactory, SitemapFileFactory

pytestmark = pytest.mark.django_db


def test_sitemap_file_create_checks_the_url_belongs_to_the_domain_and_is_new():
    domain = DomainFactory(domain="bakery-one.com")
    row = sitemap_file_create(domain_id=domain.pk, url="https://www.bakery-one.com/sitemap_index.xml")
    assert (row.domain_id, row.discovered_how, row.sitemap_import_curation_status) == (domain.pk, "submitted", "New")
    with pytest.raises(AlreadyKnown):
        sitemap_file_create(domain_id=domain.pk, url="https://www.bakery-one.com/sitemap_index.xml")
    with pytest.raises(CurationInputError, match="is not on bakery-one.com"):
        sitemap_file_create(domain_id=domain.pk, url="https://elsewhere.com/sitemap.xml")
    assert SitemapFile.objects.count() == 1


def test_sitemap_file_delete_spares_a_file_being_imported():
    busy, free = SitemapFileFactory(processing=True), SitemapFileFactory()
    assert sitemap_file_delete(sitemap_file=busy) is False
    assert sitemap_file_delete(sitemap_file=free) is True
    assert list(SitemapFile.objects.values_list("pk", flat=True)) == [busy.pk]
