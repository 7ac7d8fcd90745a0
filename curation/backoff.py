"""Exponential backoff with jitter for retried rows."""
from __future__ import annotations

import random


def backoff_delay(attempt: int, *, base: float, cap: float, rng=random.random) -> float:
    """Seconds to wait before attempt `attempt + 1`: min(cap, base·2^(attempt−1))·(1 + U[0, 0.1))."""
    exponent = max(attempt - 1, 0)
    delay = min(cap, base * (2 ** min(exponent, 32)))
    return delay * (1 + 0.1 * rng())
