"""Settings of the contacts app (read from the environment; documented in .env.example).

CRM destinations follow the one sandbox switch (scrapersky/components/sandbox.py):
with the sandbox on, an integration left unconfigured points at the CRM sandbox
with its credentials; an integration configured explicitly (its key or URL set)
always goes where it says, and the sandbox's secrets are never sent to it.
"""
from scrapersky.components.sandbox import SANDBOX_BREVO_API_KEY as _SANDBOX_BREVO_KEY
from scrapersky.components.sandbox import SANDBOX_CRM_PORT as _CRM_PORT
from scrapersky.components.sandbox import SANDBOX_ENABLED as _SANDBOX
from scrapersky.components.sandbox import SANDBOX_HUBSPOT_TOKEN as _SANDBOX_HUBSPOT_TOKEN
from scrapersky.components.sandbox import SANDBOX_WEBHOOK_SECRET as _SANDBOX_WEBHOOK_SECRET
from scrapersky.env import env as _env

# Seconds allowed for each DNS lookup (MX, then A/AAAA) when checking an email domain; a timeout gives "unknown".
CONTACTS_DNS_TIMEOUT = _env.float("CONTACTS_DNS_TIMEOUT", 3.0, minimum=0.1)
# Comma-separated nameserver IPs for email DNS checks (e.g. "1.1.1.1,8.8.8.8"); empty = the system resolver.
CONTACTS_DNS_NAMESERVERS = _env.list("CONTACTS_DNS_NAMESERVERS")
# Most visible-text characters the extractor scans per page (bounds time and memory on huge pages).
CONTACTS_MAX_TEXT_CHARS = _env.int("CONTACTS_MAX_TEXT_CHARS", 2_000_000, minimum=1)


# --- CRM and webhook sync (contacts/crm/) ------------------------------------------
_CRM_SANDBOX_URL = f"http://127.0.0.1:{_CRM_PORT}"
_BREVO_SET = _env.is_set("BREVO_API_KEY")
_HUBSPOT_SET = _env.is_set("HUBSPOT_ACCESS_TOKEN")
_WEBHOOK_SET = _env.is_set("WEBHOOK_SYNC_URL")
# Brevo API v3 key (header api-key); empty = Brevo sync not configured (the sandbox's key when the sandbox is on).
BREVO_API_KEY = _env.str("BREVO_API_KEY", _SANDBOX_BREVO_KEY if _SANDBOX else "")
# Brevo API root (the client adds /v3/...); the sandbox's /brevo prefix when the sandbox is on and no key is set.
BREVO_BASE_URL = _env.url("BREVO_BASE_URL", f"{_CRM_SANDBOX_URL}/brevo" if _SANDBOX and not _BREVO_SET
                          else "https://api.brevo.com")
# Comma-separated Brevo list ids every synced contact is added to (e.g. "3,7"). Brevo's batch import needs a
# list: empty = one upsert call per contact (slower). The sandbox's list 2 when the sandbox stands in for Brevo.
BREVO_LIST_IDS = _env.int_list("BREVO_LIST_IDS", [2] if _SANDBOX and not _BREVO_SET else [])
# HubSpot private-app access token (Bearer, scope crm.objects.contacts.write); empty = not configured (sandbox's when on).
HUBSPOT_ACCESS_TOKEN = _env.str("HUBSPOT_ACCESS_TOKEN", _SANDBOX_HUBSPOT_TOKEN if _SANDBOX else "")
# HubSpot API root (the client adds /crm/v3/...); the sandbox's /hubspot prefix when the sandbox is on and no token is set.
HUBSPOT_BASE_URL = _env.url("HUBSPOT_BASE_URL", f"{_CRM_SANDBOX_URL}/hubspot" if _SANDBOX and not _HUBSPOT_SET
                            else "https://api.hubapi.com")
# URL the webhook sync POSTs signed contact documents to (n8n, Zapier…); empty = not configured (sandbox receiver when on).
WEBHOOK_SYNC_URL = _env.url("WEBHOOK_SYNC_URL", f"{_CRM_SANDBOX_URL}/webhook/sync" if _SANDBOX else "")
# Secret of the X-ScraperSky-Signature HMAC-SHA256 on outbound webhooks; empty = not configured (sandbox's when on).
WEBHOOK_SYNC_SECRET = _env.str("WEBHOOK_SYNC_SECRET", _SANDBOX_WEBHOOK_SECRET if _SANDBOX and not _WEBHOOK_SET else "")
# Secret inbound enrichment callbacks must prove (HMAC signature or X-ScraperSky-Secret); empty = callbacks refused.
ENRICHMENT_WEBHOOK_SECRET = _env.str("ENRICHMENT_WEBHOOK_SECRET")
# Seconds before one CRM / webhook HTTP request times out (connect, read, write and pool each).
CRM_TIMEOUT = _env.float("CRM_TIMEOUT", 10.0, minimum=0.1)
# Contacts per signed webhook document (an array, each with its idempotency key); 1 = one document per contact.
WEBHOOK_SYNC_BATCH_SIZE = _env.int("WEBHOOK_SYNC_BATCH_SIZE", 100, minimum=1)
# Retries of one CRM / webhook call inside a run (429, 5xx, network) before the row goes back to the queue.
CRM_MAX_RETRIES = _env.int("CRM_MAX_RETRIES", 3, minimum=0)

# Dotted path of the DNS resolver factory used by contact validation. Empty = the system resolver
# (contacts.validation.make_resolver). With the sandbox on, the sandbox's DNS answers for its made-up
# domains, so `make run` validates offline and honestly; tests point it at fakes. (A dotted path in
# settings, not an import: the sandbox app is only installed when the sandbox is on.)
CONTACTS_DNS_RESOLVER_FACTORY = _env.str("CONTACTS_DNS_RESOLVER_FACTORY",
                                         "scrapersky.sandbox.dns.make_resolver" if _SANDBOX else "")
