"""Settings of the qcluster subprocesses started by the end-to-end tests.

The project's test settings, plus the one thing the environment cannot set:
`CONTACTS_DNS_RESOLVER_FACTORY` (read by `contacts.services.dns_resolver` with
getattr, but not by `scrapersky/components/contacts.py` from the environment).
DNS is the network boundary of `contact_validation`; the end-to-end tests
point it at `tests.e2e.fake_dns.resolver_factory` so that no lookup ever goes
to the internet. Everything else reaches the workers through environment
variables, exactly as the settings modules read them (tests/e2e/conftest.py).
"""
import os

from scrapersky.test_settings import *  # noqa: F403

CONTACTS_DNS_RESOLVER_FACTORY = os.environ.get("CONTACTS_DNS_RESOLVER_FACTORY", "")
