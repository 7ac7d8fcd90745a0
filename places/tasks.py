"""django-q2 entry points of the places app (thin: one service each)."""
from __future__ import annotations

from django.conf import settings

from places import services


def rescan_enabled() -> bool:
    return int(settings.PLACES_RESCAN_DAYS or 0) > 0


def rescan_stale() -> dict:
    """Daily, when PLACES_RESCAN_DAYS is set: re-queue deep scans of businesses scanned longer ago."""
    return services.business_rescan_stale()
