"""The declarations of WF1–WF3 (README "Adding a workflow")."""
from curation.registry import register
from curation.workflow import Workflow

place_search = register(Workflow(
    name="place_search",
    model="places.PlaceSearch",
    hook="places.services.place_search_run",
    label="Place search",
    curation=False,  # queued when created (admin "New search", API POST, manage.py search_places)
    batch_size=5,
    concurrency=2,
    lease_seconds=300,
    max_attempts=3,
    backoff_base_seconds=30,
    time_budget_seconds=45,
    readiness="places.services.google_readiness",
    description="Google Places Text Search (all pages, up to 60 results) → Place rows, deduplicated on place_id.",
))

deep_scan = register(Workflow(
    name="deep_scan",
    model="places.Place",
    hook="places.services.place_deep_scan",
    label="Deep scan",
    batch_size=25,
    concurrency=8,
    lease_seconds=300,
    max_attempts=5,
    backoff_base_seconds=30,
    time_budget_seconds=45,
    readiness="places.services.google_readiness",
    description="Google Place Details → LocalBusiness, upserted on place_id (a re-scan never resets its curation).",
))

domain_extraction = register(Workflow(
    name="domain_extraction",
    model="places.LocalBusiness",
    hook="places.services.business_domain_extract",
    label="Domain extraction",
    batch_size=100,
    concurrency=1,  # offline and CPU-bound: no threads
    lease_seconds=300,
    max_attempts=3,
    backoff_base_seconds=10,
    time_budget_seconds=45,
    description="Website → normalised URL, registrable domain (offline PSL), kind; own sites → pages.Domain.",
))
