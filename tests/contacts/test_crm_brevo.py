"""BrevoClient against the Brevo stand-in, over real HTTP."""
from __future__ import annotations

import pytest

from contacts.crm import split_name
from contacts.crm.brevo import BrevoClient
from contacts.crm.common import ContactPayload
from curation.exceptions import ErrorClass, PermanentError, RetryableError
from scrapersky.sandbox.crm import BREVO_KEY


def _client(sandbox, key=BREVO_KEY, **kwargs) -> BrevoClient:
    options = {"timeout": 30.0, "max_retries": 2, **kwargs}
    return BrevoClient(base_url=sandbox.brevo_url, api_key=key, **options)


def _contact(**overrides) -> ContactPayload:
    fields = {"contact_id": "c-1", "kind": "email", "email": "Anna.Mueller@Example.com",
              "full_name": "Dr. Anna Müller", "job_title": "Inhaberin", "company_name": "Zahnarzt Müller",
              "phone_e164": "+493012345678", "domain": "example.com", "city": "Berlin", "country_code": "DE"}
    fields.update(overrides)
    return ContactPayload(**fields)


def test_create_returns_brevos_id_and_stores_the_attributes(crm_sandbox):
    with _client(crm_sandbox) as client:
        result = client.upsert_contact(_contact(), list_ids=[3, 7])
    assert result.created is True
    assert result.remote_id == "1"
    assert "created Brevo contact 1" in result.detail
    [stored] = crm_sandbox.state()["brevo"]["contacts"]
    assert stored["email"] == "anna.mueller@example.com"
    assert stored["attributes"] == {"FIRSTNAME": "Anna", "LASTNAME": "Müller", "SMS": "+493012345678",
                                    "JOB_TITLE": "Inhaberin", "COMPANY": "Zahnarzt Müller"}
    assert stored["listIds"] == [3, 7]


def test_second_upsert_updates_the_same_contact(crm_sandbox):
    with _client(crm_sandbox) as client:
        first = client.upsert_contact(_contact())
        second = client.upsert_contact(_contact(email="anna.mueller@example.com", job_title="Geschäftsführerin"))
    assert (first.created, second.created) == (True, False)
    assert second.remote_id == first.remote_id
    assert "updated Brevo contact" in second.detail
    contacts = crm_sandbox.state()["brevo"]["contacts"]
    assert len(contacts) == 1
    assert contacts[0]["attributes"]["JOB_TITLE"] == "Geschäftsführerin"


def test_sparse_contact_sends_exactly_the_real_fields(crm_sandbox):
    """B-17: no "Phone not found", no "Contact at {domain}", no nulls: missing fields are omitted."""
    sparse = ContactPayload(contact_id="c-2", kind="email", email="info@bakery.example", domain="bakery.example",
                            phone_e164=None, full_name="", job_title="   ", company_name=None)
    with _client(crm_sandbox) as client:
        assert client.build_request(sparse) == {"email": "info@bakery.example", "updateEnabled": True}
        client.upsert_contact(sparse)
    [stored] = crm_sandbox.state()["brevo"]["contacts"]
    assert stored["attributes"] == {}


def test_sparse_body_on_the_wire_has_no_placeholder_and_no_null(crm_sandbox):
    sparse = ContactPayload(contact_id="c-3", kind="email", email="info@bakery.example", domain="bakery.example",
                            city="", validation=None)
    with _client(crm_sandbox) as client:
        assert client.upsert_contact(sparse).remote_id == "1"
    [post] = [r for r in crm_sandbox.requests_to("/brevo/v3/contacts") if r["method"] == "POST"]
    assert post["body"] == {"email": "info@bakery.example", "updateEnabled": True}
    raw = post["raw_body"]
    assert "null" not in raw and "not found" not in raw.lower() and "Contact at" not in raw


def test_placeholder_phone_text_is_never_sent_as_sms(crm_sandbox):
    with _client(crm_sandbox) as client:
        body = client.build_request(_contact(phone_e164="Phone not found", full_name=None))
    assert "SMS" not in body["attributes"]
    assert body["attributes"] == {"JOB_TITLE": "Inhaberin", "COMPANY": "Zahnarzt Müller"}


def test_business_phone_is_not_used_as_the_unique_sms(crm_sandbox):
    payload = _contact(phone_e164=None, business_phone_e164="+493099999999")
    with _client(crm_sandbox) as client:
        assert "SMS" not in client.build_request(payload)["attributes"]


def test_500_after_storing_is_retried_without_a_duplicate(crm_sandbox, recording_sleep):
    with _client(crm_sandbox, key="sandbox-brevo-key-500-once", sleep=recording_sleep) as client:
        result = client.upsert_contact(_contact())
    assert len(crm_sandbox.state()["brevo"]["contacts"]) == 1
    assert result.remote_id == "1"
    assert result.created is False  # the lost first answer created it; the retry updated it
    assert len(recording_sleep.waits) == 1
    statuses = [r["status"] for r in crm_sandbox.requests_to("/brevo/v3/contacts")]
    assert statuses == [500, 204, 200]


def test_timeout_after_storing_is_retried_without_a_duplicate(crm_sandbox, recording_sleep):
    with _client(crm_sandbox, key="sandbox-brevo-key-slow-once", timeout=3, sleep=recording_sleep) as client:
        result = client.upsert_contact(_contact())
    assert result.remote_id == "1"
    assert len(crm_sandbox.state()["brevo"]["contacts"]) == 1


def test_rate_limit_is_honoured_then_succeeds(crm_sandbox, recording_sleep):
    with _client(crm_sandbox, key="sandbox-brevo-key-ratelimited-once", sleep=recording_sleep) as client:
        result = client.upsert_contact(_contact())
    assert result.created is True
    assert recording_sleep.waits == [1.0]  # x-sib-ratelimit-reset: 1


def test_persistent_rate_limit_surfaces_retry_after(crm_sandbox):
    with _client(crm_sandbox, key="sandbox-brevo-key-ratelimited", max_retries=0) as client:
        with pytest.raises(RetryableError) as info:
            client.upsert_contact(_contact())
    assert info.value.error_class == ErrorClass.RATE_LIMITED
    assert info.value.retry_after == 1.0
    assert crm_sandbox.state()["brevo"]["contacts"] == []


def test_long_retry_after_is_raised_not_slept(crm_sandbox, recording_sleep):
    with _client(crm_sandbox, key="sandbox-brevo-key-ratelimited", max_retry_after=0.5,
                 sleep=recording_sleep) as client:
        with pytest.raises(RetryableError) as info:
            client.upsert_contact(_contact())
    assert info.value.retry_after == 1.0
    assert recording_sleep.waits == []


def test_bad_key_is_a_permanent_config_error(crm_sandbox):
    with _client(crm_sandbox, key="xkeysib-wrong") as client:
        with pytest.raises(PermanentError) as info:
            client.upsert_contact(_contact())
    assert info.value.error_class == ErrorClass.CONFIG
    assert info.value.message == "Brevo: API key rejected (401 unauthorized)"
    assert len(crm_sandbox.requests_to("/brevo")) == 1  # not retried


def test_brevo_400_keeps_brevos_message(crm_sandbox):
    with _client(crm_sandbox) as client:
        with pytest.raises(PermanentError) as info:
            client.upsert_contact(_contact(email="not-an-email"))
    assert info.value.error_class == ErrorClass.HTTP_4XX
    assert "Invalid email address" in info.value.message
    assert "invalid_parameter" in info.value.message


def test_duplicate_sms_is_reported_with_brevos_message(crm_sandbox):
    with _client(crm_sandbox) as client:
        client.upsert_contact(_contact())
        with pytest.raises(PermanentError) as info:
            client.upsert_contact(_contact(email="other@example.com"))
    assert info.value.error_class == ErrorClass.HTTP_4XX
    assert "SMS is already associated" in info.value.message


def test_phone_only_contact_is_refused_before_any_request(crm_sandbox):
    phone_only = ContactPayload(contact_id="p-1", kind="phone", phone_e164="+493012345678")
    with _client(crm_sandbox) as client:
        with pytest.raises(PermanentError) as info:
            client.upsert_contact(phone_only)
    assert info.value.error_class == ErrorClass.PARSE
    assert info.value.message == "Brevo needs an email address; this contact is a phone number"
    assert crm_sandbox.requests_to("/brevo") == []


def test_network_error_is_retryable():
    client = BrevoClient(base_url="http://127.0.0.1:9", api_key="k", timeout=1, max_retries=1, sleep=lambda s: None)
    with pytest.raises(RetryableError) as info:
        client.upsert_contact(_contact())
    assert info.value.error_class == ErrorClass.NETWORK
    assert "gave up after 2 attempts" in info.value.message


def test_missing_key_is_a_config_error():
    with pytest.raises(PermanentError) as info:
        BrevoClient(base_url="https://api.brevo.com", api_key="", timeout=1, max_retries=0)
    assert info.value.error_class == ErrorClass.CONFIG
    assert "BREVO_API_KEY" in info.value.message


@pytest.mark.parametrize(("full", "expected"), [
    ("Dr. Anna Maria Müller", ("Anna Maria", "Müller")),
    ("Ludwig van Beethoven", ("Ludwig", "van Beethoven")),
    ("Müller, Anna", ("Anna", "Müller")),
    ("John Smith Jr.", ("John", "Smith")),
    ("Cher", ("Cher", None)),
    ("  ", (None, None)),
    (None, (None, None)),
    ("東京 太郎", ("東京", "太郎")),
])
def test_split_name(full, expected):
    assert split_name(full) == expected


def test_explicit_names_win_over_full_name():
    payload = _contact(first_name="Annie", last_name=None, full_name="Anna Müller")
    assert payload.names == ("Annie", None)


# --- batches: POST /v3/contacts/import, its rows polled through the listing -------------------------------
def _batch(n: int) -> list[ContactPayload]:
    return [ContactPayload(contact_id=f"c{i}", kind="email", email=f"person{i}@batch.example", full_name=f"Ana P{i}")
            for i in range(n)]


def test_an_import_costs_two_calls_and_no_process_read(crm_sandbox, recording_sleep):
    """The rows show up in the listing after the first wait: import + one listing; GET /v3/processes (Brevo's
    100-requests-per-hour budget) is never read."""
    with _client(crm_sandbox, sleep=recording_sleep) as client:
        results = client.import_contacts(_batch(3), list_ids=[2])
    stored = {c["email"]: str(c["id"]) for c in crm_sandbox.state()["brevo"]["contacts"]}
    assert {key: r.remote_id for key, r in results.items()} == {
        f"c{i}": stored[f"person{i}@batch.example"] for i in range(3)}, "each id on its own contact"
    paths = [r["path"] for r in crm_sandbox.requests_to("/brevo")]
    assert paths == ["/brevo/v3/contacts/import", "/brevo/v3/contacts"]
    assert recording_sleep.waits == [0.1]


def test_a_slow_import_is_polled_with_a_backoff_and_the_process_read_rarely(crm_sandbox, recording_sleep):
    crm_sandbox.app.import_seconds = 0.6
    with _client(crm_sandbox, sleep=recording_sleep) as client:
        results = client.import_contacts(_batch(2), list_ids=[2])
    assert all(r.remote_id for r in results.values())
    assert recording_sleep.waits[:3] == [0.1, 0.2, 0.4], "each wait twice the last"
    paths = [r["path"] for r in crm_sandbox.requests_to("/brevo")]
    listings = paths.count("/brevo/v3/contacts")
    reads = [p for p in paths if p.startswith("/brevo/v3/processes/")]
    assert listings >= 3
    assert len(reads) == sum(1 for n in range(1, listings) if n >= 2 and n & (n - 1) == 0), \
        "the process is read at the 2nd, 4th, 8th… listing only"


def test_a_row_the_import_skips_fails_alone_after_one_process_read(crm_sandbox, recording_sleep):
    payloads = _batch(3)
    payloads[1] = ContactPayload(contact_id="c1", kind="email", email="taken@batch.example", phone_e164="+4930555001")
    crm_sandbox.app.brevo_contacts["other@elsewhere.example"] = {
        "id": 999, "email": "other@elsewhere.example", "attributes": {"SMS": "+4930555001"}, "listIds": [],
        "createdAt": "2020-01-01T00:00:00.000Z", "modifiedAt": "2020-01-01T00:00:00.000Z"}
    with _client(crm_sandbox, sleep=recording_sleep) as client:
        results = client.import_contacts(payloads, list_ids=[2])
    assert isinstance(results["c1"], PermanentError) and "skipped taken@batch.example" in results["c1"].message
    assert results["c0"].remote_id and results["c2"].remote_id
    paths = [r["path"] for r in crm_sandbox.requests_to("/brevo")]
    assert len([p for p in paths if p.startswith("/brevo/v3/processes/")]) == 1
    assert paths[-1] == "/brevo/v3/contacts", "one last listing after the process said completed"


def test_an_import_that_never_finishes_is_retryable(crm_sandbox):
    crm_sandbox.app.import_seconds = 60
    with _client(crm_sandbox, import_timeout=0.5) as client:
        results = client.import_contacts(_batch(2), list_ids=[2])
    assert {type(r) for r in results.values()} == {RetryableError}
    assert results["c0"].error_class == ErrorClass.TIMEOUT and "importing again is safe" in results["c0"].message


def test_the_listing_starts_at_brevos_clock_from_the_date_header():
    import datetime as dt

    import httpx

    from contacts.crm.brevo import _modified_since

    ours = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    with_date = httpx.Response(202, headers={"Date": "Thu, 01 Jan 2026 11:59:30 GMT"})
    assert _modified_since(with_date, ours) == dt.datetime(2026, 1, 1, 11, 59, 28, tzinfo=dt.UTC), \
        "Brevo's clock less 2 s, whatever ours says"
    assert _modified_since(httpx.Response(202), ours) == ours - dt.timedelta(seconds=60)
