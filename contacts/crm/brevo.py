"""Brevo (formerly Sendinblue) contacts, REST API v3: idempotent upserts by email, in batches.

Batches (`import_contacts`, what the sync uses): one ``POST /v3/contacts/import``
with ``jsonBody`` and ``updateExistingContacts`` per batch, the wait for its
process (``GET /v3/processes/{id}``), and one listing (``GET /v3/contacts
?modifiedSince=…&listIds=…``) that gives every contact's id; a contact the
import skipped fails alone. Brevo's import needs a list (BREVO_LIST_IDS):
without one, contacts are upserted one call each (several in flight).

Single contacts (`upsert_contact`): ``POST /v3/contacts`` with ``"updateEnabled": true`` creates
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

Only email contacts can be synced: `unsupported()` says why a phone or fax
contact cannot go ("Brevo needs an email address; this contact is a phone
number"), and the sync skips it with that reason on the row (not an error:
issue 16). `build_request` still refuses one with ``PermanentError``
``parse``.

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

import datetime as dt
import re
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

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
IMPORT_PATH = "/v3/contacts/import"
IMPORT_LIMIT = 1000  # rows per import call (Brevo takes far more; a batch hook sends fewer)
LIST_LIMIT = 1000  # contacts per listing page (Brevo's maximum)
PARALLEL_UPSERTS = 8  # single upserts in flight when no list is configured
CLOCK_MARGIN_SECONDS = 60  # "modified since" starts this much earlier: our clock and Brevo's differ
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class BrevoClient:
    def __init__(self, *, base_url: str, api_key: str, timeout: float = 10.0, max_retries: int = 3,
                 attribute_map: Mapping[str, str] | None = None, max_retry_after: float = 30.0,
                 sleep: Callable[[float], None] | None = None, transport: httpx.BaseTransport | None = None,
                 import_timeout: float = 60.0, clock: Callable[[], dt.datetime] | None = None):
        if not api_key:
            raise PermanentError("Brevo: no API key configured (set BREVO_API_KEY)", error_class=ErrorClass.CONFIG)
        self.base_url = base_url.rstrip("/")
        self.attribute_map = dict(DEFAULT_ATTRIBUTE_MAP if attribute_map is None else attribute_map)
        self.import_timeout = import_timeout
        self._sleep = sleep or time.sleep
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._http = httpx.Client(
            base_url=self.base_url, timeout=httpx.Timeout(timeout), transport=transport, verify=tls_context(),
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
    @staticmethod
    def unsupported(payload: ContactPayload) -> str | None:
        """Why Brevo cannot take this contact (it is skipped, not an error), or None."""
        if payload.sync_email:
            return None
        if payload.kind == "phone":
            return PHONE_ONLY_MESSAGE
        if payload.kind == "fax":
            return "Brevo needs an email address; this contact is a fax number"
        return "Brevo needs an email address; this contact has none"

    def build_request(self, payload: ContactPayload, *, list_ids: Iterable[int] = ()) -> dict:
        """The JSON body of POST /v3/contacts (also a dry-run preview of the mapping)."""
        email = payload.sync_email
        if not email:
            raise PermanentError(self.unsupported(payload) or PHONE_ONLY_MESSAGE, error_class=ErrorClass.PARSE)
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

    def import_contacts(self, payloads: list[ContactPayload], *, list_ids: Iterable[int] = ()) -> BatchResults:
        """Upsert many contacts: one import per call (``POST /v3/contacts/import``), each contact its own outcome.

        The import is asynchronous: we wait for its process (``GET /v3/processes/{id}``) and read the ids back
        with one listing (``GET /v3/contacts?modifiedSince=…``). A contact the import skipped (Brevo refuses a
        row it cannot take, e.g. an SMS number another contact has) fails alone with Brevo's reason unknown to
        us; an import refused as a whole (4xx) is resent one contact per call (``POST /v3/contacts``) so only
        the bad contact fails. Brevo's import needs a list: without `list_ids` every contact is upserted by
        its own call (several at once).
        """
        results: BatchResults = {}
        rows: dict[str, dict] = {}
        groups: dict[str, list[ContactPayload]] = {}
        sms_taken: set[str] = set()
        for payload in payloads:
            email = payload.sync_email
            if not email:
                results[payload.contact_id] = PermanentError(self.unsupported(payload) or PHONE_ONLY_MESSAGE,
                                                             error_class=ErrorClass.PARSE)
                continue
            if not _EMAIL_RE.match(email):
                results[payload.contact_id] = PermanentError(f"Brevo: invalid email address {email!r} (not sent)",
                                                             error_class=ErrorClass.HTTP_4XX)
                continue
            groups.setdefault(email, []).append(payload)
            if email in rows:
                continue
            row = self.build_request(payload)
            row.pop("updateEnabled", None)
            sms = (row.get("attributes") or {}).get("SMS")
            if sms in sms_taken:  # Brevo keeps SMS unique: the first contact of the batch gets it
                del row["attributes"]["SMS"]
            elif sms:
                sms_taken.add(sms)
            rows[email] = row
        ids = [int(i) for i in list_ids]
        for chunk in chunks(list(rows), IMPORT_LIMIT):
            firsts = [groups[email][0] for email in chunk]
            if ids:
                outcome = self._import_chunk([rows[email] for email in chunk], firsts, ids)
            else:
                outcome = self._upsert_each(firsts, ids)
            for email, first in zip(chunk, firsts):
                for payload in groups[email]:
                    results[payload.contact_id] = outcome[first.contact_id]
        return results

    def _upsert_each(self, payloads: list[ContactPayload], list_ids: list[int]) -> BatchResults:
        def one(payload: ContactPayload):
            try:
                return self.upsert_contact(payload, list_ids=list_ids)
            except (RetryableError, PermanentError) as exc:
                return exc

        with ThreadPoolExecutor(max_workers=min(PARALLEL_UPSERTS, max(1, len(payloads)))) as pool:
            return dict(zip((p.contact_id for p in payloads), pool.map(one, payloads)))

    def _import_chunk(self, rows: list[dict], payloads: list[ContactPayload], list_ids: list[int]) -> BatchResults:
        started = self._clock()
        since = started - dt.timedelta(seconds=CLOCK_MARGIN_SECONDS)
        body = {"jsonBody": rows, "listIds": list_ids, "updateExistingContacts": True,
                "emptyContactsAttributes": False, "disableNotification": True}
        key = batch_key([idempotency_key(p, prefix="brevo") for p in payloads])
        try:
            response = self._caller.request("POST", IMPORT_PATH, json=body, headers={"Idempotency-Key": key})
            data = json_or_none(response)
            process_id = data.get("processId") if isinstance(data, dict) else None
            if process_id is None:
                raise RetryableError(f"Brevo: no processId in the answer to POST {IMPORT_PATH}",
                                     error_class=ErrorClass.PARSE)
            self._wait_for_process(process_id)
            found = self._ids_modified_since(since, {row["email"] for row in rows}, list_ids[0])
        except PermanentError as exc:
            if len(payloads) > 1 and exc.error_class == ErrorClass.HTTP_4XX:
                return self._upsert_each(payloads, list_ids)
            return {p.contact_id: exc for p in payloads}
        except RetryableError as exc:
            return {p.contact_id: exc for p in payloads}
        results: BatchResults = {}
        for row, payload in zip(rows, payloads):
            contact = found.get(row["email"])
            if contact is None:
                results[payload.contact_id] = PermanentError(
                    f"Brevo: import {process_id} skipped {row['email']} (Brevo refuses rows it cannot take, "
                    f"e.g. an SMS number another contact has)", error_class=ErrorClass.HTTP_4XX)
                continue
            # "created" is informative only: it compares Brevo's clock with ours
            created = _parse_time(contact.get("createdAt")) >= started.replace(microsecond=started.microsecond // 1000 * 1000)
            verb = "created" if created else "updated"
            results[payload.contact_id] = SyncResult(
                remote_id=str(contact["id"]), created=created,
                detail=f"{verb} Brevo contact {contact['id']} ({row['email']}) by import {process_id}")
        return results

    def _wait_for_process(self, process_id) -> None:
        deadline = time.monotonic() + self.import_timeout
        wait = 0.02
        while True:
            response = self._caller.request("GET", f"/v3/processes/{process_id}")
            data = json_or_none(response)
            status = str(data.get("status") or "") if isinstance(data, dict) else ""
            if status == "completed":
                return
            if status not in ("queued", "in_process", ""):
                raise RetryableError(f"Brevo: import {process_id} ended {status!r}; importing again is safe",
                                     error_class=ErrorClass.HTTP_5XX)
            if time.monotonic() + wait > deadline:
                raise RetryableError(f"Brevo: import {process_id} did not finish within {self.import_timeout:g}s "
                                     f"(status {status or 'unknown'}); importing again is safe",
                                     error_class=ErrorClass.TIMEOUT)
            self._sleep(wait)
            wait = min(wait * 2, 1.0)

    def _ids_modified_since(self, since: dt.datetime, emails: set[str], list_id: int) -> dict[str, dict]:
        """The contacts of `emails` modified since `since` (one listing, paged by 1,000): email -> contact."""
        found: dict[str, dict] = {}
        offset = 0
        stamp = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{since.microsecond // 1000:03d}Z"
        # Newest first: the contacts this import just touched lead the listing; a page twice the batch's size
        # usually holds them all (a listing of everything modified in the clock margin costs far more).
        limit = min(LIST_LIMIT, max(50, 2 * len(emails)))
        while len(found) < len(emails):
            response = self._caller.request("GET", "/v3/contacts", params={
                "modifiedSince": stamp, "listIds": list_id, "limit": limit, "offset": offset, "sort": "desc"})
            data = json_or_none(response)
            contacts = data.get("contacts") if isinstance(data, dict) else None
            if not contacts:
                break
            for contact in contacts:
                email = str(contact.get("email") or "").lower()
                if email in emails and contact.get("id") is not None:
                    found[email] = contact
            offset += len(contacts)
            if len(contacts) < limit:
                break
        return found

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


def _parse_time(value) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)


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
