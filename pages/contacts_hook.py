"""The extension point between page scraping (WF7) and contact extraction.

`pages.services.page_scrape` only fetches and stores: once it has written a
page's `PageContent`, inside the same transaction as the content (fenced by
the scrape's lease), it calls `content_stored(page=..., content=...)`.

The contacts app provides it (`contacts.services.page_content_extraction_queue`,
from its `AppConfig.ready()`): it queues the content in the processing-only
`contact_extraction` workflow (contacts/workflows.py), whose hook parses the
stored HTML once for the page's metadata (title, description, h1, canonical
URL, language, word count, social links) and its contacts, and writes both
through its own lease. So the CPU-heavy extraction runs in whichever worker
process claims it, not in the fetcher's threads, and a re-scraped page is
extracted again from its new content (queued again, even mid-run: the stale
run's results are discarded).

Contract for the provider:

- No network calls (it runs inside the scrape's transaction), nothing that can
  fail for a reason a curator could act on; an exception rolls the content
  back and the scrape is retried.
- Return True when it took the content over (the metadata will be extracted
  later). Without a provider (the contacts app is not installed) the call
  returns None and page_scrape extracts the metadata itself
  (`pages.services.page_metadata_extract`) before its transaction.

`manage.py reextract_contacts` runs the extraction again over stored content
without fetching.
"""
from __future__ import annotations

from curation.extension import ExtensionPoint

# A page's content was stored (or replaced) by page_scrape; called inside its fenced transaction.
content_stored = ExtensionPoint("pages.content_stored")
