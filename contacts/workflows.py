"""The declarations of WF8 (README "Adding a workflow"): validation and one sync workflow per destination.

Each destination is its own workflow with its own statuses on `contacts.Contact`,
so a contact can be synced to several destinations and a failure in one is
retried in that one only (original defect B-4). A sync whose key or URL is not
configured refuses to queue (`readiness`). The syncs are batch hooks: each call
to the vendor carries up to `hook_batch_size` contacts, each with its own outcome.
"""
from curation.registry import register
from curation.workflow import Workflow

contact_validation = register(Workflow(
    name="contact_validation",
    after="page_scrape",
    model="contacts.Contact",
    hook="contacts.services.contact_validate",
    label="Contact validation",
    batch_size=50,
    concurrency=8,  # DNS lookups: I/O-bound
    lease_seconds=300,
    max_attempts=3,
    backoff_base_seconds=30,
    time_budget_seconds=45,
    description="Email syntax, DNS MX/A deliverability, role/free/disposable flags; phone validity and type (offline).",
))

brevo_sync = register(Workflow(
    name="brevo_sync",
    after="contact_validation",
    model="contacts.Contact",
    hook="contacts.services.contact_brevo_sync",
    label="Brevo sync",
    batch_size=400,
    hook_batch_size=100,  # one Brevo import per 100 contacts
    concurrency=4,
    lease_seconds=300,
    max_attempts=5,
    backoff_base_seconds=60,
    time_budget_seconds=45,
    readiness="contacts.crm.brevo_readiness",
    description="Idempotent upsert by email into Brevo, 100 contacts per import (POST /v3/contacts/import); "
                "stores the Brevo id. Contacts without an email are skipped with the reason.",
))

hubspot_sync = register(Workflow(
    name="hubspot_sync",
    after="contact_validation",
    model="contacts.Contact",
    hook="contacts.services.contact_hubspot_sync",
    label="HubSpot sync",
    batch_size=400,
    hook_batch_size=100,  # HubSpot's batch limit
    concurrency=4,
    lease_seconds=300,
    max_attempts=5,
    backoff_base_seconds=60,
    time_budget_seconds=45,
    readiness="contacts.crm.hubspot_readiness",
    description="Idempotent upsert by email into HubSpot, 100 contacts per batch upsert; stores the HubSpot id. "
                "Contacts without an email are skipped with the reason.",
))

webhook_sync = register(Workflow(
    name="webhook_sync",
    after="contact_validation",
    model="contacts.Contact",
    hook="contacts.services.contact_webhook_sync",
    label="Webhook sync",
    batch_size=400,
    hook_batch_size=100,  # contacts per signed document
    concurrency=4,
    lease_seconds=300,
    max_attempts=5,
    backoff_base_seconds=60,
    time_budget_seconds=45,
    readiness="contacts.crm.webhook_readiness",
    description="POST signed JSON documents (HMAC-SHA256), 100 contacts each with their idempotency keys, to "
                "WEBHOOK_SYNC_URL, e.g. an n8n webhook.",
))
