"""API throttles (kept apart from scrapersky.auth: DRF imports them while loading its views).

Counters live in the default cache, shared by every web process (Redis or the
database table; see CACHES). Rates: API_THROTTLE_USER, LOGIN_THROTTLE_RATE.
"""
from __future__ import annotations

import hashlib

from rest_framework.settings import api_settings as drf_settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle


class _LiveRates:
    """Read the rate from the settings at each request (DRF binds them at import; tests and reloads change them)."""

    def get_rate(self):
        return drf_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class ApiUserThrottle(_LiveRates, UserRateThrottle):
    """Per user (per address when anonymous) on every API endpoint: API_THROTTLE_USER."""

    def get_cache_key(self, request, view):
        user = request.user
        pk = getattr(user, "pk", None) if user is not None and user.is_authenticated else None
        # A caller authenticated by a shared secret (the enrichment callback) is no user row: its address counts.
        ident = pk if pk is not None else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginIPThrottle(_LiveRates, SimpleRateThrottle):
    """Login attempts per client address (X-Forwarded-For only as far as NUM_PROXIES says)."""

    scope = "login_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUsernameThrottle(_LiveRates, SimpleRateThrottle):
    """Login attempts per username, whatever address they come from (spraying one account from many)."""

    scope = "login_username"

    def get_cache_key(self, request, view):
        data = getattr(request, "data", None)
        if data is None or not hasattr(data, "get"):
            data = request.POST
        username = data.get("username")
        if not isinstance(username, str) or not username.strip():
            return None  # nothing to count: the attempt fails validation anyway
        ident = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": ident}


LOGIN_THROTTLES = [LoginIPThrottle, LoginUsernameThrottle]
