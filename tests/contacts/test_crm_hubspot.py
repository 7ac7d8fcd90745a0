"""HubSpotClient against the HubSpot stand-in, over real HTTP."""
from __future__ import annotations

import pytest

from contacts.crm.common import ContactPayload
from contacts.crm.hubspot import UPSERT_PATH, HubSpotClient
from curation.exceptions import ErrorClass, PermanentError, RetryableError
from scrapersky.sandbox.crm import HUBSPOT_TOKEN

UPSERT = "/hubspot" + UPSERT_PATH


def _client(sandbox, token=HUBSPOT_TOKEN, **kwargs) -> HubSpotClient:
    options = {"timeout": 30.0, "max_retries": 2, **kwargs}
    return HubSpotClient(base_url=sandbox.hubspot_url, access_token=token, **options)


def _contact(**overrides) -> ContactPayload:
    fields = {"contact_id": "c-1", "kind": "email", "email": "Jose@Nandu.example", "first_name": "José",
              "last_name": "Ñandú", "job_title": "Owner", "company_name": "Ñandú Café",
              "website": "https://nandu.example", "city": "Madrid", "country_code": "ES",
              "phone_e164": "+34911234567"}
    fields.update(overrides)
    return ContactPayload(**fields)


def test_create_sends_the_batch_upsert_by_email(crm_sandbox):
    with _client(crm_sandbox) as client:
        result = client.upsert_contact(_contact())
    assert result.created is True
    assert result.remote_id == "101"
    [post] = crm_sandbox.requests_to(UPSERT)
    assert post["body"] == {"inputs": [{"id": "jose@nandu.example", "idProperty": "email", "properties": {
        "email": "jose@nandu.example", "firstname": "José", "lastname": "Ñandú", "phone": "+34911234567",
        "company": "Ñandú Café", "website": "https://nandu.example", "jobtitle": "Owner", "city": "Madrid",
        "country": "ES"}, "objectWriteTraceId": "c-1"}]}
    [stored] = crm_sandbox.state()["hubspot"]["contacts"]
    assert stored["id"] == "101"
    assert stored["properties"]["company"] == "Ñandú Café"


def test_second_upsert_updates_the_same_contact(crm_sandbox):
    with _client(crm_sandbox) as client:
        first = client.upsert_contact(_contact())
        second = client.upsert_contact(_contact(job_title="CEO"))
    assert (first.created, second.created) == (True, False)
    assert first.remote_id == second.remote_id
    contacts = crm_sandbox.state()["hubspot"]["contacts"]
    assert len(contacts) == 1
    assert contacts[0]["properties"]["jobtitle"] == "CEO"


def test_sparse_contact_body_has_only_real_values(crm_sandbox):
    sparse = ContactPayload(contact_id="c-9", kind="email", email="hello@shop.example", domain="shop.example",
                            phone_e164="Phone not found", full_name=None, company_name="")
    with _client(crm_sandbox) as client:
        client.upsert_contact(sparse)
    [post] = crm_sandbox.requests_to(UPSERT)
    assert post["body"] == {"inputs": [{"id": "hello@shop.example", "idProperty": "email",
                                        "properties": {"email": "hello@shop.example"},
                                        "objectWriteTraceId": "c-9"}]}
    assert "null" not in post["raw_body"]


def test_business_phone_is_the_fallback_phone(crm_sandbox):
    with _client(crm_sandbox) as client:
        properties = client.build_properties(_contact(phone_e164=None, business_phone_e164="+34910000000"))
    assert properties["phone"] == "+34910000000"


def test_500_after_storing_is_retried_without_a_duplicate(crm_sandbox, recording_sleep):
    with _client(crm_sandbox, token="sandbox-hubspot-token-500-once", sleep=recording_sleep) as client:
        result = client.upsert_contact(_contact())
    assert result.remote_id == "101"
    assert len(crm_sandbox.state()["hubspot"]["contacts"]) == 1
    assert [r["status"] for r in crm_sandbox.requests_to(UPSERT)] == [500, 200]


def test_timeout_after_storing_is_retried_without_a_duplicate(crm_sandbox, recording_sleep):
    with _client(crm_sandbox, token="sandbox-hubspot-token-slow-once", timeout=3, sleep=recording_sleep) as client:
        result = client.upsert_contact(_contact())
    assert result.remote_id == "101"
    assert len(crm_sandbox.state()["hubspot"]["contacts"]) == 1


def test_rate_limit_is_honoured_then_succeeds(crm_sandbox, recording_sleep):
    with _client(crm_sandbox, token="sandbox-hubspot-token-ratelimited-once", sleep=recording_sleep) as client:
        result = client.upsert_contact(_contact())
    assert result.created is True
    assert recording_sleep.waits == [1.0]


def test_persistent_rate_limit_gives_up_with_retry_after(crm_sandbox, recording_sleep):
    with _client(crm_sandbox, token="sandbox-hubspot-token-ratelimited", max_retries=1,
                 sleep=recording_sleep) as client:
        with pytest.raises(RetryableError) as info:
            client.upsert_contact(_contact())
    assert info.value.error_class == ErrorClass.RATE_LIMITED
    assert info.value.retry_after == 1.0
    assert "secondly limit" in info.value.message
    assert "gave up after 2 attempts" in info.value.message
    assert len(crm_sandbox.requests_to(UPSERT)) == 2


def test_daily_limit_is_quota_and_not_retried_here(crm_sandbox, recording_sleep):
    with _client(crm_sandbox, token="sandbox-hubspot-token-daily", sleep=recording_sleep) as client:
        with pytest.raises(RetryableError) as info:
            client.upsert_contact(_contact())
    assert info.value.error_class == ErrorClass.QUOTA
    assert recording_sleep.waits == []


@pytest.mark.parametrize(("token", "expected"), [
    ("pat-na1-wrong", "HubSpot: access token rejected (401 unauthorized)"),
    ("sandbox-hubspot-token-forbidden", "HubSpot: access denied (403 MISSING_SCOPES)"),
])
def test_bad_token_is_a_permanent_config_error(crm_sandbox, token, expected):
    with _client(crm_sandbox, token=token) as client:
        with pytest.raises(PermanentError) as info:
            client.upsert_contact(_contact())
    assert info.value.error_class == ErrorClass.CONFIG
    assert info.value.message.startswith(expected)
    assert len(crm_sandbox.requests_to(UPSERT)) == 1


def test_validation_error_keeps_hubspots_message(crm_sandbox):
    with _client(crm_sandbox) as client:
        with pytest.raises(PermanentError) as info:
            client.upsert_contact(_contact(email="broken@"))
    assert info.value.error_class == ErrorClass.HTTP_4XX
    assert "Property values were not valid" in info.value.message
    assert "VALIDATION_ERROR" in info.value.message


def test_phone_only_contact_is_refused(crm_sandbox):
    with _client(crm_sandbox) as client:
        with pytest.raises(PermanentError) as info:
            client.upsert_contact(ContactPayload(contact_id="p", kind="phone", phone_e164="+34911234567"))
    assert info.value.error_class == ErrorClass.PARSE
    assert crm_sandbox.requests_to("/hubspot") == []
