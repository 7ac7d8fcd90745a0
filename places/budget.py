"""The daily Google Places budgets: requests (GOOGLE_PLACES_DAILY_LIMIT) and money
(GOOGLE_PLACES_DAILY_BUDGET_USD).

`spend(kind, field_mask)` is the Places client's `before_request` hook: it
counts one request of today (UTC) and its list price (places.pricing) with one
conditional UPDATE — the compare-and-set that keeps concurrent workers on
several machines under both limits — and raises `WorkflowPaused` once either
is reached, *before* anything is sent. The engine then gives the row back to
the queue without counting an attempt and stops the run; the message says why
and until when.

A limit of 0 or less switches that budget off. `spend_today()` is the selector
the operator page (and dashboards) read.
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from curation.exceptions import ErrorClass, WorkflowPaused
from places.models import GooglePlacesUsage
from places.pricing import format_usd, price_micros, usd_to_micros

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


def budget_micros() -> int:
    """The daily money budget in micro-dollars (0 = off)."""
    return max(0, usd_to_micros(settings.GOOGLE_PLACES_DAILY_BUDGET_USD or 0))


def used_today() -> int:
    return GooglePlacesUsage.objects.filter(day=today()).values_list("requests", flat=True).first() or 0


def exhausted_message(daily_limit: int | None = None) -> str:
    daily_limit = limit() if daily_limit is None else daily_limit
    return (f"Google Places daily budget of {daily_limit} requests reached; resumes at 00:00 UTC "
            "(or sooner if GOOGLE_PLACES_DAILY_LIMIT is raised)")


def money_exhausted_message(budget: int, price: int) -> str:
    return (f"Google Places daily budget of {format_usd(budget)} reached (the next request costs {format_usd(price)}); "
            "resumes at 00:00 UTC (or sooner if GOOGLE_PLACES_DAILY_BUDGET_USD is raised)")


def spend(kind: str, field_mask: str = "") -> int:
    """Count one Places request of `kind` ("search"/"details") and its price, or raise WorkflowPaused.

    Returns the price counted, in micro-dollars.
    """
    daily_limit, money = limit(), budget_micros()
    price = price_micros(kind, field_mask) if field_mask else 0
    day = today()
    per_kind = {"search": "search_requests", "details": "details_requests"}.get(kind)
    values = {"requests": F("requests") + 1, "cost_micros": F("cost_micros") + price, "updated_at": timezone.now()}
    if per_kind:
        values[per_kind] = F(per_kind) + 1
    with transaction.atomic():
        GooglePlacesUsage.objects.bulk_create([GooglePlacesUsage(day=day)], ignore_conflicts=True)
        rows = GooglePlacesUsage.objects.filter(day=day)
        if daily_limit > 0:
            rows = rows.filter(requests__lt=daily_limit)
        if money > 0:
            rows = rows.filter(cost_micros__lte=money - price)
        counted = rows.update(**values)
    if not counted:
        used = GooglePlacesUsage.objects.filter(day=day).values_list("requests", flat=True).first() or 0
        message = (exhausted_message(daily_limit) if daily_limit > 0 and used >= daily_limit
                   else money_exhausted_message(money, price))
        raise WorkflowPaused(message, error_class=ErrorClass.QUOTA,
                             retry_after=min(seconds_until_reset(), RECHECK_SECONDS))
    return price


def spend_today() -> dict:
    """Today's Places usage against both budgets (the operator page and dashboards show it)."""
    row = GooglePlacesUsage.objects.filter(day=today()).values("requests", "search_requests", "details_requests",
                                                               "cost_micros").first() or {}
    money, daily_limit = budget_micros(), limit()
    cost = row.get("cost_micros", 0)
    return {
        "day": today(),
        "requests": row.get("requests", 0),
        "search_requests": row.get("search_requests", 0),
        "details_requests": row.get("details_requests", 0),
        "request_limit": daily_limit if daily_limit > 0 else None,
        "cost_micros": cost,
        "cost": format_usd(cost),
        "budget_micros": money or None,
        "budget": format_usd(money) if money else "",
        "remaining_micros": max(0, money - cost) if money else None,
    }
