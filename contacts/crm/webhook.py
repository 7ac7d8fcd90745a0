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

from .common import ContactPayload, HttpCaller, SyncResult, generic_error, json_or_none

SERVICE = "Webhook"
SIGNATURE_HEADER = "X-ScraperSky-Signature"
TIMESTAMP_HEADER = "X-ScraperSky-Timestamp"
SECRET_HEADER = "X-ScraperSky-Secret"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_EVENT = "contact.synced"


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
        self._http = httpx.Client(timeout=httpx.Timeout(timeout), transport=transport,
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
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: idempotency_key,
            TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
            SIGNATURE_HEADER: sign(body, self._secret),
        }
        response = self._caller.request("POST", self.url, content=body, headers=headers)
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
