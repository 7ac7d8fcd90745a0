"""Social profile links → canonical profile URLs (pure helpers for contacts.extract)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

NETWORKS = ("linkedin", "facebook", "instagram", "x", "youtube", "tiktok", "whatsapp")

# host (without www./m./mobile./country prefixes) → network
_HOSTS = {
    "linkedin.com": "linkedin",
    "facebook.com": "facebook",
    "fb.com": "facebook",
    "fb.me": "facebook",
    "instagram.com": "instagram",
    "instagr.am": "instagram",
    "twitter.com": "x",
    "x.com": "x",
    "youtube.com": "youtube",
    "tiktok.com": "tiktok",
    "wa.me": "whatsapp",
    "whatsapp.com": "whatsapp",
    "api.whatsapp.com": "whatsapp",
}
_HOST_PREFIX = re.compile(r"^(?:www\d?|m|mobile|web|touch|business|[a-z]{2}(?:-[a-z]{2})?)\.")

# First path segments that are platform pages, share/intent/plugin endpoints, never profiles.
_FB_RESERVED = frozenset(
    "sharer sharer.php share share.php dialog plugins tr policies policy help privacy legal terms "
    "login login.php signup reg r.php home.php watch events groups hashtag search marketplace "
    "gaming ads business about careers settings notifications messages l.php photo.php photos "
    "video.php permalink.php story.php media fundraisers pg facebook fb".split()
)
_IG_RESERVED = frozenset(
    "p reel reels tv explore accounts about legal developer direct stories web emails "
    "instagram privacy terms".split()
)
_X_RESERVED = frozenset(
    "intent share home i search hashtag privacy tos login signup settings explore messages "
    "notifications compose logout twitter x jobs about download tweet status".split()
)
_LI_KINDS = frozenset({"company", "in", "school", "showcase"})
_LI_SELF = frozenset({"linkedin"})
_YT_RESERVED = frozenset(
    "watch embed results playlist shorts redirect t yt about feed premium kids "
    "live attribution_link signin account".split()
)
_TT_RESERVED = frozenset({"@tiktok"})
_X_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_SLUG = re.compile(r"^[\w.\-%]{2,100}$", re.UNICODE)
_DIGITS = re.compile(r"\D+")


def canonical_social(url: str) -> tuple[str, str, str] | None:
    """``(network, canonical url, handle)`` for a profile link, None for anything else."""
    url = url.strip()
    if url.startswith("//"):
        url = "https:" + url
    if url.lower().startswith("whatsapp://"):
        phone = parse_qs(urlsplit(url).query).get("phone", [""])[0]
        return _whatsapp(phone)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    base = host
    while True:
        stripped = _HOST_PREFIX.sub("", base, count=1)
        if stripped == base or stripped not in _HOSTS and "." not in stripped:
            break
        base = stripped
        if base in _HOSTS:
            break
    network = _HOSTS.get(base) or _HOSTS.get(host)
    if network is None:
        return None
    segs = [unquote(s) for s in parts.path.split("/") if s]
    if network == "whatsapp":
        if base == "wa.me" and segs:
            return _whatsapp(segs[0])
        if segs and segs[0] == "send" or base == "api.whatsapp.com":
            return _whatsapp(parse_qs(parts.query).get("phone", [""])[0])
        return None
    if not segs:
        return None
    first = segs[0]
    low = first.lower()
    if network == "facebook":
        if low == "profile.php":
            ident = parse_qs(parts.query).get("id", [""])[0]
            if ident.isdigit():
                return network, f"https://facebook.com/profile.php?id={ident}", ident
            return None
        if low == "pages" and len(segs) >= 2:
            path = "/".join(s.lower() for s in segs[:3])
            return network, f"https://facebook.com/{path}", segs[1].lower()
        if low in _FB_RESERVED or low.endswith(".php") or not _SLUG.match(first):
            return None
        return network, f"https://facebook.com/{low}", low
    if network == "instagram":
        if low in _IG_RESERVED or not _SLUG.match(first):
            return None
        return network, f"https://instagram.com/{low}", low
    if network == "x":
        if low.startswith("@"):
            low = low[1:]
        if low in _X_RESERVED or not _X_HANDLE.match(low):
            return None
        return network, f"https://x.com/{low}", low
    if network == "linkedin":
        if low not in _LI_KINDS or len(segs) < 2:
            return None
        slug = segs[1].lower()
        if slug in _LI_SELF or not _SLUG.match(slug):
            return None
        return network, f"https://linkedin.com/{low}/{slug}", slug
    if network == "youtube":
        if low.startswith("@"):
            handle = low
            if handle == "@youtube" or len(handle) < 2:
                return None
            return network, f"https://youtube.com/{handle}", handle
        if low == "channel" and len(segs) >= 2:
            cid = segs[1]  # channel ids are case-sensitive
            return network, f"https://youtube.com/channel/{cid}", cid
        if low in ("c", "user") and len(segs) >= 2:
            name = segs[1].lower()
            if name == "youtube":
                return None
            return network, f"https://youtube.com/{low}/{name}", name
        return None
    if network == "tiktok":
        if not low.startswith("@") or len(segs) != 1 or low in _TT_RESERVED or len(low) < 3:
            return None
        return network, f"https://tiktok.com/{low}", low
    return None


def _whatsapp(phone: str) -> tuple[str, str, str] | None:
    digits = _DIGITS.sub("", phone or "")
    if not 7 <= len(digits) <= 15:
        return None
    return "whatsapp", f"https://wa.me/{digits}", digits
