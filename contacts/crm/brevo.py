"""Brevo (formerly Sendinblue) contacts, REST API v3: idempotent upserts by email, in batches.

Batches (`import_contacts`, what the sync uses): one ``POST /v3/contacts/import``
with ``jsonBody`` and ``updateExistingContacts`` per batch, then the listing
(``GET /v3/contacts?modifiedSince=…&listIds=…``), polled with a backoff until
every row shows up with its id — usually once: two calls per batch, both under
Brevo's ``/v3/contacts`` budget (10 requests/s). The import's process
(``GET /v3/processes/{id}``: Brevo's "all other endpoints" budget, 100
requests per *hour*) is read only while rows are missing, to learn that the
import finished and skipped them; a contact the import skipped fails alone.
Brevo's import needs a list (BREVO_LIST_IDS): without one, contacts are
upserted one call each (several in flight).

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
from email.utils import parsedate_to_datetime
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
IMPORT_FIRST_POLL = 0.1  # seconds between an import and the first read of its process
IMPORT_MAX_POLL = 2.0  # the reads back off (x2) up to this interval
CLOCK_MARGIN_SECONDS = 60  # "modified since" starts this much earlier: our clock and Brevo's differ
DATE_MARGIN_SECONDS = 2  # the same from Brevo's own clock (the Date header: whole seconds, its servers' skew)
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class BrevoClient:
    def __init__(self, *, base_url: str, api_key: str, timeout: float = 10.0, max_retries: int = 3,
                 attribute_map: Mapping[str, str] | None = None, max_retry_after: float = 30.0,
                 sleep: Callable[[float], None] | None = None, transport: httpx.BaseTransport | None = None,
                 import_timeout: float = 60.0, clock: Callable[[], dt.datetime] | None = None,
                 import_first_poll: float = IMPORT_FIRST_POLL):
        if not api_key:
            raise PermanentError("Brevo: no API key configured (set BREVO_API_KEY)", error_class=ErrorClass.CONFIG)
        self.base_url = base_url.rstrip("/")
        self.attribute_map = dict(DEFAULT_ATTRIBUTE_MAP if attribute_map is None else attribute_map)
        self.import_timeout = import_timeout
        self.import_first_poll = import_first_poll
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

        The import is asynchronous: we poll the listing (``GET /v3/contacts?modifiedSince=…``) for its rows and
        their ids (`_await_import`). A contact the import skipped (Brevo refuses a
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
            found = self._await_import(process_id, _modified_since(response, started),
                                       {row["email"] for row in rows}, list_ids[0])
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

    def _await_import(self, process_id, since: dt.datetime, emails: set[str], list_id: int) -> dict[str, dict]:
        """Wait for an import's rows and read their ids: email -> Brevo contact, for the rows it applied.

        The rows are polled through the contact listing (``GET /v3/contacts?modifiedSince=…``, under Brevo's
        ``/v3/contacts`` budget of 10 requests per second), first after IMPORT_FIRST_POLL, then twice as long
        each time up to IMPORT_MAX_POLL: an import whose rows all show up costs the import call and one
        listing. The import's process (``GET /v3/processes/{id}``) is read only while rows are still missing,
        at the 2nd, 4th, 8th… listing, because Brevo gives that endpoint 100 requests per *hour* (the "all
        other endpoints" budget): once it says completed, one last listing settles it and the rows still
        missing were skipped by Brevo.
        """
        deadline = time.monotonic() + self.import_timeout
        wait = self.import_first_poll
        found: dict[str, dict] = {}
        listings = 0
        completed = False
        status = ""
        while True:
            self._sleep(wait)
            missing = emails - found.keys()
            found.update(self._ids_modified_since(since, missing, list_id))
            listings += 1
            if len(found) == len(emails) or completed:
                return found
            if listings >= 2 and listings & (listings - 1) == 0:  # 2, 4, 8, …: the process budget is scarce
                status = self._process_status(process_id)
                if status == "completed":
                    completed, wait = True, 0.0  # one more listing: rows applied since the last one
                    continue
            wait = min(max(wait, self.import_first_poll) * 2, IMPORT_MAX_POLL)
            if time.monotonic() + wait > deadline:
                raise RetryableError(f"Brevo: import {process_id} did not finish within {self.import_timeout:g}s "
                                     f"(status {status or 'unknown'}, {len(found)} of {len(emails)} contacts "
                                     f"seen); importing again is safe", error_class=ErrorClass.TIMEOUT)

    def _process_status(self, process_id) -> str:
        response = self._caller.request("GET", f"/v3/processes/{process_id}")
        data = json_or_none(response)
        status = str(data.get("status") or "") if isinstance(data, dict) else ""
        if status not in ("completed", "queued", "in_process", ""):
            raise RetryableError(f"Brevo: import {process_id} ended {status!r}; importing again is safe",
                                 error_class=ErrorClass.HTTP_5XX)
        return status

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


def _modified_since(response: httpx.Response, started: dt.datetime) -> dt.datetime:
    """The earliest modification time the import's rows can have: Brevo's own clock when the import was
    accepted (the answer's Date header, whole seconds) less DATE_MARGIN_SECONDS, else our clock less
    CLOCK_MARGIN_SECONDS (ours and Brevo's differ). Rows modified a moment before the import (another sync of
    the same contact within the margin) also match: their ids are right, as Brevo keeps one id per email."""
    value = response.headers.get("Date")
    if value:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            return when - dt.timedelta(seconds=DATE_MARGIN_SECONDS)
    return started - dt.timedelta(seconds=CLOCK_MARGIN_SECONDS)


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
