"""The CRM + webhook sandbox speaks Brevo's, HubSpot's and a signed webhook's wire format.

Raw httpx over real HTTP (no client of ours), except the last tests, which
drive the clients built from settings against the sandbox end to end.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.test import override_settings

import contacts.crm as crm_settings
from contacts.crm.common import ContactPayload
from scrapersky.sandbox import crm
from scrapersky.sandbox.registry import SERVERS
from scrapersky.sandbox.server import serve_in_thread

BREVO = {"api-key": crm.BREVO_KEY}
HUBSPOT = {"Authorization": f"Bearer {crm.HUBSPOT_TOKEN}"}
UPSERT = "/hubspot/crm/v3/objects/contacts/batch/upsert"


class _Switch:
    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def _server():
    switch = _Switch()
    running = serve_in_thread(switch, port=0)
    yield switch, running.base_url
    running.stop()


@pytest.fixture
def sandbox(_server):
    switch, base_url = _server
    switch.app = crm.make_app(slow_seconds=0.2)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        client.base = base_url
        yield client


def _signed(body: bytes, secret=crm.WEBHOOK_SECRET, key="k-1") -> dict:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-ScraperSky-Signature": signature, "Idempotency-Key": key, "Content-Type": "application/json"}


# --- Brevo --------------------------------------------------------------------------------
def test_brevo_create_then_update_then_get(sandbox):
    body = {"email": "A+B@Example.com", "attributes": {"FIRSTNAME": "Ana", "NOT_IN_ACCOUNT": "x"},
            "listIds": [2], "updateEnabled": True}
    created = sandbox.post("/brevo/v3/contacts", json=body, headers=BREVO)
    assert created.status_code == 201
    assert created.json() == {"id": 1}
    updated = sandbox.post("/brevo/v3/contacts", json={**body, "attributes": {"LASTNAME": "Lee"}, "listIds": [5]},
                           headers=BREVO)
    assert updated.status_code == 204
    assert updated.content == b""
    got = sandbox.get("/brevo/v3/contacts/a%2Bb%40example.com", params={"identifierType": "email_id"},
                      headers=BREVO)
    assert got.status_code == 200
    contact = got.json()
    assert contact["id"] == 1 and contact["email"] == "a+b@example.com"
    assert contact["attributes"] == {"FIRSTNAME": "Ana", "LASTNAME": "Lee"}  # unknown attribute skipped
    assert contact["listIds"] == [2, 5]
    assert sandbox.get("/brevo/v3/contacts/1", headers=BREVO).json()["email"] == "a+b@example.com"


def test_brevo_import_is_applied_asynchronously(sandbox):
    """As at Brevo: 202 with a process id; the rows appear (and the process completes) only later."""
    app = crm.CrmSandbox(import_seconds=0.3)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox") as client:
        answer = client.post("/brevo/v3/contacts/import", headers=BREVO, json={
            "jsonBody": [{"email": "a@x.example", "attributes": {"FIRSTNAME": "Ana"}}, {"email": "not an email"}],
            "listIds": [2], "updateExistingContacts": True})
        assert answer.status_code == 202
        process = answer.json()["processId"]
        assert client.get(f"/brevo/v3/processes/{process}", headers=BREVO).json()["status"] == "in_process"
        assert client.get("/brevo/v3/contacts", headers=BREVO, params={"listIds": 2}).json()["contacts"] == []
        app.brevo_processes[process]["done_at"] = 0  # its time has come
        [contact] = client.get("/brevo/v3/contacts", headers=BREVO, params={"listIds": 2}).json()["contacts"]
        assert (contact["email"], contact["attributes"]) == ("a@x.example", {"FIRSTNAME": "Ana"})
        assert contact["modifiedAt"] == app.brevo_processes[process]["done_at_text"]
        assert client.get(f"/brevo/v3/processes/{process}", headers=BREVO).json() == {
            "id": process, "status": "completed", "name": "IMPORTUSERS"}
        assert app.brevo_processes[process]["counts"] == {"created": 1, "updated": 0, "skipped": 0, "invalid": 1}


def test_brevo_errors(sandbox):
    missing = sandbox.get("/brevo/v3/contacts/nobody@example.com", headers=BREVO)
    assert missing.status_code == 404
    assert missing.json() == {"code": "document_not_found", "message": "Contact does not exist"}
    bad_key = sandbox.post("/brevo/v3/contacts", json={"email": "a@b.com"}, headers={"api-key": "nope"})
    assert bad_key.status_code == 401 and bad_key.json()["code"] == "unauthorized"
    assert sandbox.post("/brevo/v3/contacts", json={"email": "a@b.com"}).status_code == 401
    no_update = {"email": "a@b.com"}
    assert sandbox.post("/brevo/v3/contacts", json=no_update, headers=BREVO).status_code == 201
    duplicate = sandbox.post("/brevo/v3/contacts", json=no_update, headers=BREVO)
    assert duplicate.status_code == 400 and duplicate.json()["code"] == "duplicate_parameter"
    bad_sms = sandbox.post("/brevo/v3/contacts", json={"email": "c@d.com", "attributes": {"SMS": "Phone not found"}},
                           headers=BREVO)
    assert bad_sms.status_code == 400 and bad_sms.json()["message"] == "Invalid phone number"
    not_json = sandbox.post("/brevo/v3/contacts", content=b"{", headers=BREVO)
    assert not_json.status_code == 400


def test_brevo_rate_limit_headers(sandbox):
    response = sandbox.post("/brevo/v3/contacts", json={"email": "a@b.com"},
                            headers={"api-key": "sandbox-brevo-key-ratelimited"})
    assert response.status_code == 429
    assert response.headers["x-sib-ratelimit-reset"] == "1"
    assert response.headers["x-sib-ratelimit-remaining"] == "0"


def test_brevo_500_once_stores_before_failing(sandbox):
    headers = {"api-key": "sandbox-brevo-key-500-once"}
    body = {"email": "a@b.com", "updateEnabled": True}
    assert sandbox.post("/brevo/v3/contacts", json=body, headers=headers).status_code == 500
    assert len(sandbox.get("/_sandbox/state").json()["brevo"]["contacts"]) == 1
    assert sandbox.post("/brevo/v3/contacts", json=body, headers=headers).status_code == 204


def test_concurrent_creates_of_one_email_store_one_contact(sandbox):
    def post(_):
        return sandbox.post("/brevo/v3/contacts", json={"email": "same@example.com", "updateEnabled": True},
                            headers=BREVO).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(post, range(16)))
    assert statuses == [201] + [204] * 15
    assert len(sandbox.get("/_sandbox/state").json()["brevo"]["contacts"]) == 1


# --- HubSpot ------------------------------------------------------------------------------
def test_hubspot_batch_upsert(sandbox):
    body = {"inputs": [{"id": "x@y.com", "idProperty": "email", "properties": {"email": "x@y.com",
                                                                               "firstname": "X"}}]}
    first = sandbox.post(UPSERT, json=body, headers=HUBSPOT)
    assert first.status_code == 200
    data = first.json()
    assert data["status"] == "COMPLETE"
    [result] = data["results"]
    assert result["id"] == "101" and result["new"] is True
    assert result["properties"]["firstname"] == "X"
    second = sandbox.post(UPSERT, json=body, headers=HUBSPOT).json()["results"][0]
    assert (second["id"], second["new"]) == ("101", False)
    got = sandbox.get("/hubspot/crm/v3/objects/contacts/x@y.com", params={"idProperty": "email"}, headers=HUBSPOT)
    assert got.json()["id"] == "101"


def test_hubspot_errors(sandbox):
    good = {"inputs": [{"id": "x@y.com", "idProperty": "email", "properties": {"email": "x@y.com"}}]}
    unauthorized = sandbox.post(UPSERT, json=good, headers={"Authorization": "Bearer wrong"})
    assert unauthorized.status_code == 401
    assert unauthorized.json()["category"] == "INVALID_AUTHENTICATION"
    forbidden = sandbox.post(UPSERT, json=good, headers={"Authorization": "Bearer sandbox-hubspot-token-forbidden"})
    assert forbidden.status_code == 403 and forbidden.json()["category"] == "MISSING_SCOPES"
    limited = sandbox.post(UPSERT, json=good, headers={"Authorization": "Bearer sandbox-hubspot-token-ratelimited"})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert limited.json()["policyName"] == "SECONDLY"
    unknown_property = {"inputs": [{"id": "x@y.com", "idProperty": "email", "properties": {"shoe_size": "9"}}]}
    invalid = sandbox.post(UPSERT, json=unknown_property, headers=HUBSPOT)
    assert invalid.status_code == 400
    assert invalid.json()["category"] == "VALIDATION_ERROR"
    assert "PROPERTY_DOESNT_EXIST" in invalid.json()["message"]
    assert sandbox.get("/_sandbox/state").json()["hubspot"]["contacts"] == []


# --- webhook receiver ---------------------------------------------------------------------
def test_webhook_verifies_the_signature_and_dedupes(sandbox):
    body = json.dumps({"event": "contact.synced", "id": "k-1", "contact": {"contact_id": "c"}}).encode()
    first = sandbox.post("/webhook/sync", content=body, headers=_signed(body))
    assert first.status_code == 201
    assert first.json() == {"id": "dlv_1", "duplicate": False}
    again = sandbox.post("/webhook/sync", content=body, headers=_signed(body))
    assert again.status_code == 200 and again.json() == {"id": "dlv_1", "duplicate": True}
    forged = sandbox.post("/webhook/sync", content=body, headers=_signed(body, secret="wrong", key="k-2"))
    assert forged.status_code == 401
    tampered = sandbox.post("/webhook/sync", content=body + b" ", headers=_signed(body, key="k-3"))
    assert tampered.status_code == 401
    unsigned = sandbox.post("/webhook/sync", content=body, headers={"Idempotency-Key": "k-4"})
    assert unsigned.status_code == 401
    no_key = _signed(body)
    del no_key["Idempotency-Key"]
    assert sandbox.post("/webhook/sync", content=body, headers=no_key).status_code == 400
    state = sandbox.get("/_sandbox/state").json()
    [delivery] = state["webhooks"]["deliveries"]
    assert delivery["document"]["contact"] == {"contact_id": "c"}
    assert delivery["redeliveries"] == 1


# --- the sandbox itself ---------------------------------------------------------------------
def test_state_reset_unknown_paths_and_methods(sandbox):
    sandbox.post("/brevo/v3/contacts", json={"email": "a@b.com"}, headers=BREVO)
    state = sandbox.get("/_sandbox/state").json()
    assert set(state) == {"brevo", "hubspot", "webhooks", "requests"}
    assert state["requests"][0]["credential"] == crm.BREVO_KEY
    sandbox.post("/brevo/v3/contacts", json={"email": "c@d.com"}, headers={"api-key": "xkeysib-real-secret"})
    assert sandbox.get("/_sandbox/state").json()["requests"][-1]["credential"] == "<other>"  # never echoes real keys
    assert sandbox.post("/_sandbox/reset").json() == {"reset": True}
    assert sandbox.get("/_sandbox/state").json()["brevo"]["contacts"] == []
    assert sandbox.get("/nowhere").status_code == 404
    assert sandbox.get("/webhook/sync").status_code == 405


def test_registered_in_the_sandbox_registry():
    [server] = [s for s in SERVERS if s.factory == "scrapersky.sandbox.crm.make_app"]
    assert server.port_setting == "SANDBOX_CRM_PORT"
    assert server.port == 8103 or server.port > 0
    assert isinstance(server.make_app(), crm.CrmSandbox)


# --- settings → factories → sandbox, end to end -------------------------------------------
def _component(monkeypatch, **env) -> dict:
    """The settings scrapersky/components/*.py compute under `env` (run fresh, nothing cached)."""
    from tests.support import component_settings

    return component_settings(env)


def test_settings_default_to_the_sandbox_without_a_google_key(monkeypatch):
    values = _component(monkeypatch, SANDBOX_CRM_PORT="9103")
    assert values["BREVO_API_KEY"] == crm.BREVO_KEY
    assert values["BREVO_BASE_URL"] == "http://127.0.0.1:9103/brevo"
    assert values["HUBSPOT_ACCESS_TOKEN"] == crm.HUBSPOT_TOKEN
    assert values["HUBSPOT_BASE_URL"] == "http://127.0.0.1:9103/hubspot"
    assert values["WEBHOOK_SYNC_URL"] == "http://127.0.0.1:9103/webhook/sync"
    assert values["WEBHOOK_SYNC_SECRET"] == crm.WEBHOOK_SECRET
    assert values["ENRICHMENT_WEBHOOK_SECRET"] == ""  # never defaulted: callbacks stay refused
    # the sandbox's list 2 (Brevo's batch import needs a list)
    assert (values["CRM_TIMEOUT"], values["CRM_MAX_RETRIES"], values["BREVO_LIST_IDS"]) == (10.0, 3, [2])


def test_settings_with_a_google_key_are_the_real_services_and_empty(monkeypatch):
    values = _component(monkeypatch, GOOGLE_MAPS_API_KEY="AIza-real", BREVO_LIST_IDS="3, 7")
    assert values["BREVO_API_KEY"] == "" and values["BREVO_BASE_URL"] == "https://api.brevo.com"
    assert values["HUBSPOT_ACCESS_TOKEN"] == "" and values["HUBSPOT_BASE_URL"] == "https://api.hubapi.com"
    assert values["WEBHOOK_SYNC_URL"] == "" and values["WEBHOOK_SYNC_SECRET"] == ""
    assert values["BREVO_LIST_IDS"] == [3, 7]
    forced = _component(monkeypatch, GOOGLE_MAPS_API_KEY="AIza-real", SANDBOX="1")
    assert forced["BREVO_API_KEY"] == crm.BREVO_KEY


def test_a_configured_integration_is_never_pointed_at_the_sandbox(monkeypatch):
    values = _component(monkeypatch, BREVO_API_KEY="xkeysib-real", WEBHOOK_SYNC_URL="https://n8n.example/webhook/a")
    assert values["BREVO_API_KEY"] == "xkeysib-real"
    assert values["BREVO_BASE_URL"] == "https://api.brevo.com"
    assert values["WEBHOOK_SYNC_URL"] == "https://n8n.example/webhook/a"
    assert values["WEBHOOK_SYNC_SECRET"] == ""  # the sandbox secret is never sent to a real receiver


def test_factories_from_settings_sync_end_to_end(sandbox):
    base = sandbox.base
    payload = ContactPayload(contact_id="c-1", kind="email", email="owner@cafe.example", full_name="Ana Lee")
    with override_settings(BREVO_API_KEY=crm.BREVO_KEY, BREVO_BASE_URL=f"{base}/brevo",
                           HUBSPOT_ACCESS_TOKEN=crm.HUBSPOT_TOKEN, HUBSPOT_BASE_URL=f"{base}/hubspot",
                           WEBHOOK_SYNC_URL=f"{base}/webhook/sync", WEBHOOK_SYNC_SECRET=crm.WEBHOOK_SECRET,
                           CRM_TIMEOUT=5, CRM_MAX_RETRIES=1):
        assert crm_settings.brevo_readiness() is None
        assert crm_settings.hubspot_readiness() is None
        assert crm_settings.webhook_readiness() is None
        assert crm_settings.brevo_client().upsert_contact(payload).created is True
        assert crm_settings.hubspot_client().upsert_contact(payload).remote_id == "101"
        assert crm_settings.webhook_client().send("contact.synced", payload, idempotency_key="c-1:1").remote_id \
            == "dlv_1"
    state = sandbox.get("/_sandbox/state").json()
    assert state["brevo"]["contacts"][0]["attributes"] == {"FIRSTNAME": "Ana", "LASTNAME": "Lee"}
    assert state["hubspot"]["contacts"][0]["properties"]["lastname"] == "Lee"
    assert state["webhooks"]["deliveries"][0]["document"]["contact"]["full_name"] == "Ana Lee"


def test_readiness_says_what_is_missing():
    with override_settings(BREVO_API_KEY="", HUBSPOT_ACCESS_TOKEN="", WEBHOOK_SYNC_URL="", WEBHOOK_SYNC_SECRET="",
                           ENRICHMENT_WEBHOOK_SECRET=""):
        assert crm_settings.brevo_readiness() == "BREVO_API_KEY is not set"
        assert crm_settings.hubspot_readiness() == "HUBSPOT_ACCESS_TOKEN is not set"
        assert crm_settings.webhook_readiness() == "WEBHOOK_SYNC_URL and WEBHOOK_SYNC_SECRET are not set"
        assert "ENRICHMENT_WEBHOOK_SECRET" in crm_settings.enrichment_readiness()
    with override_settings(WEBHOOK_SYNC_URL="https://n8n.example/webhook/x", WEBHOOK_SYNC_SECRET=""):
        assert crm_settings.webhook_readiness().startswith("WEBHOOK_SYNC_SECRET is not set")
    with override_settings(WEBHOOK_SYNC_URL="ftp://x", WEBHOOK_SYNC_SECRET="s"):
        assert "must start with http" in crm_settings.webhook_readiness()
