"""Brevo (formerly Sendinblue) contacts, REST API v3: an idempotent upsert by email.

One call does it: ``POST /v3/contacts`` with ``"updateEnabled": true`` creates
the contact (201 ``{"id": N}``) or updates the one with that email (204, no
body). After a 204 we read the id with ``GET /v3/contacts/{email}``. Because
the key is the email address, resending the same request (a retry after a
timeout or a 5xx, a second run of the workflow) updates the same contact and
never creates a second one; ``created`` may then be False although the first,
lost attempt created it.

Attributes sent (only when the contact has a real value — never a
placeholder, B-17): FIRSTNAME, LASTNAME (explicit fields, else split from
the full name), SMS (the contact's own number in E.164: only for a real
number, and never the business's switchboard number, which many contacts
share and Brevo requires SMS to be unique), JOB_TITLE and COMPANY. Brevo
stores attributes that exist in the account and skips the others, so the
mapping can be changed with ``attribute_map`` to match the account.

Only email contacts can be synced: a phone-only contact raises
``PermanentError`` class ``parse`` ("Brevo needs an email address; this
contact is a phone number"): the row's data can never succeed as it is, it
is not a configuration or HTTP problem, and a curator filtering by class sees
it apart from API failures.

Errors (``curation.exceptions``):

======================================  ================  =============
Brevo answer                            raised            class
======================================  ================  =============
401 (key missing or wrong)              PermanentError    config
403 (IP not authorised, plan…)          PermanentError    config
400 {"code", "message"}                 PermanentError    http_4xx
429 (x-sib-ratelimit-reset / Retry-After)  RetryableError  rate_limited
5xx                                     RetryableError    http_5xx
timeout / connection error              RetryableError    timeout / network
======================================  ================  =============

429, 5xx and network errors are first retried here (``max_retries``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from urllib.parse import quote

import httpx

from curation.exceptions import ErrorClass, PermanentError, RetryableError

from .common import ContactPayload, HttpCaller, SyncResult, generic_error, is_e164, json_or_none

SERVICE = "Brevo"
# ContactPayload field (or "first_name"/"last_name" from .names) → Brevo attribute
DEFAULT_ATTRIBUTE_MAP: dict[str, str] = {
    "first_name": "FIRSTNAME",
    "last_name": "LASTNAME",
    "phone_e164": "SMS",
    "job_title": "JOB_TITLE",
    "company_name": "COMPANY",
}
PHONE_ONLY_MESSAGE = "Brevo needs an email address; this contact is a phone number"


class BrevoClient:
    def __init__(self, *, base_url: str, api_key: str, timeout: float = 10.0, max_retries: int = 3,
                 attribute_map: Mapping[str, str] | None = None, max_retry_after: float = 30.0,
                 sleep: Callable[[float], None] | None = None, transport: httpx.BaseTransport | None = None):
        if not api_key:
            raise PermanentError("Brevo: no API key configured (set BREVO_API_KEY)", error_class=ErrorClass.CONFIG)
        self.base_url = base_url.rstrip("/")
        self.attribute_map = dict(DEFAULT_ATTRIBUTE_MAP if attribute_map is None else attribute_map)
        self._http = httpx.Client(
            base_url=self.base_url, timeout=httpx.Timeout(timeout), transport=transport,
            headers={"api-key": api_key, "accept": "application/json", "User-Agent": "ScraperSky/3 (+crm)"},
        )
        extra = {"sleep": sleep} if sleep is not None else {}
        self._caller = HttpCaller(service=SERVICE, client=self._http, max_retries=max_retries,
                                  error_for=_error_from_response, max_retry_after=max_retry_after, **extra)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BrevoClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- API ------------------------------------------------------------------------
    def build_request(self, payload: ContactPayload, *, list_ids: Iterable[int] = ()) -> dict:
        """The JSON body of POST /v3/contacts (also a dry-run preview of the mapping)."""
        email = payload.sync_email
        if not email:
            raise PermanentError(PHONE_ONLY_MESSAGE if payload.kind == "phone" else
                                 "Brevo needs an email address; this contact has none",
                                 error_class=ErrorClass.PARSE)
        present = payload.present()
        first, last = payload.names
        values = {**present, "first_name": first, "last_name": last}
        attributes = {}
        for field, attribute in self.attribute_map.items():
            value = values.get(field)
            if not value:
                continue
            if attribute == "SMS" and not is_e164(value):
                continue  # only a real number, never text like "Phone not found"
            attributes[attribute] = value
        body: dict = {"email": email}
        if attributes:
            body["attributes"] = attributes
        ids = [int(i) for i in list_ids]
        if ids:
            body["listIds"] = ids
        body["updateEnabled"] = True
        return body

    def upsert_contact(self, payload: ContactPayload, *, list_ids: Iterable[int] = ()) -> SyncResult:
        body = self.build_request(payload, list_ids=list_ids)
        response = self._caller.request("POST", "/v3/contacts", json=body)
        if response.status_code == 201:
            data = json_or_none(response)
            if isinstance(data, dict) and data.get("id") is not None:
                return SyncResult(remote_id=str(data["id"]), created=True,
                                  detail=f"created Brevo contact {data['id']} ({body['email']})")
        remote_id = self.get_contact_id(body["email"])
        return SyncResult(remote_id=remote_id, created=False,
                          detail=f"updated Brevo contact {remote_id} ({body['email']})")

    def get_contact_id(self, email: str) -> str:
        path = f"/v3/contacts/{quote(email, safe='@')}"
        try:
            response = self._caller.request("GET", path, params={"identifierType": "email_id"})
        except PermanentError as exc:
            if exc.error_class != ErrorClass.NOT_FOUND:
                raise
            # just upserted, yet not readable: a lag on Brevo's side; the upsert is safe to repeat
            raise RetryableError(f"Brevo: contact {email} was saved but cannot be read back yet ({exc.message})",
                                 error_class=ErrorClass.NOT_FOUND) from None
        data = json_or_none(response)
        if not isinstance(data, dict) or data.get("id") is None:
            raise RetryableError(f"Brevo: no contact id in the answer to GET {path}", error_class=ErrorClass.PARSE)
        return str(data["id"])


def _error_from_response(response: httpx.Response) -> RetryableError | PermanentError:
    code = response.status_code
    data = json_or_none(response)
    brevo_code = str(data.get("code") or "") if isinstance(data, dict) else ""
    brevo_message = str(data.get("message") or "") if isinstance(data, dict) else ""
    if code == 401:
        return PermanentError("Brevo: API key rejected (401 unauthorized)", error_class=ErrorClass.CONFIG)
    if code == 404 and brevo_code == "document_not_found":
        return PermanentError(f"Brevo: {brevo_message or 'contact does not exist'} (404)",
                              error_class=ErrorClass.NOT_FOUND)
    if brevo_message:
        message = f"{brevo_message} ({brevo_code}, HTTP {code})" if brevo_code else f"{brevo_message} (HTTP {code})"
    else:
        message = ""
    return generic_error(SERVICE, response, message, retry_after_headers=("x-sib-ratelimit-reset",))
