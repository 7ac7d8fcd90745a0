"""The one sandbox switch (issue #11): every combination of SANDBOX and a Google key, and what each part
then talks to — Google Places, business websites, CRMs — and what the SSRF guard lets through."""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from curation.exceptions import PermanentError
from pages.fetch import _config, check_address
from places.google import get_client
from places.services import google_readiness
from tests.support import component_settings

PORTS = {"SANDBOX_PLACES_PORT": "9101", "SANDBOX_WEBSITES_PORT": "9102", "SANDBOX_CRM_PORT": "9103"}

# SANDBOX, GOOGLE_MAPS_API_KEY -> sandbox on?
TABLE = [
    (None, "", True),  # nothing set: the newcomer's offline mode
    (None, "AIza-real", False),  # a key: live
    ("1", "", True),
    ("1", "AIza-real", True),  # forced on with a key: everything to the sandbox, nothing half-on
    ("0", "", False),  # forced off without a key: nothing works, and it says so
    ("0", "AIza-real", False),
]


def _values(sandbox, key):
    env = {**PORTS, "GOOGLE_MAPS_API_KEY": key}
    if sandbox is not None:
        env["SANDBOX"] = sandbox
    return component_settings(env)


def _allowed(address, port) -> bool:
    try:
        check_address("host.example", address, _config().allow_private, port)
    except PermanentError:
        return False
    return True


@pytest.mark.parametrize("sandbox, key, on", TABLE)
def test_the_switch_table(sandbox, key, on):
    values = _values(sandbox, key)
    assert values["SANDBOX_ENABLED"] is on
    with override_settings(**values):
        # Google Places
        if on:
            client = get_client()
            assert client.base_url == "http://127.0.0.1:9101"
            assert client._http.headers["X-Goog-Api-Key"] == settings.SANDBOX_PLACES_API_KEY
            assert google_readiness() is None
        elif key:
            client = get_client()
            assert client.base_url == "https://places.googleapis.com" and client._http.headers["X-Goog-Api-Key"] == key
            assert google_readiness() is None
        else:
            assert "no Google API key" in google_readiness()
        # Business websites: routed to the website sandbox, or to the real internet (no host map)
        assert values["FETCH_HOST_MAP"] == ({"*": "127.0.0.1:9102"} if on else {})
        assert values["FETCH_ALLOW_PRIVATE"] == (["127.0.0.1:9102"] if on else [])
        # The guard: the website sandbox's own port when on; never the rest of loopback, never private
        assert _allowed("127.0.0.1", 9102) is on
        for address, port in [("127.0.0.1", 8000), ("127.0.0.1", 9101), ("127.0.0.1", 9103), ("127.0.0.2", 9102),
                              ("::1", 9102), ("10.0.0.1", 80), ("169.254.169.254", 80), ("2002:7f00:1::", 9102)]:
            assert not _allowed(address, port), (address, port)
        assert _allowed("93.184.216.34", 443)
        # CRMs and the webhook receiver
        crm = "http://127.0.0.1:9103"
        assert values["BREVO_BASE_URL"] == (f"{crm}/brevo" if on else "https://api.brevo.com")
        assert values["HUBSPOT_BASE_URL"] == (f"{crm}/hubspot" if on else "https://api.hubapi.com")
        assert values["WEBHOOK_SYNC_URL"] == (f"{crm}/webhook/sync" if on else "")
        assert bool(values["BREVO_API_KEY"]) is on
        assert values["CONTACTS_DNS_RESOLVER_FACTORY"] == ("scrapersky.sandbox.dns.make_resolver" if on else "")


@pytest.mark.parametrize("sandbox, key, on", TABLE)
def test_the_sandbox_app_is_installed_only_when_the_sandbox_is_on(sandbox, key, on):
    env = {k: v for k, v in os.environ.items() if k not in ("SANDBOX", "GOOGLE_MAPS_API_KEY")}
    env.update({"GOOGLE_MAPS_API_KEY": key, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "scrapersky.settings"})
    if sandbox is not None:
        env["SANDBOX"] = sandbox
    code = ("import json, django; django.setup(); from django.conf import settings; "
            "from django.core.management import get_commands; "
            "print(json.dumps(['scrapersky.sandbox' in settings.INSTALLED_APPS, 'demo' in get_commands()]))")
    result = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [on, on]


def test_with_the_sandbox_off_no_setting_can_route_the_fetcher_to_this_machine():
    with pytest.raises(ImproperlyConfigured, match="FETCH_HOST_MAP .* must be empty when the sandbox is off"):
        component_settings({"SANDBOX": "0", "FETCH_HOST_MAP": "*=127.0.0.1:8102"})
    for allow in ("127.0.0.0/8", "127.0.0.1:8102", "::1/128", "0.0.0.0/0", "::ffff:127.0.0.1"):
        with pytest.raises(ImproperlyConfigured, match="FETCH_ALLOW_PRIVATE may not include loopback"):
            component_settings({"SANDBOX": "0", "FETCH_ALLOW_PRIVATE": allow})
    # a private network the operator allows on purpose (an intranet) is fine
    assert component_settings({"SANDBOX": "0", "FETCH_ALLOW_PRIVATE": "10.0.0.0/8"})["FETCH_ALLOW_PRIVATE"] == [
        "10.0.0.0/8"]


def test_the_sandbox_constants_in_settings_are_the_sandboxs_own():
    from scrapersky.sandbox import crm, places_api

    assert settings.SANDBOX_PLACES_API_KEY == places_api.SANDBOX_API_KEY
    assert (settings.SANDBOX_BREVO_API_KEY, settings.SANDBOX_HUBSPOT_TOKEN, settings.SANDBOX_WEBHOOK_SECRET) == (
        crm.BREVO_KEY, crm.HUBSPOT_TOKEN, crm.WEBHOOK_SECRET)


def test_product_code_never_imports_the_sandbox():
    base = Path(settings.BASE_DIR)
    offenders = []
    for package in ("curation", "places", "pages", "contacts", "scrapersky"):
        for path in (base / package).rglob("*.py"):
            if "sandbox" in path.relative_to(base).parts[:2] or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
                if any(name.startswith("scrapersky.sandbox") for name in names):
                    offenders.append(f"{path.relative_to(base)}:{node.lineno}")
    assert offenders == []
