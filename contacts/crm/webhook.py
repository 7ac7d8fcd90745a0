"""Signed JSON webhooks: outbound contact deliveries (n8n, Zapier, your own
endpoint) and the check of inbound enrichment callbacks.

Outbound (``WebhookClient.send``) POSTs one JSON document::

    {"event": "contact.synced", "id": "<idempotency key>", "sent_at": "2025-01-31T12:00:00Z",
     "contact": {"contact_id": "…", "kind": "email", "email": "…", …}}

``contact`` holds only the fields with a real value (no null, no empty
string, no placeholder — B-17). Headers:

- ``Content-Type: application/json``
- ``Idempotency-Key: <key>`` (also the document's ``id``): a receiver that
  sees the same key twice must treat it as a redelivery. Retries here resend
  the same bytes with the same key; the caller should derive the key from
  the contact and its data version so that a re-run of the workflow is
  recognisable too.
- ``X-ScraperSky-Timestamp: <unix seconds>`` — the same instant as
  ``sent_at`` inside the body, so it is covered by the signature: receivers
  can refuse stale deliveries (replays).
- ``X-ScraperSky-Signature: sha256=<hex>`` — HMAC-SHA256 of the raw request
  body with the shared secret. Check it with ``verify_signature``.

Batches (``WebhookClient.send_many``) POST one document with the contacts as
an array, each with its own idempotency key::

    {"event": "contacts.synced", "id": "<batch key>", "sent_at": "…",
     "contacts": [{"id": "<key>", "contact": {…}}, …]}

signed the same way, the batch key (a digest of the items' keys) in
``Idempotency-Key``. The receiver should treat each item's ``id`` as its
idempotency key (deliveries are at-least-once) and may answer
``{"results": [{"key", "id", "duplicate"}]}``. ``WEBHOOK_SYNC_BATCH_SIZE=1``
sends the single-contact document above instead.

A 2xx answer is success: ``remote_id`` is the answer's JSON ``"id"`` when
there is one, else the idempotency key; ``created`` is False when the
receiver says ``"duplicate": true``. Errors: 401/403/404/410 → PermanentError
``config`` (wrong secret, or no receiver at that URL — n8n answers 404 for an
inactive workflow); 429 → RetryableError ``rate_limited`` (Retry-After);
5xx → ``http_5xx``; other 4xx → PermanentError ``http_4xx``; timeouts and
connection errors → RetryableError, all retried here first.

Inbound enrichment callbacks (``verify_enrichment_request``): accepted when
EITHER the ``X-ScraperSky-Signature`` HMAC of the raw body is valid (the same
scheme as outbound, preferred), OR the ``X-ScraperSky-Secret`` header equals
the secret (a static header is what a no-code tool such as n8n can send
without a crypto step). Both compare in constant time. With an empty secret
setting every request is refused — an unconfigured endpoint never accepts
unauthenticated callbacks (the original answered 500, B-25); the view should
answer 401/503, never run the update.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping

import httpx

from curation.exceptions import ErrorClass, PermanentError, RetryableError

from .common import (
    BatchResults,
    ContactPayload,
    HttpCaller,
    SyncResult,
    batch_key,
    generic_error,
    json_or_none,
    tls_context,
)

SERVICE = "Webhook"
SIGNATURE_HEADER = "X-ScraperSky-Signature"
TIMESTAMP_HEADER = "X-ScraperSky-Timestamp"
SECRET_HEADER = "X-ScraperSky-Secret"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_EVENT = "contact.synced"
DEFAULT_BATCH_EVENT = "contacts.synced"


def sign(body: bytes, secret: str) -> str:
    """The signature header value: "sha256=" + hex HMAC-SHA256 of `body` with `secret`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    """True when `header` is the valid "sha256=<hex>" signature of `body` (constant-time compare).

    An empty secret or header never verifies.
    """
    if not secret or not header:
        return False
    return hmac.compare_digest(sign(body, secret).encode("ascii"), header.strip().lower().encode("ascii", "replace"))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        key = str(key).lower()
        if key == wanted or key == "http_" + wanted.replace("-", "_"):  # plain headers or a WSGI/Django META
            return value
    return None


def verify_enrichment_request(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Is this inbound enrichment callback authentic? (see the module docstring)

    `headers` may be a plain mapping (any case) or Django's ``request.META``.
    Always False when `secret` is empty.
    """
    if not secret:
        return False
    signature = _header(headers, SIGNATURE_HEADER)
    if signature and verify_signature(body, signature, secret):
        return True
    shared = _header(headers, SECRET_HEADER)
    if shared:
        return hmac.compare_digest(shared.encode("utf-8"), secret.encode("utf-8"))
    return False


def encode_document(event: str, payload: ContactPayload, *, idempotency_key: str,
                    sent_at: dt.datetime) -> bytes:
    """The exact body `send` posts (compact, UTF-8, keys in a stable order)."""
    document = {
        "event": event,
        "id": idempotency_key,
        "sent_at": sent_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "contact": payload.present(),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def encode_batch(event: str, items: list[tuple[str, ContactPayload]], *, batch_id: str,
                 sent_at: dt.datetime) -> bytes:
    """The exact body `send_many` posts: one document, the contacts as an array, each with its own key."""
    document = {
        "event": event,
        "id": batch_id,
        "sent_at": sent_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "contacts": [{"id": key, "contact": payload.present()} for key, payload in items],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookClient:
    def __init__(self, *, url: str, secret: str, timeout: float = 10.0, max_retries: int = 3,
                 max_retry_after: float = 30.0, sleep: Callable[[float], None] | None = None,
                 clock: Callable[[], dt.datetime] | None = None, transport: httpx.BaseTransport | None = None):
        if not url:
            raise PermanentError("Webhook: no URL configured (set WEBHOOK_SYNC_URL)", error_class=ErrorClass.CONFIG)
        if not secret:
            raise PermanentError("Webhook: no signing secret configured (set WEBHOOK_SYNC_SECRET)",
                                 error_class=ErrorClass.CONFIG)
        if not url.startswith(("http://", "https://")):
            raise PermanentError(f"Webhook: URL must start with http:// or https://, got {url!r}",
                                 error_class=ErrorClass.CONFIG)
        self.url = url
        self._secret = secret
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._http = httpx.Client(timeout=httpx.Timeout(timeout), transport=transport, verify=tls_context(),
                                  headers={"User-Agent": "ScraperSky/3 (+webhook)"})
        extra = {"sleep": sleep} if sleep is not None else {}
        self._caller = HttpCaller(service=SERVICE, client=self._http, max_retries=max_retries,
                                  error_for=_error_from_response, max_retry_after=max_retry_after, **extra)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WebhookClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def send(self, event: str, payload: ContactPayload, *, idempotency_key: str) -> SyncResult:
        if not idempotency_key or not idempotency_key.strip():
            raise ValueError("idempotency_key is required")
        sent_at = self._clock()
        body = encode_document(event or DEFAULT_EVENT, payload, idempotency_key=idempotency_key, sent_at=sent_at)
        response = self._post(body, idempotency_key, sent_at)
        data = json_or_none(response)
        remote_id = idempotency_key
        created = True
        if isinstance(data, dict):
            if data.get("id") not in (None, ""):
                remote_id = str(data["id"])
            created = not bool(data.get("duplicate"))
        what = "delivered" if created else "already delivered (receiver saw this key before)"
        return SyncResult(remote_id=remote_id, created=created,
                          detail=f"{what}: HTTP {response.status_code} from {self.url.split('?', 1)[0]}")


    def send_many(self, event: str, items: list[tuple[str, ContactPayload]]) -> BatchResults:
        """Deliver many contacts in one signed document (`encode_batch`); each contact gets its own outcome.

        `items` are (idempotency key, payload). The receiver answers 2xx, optionally with ``{"results": [{"key",
        "id", "duplicate"}]}`` per contact. A 4xx other than a refused signature or a missing receiver (a
        receiver that does not take arrays, or one bad item) is resent one document per contact, so only the
        bad contact fails; any other error applies to every contact of the call.
        """
        if not items:
            return {}
        for key, _ in items:
            if not key or not key.strip():
                raise ValueError("every item needs an idempotency key")
        sent_at = self._clock()
        batch_id = batch_key([key for key, _ in items])
        body = encode_batch(event or DEFAULT_BATCH_EVENT, items, batch_id=batch_id, sent_at=sent_at)
        try:
            response = self._post(body, batch_id, sent_at)
        except PermanentError as exc:
            if len(items) > 1 and exc.error_class == ErrorClass.HTTP_4XX:
                return {payload.contact_id: self.send_one(event, payload, key) for key, payload in items}
            return {payload.contact_id: exc for _, payload in items}
        except RetryableError as exc:
            return {payload.contact_id: exc for _, payload in items}
        data = json_or_none(response)
        answers = {}
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            answers = {str(r.get("key")): r for r in data["results"] if isinstance(r, dict)}
        where = self.url.split("?", 1)[0]
        results: BatchResults = {}
        for key, payload in items:
            answer = answers.get(key, {})
            created = not bool(answer.get("duplicate"))
            what = "delivered" if created else "already delivered (receiver saw this key before)"
            results[payload.contact_id] = SyncResult(
                remote_id=str(answer.get("id") or key), created=created,
                detail=f"{what} in a batch of {len(items)}: HTTP {response.status_code} from {where}")
        return results

    def send_one(self, event: str, payload: ContactPayload, key: str) -> SyncResult | RetryableError | PermanentError:
        """`send`, with the error returned instead of raised (one contact's outcome)."""
        try:
            return self.send(event, payload, idempotency_key=key)
        except (RetryableError, PermanentError) as exc:
            return exc

    def _post(self, body: bytes, key: str, sent_at: dt.datetime) -> httpx.Response:
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: key,
            TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
            SIGNATURE_HEADER: sign(body, self._secret),
        }
        return self._caller.request("POST", self.url, content=body, headers=headers)


def _error_from_response(response: httpx.Response) -> RetryableError | PermanentError:
    code = response.status_code
    data = json_or_none(response)
    message = ""
    if isinstance(data, dict):
        message = str(data.get("message") or data.get("error") or "")
    url = str(response.request.url).split("?", 1)[0]
    if code in (401, 403):
        why = f": {message}" if message else ""
        return PermanentError(f"Webhook: the receiver refused our signature (HTTP {code} from {url}){why}",
                              error_class=ErrorClass.CONFIG)
    if code in (404, 410):
        return PermanentError(f"Webhook: no receiver at {url} (HTTP {code}); check WEBHOOK_SYNC_URL",
                              error_class=ErrorClass.CONFIG)
    text = f"HTTP {code} from {url}" + (f" ({message})" if message else "")
    return generic_error(SERVICE, response, text)
