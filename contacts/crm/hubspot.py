"""HubSpot contacts, CRM API v3: idempotent batch upserts by email, 100 contacts per call.

``POST /crm/v3/objects/contacts/batch/upsert`` with up to 100 inputs
``{"id": <email>, "idProperty": "email", "properties": {...},
"objectWriteTraceId": <our contact id>}``. HubSpot creates a contact when no
contact has that email and updates it otherwise, and answers ``{"status":
"COMPLETE", "results": [{"id", "new", "properties", ...}]}`` (200), or 207
multi-status with ``errors`` whose ``context.objectWriteTraceId`` names the
inputs that failed. Resending a batch (a retry after a timeout or a 5xx, a
re-run after a lost lease) can never create a duplicate: the key is the
email. Each request also carries an ``Idempotency-Key`` header derived from
its contacts and their content version (`common.idempotency_key`). Auth:
``Authorization: Bearer <private app token>`` (scope
``crm.objects.contacts.write``).

Properties sent (only real values; a missing field is omitted, never a
placeholder — B-17): email, firstname, lastname, phone (the contact's own
E.164 number, else the business's number), company, website, jobtitle,
city, country (ISO code as given). Only contacts with an email can be
upserted: `unsupported()` says why a phone or fax contact cannot go, and
the sync skips it (not an error).

Errors: 401/403 → PermanentError ``config``; 429 → RetryableError
``rate_limited`` with Retry-After (a DAILY policy → ``quota``); 5xx →
RetryableError ``http_5xx``; 400 (VALIDATION_ERROR…) and other 4xx →
PermanentError ``http_4xx`` with HubSpot's message. An error of the call
applies to each of its contacts; a 4xx refusing a whole batch is resent one
contact per call so that only the bad contact fails; a 207 error lands on the
contact it names.
"""
from __future__ import annotations

from collections.abc import Callable

import httpx

from curation.exceptions import ErrorClass, PermanentError, RetryableError

from .common import (
    BatchResults,
    ContactPayload,
    HttpCaller,
    SyncResult,
    batch_key,
    chunks,
    generic_error,
    idempotency_key,
    is_e164,
    json_or_none,
    tls_context,
)

SERVICE = "HubSpot"
UPSERT_PATH = "/crm/v3/objects/contacts/batch/upsert"
BATCH_LIMIT = 100  # inputs per batch call (HubSpot's limit)
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
            base_url=self.base_url, timeout=httpx.Timeout(timeout), transport=transport, verify=tls_context(),
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

    @staticmethod
    def unsupported(payload: ContactPayload) -> str | None:
        """Why HubSpot cannot take this contact (it is skipped, not an error), or None."""
        if payload.sync_email:
            return None
        if payload.kind == "phone":
            return PHONE_ONLY_MESSAGE
        if payload.kind == "fax":
            return "HubSpot upserts by email address; this contact is a fax number"
        return "HubSpot upserts by email address; this contact has none"

    def build_properties(self, payload: ContactPayload) -> dict[str, str]:
        """HubSpot contact properties for `payload` (also a dry-run preview of the mapping)."""
        email = payload.sync_email
        if not email:
            raise PermanentError(self.unsupported(payload) or PHONE_ONLY_MESSAGE, error_class=ErrorClass.PARSE)
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
        outcome = self.upsert_contacts([payload])[payload.contact_id]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def upsert_contacts(self, payloads: list[ContactPayload]) -> BatchResults:
        """Upsert many contacts by email, 100 per call; each contact gets its own result or error.

        A contact HubSpot refuses (a 207 error naming its ``objectWriteTraceId``) fails alone. A call refused
        as a whole with a 4xx (HubSpot validates some batches all-or-nothing) is resent one contact per call,
        so the bad contact is found and the others go through. Errors of the call itself (auth, 429 after the
        retries, 5xx) apply to every contact of that call. Contacts sharing an email are sent once.
        """
        results: BatchResults = {}
        by_email: dict[str, list[ContactPayload]] = {}
        for payload in payloads:
            by_email.setdefault(payload.sync_email or "", []).append(payload)
        unique = []
        for email, group in by_email.items():
            if not email:
                for payload in group:
                    results[payload.contact_id] = PermanentError(self.unsupported(payload) or PHONE_ONLY_MESSAGE,
                                                                 error_class=ErrorClass.PARSE)
                continue
            unique.append(group[0])
        for chunk in chunks(unique, BATCH_LIMIT):
            chunk_results = self._upsert_chunk(chunk, split_on_4xx=True)
            for payload in chunk:
                outcome = chunk_results[payload.contact_id]
                for same in by_email[payload.sync_email]:
                    results[same.contact_id] = outcome
        return results

    def _upsert_chunk(self, chunk: list[ContactPayload], *, split_on_4xx: bool) -> BatchResults:
        inputs = []
        for payload in chunk:
            properties = self.build_properties(payload)
            inputs.append({"id": properties["email"], "idProperty": "email", "properties": properties,
                           "objectWriteTraceId": payload.contact_id})
        keys = [idempotency_key(p, prefix="hubspot") for p in chunk]
        try:
            response = self._caller.request("POST", UPSERT_PATH, json={"inputs": inputs},
                                            headers={"Idempotency-Key": batch_key(keys)},
                                            ok=lambda r: r.status_code in (200, 201, 207))
        except PermanentError as exc:
            if split_on_4xx and len(chunk) > 1 and exc.error_class == ErrorClass.HTTP_4XX:
                results: BatchResults = {}
                for payload in chunk:
                    results.update(self._upsert_chunk([payload], split_on_4xx=False))
                return results
            return {payload.contact_id: exc for payload in chunk}
        except RetryableError as exc:
            return {payload.contact_id: exc for payload in chunk}
        return self._read_answer(chunk, response)

    def _read_answer(self, chunk: list[ContactPayload], response: httpx.Response) -> BatchResults:
        data = json_or_none(response)
        data = data if isinstance(data, dict) else {}
        by_email = {p.sync_email: p for p in chunk}
        by_trace = {p.contact_id: p for p in chunk}
        results: BatchResults = {}
        for record in data.get("results") or []:
            if not isinstance(record, dict) or not record.get("id"):
                continue
            email = str((record.get("properties") or {}).get("email") or "").lower()
            payload = by_email.get(email) or by_trace.get(str(record.get("objectWriteTraceId") or ""))
            if payload is None:
                continue
            created = bool(record.get("new"))
            verb = "created" if created else "updated"
            results[payload.contact_id] = SyncResult(remote_id=str(record["id"]), created=created,
                                                     detail=f"{verb} HubSpot contact {record['id']} ({email})")
        for error in data.get("errors") or []:
            if not isinstance(error, dict):
                continue
            exc = _input_error(error)
            for payload in _payloads_named(error, by_trace, by_email):
                results.setdefault(payload.contact_id, exc)
        for payload in chunk:
            if payload.contact_id not in results:
                results[payload.contact_id] = RetryableError(
                    f"HubSpot: the answer to POST {UPSERT_PATH} (HTTP {response.status_code}) did not mention "
                    f"{payload.sync_email}", error_class=ErrorClass.PARSE)
        return results


def _payloads_named(error: dict, by_trace: dict, by_email: dict) -> list[ContactPayload]:
    """The inputs a 207 error is about: its context's objectWriteTraceId (or ids = emails)."""
    context = error.get("context") if isinstance(error.get("context"), dict) else {}
    named = []
    for key, table in (("objectWriteTraceId", by_trace), ("ids", by_email)):
        values = context.get(key) or error.get(key) or []
        for value in values if isinstance(values, list) else [values]:
            payload = table.get(str(value).lower() if key == "ids" else str(value))
            if payload is not None and payload not in named:
                named.append(payload)
    return named


def _input_error(error: dict) -> RetryableError | PermanentError:
    status_text = str(error.get("status") or "")
    status = int(status_text) if status_text.isdigit() else 400
    category = str(error.get("category") or "")
    message = str(error.get("message") or "")
    text = f"HubSpot: {message} ({category})" if category else f"HubSpot: {message or 'upsert failed'}"
    if status >= 500:
        return RetryableError(text, error_class=ErrorClass.HTTP_5XX)
    if status == 429:
        return RetryableError(text, error_class=ErrorClass.RATE_LIMITED)
    return PermanentError(text, error_class=ErrorClass.HTTP_4XX)


def _error_from_response(response: httpx.Response) -> RetryableError | PermanentError:
    code = response.status_code
    data = json_or_none(response)
    data = data if isinstance(data, dict) else {}
    if code == 207:  # multi-status (read per input by _read_answer; here only if asked for a plain success)
        errors = data.get("errors") or [{}]
        return _input_error(errors[0] if isinstance(errors[0], dict) else {})
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
