"""A local stand-in for Brevo, HubSpot and a webhook receiver (n8n-style), on one port.

`make_app()` returns a WSGI app; in memory, thread-safe, reset by building a
new app (or ``POST /_sandbox/reset``). With the sandbox enabled the settings
point BREVO_BASE_URL at ``http://127.0.0.1:<SANDBOX_CRM_PORT>/brevo``,
HUBSPOT_BASE_URL at ``…/hubspot`` and WEBHOOK_SYNC_URL at ``…/webhook/sync``.

Brevo (``/brevo`` + the real API v3 paths, header ``api-key``):

- ``POST /brevo/v3/contacts`` — ``{"email", "attributes", "listIds",
  "updateEnabled"}``: 201 ``{"id": N}`` on create; an existing email is 204
  (no body) with ``updateEnabled: true`` and 400 ``duplicate_parameter``
  without. Attributes this "account" has: FIRSTNAME, LASTNAME, SMS,
  JOB_TITLE, COMPANY; others are skipped silently, as Brevo does. SMS must be
  E.164 ("+" and 7–15 digits) and unique across contacts (400
  ``invalid_parameter`` / ``duplicate_parameter``), a bad email is 400
  ``invalid_parameter``.
- ``GET /brevo/v3/contacts/{email or id}`` (``identifierType`` email_id or
  contact_id optional) — the contact, or 404 ``document_not_found``.
- ``POST /brevo/v3/contacts/import`` — ``{"jsonBody": [{"email",
  "attributes"}], "listIds", "updateExistingContacts"}`` (``listIds``
  mandatory, as at Brevo): 202 ``{"processId": N}``. Imports are
  asynchronous, as at Brevo: the rows are applied ``import_seconds`` (0.1 s
  by default) after the import was received, their ``modifiedAt`` that
  instant; rows Brevo cannot take (bad email, bad or duplicate SMS) are
  skipped silently.
- ``GET /brevo/v3/processes/{id}`` — ``{"id", "status", "name"}``:
  ``in_process`` until the import's rows are applied, then ``completed``. At
  Brevo this endpoint is not under ``/v3/contacts``: it shares the "all other
  endpoints" budget of 100 requests per hour (200 on Enterprise), against 10
  per second for ``/v3/contacts/…``; ``GET /_sandbox/state`` counts its reads.
- ``GET /brevo/v3/contacts`` — ``modifiedSince``, ``listIds``, ``limit``
  (≤ 1000), ``offset``, ``sort``: ``{"contacts": [...], "count"}``.

HubSpot (``/hubspot`` + CRM v3 paths, ``Authorization: Bearer``):

- ``POST /hubspot/crm/v3/objects/contacts/batch/upsert`` — inputs with
  ``idProperty: "email"``; 200 ``{"status": "COMPLETE", "results": [{"id",
  "new", "properties", …}]}``. Unknown properties or an invalid email are
  HubSpot's 400 VALIDATION_ERROR.
- ``GET /hubspot/crm/v3/objects/contacts/{id}`` (``?idProperty=email`` to look
  up by email) — the contact, or 404.

Webhook receiver: ``POST /webhook/<name>`` checks ``X-ScraperSky-Signature``
(HMAC-SHA256 of the raw body, secret ``sandbox-webhook-secret``): 401 on a
missing or bad signature; 400 without ``Idempotency-Key``; 201
``{"id": "dlv_N", "duplicate": false}`` for a new key, 200 with the same id
and ``"duplicate": true`` for a key seen before (not recorded twice). A
document with a ``contacts`` array (``[{"id": <key>, "contact": {…}}]``) is a
batch: each item is deduplicated by its own key and the answer lists
``{"key", "id", "duplicate"}`` per item.

``GET /_sandbox/state`` dumps everything stored plus a log of requests (method,
path, status, which sandbox credential, and the body as received).

Test hooks — credentials (or webhook names) that force failures:

====================================  ==================================================
``sandbox-brevo-key``                  valid Brevo key (anything else: 401 "Key not found")
``sandbox-brevo-key-ratelimited``      429 on every request, ``x-sib-ratelimit-reset: 1``
``sandbox-brevo-key-ratelimited-once`` that 429 on the first try of each distinct request
``sandbox-brevo-key-500-once``         stores the contact, then answers 500 on the first
                                       try of each distinct request
``sandbox-brevo-key-slow-once``        stores, then sleeps ``slow_seconds`` before answering,
                                       first try of each distinct request
``sandbox-hubspot-token``              valid HubSpot token (anything else: 401)
``sandbox-hubspot-token-<hook>``       the same hooks: ``ratelimited`` (``Retry-After: 1``),
                                       ``ratelimited-once``, ``500-once``, ``slow-once``,
                                       ``daily`` (429 policy DAILY), ``forbidden`` (403 MISSING_SCOPES)
``/webhook/ratelimited``               429 ``Retry-After: 1`` always (signature checked first)
``/webhook/flaky``                     records the delivery, then 500 on the first try of each key
``/webhook/slow-once``                 records, then sleeps ``slow_seconds`` on the first try of each key
====================================  ==================================================

Run it alone: ``python -m scrapersky.sandbox.crm [port]`` (default 8103).
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import itertools
import json
import re
import sys
import threading
import time
from urllib.parse import parse_qs

BREVO_KEY = "sandbox-brevo-key"
HUBSPOT_TOKEN = "sandbox-hubspot-token"
WEBHOOK_SECRET = "sandbox-webhook-secret"
BREVO_ATTRIBUTES = ("FIRSTNAME", "LASTNAME", "SMS", "JOB_TITLE", "COMPANY")
HUBSPOT_PROPERTIES = ("email", "firstname", "lastname", "phone", "mobilephone", "company", "website", "jobtitle",
                      "city", "state", "zip", "address", "country")
HUBSPOT_REJECTED_DOMAIN = "rejected.example"  # HubSpot answers 207 with an error for these inputs
_HOOKS = ("ratelimited", "ratelimited-once", "500-once", "slow-once", "daily", "forbidden")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 207: "Multi-Status", 400: "Bad Request", 401: "Unauthorized",
                403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 429: "Too Many Requests",
                500: "Internal Server Error"}


def _now(later: float = 0.0) -> str:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=later)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _Response(Exception):
    """Raised (or returned) to answer a request."""

    def __init__(self, status: int, body=None, headers: dict | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class CrmSandbox:
    def __init__(self, *, slow_seconds: float = 2.0, webhook_secret: str = WEBHOOK_SECRET,
                 import_seconds: float = 0.1):
        self.slow_seconds = slow_seconds
        self.import_seconds = import_seconds  # how long a Brevo import stays "in_process"
        self.webhook_secret = webhook_secret
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", threading.RLock()):
            self.brevo_contacts: dict[str, dict] = {}  # lower-case email -> contact
            self.hubspot_contacts: dict[str, dict] = {}  # lower-case email -> contact
            self.deliveries: dict[str, dict] = {}  # idempotency key -> delivery
            self.brevo_processes: dict[int, dict] = {}  # import process id -> process
            self._process_ids = itertools.count(1)
            self.request_log: list[dict] = []
            self._seen: set[tuple] = set()  # (hook, request fingerprint) already failed once
            self._brevo_ids = itertools.count(1)
            self._hubspot_ids = itertools.count(101)
            self._delivery_ids = itertools.count(1)

    # --- WSGI ------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = (environ.get("PATH_INFO", "") or "/").encode("latin-1").decode("utf-8", "replace")
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        body = b""
        if method in ("POST", "PUT", "PATCH"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        try:
            result = self._route(method, path, query, headers, body)
        except _Response as answer:
            result = answer
        except Exception as exc:  # noqa: BLE001 - the sandbox answers, never crashes the server
            result = _Response(500, {"message": f"sandbox error: {type(exc).__name__}"})
        try:
            logged_body = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            logged_body = body.decode("utf-8", "replace")
        with self._lock:
            self.request_log.append({"method": method, "path": path, "status": result.status,
                                     "credential": _credential_label(headers), "body": logged_body,
                                     "raw_body": body.decode("utf-8", "replace")})
        payload = b"" if result.body is None else json.dumps(result.body).encode("utf-8")
        response_headers = [(k, str(v)) for k, v in result.headers.items()]
        if result.body is not None:
            response_headers.append(("Content-Type", "application/json; charset=utf-8"))
        response_headers.append(("Content-Length", str(len(payload))))
        start_response(f"{result.status} {_STATUS_TEXT.get(result.status, 'Status')}", response_headers)
        return [payload]

    def _route(self, method, path, query, headers, body) -> _Response:
        if path == "/_sandbox/state" and method == "GET":
            return _Response(200, self.state())
        if path == "/_sandbox/reset" and method == "POST":
            self.reset()
            return _Response(200, {"reset": True})
        if path == "/brevo/v3/contacts":
            if method == "GET":
                return self._brevo_list(headers, query)
            _allow(method, "POST")
            return self._brevo_upsert(headers, body)
        if path == "/brevo/v3/contacts/import":
            _allow(method, "POST")
            return self._brevo_import(headers, body)
        if path.startswith("/brevo/v3/processes/"):
            _allow(method, "GET")
            return self._brevo_process(headers, path[len("/brevo/v3/processes/"):])
        if path.startswith("/brevo/v3/contacts/"):
            _allow(method, "GET")
            return self._brevo_get(headers, path[len("/brevo/v3/contacts/"):], query)
        if path == "/hubspot/crm/v3/objects/contacts/batch/upsert":
            _allow(method, "POST")
            return self._hubspot_upsert(headers, body)
        if path.startswith("/hubspot/crm/v3/objects/contacts/"):
            _allow(method, "GET")
            return self._hubspot_get(headers, path[len("/hubspot/crm/v3/objects/contacts/"):], query)
        if path.startswith("/webhook/") and len(path) > len("/webhook/"):
            _allow(method, "POST")
            return self._webhook(path[len("/webhook/"):], headers, body)
        return _Response(404, {"message": f"no such sandbox endpoint: {method} {path}"})

    def state(self) -> dict:
        with self._lock:
            self._brevo_settle()
            return copy.deepcopy({
                "brevo": {"contacts": list(self.brevo_contacts.values())},
                "hubspot": {"contacts": list(self.hubspot_contacts.values())},
                "webhooks": {"deliveries": list(self.deliveries.values())},
                "requests": self.request_log,
            })

    # --- hooks -----------------------------------------------------------------------
    def _first_time(self, hook: str, fingerprint: tuple) -> bool:
        with self._lock:
            if (hook, fingerprint) in self._seen:
                return False
            self._seen.add((hook, fingerprint))
            return True

    def _before(self, hook: str | None, fingerprint: tuple, *, rate_limited: _Response) -> None:
        """Hooks that answer before anything is stored."""
        if hook == "ratelimited":
            raise rate_limited
        if hook == "ratelimited-once" and self._first_time(hook, fingerprint):
            raise rate_limited

    def _after(self, hook: str | None, fingerprint: tuple, *, error: _Response) -> None:
        """Hooks that fire after the change is stored (the client does not learn it succeeded)."""
        if hook == "500-once" and self._first_time(hook, fingerprint):
            raise error
        if hook == "slow-once" and self._first_time(hook, fingerprint):
            time.sleep(self.slow_seconds)

    # --- Brevo -----------------------------------------------------------------------
    def _brevo_auth(self, headers) -> str | None:
        key = headers.get("api-key", "")
        hook = _hook_of(key, BREVO_KEY)
        if hook is False:
            raise _Response(401, {"code": "unauthorized", "message": "Key not found"})
        return hook

    @staticmethod
    def _brevo_429() -> _Response:
        return _Response(429, {"code": "too_many_requests", "message": "The expected rate limit is exceeded."},
                         {"x-sib-ratelimit-limit": "10", "x-sib-ratelimit-remaining": "0",
                          "x-sib-ratelimit-reset": "1"})

    def _brevo_upsert(self, headers, body) -> _Response:
        hook = self._brevo_auth(headers)
        fingerprint = ("POST", "brevo", headers.get("api-key"), hashlib.sha256(body).hexdigest())
        self._before(hook, fingerprint, rate_limited=self._brevo_429())
        data = _json_object(body, lambda m: _Response(400, {"code": "bad_request", "message": m}))
        email = str(data.get("email") or "").strip()
        if not email:
            raise _Response(400, {"code": "missing_parameter", "message": "email is missing"})
        if not _EMAIL.match(email):
            raise _Response(400, {"code": "invalid_parameter", "message": "Invalid email address"})
        attributes = data.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise _Response(400, {"code": "invalid_parameter", "message": "attributes should be an object"})
        list_ids = data.get("listIds") or []
        if not isinstance(list_ids, list) or not all(isinstance(i, int) and i > 0 for i in list_ids):
            raise _Response(400, {"code": "invalid_parameter", "message": "listIds should be an array of integers"})
        kept = {k: v for k, v in attributes.items() if k in BREVO_ATTRIBUTES}
        sms = kept.get("SMS")
        if sms is not None and not _E164.match(str(sms)):
            raise _Response(400, {"code": "invalid_parameter", "message": "Invalid phone number"})
        key = email.lower()
        with self._lock:
            self._brevo_settle()
            existing = self.brevo_contacts.get(key)
            if sms is not None and any(c["attributes"].get("SMS") == sms for k, c in self.brevo_contacts.items()
                                       if k != key):
                raise _Response(400, {"code": "duplicate_parameter",
                                      "message": "Unable to create contact, SMS is already associated with "
                                                 "another Contact"})
            if existing is not None:
                if not data.get("updateEnabled"):
                    raise _Response(400, {"code": "duplicate_parameter",
                                          "message": "Unable to create contact, email is already associated "
                                                     "with another Contact"})
                existing["attributes"].update(kept)
                existing["listIds"] = sorted(set(existing["listIds"]) | set(list_ids))
                existing["modifiedAt"] = _now()
                answer = _Response(204)
            else:
                contact_id = next(self._brevo_ids)
                self.brevo_contacts[key] = {
                    "id": contact_id, "email": key, "emailBlacklisted": False, "smsBlacklisted": False,
                    "createdAt": _now(), "modifiedAt": _now(), "attributes": dict(kept),
                    "listIds": sorted(set(list_ids)), "statistics": {},
                }
                answer = _Response(201, {"id": contact_id})
        self._after(hook, fingerprint, error=_Response(500, {"code": "internal_error",
                                                            "message": "Internal server error"}))
        return answer

    def _brevo_get(self, headers, identifier, query) -> _Response:
        hook = self._brevo_auth(headers)
        self._before(hook, ("GET", "brevo", headers.get("api-key"), identifier), rate_limited=self._brevo_429())
        kind = query.get("identifierType", "")
        with self._lock:
            self._brevo_settle()
            if kind == "contact_id" or (not kind and identifier.isdigit()):
                found = next((c for c in self.brevo_contacts.values() if str(c["id"]) == identifier), None)
            else:
                found = self.brevo_contacts.get(identifier.strip().lower())
            if found is None:
                raise _Response(404, {"code": "document_not_found", "message": "Contact does not exist"})
            return _Response(200, copy.deepcopy(found))

    def _brevo_store(self, email: str, kept: dict, list_ids: list, *, update: bool, when: str | None = None) -> str:
        """Create or update one contact (caller holds the lock): "created", "updated" or "skipped"."""
        now = when or _now()
        existing = self.brevo_contacts.get(email)
        if existing is not None:
            if not update:
                return "skipped"
            existing["attributes"].update(kept)
            existing["listIds"] = sorted(set(existing["listIds"]) | set(list_ids))
            existing["modifiedAt"] = now
            return "updated"
        self.brevo_contacts[email] = {
            "id": next(self._brevo_ids), "email": email, "emailBlacklisted": False, "smsBlacklisted": False,
            "createdAt": now, "modifiedAt": now, "attributes": dict(kept),
            "listIds": sorted(set(list_ids)), "statistics": {},
        }
        return "created"

    def _brevo_import(self, headers, body) -> _Response:
        """POST /v3/contacts/import with jsonBody: 202 {"processId"}. The rows are applied `import_seconds` later
        (Brevo imports asynchronously); rows Brevo cannot take are skipped silently."""
        hook = self._brevo_auth(headers)
        fingerprint = ("POST", "brevo-import", headers.get("api-key"), hashlib.sha256(body).hexdigest())
        self._before(hook, fingerprint, rate_limited=self._brevo_429())
        data = _json_object(body, lambda m: _Response(400, {"code": "bad_request", "message": m}))
        rows = data.get("jsonBody")
        if not isinstance(rows, list) or not rows:
            raise _Response(400, {"code": "missing_parameter", "message": "jsonBody, fileBody or fileUrl is required"})
        list_ids = data.get("listIds") or []
        if not isinstance(list_ids, list) or not list_ids or not all(isinstance(i, int) and i > 0 for i in list_ids):
            raise _Response(400, {"code": "missing_parameter", "message": "listIds is mandatory if newList is not defined"})
        with self._lock:
            process_id = next(self._process_ids)
            self.brevo_processes[process_id] = {
                "id": process_id, "status": "in_process", "name": "IMPORTUSERS", "reads": 0,
                "counts": {"created": 0, "updated": 0, "skipped": 0, "invalid": 0},
                "rows": rows, "list_ids": list_ids, "update": bool(data.get("updateExistingContacts", True)),
                "done_at": time.monotonic() + self.import_seconds,
                "done_at_text": _now(self.import_seconds),
            }
        self._after(hook, fingerprint, error=_Response(500, {"code": "internal_error",
                                                            "message": "Internal server error"}))
        return _Response(202, {"processId": process_id})

    def _brevo_settle(self) -> None:
        """Apply the imports whose time has come (caller holds the lock), in the order they were received."""
        now = time.monotonic()
        for process in self.brevo_processes.values():
            if process["status"] != "in_process" or now < process["done_at"]:
                continue
            counts, when = process["counts"], process["done_at_text"]
            sms_owner = {c["attributes"].get("SMS"): k for k, c in self.brevo_contacts.items()
                         if c["attributes"].get("SMS")}
            for row in process.pop("rows"):
                email = str(row.get("email") or "").strip().lower() if isinstance(row, dict) else ""
                attributes = row.get("attributes") if isinstance(row, dict) else None
                kept = {k: v for k, v in (attributes or {}).items() if k in BREVO_ATTRIBUTES} \
                    if isinstance(attributes, dict) else {}
                sms = kept.get("SMS")
                if not _EMAIL.match(email) or (sms is not None and not _E164.match(str(sms))) or (
                        sms is not None and sms_owner.get(sms, email) != email):
                    counts["invalid"] += 1
                    continue
                counts[self._brevo_store(email, kept, process["list_ids"], update=process["update"], when=when)] += 1
                if sms is not None:
                    sms_owner[sms] = email
            process["status"] = "completed"

    def _brevo_process(self, headers, identifier) -> _Response:
        self._brevo_auth(headers)
        with self._lock:
            self._brevo_settle()
            process = self.brevo_processes.get(int(identifier)) if identifier.isdigit() else None
            if process is None:
                raise _Response(404, {"code": "document_not_found", "message": "Process does not exist"})
            process["reads"] += 1
            return _Response(200, {k: process[k] for k in ("id", "status", "name")})

    def _brevo_list(self, headers, query) -> _Response:
        """GET /v3/contacts: modifiedSince, listIds, limit (≤ 1000), offset, sort (by modification, desc)."""
        hook = self._brevo_auth(headers)
        self._before(hook, ("GET", "brevo-list", headers.get("api-key"), json.dumps(query, sort_keys=True)),
                     rate_limited=self._brevo_429())
        try:
            limit = int(query.get("limit", 50))
            offset = int(query.get("offset", 0))
        except ValueError:
            raise _Response(400, {"code": "invalid_parameter", "message": "limit and offset must be integers"}) from None
        if not 0 < limit <= 1000:
            raise _Response(400, {"code": "out_of_range", "message": "limit must be between 1 and 1000"})
        since = query.get("modifiedSince", "")
        list_id = int(query["listIds"]) if str(query.get("listIds", "")).isdigit() else None
        with self._lock:
            self._brevo_settle()
            found = [c for c in self.brevo_contacts.values()
                     if (not since or c["modifiedAt"] >= since) and (list_id is None or list_id in c["listIds"])]
            found.sort(key=lambda c: c["modifiedAt"], reverse=query.get("sort", "desc") != "asc")
            page = copy.deepcopy(found[offset:offset + limit])
        return _Response(200, {"contacts": page, "count": len(found)})

    # --- HubSpot ---------------------------------------------------------------------
    def _hubspot_auth(self, headers) -> str | None:
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        hook = _hook_of(token, HUBSPOT_TOKEN)
        if hook is False:
            raise _Response(401, {"status": "error", "category": "INVALID_AUTHENTICATION",
                                  "correlationId": "00000000-0000-4000-8000-000000000401",
                                  "message": "Authentication credentials not found. This API supports OAuth 2.0 "
                                             "authentication and you can find more details at "
                                             "https://developers.hubspot.com/docs/methods/auth/oauth-overview"})
        if hook == "forbidden":
            raise _Response(403, {"status": "error", "category": "MISSING_SCOPES",
                                  "correlationId": "00000000-0000-4000-8000-000000000403",
                                  "message": "This app hasn't been granted all required scopes to make this call.",
                                  "errors": [{"message": "One or more of the following scopes are required.",
                                              "context": {"requiredGranularScopes": ["crm.objects.contacts.write"]}}]})
        if hook == "daily":
            raise _Response(429, {"status": "error", "message": "You have reached your daily limit.",
                                  "errorType": "RATE_LIMIT", "policyName": "DAILY",
                                  "correlationId": "00000000-0000-4000-8000-000000000429"})
        return hook

    @staticmethod
    def _hubspot_429() -> _Response:
        return _Response(429, {"status": "error", "message": "You have reached your secondly limit.",
                               "errorType": "RATE_LIMIT", "policyName": "SECONDLY",
                               "correlationId": "00000000-0000-4000-8000-000000000429"},
                         {"Retry-After": "1", "X-HubSpot-RateLimit-Secondly": "10",
                          "X-HubSpot-RateLimit-Secondly-Remaining": "0"})

    @staticmethod
    def _hubspot_invalid(errors: list[dict]) -> _Response:
        return _Response(400, {"status": "error", "category": "VALIDATION_ERROR",
                               "correlationId": "00000000-0000-4000-8000-000000000400",
                               "message": f"Property values were not valid: {json.dumps(errors)}"})

    def _hubspot_upsert(self, headers, body) -> _Response:
        hook = self._hubspot_auth(headers)
        fingerprint = ("POST", "hubspot", headers.get("authorization"), hashlib.sha256(body).hexdigest())
        self._before(hook, fingerprint, rate_limited=self._hubspot_429())
        data = _json_object(body, lambda m: _Response(400, {"status": "error", "category": "VALIDATION_ERROR",
                                                            "message": m}))
        inputs = data.get("inputs")
        if not isinstance(inputs, list) or not inputs or len(inputs) > 100:
            raise _Response(400, {"status": "error", "category": "VALIDATION_ERROR",
                                  "message": "inputs must be a list of 1 to 100 objects"})
        checked = []
        for item in inputs:
            if not isinstance(item, dict) or item.get("idProperty") != "email":
                raise _Response(400, {"status": "error", "category": "VALIDATION_ERROR",
                                      "message": "this sandbox upserts contacts by idProperty \"email\" only"})
            email = str(item.get("id") or "").strip().lower()
            properties = item.get("properties") or {}
            errors = [{"isValid": False, "message": f"Property \"{name}\" does not exist",
                       "error": "PROPERTY_DOESNT_EXIST", "name": name}
                      for name in properties if name not in HUBSPOT_PROPERTIES]
            if not _EMAIL.match(email):
                errors.append({"isValid": False, "message": f"Email address {email} is invalid",
                               "error": "INVALID_EMAIL", "name": "email"})
            if errors:
                raise self._hubspot_invalid(errors)
            checked.append((email, {k: str(v) for k, v in properties.items()}, item.get("objectWriteTraceId")))
        if len({email for email, _, _ in checked}) < len(checked):
            raise _Response(400, {"status": "error", "category": "VALIDATION_ERROR",
                                  "message": "Duplicate IDs found in batch input"})
        started = _now()
        results, errors = [], []
        with self._lock:
            for email, properties, trace in checked:
                if email.endswith("@" + HUBSPOT_REJECTED_DOMAIN):
                    errors.append({"status": "error", "category": "VALIDATION_ERROR",
                                   "message": f"Contact {email} was rejected by a portal rule",
                                   "context": {"objectWriteTraceId": [str(trace)] if trace is not None else [],
                                               "ids": [email]}})
                    continue
                now = _now()
                existing = self.hubspot_contacts.get(email)
                if existing is None:
                    contact_id = str(next(self._hubspot_ids))
                    existing = {"id": contact_id, "properties": {"hs_object_id": contact_id, "createdate": now},
                                "createdAt": now, "updatedAt": now, "archived": False}
                    self.hubspot_contacts[email] = existing
                    new = True
                else:
                    new = False
                existing["properties"].update(properties)
                existing["properties"]["email"] = email
                existing["properties"]["lastmodifieddate"] = now
                existing["updatedAt"] = now
                record = {**copy.deepcopy(existing), "new": new}
                if trace is not None:
                    record["objectWriteTraceId"] = str(trace)
                results.append(record)
        self._after(hook, fingerprint, error=_Response(500, {
            "status": "error", "category": "INTERNAL_ERROR", "message": "internal error",
            "correlationId": "00000000-0000-4000-8000-000000000500"}))
        answer = {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": _now()}
        if errors:
            return _Response(207, {**answer, "numErrors": len(errors), "errors": errors})
        return _Response(200, answer)

    def _hubspot_get(self, headers, identifier, query) -> _Response:
        self._hubspot_auth(headers)
        with self._lock:
            if query.get("idProperty") == "email":
                found = self.hubspot_contacts.get(identifier.strip().lower())
            else:
                found = next((c for c in self.hubspot_contacts.values() if c["id"] == identifier), None)
            if found is None:
                raise _Response(404, {"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Object not found"})
            return _Response(200, copy.deepcopy(found))

    # --- webhook receiver ------------------------------------------------------------
    def _webhook(self, name, headers, body) -> _Response:
        signature = headers.get("x-scrapersky-signature", "")
        expected = "sha256=" + hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        if not signature or not hmac.compare_digest(expected.encode(), signature.strip().lower().encode("ascii",
                                                                                                      "replace")):
            raise _Response(401, {"message": "invalid or missing X-ScraperSky-Signature"})
        if name == "ratelimited":
            raise _Response(429, {"message": "too many requests"}, {"Retry-After": "1"})
        key = headers.get("idempotency-key", "").strip()
        if not key:
            raise _Response(400, {"message": "Idempotency-Key header is required"})
        document = _json_object(body, lambda m: _Response(400, {"message": m}))
        if "contacts" in document:
            return self._webhook_batch(name, key, headers, signature, document)
        with self._lock:
            existing = self.deliveries.get(key)
            if existing is not None:
                existing["redeliveries"] += 1
                answer = _Response(200, {"id": existing["id"], "duplicate": True})
            else:
                delivery_id = f"dlv_{next(self._delivery_ids)}"
                self.deliveries[key] = {
                    "id": delivery_id, "receiver": name, "idempotency_key": key, "received_at": _now(),
                    "timestamp": headers.get("x-scrapersky-timestamp"), "signature": signature,
                    "event": document.get("event"), "document": document, "redeliveries": 0,
                }
                answer = _Response(201, {"id": delivery_id, "duplicate": False})
        hook = {"flaky": "500-once", "slow-once": "slow-once"}.get(name)
        self._after(hook, ("webhook", name, key), error=_Response(500, {"message": "receiver crashed"}))
        return answer


    def _webhook_batch(self, name, batch_key, headers, signature, document) -> _Response:
        """An array document: each item's "id" is its idempotency key (a redelivered item is not stored twice)."""
        items = document.get("contacts")
        if not isinstance(items, list) or not items:
            raise _Response(400, {"message": "contacts must be a non-empty array"})
        for item in items:
            if not isinstance(item, dict) or not str(item.get("id") or "").strip() or not isinstance(
                    item.get("contact"), dict):
                raise _Response(400, {"message": "every item needs an \"id\" (idempotency key) and a \"contact\""})
        results, new = [], 0
        with self._lock:
            for item in items:
                key = str(item["id"]).strip()
                existing = self.deliveries.get(key)
                if existing is not None:
                    existing["redeliveries"] += 1
                    results.append({"key": key, "id": existing["id"], "duplicate": True})
                    continue
                delivery_id = f"dlv_{next(self._delivery_ids)}"
                self.deliveries[key] = {
                    "id": delivery_id, "receiver": name, "idempotency_key": key, "received_at": _now(),
                    "timestamp": headers.get("x-scrapersky-timestamp"), "signature": signature,
                    "event": document.get("event"), "batch": batch_key,
                    "document": {"event": document.get("event"), "id": key, "sent_at": document.get("sent_at"),
                                 "contact": item["contact"]},
                    "redeliveries": 0,
                }
                new += 1
                results.append({"key": key, "id": delivery_id, "duplicate": False})
        hook = {"flaky": "500-once", "slow-once": "slow-once"}.get(name)
        self._after(hook, ("webhook", name, batch_key), error=_Response(500, {"message": "receiver crashed"}))
        return _Response(201 if new else 200, {"results": results})


def _allow(method: str, allowed: str) -> None:
    if method != allowed:
        raise _Response(405, {"message": f"method {method} not allowed"}, {"Allow": allowed})


def _hook_of(credential: str, valid: str):
    """None for the valid credential, the hook name for a test credential, False when unknown."""
    if credential == valid:
        return None
    prefix = valid + "-"
    if credential.startswith(prefix) and credential[len(prefix):] in _HOOKS:
        return credential[len(prefix):]
    return False


def _credential_label(headers: dict) -> str | None:
    value = headers.get("api-key") or headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not value:
        return None
    return value if value.startswith("sandbox-") else "<other>"


def _json_object(body: bytes, error) -> dict:
    try:
        data = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError):
        raise error("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise error("the body must be a JSON object")
    return data


def make_app(*, slow_seconds: float = 2.0, import_seconds: float = 0.1) -> CrmSandbox:
    """The CRM + webhook sandbox WSGI app (fresh, empty state)."""
    return CrmSandbox(slow_seconds=slow_seconds, import_seconds=import_seconds)


def main() -> None:  # pragma: no cover
    from scrapersky.sandbox.server import serve_in_thread

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8103
    running = serve_in_thread(make_app(), port=port)
    print(f"CRM sandbox on {running.base_url} (Brevo /brevo, HubSpot /hubspot, webhooks /webhook/<name>)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        running.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
