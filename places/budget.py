"""The daily Google Places request budget (setting GOOGLE_PLACES_DAILY_LIMIT).

`spend(kind)` is the Places client's `before_request` hook: it counts one
request of today (UTC) with one conditional UPDATE — the compare-and-set that
keeps concurrent workers on several machines under the limit — and raises
`WorkflowPaused` once the limit is reached, *before* anything is sent. The
engine then gives the row back to the queue without counting an attempt and
stops the run; the message says why and until when.

A limit of 0 or less switches the budget off (unlimited).
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from curation.exceptions import ErrorClass, WorkflowPaused

# Paused rows are looked at again after this long (or at midnight UTC if sooner),
# so raising the limit takes effect without waiting for the next day.
RECHECK_SECONDS = 15 * 60


def today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def seconds_until_reset(now: dt.datetime | None = None) -> float:
    now = (now or timezone.now()).astimezone(dt.UTC)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
    return max(1.0, (midnight - now).total_seconds())


def limit() -> int:
    return int(settings.GOOGLE_PLACES_DAILY_LIMIT)


def used_today() -> int:
    from places.models import GooglePlacesUsage

    return GooglePlacesUsage.objects.filter(day=today()).values_list("requests", flat=True).first() or 0


def exhausted_message(daily_limit: int | None = None) -> str:
    daily_limit = limit() if daily_limit is None else daily_limit
    return (f"Google Places daily budget of {daily_limit} requests reached; resumes at 00:00 UTC "
            "(or sooner if GOOGLE_PLACES_DAILY_LIMIT is raised)")


def spend(kind: str) -> None:
    """Count one Places request of `kind` ("search" or "details"), or raise WorkflowPaused."""
    from places.models import GooglePlacesUsage

    daily_limit = limit()
    day = today()
    per_kind = {"search": "search_requests", "details": "details_requests"}.get(kind)
    values = {"requests": F("requests") + 1, "updated_at": timezone.now()}
    if per_kind:
        values[per_kind] = F(per_kind) + 1
    with transaction.atomic():
        GooglePlacesUsage.objects.bulk_create([GooglePlacesUsage(day=day)], ignore_conflicts=True)
        rows = GooglePlacesUsage.objects.filter(day=day)
        if daily_limit > 0:
            rows = rows.filter(requests__lt=daily_limit)
        counted = rows.update(**values)
    if not counted:
        raise WorkflowPaused(exhausted_message(daily_limit), error_class=ErrorClass.QUOTA,
                             retry_after=min(seconds_until_reset(), RECHECK_SECONDS))
