"""Social profile links → canonical profile URLs (pure helpers: page metadata here, contacts.extract later)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

NETWORKS = ("linkedin", "facebook", "instagram", "x", "youtube", "tiktok", "whatsapp", "pinterest", "xing",
            "threads", "bluesky", "mastodon", "vimeo", "github")

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
    "pinterest.com": "pinterest",
    "pin.it": "pinterest",
    "xing.com": "xing",
    "threads.net": "threads",
    "threads.com": "threads",
    "bsky.app": "bluesky",
    "vimeo.com": "vimeo",
    "github.com": "github",
}
# Pinterest serves country hosts (pinterest.de, pinterest.co.uk …)
_PINTEREST_HOST = re.compile(r"^(?:[a-z]{2}\.)?pinterest\.(?:[a-z]{2,3}|co\.[a-z]{2}|com\.[a-z]{2})$")
# Mastodon-style servers: any host, recognised by name (mastodon.social, mstdn.jp, …) or a rel="me" link
_MASTODON_HOST = re.compile(r"(?:^|\.)(?:mastodon|mstdn|mastodont|toot|fosstodon|troet|social\.[a-z]+|chaos)\.|^(?:mas\.to|det\.social|norden\.social|hachyderm\.io|infosec\.exchange|masto\.ai|ruhr\.social|sueden\.social|muenchen\.social)$")
_HOST_PREFIX = re.compile(r"^(?:www\d?|m|mobile|web|touch|business|[a-z]{2}(?:-[a-z]{2})?)\.")

# First path segments that are platform pages, share/intent/plugin endpoints, never profiles.
_FB_RESERVED = frozenset(
    "sharer sharer.php share share.php dialog plugins tr policies policy help privacy legal terms "
    "login login.php signup reg r.php home.php watch events groups hashtag search marketplace "
    "gaming ads business about careers settings notifications messages l.php photo.php photos "
    "video.php permalink.php story.php media fundraisers pg facebook fb".split()
)
_FB_CONTENT = frozenset("posts photos videos photo.php videos.php events reviews permalink story.php".split())
_IG_RESERVED = frozenset(
    "p reel reels tv explore accounts about legal developer direct stories web emails "
    "instagram privacy terms".split()
)
_X_RESERVED = frozenset(
    "intent share home i search hashtag privacy tos login signup settings explore messages "
    "notifications compose logout twitter x jobs about download tweet status".split()
)
_LI_KINDS = frozenset({"company", "in", "school", "showcase", "edu"})
_LI_SELF = frozenset({"linkedin"})
_YT_RESERVED = frozenset(
    "watch embed results playlist shorts redirect t yt about feed premium kids "
    "live attribution_link signin account channel c user v e gaming music hashtag post "
    "creators ads howyoutubeworks t.php subscription_center".split()
)
_PIN_RESERVED = frozenset("pin ideas search _ today explore business login about settings".split())
_VIMEO_RESERVED = frozenset(
    "channels groups ondemand categories search blog features upload join log_in login help watch "
    "album showcase event live stock create".split()
)
_GH_RESERVED = frozenset(
    "features pricing login join about sponsors topics trending collections marketplace explore orgs "
    "enterprise security site contact settings notifications apps search customer-stories readme "
    "team solutions resources events".split()
)
_VIMEO_USER = re.compile(r"^[A-Za-z][\w.\-]{1,60}$")
_GH_USER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-]{0,38})$")
_TT_RESERVED = frozenset({"@tiktok"})
_X_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_SLUG = re.compile(r"^[\w.\-%]{2,100}$", re.UNICODE)
_DIGITS = re.compile(r"\D+")


def canonical_social(url: str, *, rel_me: bool = False) -> tuple[str, str, str] | None:
    """``(network, canonical url, handle)`` for a profile link, None for anything else
    (a post, status, video, photo, share or platform page is not a profile).

    ``rel_me``: the link carries rel="me" (how Mastodon-style profiles on any server are marked)."""
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
    segs = [unquote(s) for s in parts.path.split("/") if s]
    if network is None and _PINTEREST_HOST.match(base):
        network = "pinterest"
    if network is None:
        if (rel_me or _MASTODON_HOST.search(host)) and len(segs) == 1 and segs[0].startswith("@") and len(segs[0]) > 2:
            handle = segs[0].lower()
            return "mastodon", f"https://{host}/{handle}", f"{handle}@{host}"
        return None
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
            if any(":" in seg for seg in segs[:3]):
                return None  # a mangled link ("pages/lx-https:/www.facebook.com")
            path = "/".join(s.lower() for s in segs[:3])
            return network, f"https://facebook.com/{path}", segs[1].lower()
        if low in _FB_RESERVED or low.endswith(".php") or not _SLUG.match(first):
            return None
        if len(segs) >= 2 and segs[1].lower() in _FB_CONTENT:
            return None  # a post, photo, video or event of the page, not the page
        return network, f"https://facebook.com/{low}", low
    if network == "instagram":
        if low in _IG_RESERVED or not _SLUG.match(first):
            return None
        if len(segs) >= 2 and segs[1].lower() in ("p", "reel", "reels", "tv", "stories"):
            return None
        return network, f"https://instagram.com/{low}", low
    if network == "x":
        if low.startswith("@"):
            low = low[1:]
        if low in _X_RESERVED or not _X_HANDLE.match(low):
            return None
        if len(segs) >= 2 and segs[1].lower() in ("status", "statuses", "lists", "moments"):
            return None  # a tweet, not the account
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
        if low not in _YT_RESERVED and _SLUG.match(first) and not parts.query.startswith("v="):
            # legacy custom URL youtube.com/<name> (still redirects to the channel)
            return network, f"https://youtube.com/{low}", low
        return None
    if network == "pinterest":
        if base == "pin.it" or low in _PIN_RESERVED or not _SLUG.match(first):
            return None
        if len(segs) >= 2 and segs[1].lower() not in ("_created", "_saved", "boards", "pins"):
            return None  # a board or a pin, not the account
        return network, f"https://pinterest.com/{low}", low
    if network == "xing":
        if low in ("pages", "companies", "company") and len(segs) >= 2:
            slug = segs[1].lower()
            return network, f"https://xing.com/pages/{slug}" if low == "pages" else f"https://xing.com/companies/{slug}", slug
        if low == "profile" and len(segs) >= 2:
            return network, f"https://xing.com/profile/{segs[1]}", segs[1]
        return None
    if network == "threads":
        if not low.startswith("@") or len(low) < 2 or len(segs) != 1:
            return None
        return network, f"https://threads.net/{low}", low
    if network == "bluesky":
        if low != "profile" or len(segs) != 2:
            return None
        handle = segs[1].lower()
        return network, f"https://bsky.app/profile/{handle}", handle
    if network == "vimeo":
        if low in _VIMEO_RESERVED or not _VIMEO_USER.match(first) or len(segs) != 1:
            return None  # numeric ids are videos
        return network, f"https://vimeo.com/{low}", low
    if network == "github":
        if low in _GH_RESERVED or not _GH_USER.match(first) or len(segs) != 1:
            return None  # owner/repo is a repository, not the business
        return network, f"https://github.com/{low}", low
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
