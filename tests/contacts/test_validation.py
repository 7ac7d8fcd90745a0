"""contacts.validation with a fake resolver (no network) and offline phone checks."""
from __future__ import annotations

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import pytest

from contacts.extract_data import is_disposable_domain, is_free_provider_domain, is_role_local_part
from contacts.validation import make_resolver, validate_email_address, validate_phone_number


def mx(text: str):
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.MX, text)


def a(text: str):
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.A, text)


class FakeResolver:
    """Answers from a table {(name, rdtype): list of records | exception instance}."""

    def __init__(self, table):
        self.table = table
        self.calls: list[tuple[str, str]] = []

    def resolve(self, name, rdtype):
        self.calls.append((name, rdtype))
        answer = self.table.get((name, rdtype), dns.resolver.NoAnswer())
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_deliverable_mx_sorted_by_preference():
    resolver = FakeResolver({("firma.de", "MX"): [mx("20 mx2.firma.de."), mx("10 mx1.firma.de.")]})
    check = validate_email_address("Info@Firma.DE", resolver=resolver)
    assert check.syntax_valid and check.normalized == "info@firma.de"
    assert check.deliverability == "deliverable"
    assert check.mx_hosts == ["mx1.firma.de", "mx2.firma.de"]
    assert check.is_role and not check.is_free_provider and not check.is_disposable
    assert resolver.calls == [("firma.de", "MX")]


def test_a_record_fallback_when_no_mx():
    resolver = FakeResolver({("firma.de", "MX"): dns.resolver.NoAnswer(), ("firma.de", "A"): [a("192.0.2.10")]})
    check = validate_email_address("anna@firma.de", resolver=resolver)
    assert check.deliverability == "deliverable"
    assert check.mx_hosts == []
    assert "implicit MX" in check.reason
    assert not check.is_role


def test_aaaa_only_fallback():
    aaaa = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.AAAA, "2001:db8::1")
    resolver = FakeResolver({("firma.de", "AAAA"): [aaaa]})
    assert validate_email_address("anna@firma.de", resolver=resolver).deliverability == "deliverable"


def test_no_mx_no_address_is_undeliverable():
    check = validate_email_address("anna@firma.de", resolver=FakeResolver({}))
    assert check.deliverability == "undeliverable"
    assert "no MX, A or AAAA" in check.reason


def test_nxdomain_is_undeliverable():
    resolver = FakeResolver({("nicht-da.de", "MX"): dns.resolver.NXDOMAIN()})
    check = validate_email_address("x@nicht-da.de", resolver=resolver)
    assert check.deliverability == "undeliverable"
    assert "NXDOMAIN" in check.reason


def test_null_mx_is_undeliverable():
    resolver = FakeResolver({("nomail.de", "MX"): [mx("0 .")], ("nomail.de", "A"): [a("192.0.2.1")]})
    check = validate_email_address("x@nomail.de", resolver=resolver)
    assert check.deliverability == "undeliverable"
    assert "null MX" in check.reason


@pytest.mark.parametrize(
    "error",
    [
        dns.exception.Timeout(),
        dns.resolver.LifetimeTimeout(timeout=3.0, errors={}),
        dns.resolver.NoNameservers(),  # SERVFAIL / refused from every server
        dns.resolver.NoResolverConfiguration(),
        OSError("Network is unreachable"),
    ],
)
def test_dns_failures_are_unknown_never_undeliverable(error):
    resolver = FakeResolver({("firma.de", "MX"): error})
    check = validate_email_address("x@firma.de", resolver=resolver)
    assert check.deliverability == "unknown"
    assert check.syntax_valid


def test_timeout_on_a_fallback_is_unknown():
    resolver = FakeResolver({("firma.de", "A"): dns.exception.Timeout(), ("firma.de", "AAAA"): dns.resolver.NoAnswer()})
    assert validate_email_address("x@firma.de", resolver=resolver).deliverability == "unknown"


def test_invalid_syntax_skips_dns():
    resolver = FakeResolver({})
    check = validate_email_address("not an email", resolver=resolver)
    assert not check.syntax_valid and check.normalized is None
    assert check.deliverability == "undeliverable"
    assert check.reason.startswith("invalid syntax")
    assert resolver.calls == []


def test_check_dns_false_is_unknown_without_lookups():
    resolver = FakeResolver({})
    check = validate_email_address("info@gmail.com", resolver=resolver, check_dns=False)
    assert check.deliverability == "unknown" and resolver.calls == []
    assert check.is_free_provider


def test_idn_domain_is_looked_up_in_ascii():
    resolver = FakeResolver({("xn--bckerei-gross-bfb.de", "MX"): [mx("10 mx.xn--bckerei-gross-bfb.de.")]})
    check = validate_email_address("info@bäckerei-gross.de", resolver=resolver)
    assert check.deliverability == "deliverable"
    assert check.normalized == "info@bäckerei-gross.de"


@pytest.mark.parametrize(
    "address,disposable,free,role",
    [
        ("x@mailinator.com", True, False, False),
        ("x@guerrillamail.de", True, False, False),
        ("x@10minutemail.net", True, False, False),
        ("x@yopmail.com", True, False, False),
        ("x@sub.trashmail.com", True, False, False),
        ("info@gmail.com", False, True, True),
        ("anna@googlemail.com", False, True, False),
        ("anna@yahoo.co.uk", False, True, False),
        ("anna@hotmail.fr", False, True, False),
        ("anna@gmx.de", False, True, False),
        ("anna@web.de", False, True, False),
        ("anna@t-online.de", False, True, False),
        ("anna@proton.me", False, True, False),
        ("kontakt@firma.de", False, False, True),
        ("enquiries@firma.co.uk", False, False, True),
        ("info.de@firma.de", False, False, True),
        ("sales-team@firma.de", False, False, True),
        ("anna.schmidt@firma.de", False, False, False),
    ],
)
def test_flags(address, disposable, free, role):
    check = validate_email_address(address, check_dns=False)
    assert (check.is_disposable, check.is_free_provider, check.is_role) == (disposable, free, role)


def test_lists_are_bundled_and_sizeable():
    from contacts.extract_data import disposable_domains, free_provider_domains, role_local_parts

    assert len(disposable_domains()) >= 300
    assert len(free_provider_domains()) >= 80
    assert {"info", "kontakt", "sales", "support", "jobs"} <= role_local_parts()
    assert is_disposable_domain("mailinator.com") and not is_disposable_domain("firma.de")
    assert is_free_provider_domain("yahoo.de") and not is_free_provider_domain("yahoo-fans.de")
    assert is_role_local_part("Info") and not is_role_local_part("hr.mueller.anna")


def test_make_resolver_uses_settings(settings):
    settings.CONTACTS_DNS_TIMEOUT = 1.5
    settings.CONTACTS_DNS_NAMESERVERS = ["192.0.2.53"]
    resolver = make_resolver()
    assert resolver.lifetime == 1.5 and resolver.timeout == 1.5
    assert resolver.nameservers == ["192.0.2.53"]


# --- phones ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "raw,region,e164,number_type,number_region",
    [
        ("+49 30 2345678", None, "+49302345678", "fixed_line", "DE"),
        ("0171 2345678", "DE", "+491712345678", "mobile", "DE"),
        ("030/2345678", "de", "+49302345678", "fixed_line", "DE"),
        ("+44 20 7946 0000", None, "+442079460000", "fixed_line", "GB"),
        ("07400 123456", "GB", "+447400123456", "mobile", "GB"),
        ("0800 123 4567", "GB", "+448001234567", "toll_free", "GB"),
        ("06 12 34 56 78", "FR", "+33612345678", "mobile", "FR"),
        ("912 345 678", "ES", "+34912345678", "fixed_line", "ES"),
        ("+39 333 123 4567", None, "+393331234567", "mobile", "IT"),
        ("+31 6 12345678", None, "+31612345678", "mobile", "NL"),
        ("(212) 736-3100", "US", "+12127363100", "fixed_line_or_mobile", "US"),
        ("1 (800) 275-2273", "US", "+18002752273", "toll_free", "US"),
        ("tel:0049302345678", None, "+49302345678", "fixed_line", "DE"),
    ],
)
def test_valid_phones(raw, region, e164, number_type, number_region):
    check = validate_phone_number(raw, default_region=region)
    assert check.valid, check.reason
    assert (check.e164, check.number_type, check.region) == (e164, number_type, number_region)


@pytest.mark.parametrize(
    "raw,region,reason",
    [
        ("030 2345678", None, "without a region"),
        ("not a number", "DE", "unparseable"),
        ("+1 212 736 310", None, "impossible"),
        ("+1 212 000 0000", None, "not a valid"),
    ],
)
def test_invalid_phones(raw, region, reason):
    check = validate_phone_number(raw, default_region=region)
    assert not check.valid
    assert check.number_type is None
    assert reason in check.reason
