"""HubSpot contacts, CRM API v3: an idempotent upsert by email.

The official idempotent path is the batch upsert keyed on a unique property:
``POST /crm/v3/objects/contacts/batch/upsert`` with one input
``{"id": <email>, "idProperty": "email", "properties": {...}}``. HubSpot
creates the contact when no contact has that email and updates it otherwise,
in one call, and answers ``{"status": "COMPLETE", "results": [{"id", "new",
...}]}``. Resending it (a retry after a timeout or a 5xx) can never create a
duplicate — unlike search-then-create, which races, or create-then-409-then-
PATCH, which needs three calls. Auth: ``Authorization: Bearer <private app
token>`` (scope ``crm.objects.contacts.write``).

Properties sent (only real values; a missing field is omitted, never a
placeholder — B-17): email, firstname, lastname, phone (the contact's own
E.164 number, else the business's number), company, website, jobtitle,
city, country (ISO code as given). Only email contacts can be upserted: a
phone-only contact raises ``PermanentError`` class ``parse``, as with Brevo.

Errors: 401/403 → PermanentError ``config``; 429 → RetryableError
``rate_limited`` with Retry-After (a DAILY policy → ``quota``); 5xx →
RetryableError ``http_5xx``; 400 (VALIDATION_ERROR…) and other 4xx →
PermanentError ``http_4xx`` with HubSpot's message; a 207 multi-status whose
error is for our input is mapped by its category the same way.
"""
from __future__ import annotations

from collections.abc import Callable

import httpx

from curation.exceptions import ErrorClass, PermanentError, RetryableError

from .common import ContactPayload, HttpCaller, SyncResult, generic_error, is_e164, json_or_none

SERVICE = "HubSpot"
UPSERT_PATH = "/crm/v3/objects/contacts/batch/upsert"
PHONE_ONLY_MESSAGE = "HubSpot upserts by email address; this contact is a phone number"


class HubSpotClient:
    def __init__(self, *, base_url: str, access_token: str, timeout: float = 10.0, max_retries: int = 3,
                 max_retry_after: float = 30.0, sleep: Callable[[float], None] | None = None,
                 transport: httpx.BaseTransport | None = None):
        if not access_token:
            raise PermanentError("HubSpot: no access token configured (set HUBSPOT_ACCESS_TOKEN)",
                                 error_class=ErrorClass.CONFIG)
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, timeout=httpx.Timeout(timeout), transport=transport,
            headers={"Authorization": f"Bearer {access_token}", "accept": "application/json",
                     "User-Agent": "ScraperSky/3 (+crm)"},
        )
        extra = {"sleep": sleep} if sleep is not None else {}
        self._caller = HttpCaller(service=SERVICE, client=self._http, max_retries=max_retries,
                                  error_for=_error_from_response, max_retry_after=max_retry_after, **extra)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HubSpotClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def build_properties(self, payload: ContactPayload) -> dict[str, str]:
        """HubSpot contact properties for `payload` (also a dry-run preview of the mapping)."""
        email = payload.sync_email
        if not email:
            raise PermanentError(PHONE_ONLY_MESSAGE if payload.kind == "phone" else
                                 "HubSpot upserts by email address; this contact has none",
                                 error_class=ErrorClass.PARSE)
        present = payload.present()
        first, last = payload.names
        phone = next((p for p in (present.get("phone_e164"), present.get("business_phone_e164")) if is_e164(p)), None)
        candidates = {
            "email": email,
            "firstname": first,
            "lastname": last,
            "phone": phone,
            "company": present.get("company_name"),
            "website": present.get("website"),
            "jobtitle": present.get("job_title"),
            "city": present.get("city"),
            "country": present.get("country_code"),
        }
        return {key: value for key, value in candidates.items() if value}

    def build_request(self, payload: ContactPayload) -> dict:
        properties = self.build_properties(payload)
        return {"inputs": [{"id": properties["email"], "idProperty": "email", "properties": properties}]}

    def upsert_contact(self, payload: ContactPayload) -> SyncResult:
        body = self.build_request(payload)
        email = body["inputs"][0]["id"]
        response = self._caller.request("POST", UPSERT_PATH, json=body, ok=lambda r: r.status_code in (200, 201))
        data = json_or_none(response)
        results = data.get("results") if isinstance(data, dict) else None
        if not results or not isinstance(results[0], dict) or not results[0].get("id"):
            raise RetryableError(f"HubSpot: no contact id in the answer to POST {UPSERT_PATH}",
                                 error_class=ErrorClass.PARSE)
        record = results[0]
        created = bool(record.get("new"))
        verb = "created" if created else "updated"
        return SyncResult(remote_id=str(record["id"]), created=created,
                          detail=f"{verb} HubSpot contact {record['id']} ({email})")


def _error_from_response(response: httpx.Response) -> RetryableError | PermanentError:
    code = response.status_code
    data = json_or_none(response)
    data = data if isinstance(data, dict) else {}
    if code == 207:  # multi-status: our single input failed
        errors = data.get("errors") or [{}]
        first = errors[0] if isinstance(errors[0], dict) else {}
        status = int(first.get("status") or 400) if str(first.get("status") or "").isdigit() else 400
        category = str(first.get("category") or "")
        message = str(first.get("message") or "")
        text = f"HubSpot: {message} ({category})" if category else f"HubSpot: {message or 'upsert failed'}"
        if status >= 500:
            return RetryableError(text, error_class=ErrorClass.HTTP_5XX)
        if status == 429:
            return RetryableError(text, error_class=ErrorClass.RATE_LIMITED)
        return PermanentError(text, error_class=ErrorClass.HTTP_4XX)
    category = str(data.get("category") or data.get("errorType") or "")
    message = str(data.get("message") or "")
    if code == 401:
        detail = f" ({message})" if message else ""
        return PermanentError(f"HubSpot: access token rejected (401 unauthorized){detail}",
                              error_class=ErrorClass.CONFIG)
    if code == 403:
        detail = f": {message}" if message else ""
        return PermanentError(f"HubSpot: access denied (403 {category or 'forbidden'}){detail}",
                              error_class=ErrorClass.CONFIG)
    if code == 429 and str(data.get("policyName") or "").upper() == "DAILY":
        return RetryableError(f"HubSpot: daily API limit reached ({message or 'DAILY'})",
                              error_class=ErrorClass.QUOTA, retry_after=None)
    if message:
        message = f"{message} ({category}, HTTP {code})" if category else f"{message} (HTTP {code})"
    return generic_error(SERVICE, response, message)
