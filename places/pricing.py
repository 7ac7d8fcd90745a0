"""What a Places API (New) request costs: its SKU from the field mask, its price from one table.

Google bills each request at the SKU of the most expensive field in its mask
(pricing of March 2025; https://developers.google.com/maps/billing-and-pricing/pricing).
`PRICE_PER_1000_USD` holds the list price of the first volume band (0–100k
requests a month) of every SKU we can trigger; update it there when Google
changes prices. The monthly free allowances (e.g. 1,000 Text Search
Enterprise requests) are not subtracted: the figures are what the requests
cost at list price, an upper bound of the invoice.

Money is counted in micro-dollars (integers) so sums are exact.
"""
from __future__ import annotations

import math
from decimal import Decimal

ESSENTIALS_IDS = "Essentials (IDs Only)"
ESSENTIALS = "Essentials"
PRO = "Pro"
ENTERPRISE = "Enterprise"
ATMOSPHERE = "Enterprise + Atmosphere"
TIERS = (ESSENTIALS_IDS, ESSENTIALS, PRO, ENTERPRISE, ATMOSPHERE)

# USD per 1,000 requests, by (endpoint, tier). Text Search has no plain Essentials tier.
PRICE_PER_1000_USD: dict[tuple[str, str], Decimal] = {
    ("search", ESSENTIALS_IDS): Decimal("0"),
    ("search", PRO): Decimal("32"),
    ("search", ENTERPRISE): Decimal("35"),
    ("search", ATMOSPHERE): Decimal("40"),
    ("details", ESSENTIALS_IDS): Decimal("0"),
    ("details", ESSENTIALS): Decimal("5"),
    ("details", PRO): Decimal("17"),
    ("details", ENTERPRISE): Decimal("20"),
    ("details", ATMOSPHERE): Decimal("25"),
}

# Tier of each Place field (Place Details naming; Text Search prefixes "places.").
# Text Search bills the Essentials fields (address, location, types…) as Pro.
FIELD_TIERS: dict[str, str] = {
    **dict.fromkeys(("id", "name", "attributions", "photos", "movedPlace", "movedPlaceId"), ESSENTIALS_IDS),
    **dict.fromkeys(("addressComponents", "addressDescriptor", "adrFormatAddress", "formattedAddress", "location",
                     "plusCode", "postalAddress", "shortFormattedAddress", "types", "viewport"), ESSENTIALS),
    **dict.fromkeys(("accessibilityOptions", "businessStatus", "containingPlaces", "displayName", "googleMapsLinks",
                     "googleMapsUri", "iconBackgroundColor", "iconMaskBaseUri", "openingDate", "primaryType",
                     "primaryTypeDisplayName", "pureServiceAreaBusiness", "subDestinations", "timeZone",
                     "utcOffsetMinutes", "searchUri"), PRO),
    **dict.fromkeys(("currentOpeningHours", "currentSecondaryOpeningHours", "internationalPhoneNumber",
                     "nationalPhoneNumber", "priceLevel", "priceRange", "rating", "regularOpeningHours",
                     "regularSecondaryOpeningHours", "userRatingCount", "websiteUri"), ENTERPRISE),
}
# Text Search: photos and the Essentials fields are billed as Pro.
_SEARCH_PROMOTED = {"photos"}


def sku_tier(kind: str, field_mask: str) -> str:
    """The tier a request of `kind` ("search"/"details") with `field_mask` is billed at.

    Unknown fields (and `*`) count as Enterprise + Atmosphere: never under-estimate.
    """
    tier_index = 0
    for path in (p.strip() for p in field_mask.split(",")):
        if not path:
            continue
        if kind == "search":
            if path == "nextPageToken":
                continue
            path = path.removeprefix("places.")
        head = path.split(".")[0]
        tier = FIELD_TIERS.get(head, ATMOSPHERE)
        if kind == "search" and (tier == ESSENTIALS or head in _SEARCH_PROMOTED):
            tier = PRO
        tier_index = max(tier_index, TIERS.index(tier))
    return TIERS[tier_index]


def sku_name(kind: str, tier: str) -> str:
    return f"{'Text Search' if kind == 'search' else 'Place Details'} {tier}"


def price_micros(kind: str, field_mask: str) -> int:
    """Micro-dollars one request costs at list price."""
    per_1000 = PRICE_PER_1000_USD[(kind, sku_tier(kind, field_mask))]
    return int(per_1000 * 1000)  # $/1000 requests = 1000 µ$ per $ per request


def micros_to_usd(micros: int | None) -> Decimal:
    return (Decimal(micros or 0) / Decimal(1_000_000)).quantize(Decimal("0.0001"))


def usd_to_micros(usd: Decimal | float | str) -> int:
    return int((Decimal(str(usd)) * 1_000_000).to_integral_value())


def format_usd(micros: int | None) -> str:
    value = micros_to_usd(micros)
    return f"${value:,.2f}" if value >= 1 or value == 0 else f"${value:.4f}".rstrip("0")


def pages_for(results: int) -> int:
    """Text Search requests needed to read `results` places (20 per page, at least one request)."""
    return max(1, math.ceil(results / 20))
