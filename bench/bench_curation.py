"""Benchmark 1 — batch curation: mark N rows Selected through the API in one request.

Compared in the same run with (a) the floor: one raw SQL UPDATE of the same rows
through psycopg, and (b) the naive path: a per-row ORM save() loop.
"""
from common import Timer, emit, setup

args = setup(__doc__)

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from curation.models import CurationEvent  # noqa: E402
from tests.testapp.models import Widget  # noqa: E402

N = 500 if args.quick else 10_000


def reset() -> list:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE testapp_widget, testapp_hookcall, curation_curationevent")
    Widget.objects.bulk_create([Widget(name=f"w{i}") for i in range(N)], batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE testapp_widget")
    return [str(pk) for pk in Widget.objects.values_list("pk", flat=True)]


user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
client = APIClient()
client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")

# (ours) the API: validation, the set-based service, the audit trail
ids = reset()
with CaptureQueriesContext(connection) as queries, Timer() as ours:
    response = client.put("/api/v3/workflows/widget_check/status", {"ids": ids, "status": "Selected"}, format="json")
assert response.status_code == 200, response.content
assert response.json()["queued_count"] == N
assert CurationEvent.objects.count() == N

# (a) floor: one UPDATE through psycopg, no validation, no audit
ids = reset()
with connection.cursor() as cursor, Timer() as floor:
    cursor.execute(
        "UPDATE testapp_widget SET widget_check_curation_status = 'Selected', "
        "widget_check_processing_status = 'Queued', widget_check_queued_at = now(), "
        "widget_check_available_at = now() WHERE id = ANY(%s::uuid[])",
        [ids],
    )
    assert cursor.rowcount == N

# (b) naive: read-modify-save each row
reset()
naive_n = min(N, 2000)  # extrapolated per row: the loop is linear
rows = list(Widget.objects.all()[:naive_n])
with CaptureQueriesContext(connection) as naive_queries, Timer() as naive:
    for row in rows:
        row.widget_check_curation_status = "Selected"
        row.widget_check_processing_status = "Queued"
        row.save()
naive_seconds = naive.seconds * N / naive_n

emit(
    "batch_curation",
    args.quick,
    rows=N,
    api_seconds=round(ours.seconds, 4),
    api_sql_statements=len(queries.captured_queries),
    floor_raw_update_seconds=round(floor.seconds, 4),
    naive_save_loop_seconds=round(naive_seconds, 4),
    naive_sql_statements=len(naive_queries.captured_queries) * N // naive_n,
    ratio_vs_floor=round(ours.seconds / floor.seconds, 2),
    speedup_vs_naive=round(naive_seconds / ours.seconds, 1),
    target="within 3x of the floor incl. audit; >= 50x faster than naive",
)
