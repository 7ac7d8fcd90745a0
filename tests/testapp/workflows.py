from curation.registry import register
from curation.workflow import Workflow

widget_check = register(Workflow(
    name="widget_check",
    model="testapp.Widget",
    hook="tests.testapp.hooks.widget_check",
    label="Widget check",
    batch_size=10,
    concurrency=4,
    lease_seconds=300,
    max_attempts=3,
    backoff_base_seconds=10,
    backoff_cap_seconds=600,
    time_budget_seconds=30,
))

widget_index = register(Workflow(
    name="widget_index",
    model="testapp.Widget",
    hook="tests.testapp.hooks.widget_index",
    label="Widget index",
    curation=False,
    lease_seconds=300,
    time_budget_seconds=30,
))
