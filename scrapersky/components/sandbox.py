"""The one sandbox switch, computed once here; every other component and the code read it from settings.

On when SANDBOX says so, or when SANDBOX is unset and GOOGLE_MAPS_API_KEY is
empty; off otherwise. Never half-on: when it is on, Google Places, every
website and the CRMs default to the local stand-ins (scrapersky/sandbox/) and
the SSRF guard lets through exactly the website sandbox's address and port;
when it is off there is no host map, nothing private passes the guard, and the
sandbox app is not even installed. Product code never imports the sandbox: it
reads the values below from settings.
"""
from scrapersky.env import env as _env

SANDBOX_ENABLED = _env.bool("SANDBOX", _env.str("GOOGLE_MAPS_API_KEY") == "")
# Loopback ports of the three sandbox servers (`manage.py sandbox`, started by `make run`).
SANDBOX_PLACES_PORT = _env.int("SANDBOX_PLACES_PORT", 8101, minimum=0)
SANDBOX_WEBSITES_PORT = _env.int("SANDBOX_WEBSITES_PORT", 8102, minimum=0)
SANDBOX_CRM_PORT = _env.int("SANDBOX_CRM_PORT", 8103, minimum=0)
# The key the Places sandbox accepts (scrapersky/sandbox/places_api.py SANDBOX_API_KEY; a test keeps them equal).
SANDBOX_PLACES_API_KEY = "sandbox-key"
# The CRM sandbox's credentials (scrapersky/sandbox/crm.py; a test keeps them equal).
SANDBOX_BREVO_API_KEY = "sandbox-brevo-key"
SANDBOX_HUBSPOT_TOKEN = "sandbox-hubspot-token"
SANDBOX_WEBHOOK_SECRET = "sandbox-webhook-secret"
