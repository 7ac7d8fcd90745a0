"""Settings of the contacts app (read from the environment; documented in .env.example)."""
import os as _os


def _env_float(name: str, default: float) -> float:
    value = _os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    value = _os.environ.get(name)
    return int(value) if value not in (None, "") else default


# Seconds allowed for each DNS lookup (MX, then A/AAAA) when checking an email domain; a timeout gives "unknown".
CONTACTS_DNS_TIMEOUT = _env_float("CONTACTS_DNS_TIMEOUT", 3.0)
# Comma-separated nameserver IPs for email DNS checks (e.g. "1.1.1.1,8.8.8.8"); empty = the system resolver.
CONTACTS_DNS_NAMESERVERS = [
    _ns.strip() for _ns in _os.environ.get("CONTACTS_DNS_NAMESERVERS", "").split(",") if _ns.strip()
]
# Most visible-text characters the extractor scans per page (bounds time and memory on huge pages).
CONTACTS_MAX_TEXT_CHARS = _env_int("CONTACTS_MAX_TEXT_CHARS", 2_000_000)


# --- CRM and webhook sync (contacts/crm/) ------------------------------------------
def _env_bool(name: str, default: bool) -> bool:
    value = _os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    return value in {"1", "true", "yes", "on"}


def _env_int_list(name: str) -> list[int]:
    value = _os.environ.get(name, "")
    try:
        return [int(_item) for _item in value.split(",") if _item.strip()]
    except ValueError:
        raise ValueError(f"{name} must be comma-separated integers (e.g. \"3,7\"), got {value!r}") from None


# Same rule as SANDBOX_ENABLED in components/places.py (recomputed here): on without GOOGLE_MAPS_API_KEY; SANDBOX=0/1 forces it.
_CRM_SANDBOX = _env_bool("SANDBOX", _os.environ.get("GOOGLE_MAPS_API_KEY", "") == "")
# Loopback port of the CRM + webhook sandbox (scrapersky/sandbox/crm.py) when the sandbox is enabled.
SANDBOX_CRM_PORT = _env_int("SANDBOX_CRM_PORT", 8103)
_CRM_SANDBOX_URL = f"http://127.0.0.1:{SANDBOX_CRM_PORT}"
# Brevo API v3 key (header api-key); empty = Brevo sync not configured (the sandbox's key when the sandbox is on).
BREVO_API_KEY = _os.environ.get("BREVO_API_KEY", "") or ("sandbox-brevo-key" if _CRM_SANDBOX else "")
# Brevo API root (the client adds /v3/...); the sandbox's /brevo prefix when the sandbox is on and no key is set.
BREVO_BASE_URL = _os.environ.get("BREVO_BASE_URL", "") or (
    f"{_CRM_SANDBOX_URL}/brevo" if _CRM_SANDBOX and not _os.environ.get("BREVO_API_KEY") else "https://api.brevo.com")
# Comma-separated Brevo list ids every synced contact is added to (e.g. "3,7"). Brevo's batch import needs a
# list: empty = one upsert call per contact (slower). The sandbox's list 2 when the sandbox stands in for Brevo.
BREVO_LIST_IDS = _env_int_list("BREVO_LIST_IDS") or ([2] if _CRM_SANDBOX and not _os.environ.get("BREVO_API_KEY")
                                                     else [])
# HubSpot private-app access token (Bearer, scope crm.objects.contacts.write); empty = not configured (sandbox's when on).
HUBSPOT_ACCESS_TOKEN = _os.environ.get("HUBSPOT_ACCESS_TOKEN", "") or ("sandbox-hubspot-token" if _CRM_SANDBOX else "")
# HubSpot API root (the client adds /crm/v3/...); the sandbox's /hubspot prefix when the sandbox is on and no token is set.
HUBSPOT_BASE_URL = _os.environ.get("HUBSPOT_BASE_URL", "") or (
    f"{_CRM_SANDBOX_URL}/hubspot" if _CRM_SANDBOX and not _os.environ.get("HUBSPOT_ACCESS_TOKEN")
    else "https://api.hubapi.com")
# URL the webhook sync POSTs signed contact documents to (n8n, Zapier…); empty = not configured (sandbox receiver when on).
WEBHOOK_SYNC_URL = _os.environ.get("WEBHOOK_SYNC_URL", "") or (f"{_CRM_SANDBOX_URL}/webhook/sync" if _CRM_SANDBOX else "")
# Secret of the X-ScraperSky-Signature HMAC-SHA256 on outbound webhooks; empty = not configured (sandbox's when on).
WEBHOOK_SYNC_SECRET = _os.environ.get("WEBHOOK_SYNC_SECRET", "") or (
    "sandbox-webhook-secret" if _CRM_SANDBOX and not _os.environ.get("WEBHOOK_SYNC_URL") else "")
# Secret inbound enrichment callbacks must prove (HMAC signature or X-ScraperSky-Secret); empty = callbacks refused.
ENRICHMENT_WEBHOOK_SECRET = _os.environ.get("ENRICHMENT_WEBHOOK_SECRET", "")
# Seconds before one CRM / webhook HTTP request times out (connect, read, write and pool each).
CRM_TIMEOUT = _env_float("CRM_TIMEOUT", 10.0)
# Contacts per signed webhook document (an array, each with its idempotency key); 1 = one document per contact.
WEBHOOK_SYNC_BATCH_SIZE = _env_int("WEBHOOK_SYNC_BATCH_SIZE", 100)
# Retries of one CRM / webhook call inside a run (429, 5xx, network) before the row goes back to the queue.
CRM_MAX_RETRIES = _env_int("CRM_MAX_RETRIES", 3)

# Dotted path of the DNS resolver factory used by contact validation. Empty = the system resolver
# (contacts.validation.make_resolver). With the sandbox on, the sandbox's DNS answers for its made-up
# domains, so `make run` validates offline and honestly; tests point it at fakes.
CONTACTS_DNS_RESOLVER_FACTORY = _os.environ.get("CONTACTS_DNS_RESOLVER_FACTORY", "") or (
    "scrapersky.sandbox.dns.make_resolver" if _CRM_SANDBOX else ""
)
