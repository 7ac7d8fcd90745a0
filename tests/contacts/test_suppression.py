"""Suppression list entries and matching."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contacts.suppression import is_suppressed, normalize_suppression_entry


@pytest.mark.parametrize(("text", "expected"), [
    ("a@b.com", ("email", "a@b.com")),
    ("  Jane.Doe@Example.COM ", ("email", "jane.doe@example.com")),
    ("<info@shop.example.co.uk>", ("email", "info@shop.example.co.uk")),
    ("mailto:Sales@Example.com?subject=hi", ("email", "sales@example.com")),
    ("Example.COM", ("domain", "example.com")),
    ("@example.com", ("domain", "example.com")),
    ("www.example.com", ("domain", "example.com")),
    ("example.com.", ("domain", "example.com")),
    ("https://shop.example.co.uk/contact?x=1", ("domain", "example.co.uk")),
    ("mail.example.org/path", ("domain", "example.org")),
    ("MÜNCHEN.de", ("domain", "xn--mnchen-3ya.de")),
])
def test_normalize(text, expected):
    assert normalize_suppression_entry(text) == expected


@pytest.mark.parametrize("junk", [
    "", "   ", "foo", "localhost", "co.uk", "@co.uk", "1.2.3.4", "a@", "@", "a b.com", "a@@b.com",
    ".a@b.com", "a..b@c.com", "a@b", "x@co.uk", "-bad-.com", "http://",
])
def test_junk_is_refused(junk):
    with pytest.raises(ValueError):
        normalize_suppression_entry(junk)


EMAILS = {"opted.out@example.com"}
DOMAINS = {"blocked.example", "corp.co.uk"}


def test_email_entry_suppresses_that_address_only():
    assert is_suppressed("Opted.Out@Example.com", "example.com", emails=EMAILS, domains=DOMAINS) == \
        "email opted.out@example.com is on the suppression list"
    assert is_suppressed("someone@example.com", "example.com", emails=EMAILS, domains=DOMAINS) is None


def test_domain_entry_suppresses_the_domain_and_its_subdomains():
    assert is_suppressed("a@blocked.example", None, emails=EMAILS, domains=DOMAINS) == \
        "domain blocked.example is on the suppression list"
    assert is_suppressed("a@mail.blocked.example", None, emails=EMAILS, domains=DOMAINS) == \
        "domain blocked.example is on the suppression list"
    assert is_suppressed(None, "shop.corp.co.uk", emails=EMAILS, domains=DOMAINS) == \
        "domain corp.co.uk is on the suppression list"
    # a phone contact of a suppressed business
    assert is_suppressed(None, "blocked.example", emails=set(), domains=DOMAINS) is not None


def test_lookalike_domains_are_not_suppressed():
    assert is_suppressed("a@notblocked.example", "notblocked.example", emails=EMAILS, domains=DOMAINS) is None
    assert is_suppressed("a@blocked.example.net", None, emails=EMAILS, domains=DOMAINS) is None
    assert is_suppressed("a@other.co.uk", None, emails=EMAILS, domains=DOMAINS) is None
    assert is_suppressed(None, None, emails=EMAILS, domains=DOMAINS) is None


def test_business_domain_is_checked_even_when_the_email_is_elsewhere():
    assert is_suppressed("owner@gmail.com", "blocked.example", emails=set(), domains=DOMAINS) == \
        "domain blocked.example is on the suppression list"


def test_normalized_entries_match_what_they_came_from():
    kind, value = normalize_suppression_entry("https://www.Blocked-Shop.com/impressum")
    assert kind == "domain"
    assert is_suppressed("x@eu.blocked-shop.com", None, emails=set(), domains={value}) is not None


@given(st.text(max_size=40))
def test_normalize_never_crashes_with_anything_but_valueerror(text):
    try:
        kind, value = normalize_suppression_entry(text)
    except ValueError:
        return
    assert kind in ("email", "domain")
    assert value == value.strip().lower()
    assert " " not in value
