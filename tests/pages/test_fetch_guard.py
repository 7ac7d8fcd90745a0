"""The SSRF guard's address unwrapping, its port-exact allow-list, and invalid redirects (issue #11)."""
from urllib.parse import quote

import pytest

from curation.exceptions import ErrorClass, PermanentError
from pages.fetch import check_address, fetch
from scrapersky.env import parse_network


def _refusal(host, address, allow=(), port=None) -> PermanentError:
    with pytest.raises(PermanentError) as info:
        check_address(host, address, tuple(parse_network(a) for a in allow), port)
    assert info.value.error_class == ErrorClass.SSRF_REFUSED
    return info.value


@pytest.mark.parametrize("address, inner", [
    ("2002:7f00:1::1", "6to4 loopback"),  # 6to4 of 127.0.0.1
    ("2002:a00:1::", "6to4 private"),  # 6to4 of 10.0.0.1
    ("2002:a9fe:a9fe::1", "6to4 link-local"),  # 6to4 of 169.254.169.254 (cloud metadata)
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo loopback"),  # Teredo client 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "Teredo private"),  # Teredo client 10.0.0.1
])
def test_6to4_and_teredo_addresses_are_unwrapped(address, inner):
    error = _refusal("evil.example", address)
    assert inner in error.message, error.message


def test_6to4_of_a_public_address_is_public():
    check_address("public.example", "2002:808:808::1")  # 8.8.8.8: no exception


def test_an_allow_list_entry_with_a_port_admits_that_port_only():
    allow = ["127.0.0.1:8102"]
    check_address("shop.test", "127.0.0.1", tuple(parse_network(a) for a in allow), 8102)
    error = _refusal("127.0.0.1", "127.0.0.1", allow, port=8000)  # the app's own web server
    assert "loopback" in error.message and "port 8000" in error.message
    _refusal("127.0.0.2", "127.0.0.2", allow, port=8102)  # another loopback address
    check_address("x", "::1", (parse_network("[::1]:8102"),), 8102)
    _refusal("x", "::1", ["[::1]:8102"], port=8103)


def test_the_sandbox_default_refuses_a_redirect_to_the_apps_own_admin(websites_server, configure):
    """Sandbox on: a sandbox page redirecting to 127.0.0.1:<another port>/admin/ is not scraped."""
    own = f"127.0.0.1:{websites_server.port}"
    with configure(FETCH_HOST_MAP={"*": own}, FETCH_ALLOW_PRIVATE=[own]):
        assert fetch("https://acme.test/__echo", respect_robots=False).status == 200
        for target in ("http://127.0.0.1:8000/admin/", "http://localhost:8000/admin/", "http://[::1]:8000/"):
            with pytest.raises(PermanentError) as info:
                fetch("https://acme.test/__redirect?to=" + quote(target, safe=""), respect_robots=False)
            if "localhost" in target:
                # a host name is routed by the sandbox map to the sandbox itself, never to port 8000
                continue
            assert info.value.error_class == ErrorClass.SSRF_REFUSED, (target, info.value.message)


@pytest.mark.parametrize("location", ["http://[::1", "http://", "http://exa mple.com:99999/", "https://[zz]/"])
def test_an_invalid_redirect_location_fails_permanently_as_bad_redirect(sandbox, location):
    with pytest.raises(PermanentError) as info:
        fetch("https://acme.test/__redirect?to=" + quote(location, safe=""), respect_robots=False)
    assert info.value.error_class == ErrorClass.BAD_REDIRECT, info.value.message
    assert "Invalid redirect" in info.value.message
    assert ErrorClass.BAD_REDIRECT in ErrorClass.ALL
