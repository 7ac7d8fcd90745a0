"""The one typed environment parser every setting goes through (settings.py and components/*).

An empty variable means "use the default"; a malformed one stops start-up with
ImproperlyConfigured naming the variable and what it expected, never a silent
guess. (django-environ was considered: its casts are lenient — "maybe" reads as
False, "1e3" as 13.0 — which is exactly what this module exists to refuse.)
"""
from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

__all__ = ["Env", "env"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Env:
    """Typed reads of `environ` (os.environ by default)."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        self.environ = os.environ if environ is None else environ

    def _raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def _fail(self, name: str, expected: str, value: str) -> ImproperlyConfigured:
        return ImproperlyConfigured(f"{name} must be {expected}, got {value!r}")

    def is_set(self, name: str) -> bool:
        return self._raw(name) is not None

    def str(self, name: str, default: str = "") -> str:
        value = self._raw(name)
        return default if value is None else value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        """One of `choices`, compared without case; returned as spelled in `choices`."""
        value = self.str(name, default)
        for choice in choices:
            if value.lower() == choice.lower():
                return choice
        raise self._fail(name, f"one of {', '.join(choices)}", value)

    def header(self, name: str, default: str = "") -> str:
        """An HTTP header name (X-Forwarded-Proto), or empty."""
        value = self.str(name, default)
        if value and not re.fullmatch(r"[A-Za-z0-9-]+", value):
            raise self._fail(name, "an HTTP header name such as X-Forwarded-Proto", value)
        return value

    def bool(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise self._fail(name, "a boolean (1/0, true/false, yes/no, on/off)", value)

    def int(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise self._fail(name, "an integer", value) from None
        if minimum is not None and number < minimum:
            raise self._fail(name, f"an integer >= {minimum}", value)
        return number

    def float(self, name: str, default: float, *, minimum: float | None = None) -> float:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise self._fail(name, "a number", value) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise self._fail(name, "a finite number", value)
        if minimum is not None and number < minimum:
            raise self._fail(name, f"a number >= {minimum}", value)
        return number

    def list(self, name: str, default: list[str] | tuple[str, ...] = ()) -> list[str]:
        value = self._raw(name)
        if value is None:
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def int_list(self, name: str, default: list[int] | tuple[int, ...] = ()) -> list[int]:
        items = self.list(name, [str(i) for i in default])
        try:
            return [int(item) for item in items]
        except ValueError:
            raise self._fail(name, 'comma-separated integers (e.g. "3,7")', self.str(name)) from None

    def host_map(self, name: str, default: Mapping[str, str] | None = None) -> dict[str, str]:
        """`host=ip:port,*.suffix=ip:port,*=ip:port` -> {"host": "ip:port", ...}."""
        value = self._raw(name)
        if value is None:
            return dict(default or {})
        result = {}
        for item in value.split(","):
            if not item.strip():
                continue
            key, sep, target = item.partition("=")
            host, _, port = target.strip().rpartition(":")
            if not sep or not key.strip() or not port.isdigit() or not _is_ip(host.strip("[]")):
                raise self._fail(name, 'comma-separated "host=ip:port" pairs', value)
            result[key.strip().lower()] = target.strip()
        return result

    def rate(self, name: str, default: str) -> str:
        """A DRF throttle rate: `10/min`, `600/hour`, `5/s`, `1000/day`."""
        value = self.str(name, default)
        if not re.fullmatch(r"[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
            raise self._fail(name, 'a rate like "10/min" (per s, min, hour or day)', value)
        return value

    def url(self, name: str, default: str = "", *, schemes: tuple[str, ...] = ("http", "https"),
            require_host: bool = True) -> str:
        value = self._raw(name)
        if value is None:
            return default
        parts = urlsplit(value)
        if parts.scheme not in schemes or (require_host and not parts.netloc):
            # The value is not echoed: a URL may carry a password.
            raise ImproperlyConfigured(f"{name} must be a URL ({'/'.join(schemes)}://host...); "
                                       f"got one with scheme {parts.scheme!r}")
        return value

    def networks(self, name: str, default: list[str] | tuple[str, ...] = ()) -> list[str]:
        """Comma-separated CIDRs or addresses, each optionally with a port: `10.0.0.0/8,127.0.0.1:8102,[::1]:8102`."""
        items = self.list(name, default)
        for item in items:
            try:
                parse_network(item)
            except ValueError:
                raise self._fail(name, 'comma-separated CIDRs, optionally with ":port" ([v6]:port)', item) from None
        return items


def parse_network(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, int | None]:
    """"127.0.0.1:8102" -> (127.0.0.1/32, 8102); "10.0.0.0/8" -> (10.0.0.0/8, None); "[::1]:8102"; "::1/128"."""
    text = text.strip()
    port: int | None = None
    if text.startswith("["):
        inner, sep, rest = text[1:].partition("]")
        if not sep or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            raise ValueError(text)
        text, port = inner, int(rest[1:]) if rest else None
    elif text.count(":") == 1:
        text, _, port_text = text.partition(":")
        if not port_text.isdigit():
            raise ValueError(text)
        port = int(port_text)
    if port is not None and not 0 < port < 65536:
        raise ValueError(text)
    return ipaddress.ip_network(text, strict=False), port


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


env = Env()
