"""WebhookClient against the sandbox's receiver, over real HTTP; signature helpers."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest

from contacts.crm.common import ContactPayload
from contacts.crm.webhook import (
    WebhookClient,
    encode_document,
    sign,
    verify_enrichment_request,
    verify_signature,
)
from curation.exceptions import ErrorClass, PermanentError, RetryableError
from scrapersky.sandbox.crm import WEBHOOK_SECRET

FIXED = dt.datetime(2025, 1, 31, 12, 0, 0, tzinfo=dt.UTC)


def _client(sandbox, name="sync", secret=WEBHOOK_SECRET, **kwargs) -> WebhookClient:
    options = {"timeout": 30.0, "max_retries": 2, "clock": lambda: FIXED, **kwargs}
    return WebhookClient(url=sandbox.webhook_url(name), secret=secret, **options)


SPARSE = ContactPayload(contact_id="c-7", kind="phone", phone_e164="+81312345678", company_name="東京 Sushi",
                        email=None, full_name="", city=None, validation="valid")


def test_delivery_is_signed_and_recorded_with_the_exact_document(crm_sandbox):
    with _client(crm_sandbox) as client:
        result = client.send("contact.synced", SPARSE, idempotency_key="c-7:v1")
    assert result.remote_id == "dlv_1"
    assert result.created is True
    [delivery] = crm_sandbox.state()["webhooks"]["deliveries"]
    assert delivery["idempotency_key"] == "c-7:v1"
    assert delivery["timestamp"] == str(int(FIXED.timestamp()))
    assert delivery["document"] == {
        "event": "contact.synced", "id": "c-7:v1", "sent_at": "2025-01-31T12:00:00Z",
        "contact": {"contact_id": "c-7", "kind": "phone", "phone_e164": "+81312345678",
                    "company_name": "東京 Sushi", "validation": "valid"},
    }
    [post] = crm_sandbox.requests_to("/webhook/sync")
    raw = post["raw_body"].encode("utf-8")
    assert delivery["signature"] == "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert b"null" not in raw


def test_redelivery_with_the_same_key_is_recognised(crm_sandbox):
    with _client(crm_sandbox) as client:
        first = client.send("contact.synced", SPARSE, idempotency_key="c-7:v1")
        again = client.send("contact.synced", SPARSE, idempotency_key="c-7:v1")
        other = client.send("contact.synced", SPARSE, idempotency_key="c-7:v2")
    assert again.remote_id == first.remote_id
    assert again.created is False
    assert "already delivered" in again.detail
    assert other.remote_id == "dlv_2"
    deliveries = crm_sandbox.state()["webhooks"]["deliveries"]
    assert [d["idempotency_key"] for d in deliveries] == ["c-7:v1", "c-7:v2"]
    assert deliveries[0]["redeliveries"] == 1


def test_receiver_crash_after_recording_is_retried_without_a_duplicate(crm_sandbox, recording_sleep):
    with _client(crm_sandbox, name="flaky", sleep=recording_sleep) as client:
        result = client.send("contact.synced", SPARSE, idempotency_key="k-1")
    assert result.remote_id == "dlv_1"
    assert len(crm_sandbox.state()["webhooks"]["deliveries"]) == 1
    assert [r["status"] for r in crm_sandbox.requests_to("/webhook/flaky")] == [500, 200]
    bodies = {r["raw_body"] for r in crm_sandbox.requests_to("/webhook/flaky")}
    assert len(bodies) == 1  # the retry resent the very same signed bytes


def test_bad_secret_is_401_and_a_permanent_config_error(crm_sandbox):
    with _client(crm_sandbox, secret="not-the-secret") as client:
        with pytest.raises(PermanentError) as info:
            client.send("contact.synced", SPARSE, idempotency_key="k-2")
    assert info.value.error_class == ErrorClass.CONFIG
    assert "HTTP 401" in info.value.message
    assert crm_sandbox.state()["webhooks"]["deliveries"] == []
    assert [r["status"] for r in crm_sandbox.requests_to("/webhook")] == [401]


def test_rate_limited_receiver_surfaces_retry_after(crm_sandbox):
    with _client(crm_sandbox, name="ratelimited", max_retries=0) as client:
        with pytest.raises(RetryableError) as info:
            client.send("contact.synced", SPARSE, idempotency_key="k-3")
    assert info.value.error_class == ErrorClass.RATE_LIMITED
    assert info.value.retry_after == 1.0


def test_unknown_endpoint_is_a_config_error(crm_sandbox):
    client = WebhookClient(url=f"{crm_sandbox.base_url}/nothing-here", secret="s", timeout=30, max_retries=0)
    with pytest.raises(PermanentError) as info:
        client.send("contact.synced", SPARSE, idempotency_key="k-4")
    assert info.value.error_class == ErrorClass.CONFIG
    assert "HTTP 404" in info.value.message


def test_unconfigured_client_refuses_to_send_unsigned():
    with pytest.raises(PermanentError) as info:
        WebhookClient(url="https://hooks.example/x", secret="", timeout=1, max_retries=0)
    assert info.value.error_class == ErrorClass.CONFIG
    assert "WEBHOOK_SYNC_SECRET" in info.value.message


def test_verify_signature():
    body = encode_document("contact.synced", SPARSE, idempotency_key="k", sent_at=FIXED)
    assert json.loads(body)["contact"]["company_name"] == "東京 Sushi"
    good = sign(body, "s3cret")
    assert good.startswith("sha256=") and len(good) == 7 + 64
    assert verify_signature(body, good, "s3cret") is True
    assert verify_signature(body, good.upper().replace("SHA256=", "sha256="), "s3cret") is True
    assert verify_signature(body + b" ", good, "s3cret") is False
    assert verify_signature(body, good, "other") is False
    assert verify_signature(body, None, "s3cret") is False
    assert verify_signature(body, good, "") is False
    assert verify_signature(body, "sha256=zz", "s3cret") is False


def test_verify_enrichment_request():
    body = b'{"contact_id": "c-1", "enrichment_id": "e-1", "status": "complete"}'
    secret = "enrich-secret"
    assert verify_enrichment_request(body, {"X-ScraperSky-Signature": sign(body, secret)}, secret) is True
    assert verify_enrichment_request(body, {"x-scrapersky-secret": secret}, secret) is True
    # Django's request.META spelling
    assert verify_enrichment_request(body, {"HTTP_X_SCRAPERSKY_SECRET": secret}, secret) is True
    assert verify_enrichment_request(body, {"X-ScraperSky-Secret": "guess"}, secret) is False
    assert verify_enrichment_request(body, {"X-ScraperSky-Signature": sign(body, "guess")}, secret) is False
    assert verify_enrichment_request(body, {}, secret) is False
    # an unconfigured secret refuses everything, even a request "signed" with the empty secret
    assert verify_enrichment_request(body, {"X-ScraperSky-Secret": ""}, "") is False
    assert verify_enrichment_request(body, {"X-ScraperSky-Signature": sign(body, "")}, "") is False
