"""The declarations of WF8 (README "Adding a workflow"): validation and one sync workflow per destination.

Each destination is its own workflow with its own statuses on `contacts.Contact`,
so a contact can be synced to several destinations and a failure in one is
retried in that one only (original defect B-4). A sync whose key or URL is not
configured refuses to queue (`readiness`).
"""
from curation.registry import register
from curation.workflow import Workflow

contact_validation = register(Workflow(
    name="contact_validation",
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
    model="contacts.Contact",
    hook="contacts.services.contact_brevo_sync",
    label="Brevo sync",
    batch_size=25,
    concurrency=4,
    lease_seconds=300,
    max_attempts=5,
    backoff_base_seconds=60,
    time_budget_seconds=45,
    readiness="contacts.crm.brevo_readiness",
    description="Idempotent upsert by email into Brevo (POST /v3/contacts, updateEnabled); stores the Brevo id.",
))

hubspot_sync = register(Workflow(
    name="hubspot_sync",
    model="contacts.Contact",
    hook="contacts.services.contact_hubspot_sync",
    label="HubSpot sync",
    batch_size=25,
    concurrency=4,
    lease_seconds=300,
    max_attempts=5,
    backoff_base_seconds=60,
    time_budget_seconds=45,
    readiness="contacts.crm.hubspot_readiness",
    description="Idempotent upsert by email into HubSpot (CRM v3 batch upsert on email); stores the HubSpot id.",
))

webhook_sync = register(Workflow(
    name="webhook_sync",
    model="contacts.Contact",
    hook="contacts.services.contact_webhook_sync",
    label="Webhook sync",
    batch_size=25,
    concurrency=4,
    lease_seconds=300,
    max_attempts=5,
    backoff_base_seconds=60,
    time_budget_seconds=45,
    readiness="contacts.crm.webhook_readiness",
    description="POST a signed JSON document (HMAC-SHA256) to WEBHOOK_SYNC_URL, e.g. an n8n webhook.",
))
