"""The scrape path before issue #15, for the benchmark's before/after in one run: `run_workflow page_scrape` with
the contacts extracted in the fetch threads (one parse of each page for its metadata and contacts, recorded in
the scrape's transaction) instead of queued for the `contact_extraction` workflow.

    python bench/scrape_inline.py page_scrape --json --concurrency N

The same code as production (pages.services.page_scrape, contacts.extract.extract_page,
contacts.services.page_contacts_record); only the hand-over (`pages.contacts_hook.content_stored`) is replaced.
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scrapersky.test_settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

import pages.services  # noqa: E402
from contacts.extract import extract_page  # noqa: E402
from contacts.services import _domain_businesses, _region, page_contacts_record  # noqa: E402
from curation.extension import ExtensionPoint  # noqa: E402
from pages.models import PageContent  # noqa: E402


def extract_inline(*, page, content) -> bool:
    businesses = _domain_businesses(page.domain)
    found = extract_page(content.html or "", url=content.final_url or page.url, site_domain=page.domain.domain,
                         region=_region(businesses))
    PageContent.objects.filter(pk=content.pk).update(**found.metadata)
    page_contacts_record(page=page, content=content, found=found, businesses=businesses)
    return True


inline = ExtensionPoint("bench.content_stored_inline")
inline.provide(extract_inline)
pages.services.content_stored = inline
call_command("run_workflow", *sys.argv[1:])
