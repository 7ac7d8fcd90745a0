"""Settings of the contacts app (read from the environment; documented in .env.example)."""
import os as _os


def _env_float(name: str, default: float) -> float:
    value = _os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    value = _os.environ.get(name)
    return int(value) if value not in (None, "") else default


# Seconds allowed for each DNS lookup (MX, then A/AAAA) when checking an email domain; a timeout gives "unknown".
CONTACTS_DNS_TIMEOUT = _env_float("CONTACTS_DNS_TIMEOUT", 3.0)
# Comma-separated nameserver IPs for email DNS checks (e.g. "1.1.1.1,8.8.8.8"); empty = the system resolver.
CONTACTS_DNS_NAMESERVERS = [
    _ns.strip() for _ns in _os.environ.get("CONTACTS_DNS_NAMESERVERS", "").split(",") if _ns.strip()
]
# Most visible-text characters the extractor scans per page (bounds time and memory on huge pages).
CONTACTS_MAX_TEXT_CHARS = _env_int("CONTACTS_MAX_TEXT_CHARS", 2_000_000)
