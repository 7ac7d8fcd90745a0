"""The extension point between page scraping (WF7) and contact extraction.

`pages.services.page_scrape` calls `record_page_contacts(page=..., content=...)`
once per successful scrape, right after it stored the page's `PageContent`,
inside the same short database transaction (so a page's content and the
contacts derived from it are written together, or not at all).

Contract for the implementation (the Contacts work replaces the body below):

- Input: `page` (`pages.Page`, with `page.domain` loaded) and `content`
  (`pages.PageContent`, saved): `content.html` is the decoded page, capped by
  FETCH_MAX_BYTES; `content.final_url` is the URL after redirects (resolve
  relative links against it); `content.language`, `content.title` and
  `content.social_links` are already extracted.
- No network calls here (it runs inside a transaction): extraction works on
  `content.html` only. Validation that needs DNS belongs to the
  `contact_validation` workflow.
- Idempotent: a page is scraped again on "Re-run"; upsert contacts on their
  natural key (e.g. (domain, email)) with provenance (page, form found), and
  never reset a contact's own curation or processing status.
- Raise `curation.exceptions.PermanentError` / `RetryableError` only for
  problems a curator can act on; any other exception is recorded as a bug and
  the page is retried.

Implemented by `contacts.services.page_contacts_record` (deduplicated contacts
with provenance, still-on-page tracking, social links), which the contacts app
provides from its `AppConfig.ready()`: contacts builds on pages, so pages never
imports it (without the contacts app a scrape stores the page only).
`manage.py reextract_contacts` runs it again over stored content without fetching.
"""
from __future__ import annotations

from curation.extension import ExtensionPoint

# One parse of a fetched page: its contacts and its metadata (`.metadata`). CPU only, no writes: the scrape
# calls it before its transaction and hands the result to `record_page_contacts`. None without the contacts app.
extract_page_contacts = ExtensionPoint("pages.extract_page_contacts")
# Store the contacts of one scraped page (see the module docstring); `found` = `extract_page_contacts`'s result.
record_page_contacts = ExtensionPoint("pages.record_page_contacts")
