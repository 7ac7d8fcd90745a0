"""CRM and webhook sync: clients built from settings, and their readiness checks.

The clients (`brevo.BrevoClient`, `hubspot.HubSpotClient`,
`webhook.WebhookClient`) take plain data (`common.ContactPayload`) and know
nothing about models. A workflow declaration can point its readiness at
``"contacts.crm.brevo_readiness"``: it returns None when the integration is
configured, else a sentence saying what is missing. With the sandbox on (no
GOOGLE_MAPS_API_KEY, or SANDBOX=1) and nothing configured, the settings point
every integration at the local stand-in (scrapersky/sandbox/crm.py), so the
syncs run offline end to end.
"""
from __future__ import annotations

from django.conf import settings

from .brevo import BrevoClient
from .common import ContactPayload, SyncResult, split_name
from .hubspot import HubSpotClient
from .webhook import WebhookClient

__all__ = [
    "ContactPayload", "SyncResult", "split_name",
    "brevo_readiness", "hubspot_readiness", "webhook_readiness", "enrichment_readiness",
    "brevo_client", "hubspot_client", "webhook_client",
]


def _setting(name: str, default=""):
    return getattr(settings, name, default)


def brevo_readiness() -> str | None:
    if not _setting("BREVO_API_KEY"):
        return "BREVO_API_KEY is not set"
    if not _setting("BREVO_BASE_URL"):
        return "BREVO_BASE_URL is not set"
    return None


def hubspot_readiness() -> str | None:
    if not _setting("HUBSPOT_ACCESS_TOKEN"):
        return "HUBSPOT_ACCESS_TOKEN is not set"
    if not _setting("HUBSPOT_BASE_URL"):
        return "HUBSPOT_BASE_URL is not set"
    return None


def webhook_readiness() -> str | None:
    url, secret = _setting("WEBHOOK_SYNC_URL"), _setting("WEBHOOK_SYNC_SECRET")
    if not url and not secret:
        return "WEBHOOK_SYNC_URL and WEBHOOK_SYNC_SECRET are not set"
    if not url:
        return "WEBHOOK_SYNC_URL is not set"
    if not secret:
        return "WEBHOOK_SYNC_SECRET is not set (deliveries are always signed)"
    if not str(url).startswith(("http://", "https://")):
        return f"WEBHOOK_SYNC_URL must start with http:// or https:// (got {url!r})"
    return None


def enrichment_readiness() -> str | None:
    if not _setting("ENRICHMENT_WEBHOOK_SECRET"):
        return "ENRICHMENT_WEBHOOK_SECRET is not set (enrichment callbacks are refused)"
    return None


def _common() -> dict:
    return {"timeout": float(_setting("CRM_TIMEOUT", 10.0)), "max_retries": int(_setting("CRM_MAX_RETRIES", 3))}


def brevo_client(**overrides) -> BrevoClient:
    options = {"base_url": _setting("BREVO_BASE_URL"), "api_key": _setting("BREVO_API_KEY"), **_common()}
    return BrevoClient(**{**options, **overrides})


def hubspot_client(**overrides) -> HubSpotClient:
    options = {"base_url": _setting("HUBSPOT_BASE_URL"), "access_token": _setting("HUBSPOT_ACCESS_TOKEN"), **_common()}
    return HubSpotClient(**{**options, **overrides})


def webhook_client(**overrides) -> WebhookClient:
    options = {"url": _setting("WEBHOOK_SYNC_URL"), "secret": _setting("WEBHOOK_SYNC_SECRET"), **_common()}
    return WebhookClient(**{**options, **overrides})
