"""The plain data the CRM and webhook clients take, and what they share.

A later workflow hook turns a `contacts.Contact` row into a `ContactPayload`
(plain strings, no ORM object) and hands it to `BrevoClient.upsert_contact`,
`HubSpotClient.upsert_contact` or `WebhookClient.send`; each returns a
`SyncResult` or raises `curation.exceptions.RetryableError` /
`PermanentError` with a message for curators and an error class.

No placeholders, ever (the original's defect B-17 sent "Phone not found" and
"Contact at {domain}" to the CRMs as real data): `ContactPayload.present()`
drops every None / empty / whitespace-only field, and the clients build their
requests from it only, so a missing value is *omitted*, never invented.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import functools
import hashlib
import json
import random
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Literal

import certifi
import httpx

from curation.exceptions import ErrorClass, PermanentError, RetryableError

KIND_EMAIL = "email"
KIND_PHONE = "phone"
KIND_FAX = "fax"  # a fax number: delivered as what it is (webhook), never as a phone to a CRM
KINDS = (KIND_EMAIL, KIND_PHONE, KIND_FAX)
_E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class ContactPayload:
    """One contact, as plain data (every optional field may be None)."""

    contact_id: str
    kind: Literal["email", "phone", "fax"]
    email: str | None = None
    phone_e164: str | None = None
    fax_e164: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    job_title: str | None = None
    company_name: str | None = None
    website: str | None = None
    domain: str | None = None
    city: str | None = None
    country_code: str | None = None
    business_phone_e164: str | None = None
    source_url: str | None = None
    validation: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"ContactPayload.kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if not str(self.contact_id or "").strip():
            raise ValueError("ContactPayload.contact_id is required")

    def present(self) -> dict[str, str]:
        """The fields that carry a real value (stripped), None and blanks left out (a new dict each call).

        Computed once per payload (it is frozen): the idempotency key, the vendor body and the webhook document
        all read it, and `dataclasses.asdict` (a deep copy per call) cost ~0.3 ms per contact and call.
        """
        cached = self.__dict__.get("_present")
        if cached is None:
            cached = {}
            for key in _PAYLOAD_FIELDS:
                value = getattr(self, key)
                if value is None:
                    continue
                text = (value if type(value) is str else str(value)).strip()
                if text:
                    cached[key] = text
            object.__setattr__(self, "_present", cached)
        return dict(cached)

    @property
    def names(self) -> tuple[str | None, str | None]:
        """(first, last): the explicit fields, else split from full_name."""
        first, last = _clean(self.first_name), _clean(self.last_name)
        if first or last:
            return first, last
        return split_name(self.full_name)

    @property
    def sync_email(self) -> str | None:
        """The email address to upsert by (lower-cased), or None."""
        value = _clean(self.email)
        return value.lower() if value else None


_PAYLOAD_FIELDS = tuple(f.name for f in fields(ContactPayload))


@dataclass(frozen=True)
class SyncResult:
    remote_id: str  # the CRM's id of the contact (or the webhook delivery id)
    created: bool  # True when this call created the remote record
    detail: str  # one line for curators ("created Brevo contact 42")


# The answer of a batch call: contact_id -> its own result, or the error of that contact alone.
BatchResults = dict[str, "SyncResult | RetryableError | PermanentError"]


def idempotency_key(payload: ContactPayload, *, prefix: str = "contact") -> str:
    """The delivery's idempotency key: the row (contact id) and the content version (a digest of what is sent).

    The same contact with the same data gives the same key, so a redelivery (a retry, a re-run after a lost
    lease) is recognisable at the receiver; changed data is a new version and a new key.
    """
    digest = hashlib.sha256(json.dumps(payload.present(), sort_keys=True).encode("utf-8")).hexdigest()[:20]
    return f"{prefix}-{payload.contact_id}-{digest}"


def batch_key(keys: list[str]) -> str:
    """The idempotency key of a batch request: a digest of its items' keys (same items, same key)."""
    return "batch-" + hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()[:32]


def chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


_HONORIFICS = {
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "herr", "frau", "sr", "sra", "srta", "mme", "mlle", "m",
    "dott", "dottssa", "ing", "mag",
}
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "phd", "md", "dds", "dmd", "esq", "mba", "cpa"}
_PARTICLES = {"van", "von", "de", "der", "den", "da", "del", "della", "di", "du", "la", "le", "dos", "das", "zu", "ter"}


def split_name(full: str | None) -> tuple[str | None, str | None]:
    """Split a person's name into (first, last); never invents a value.

    "Dr. Anna Maria Müller" → ("Anna Maria", "Müller"); "Ludwig van Beethoven"
    → ("Ludwig", "van Beethoven"); "Müller, Anna" → ("Anna", "Müller");
    "Cher" → ("Cher", None); None / "" → (None, None). Honorifics ("Dr.",
    "Frau") and suffixes ("Jr.", "PhD") are dropped.
    """
    text = _clean(full)
    if not text:
        return None, None
    if text.count(",") == 1:
        last, _, first = text.partition(",")
        first, last = _clean(first), _clean(last)
        if first and last and " " not in last and first.lower().replace(".", "") not in _SUFFIXES:
            return first, last
        text = _clean(text.replace(",", " ")) or ""
    words = text.split(" ")
    while len(words) > 1 and words[0].lower().rstrip(".") in _HONORIFICS:
        words = words[1:]
    while len(words) > 1 and words[-1].lower().replace(".", "").rstrip(",") in _SUFFIXES:
        words = words[:-1]
    words = [w.rstrip(",") for w in words if w.rstrip(",")]
    if not words:
        return None, None
    if len(words) == 1:
        return words[0], None
    # the last name starts at the first particle after the first word ("van Beethoven")
    start = len(words) - 1
    for index in range(1, len(words) - 1):
        if words[index].lower() in _PARTICLES:
            start = index
            break
    return " ".join(words[:start]), " ".join(words[start:])


def is_e164(value: str | None) -> bool:
    """True for a real E.164 number ("+4930123456"); False for None, blanks or placeholder text."""
    return bool(value) and bool(_E164_RE.match(value.strip()))


# --- HTTP plumbing shared by the clients ----------------------------------------------
@functools.lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client (building one per client costs ~0.1 s: the CA bundle)."""
    return ssl.create_default_context(cafile=certifi.where())


def retry_after_seconds(response: httpx.Response, *headers: str) -> float | None:
    """Seconds to wait from the first of `headers` present (delta seconds or HTTP date), else None."""
    for name in (*headers, "Retry-After"):
        value = response.headers.get(name)
        if not value:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
    return None


class HttpCaller:
    """Sends one request with bounded retries, mapping failures to workflow errors.

    `error_for(response)` turns a non-2xx response into a RetryableError or a
    PermanentError. Retries (at most `max_retries` after the first try) cover
    RetryableErrors: 429, 5xx, connection errors and timeouts. A Retry-After
    up to `max_retry_after` seconds is slept through; a longer one is raised
    at once (`retry_after` set) so that the engine re-queues the row instead
    of blocking a worker. Otherwise the wait is exponential with full jitter.
    The request is resent byte for byte, so every retried call must be
    idempotent on the server side (upsert by email, Idempotency-Key).
    """

    def __init__(self, *, service: str, client: httpx.Client, max_retries: int,
                 error_for: Callable[[httpx.Response], RetryableError | PermanentError],
                 backoff: float = 0.5, max_backoff: float = 8.0, max_retry_after: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep):
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.service = service
        self.client = client
        self.max_retries = max_retries
        self.error_for = error_for
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self._sleep = sleep

    def request(self, method: str, url: str, *, ok: Callable[[httpx.Response], bool] | None = None,
                **kwargs) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TimeoutException as exc:
                error: RetryableError | PermanentError = RetryableError(
                    f"{self.service}: timeout after {self.client.timeout.read}s calling {method} {_shown(url)} "
                    f"({type(exc).__name__})", error_class=ErrorClass.TIMEOUT)
            except httpx.TransportError as exc:
                error = RetryableError(
                    f"{self.service}: network error calling {method} {_shown(url)}: {exc or type(exc).__name__}",
                    error_class=ErrorClass.NETWORK)
            else:
                if (ok or _is_success)(response):
                    return response
                error = self.error_for(response)
            if isinstance(error, PermanentError) or error.error_class == ErrorClass.QUOTA:
                raise error  # a used-up daily quota is not retried in a loop: the engine re-queues
            if attempt >= self.max_retries:
                if attempt:
                    error.message = f"{error.message}; gave up after {attempt + 1} attempts"
                    error.args = (error.message,)
                raise error
            if error.retry_after is not None and error.retry_after > self.max_retry_after:
                raise error
            wait = error.retry_after if error.retry_after is not None else self._backoff_for(attempt)
            self._sleep(wait)
            attempt += 1

    def _backoff_for(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))


def _is_success(response: httpx.Response) -> bool:
    return response.is_success


def _shown(url: str) -> str:
    # never show query strings (they may carry keys) in curator-facing messages
    return url.split("?", 1)[0]


def json_or_none(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return None


def generic_error(service: str, response: httpx.Response, message: str, *,
                  retry_after_headers: tuple[str, ...] = ()) -> RetryableError | PermanentError:
    """The shared status-code mapping: 401/403 config, 429 rate_limited, 5xx http_5xx, other 4xx http_4xx."""
    code = response.status_code
    text = f"{service}: {message}" if message else f"{service}: HTTP {code} from {_shown(str(response.request.url))}"
    if code == 429:
        return RetryableError(text, error_class=ErrorClass.RATE_LIMITED,
                              retry_after=retry_after_seconds(response, *retry_after_headers))
    if code >= 500:
        return RetryableError(text, error_class=ErrorClass.HTTP_5XX,
                              retry_after=retry_after_seconds(response, *retry_after_headers))
    if code == 408:
        return RetryableError(text, error_class=ErrorClass.TIMEOUT)
    if code in (401, 403):
        return PermanentError(text, error_class=ErrorClass.CONFIG)
    return PermanentError(text, error_class=ErrorClass.HTTP_4XX)
