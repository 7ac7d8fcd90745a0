"""Links to outside URLs in admin pages: the one place that decides what may become a clickable link.

URLs come from Google, from websites and from CSV files: anything. Only an
absolute http(s) URL that Django's URLValidator accepts becomes a link (new
tab, no referrer, no opener); anything else (`javascript:`, `data:`,
`vbscript:`, a relative or malformed URL) is shown as escaped text.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.html import format_html

_VALIDATE = URLValidator(schemes=["http", "https"])


def is_safe_url(url: str | None) -> bool:
    if not url or not isinstance(url, str):
        return False
    try:
        _VALIDATE(url.strip())
    except ValidationError:
        return False
    return True


def shorten(url: str, limit: int) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"


def external_link(url: str | None, text: str | None = None, *, limit: int = 70) -> str:
    """`<a href=url>` for a safe http(s) URL; the escaped text for anything else; "—" for nothing."""
    if not url:
        return "—"
    label = shorten(text if text is not None else url, limit)
    if not is_safe_url(url):
        return format_html('<span class="unsafe-url" title="not a web address: not linked">{}</span>', label)
    return format_html('<a href="{}" title="{}" target="_blank" rel="noopener noreferrer">{}</a>', url.strip(),
                       url.strip(), label)
