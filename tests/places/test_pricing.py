"""The cost table: SKU from the field mask (Places API (New) pricing of March 2025), prices, estimates."""
from __future__ import annotations

import pytest

from places.google import DETAILS_FIELD_MASK, GEOCODE_FIELD_MASK, SEARCH_FIELD_MASK, estimate_cost
from places.pricing import (
    ATMOSPHERE, ENTERPRISE, ESSENTIALS, ESSENTIALS_IDS, PRO, format_usd, price_micros, sku_tier,
)


@pytest.mark.parametrize("kind, mask, tier, micros", [
    ("search", "places.id,places.name,nextPageToken", ESSENTIALS_IDS, 0),
    ("search", "places.id,places.formattedAddress", PRO, 32_000),  # an Essentials field is Pro in Text Search
    ("search", "places.displayName,places.viewport", PRO, 32_000),
    ("search", "places.id,places.rating", ENTERPRISE, 35_000),
    ("search", "places.id,places.reviews", ATMOSPHERE, 40_000),
    ("search", "*", ATMOSPHERE, 40_000),  # unknown or everything: never under-estimated
    ("details", "id,movedPlaceId", ESSENTIALS_IDS, 0),
    ("details", "id,formattedAddress,postalAddress,shortFormattedAddress", ESSENTIALS, 5_000),
    ("details", "id,timeZone,utcOffsetMinutes", PRO, 17_000),
    ("details", "id,websiteUri", ENTERPRISE, 20_000),
    ("details", "id,servesBeer", ATMOSPHERE, 25_000),
])
def test_sku_and_price_of_a_field_mask(kind, mask, tier, micros):
    assert sku_tier(kind, mask) == tier
    assert price_micros(kind, mask) == micros


def test_our_masks_and_their_tiers():
    assert sku_tier("search", SEARCH_FIELD_MASK) == ENTERPRISE
    assert sku_tier("search", GEOCODE_FIELD_MASK) == PRO
    assert sku_tier("details", DETAILS_FIELD_MASK) == ENTERPRISE
    # The IANA time zone, the postal address and movedPlaceId cost nothing more: dropping them keeps the SKU
    # and dropping the Enterprise fields would bring it to Pro, where timeZone sits with utcOffsetMinutes.
    without = ",".join(f for f in DETAILS_FIELD_MASK.split(",")
                       if f not in ("timeZone", "postalAddress", "shortFormattedAddress", "movedPlaceId"))
    assert sku_tier("details", without) == sku_tier("details", DETAILS_FIELD_MASK)
    pro_only = ",".join(f for f in DETAILS_FIELD_MASK.split(",") if sku_tier("details", f) != ENTERPRISE)
    assert "timeZone" in pro_only and sku_tier("details", pro_only) == PRO


def test_estimates_and_formatting():
    cost = estimate_cost(search_requests=3, details_requests=10)
    assert cost["total_micros"] == 3 * 35_000 + 10 * 20_000 and cost["total"] == "$0.305"
    assert (cost["search_sku"], cost["details_sku"]) == ("Text Search Enterprise", "Place Details Enterprise")
    assert format_usd(0) == "$0.00" and format_usd(7_000_000) == "$7.00" and format_usd(1_234_567_000) == "$1,234.57"
