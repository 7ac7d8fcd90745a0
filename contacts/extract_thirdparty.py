"""Contact cards of other organisations on a page: a hotel's list of nearby attractions, a PR agency's
media contact, the bar association in a lawyer's Impressum, an ombudsman on a bank's complaints page.

A card is the smallest block (a few levels up, at most a few hundred characters) around a link that
names another site by its address ("www.tacomadome.org") or an email address on another, non-free
domain, when that block also holds a phone number. Its numbers and addresses are someone else's.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import etree

from contacts.extract_data import is_free_provider_domain, registrable_domain
from contacts.extract_emails import iter_joomla_cloak, iter_text_emails
from contacts.extract_html import text_of
from pages.social import canonical_social

# //a[contains(@href, 'ailto:') or contains(., 'www.')] | //*[not(self::script) and not(self::style)]
#   [text()[contains(., '@')]] | //script[contains(., 'addy')]
# written so that libxml2 walks less (the same nodes in the same order, ~1.5x faster)
_MARKERS = etree.XPath(
    "descendant-or-self::a[contains(@href, 'ailto:') or contains(., 'www.')] "
    "| //text()[contains(., '@')]/parent::*[not(self::script) and not(self::style)] "
    "| descendant-or-self::script[contains(., 'addy')]"
)
_WWW_LINKS = etree.XPath("descendant-or-self::a[contains(., 'www.')]")
_TEXT_NO_SCRIPT = etree.XPath(".//text()[not(ancestor::script) and not(ancestor::style)]")
_DIGITS7 = re.compile(r"\d(?:[\s().\-/]{0,3}\d){6}")
_ADDRESS_TEXT = re.compile(r"^\s*(?:https?://)?(?:www\.)[\w\-]+(?:\.[\w\-]+)+/?\s*$", re.IGNORECASE)
_MAX_LEVELS = 5
_MAX_BLOCK_CHARS = 700


def _email_domain_foreign(domain: str, site_reg: str) -> str | None:
    if not domain or is_free_provider_domain(domain):
        return None
    reg = registrable_domain(domain)
    return reg if reg and not _related(reg, site_reg) else None


def _foreign_domain(a, site_reg: str, own_email: bool) -> str | None:
    href = (a.get("href") or "").strip() if a.tag == "a" else ""
    if a.tag == "script" or (a.tag != "a" or not href) and "@" in (a.text or "") + "".join(c.tail or "" for c in a):
        if not own_email:
            return None
        if a.tag == "script":
            found = list(iter_joomla_cloak(a.text or ""))
        else:
            found = list(iter_text_emails((a.text or "") + " " + " ".join(c.tail or "" for c in a)))
        for value in found:
            reg = _email_domain_foreign(value.rpartition("@")[2].strip().lower(), site_reg)
            if reg:
                return reg
        return None
    if "ailto:" in href[:8]:
        if not own_email:  # the business writes from another domain itself: nothing to compare with
            return None
        domain = href.split(":", 1)[1].split("?", 1)[0].rpartition("@")[2].strip().lower()
        if not domain or is_free_provider_domain(domain):
            return None
        reg = registrable_domain(domain)
    else:
        if not _ADDRESS_TEXT.match(text_of(a)) or not href.lower().startswith(("http", "//")):
            return None
        if canonical_social(href) is not None:
            return None
        reg = registrable_domain(urlsplit(href if "//" in href else "//" + href).hostname or "")
    return reg if reg and not _related(reg, site_reg) else None


def _related(reg: str, site_reg: str) -> bool:
    """The business's own other domain: the same name under another suffix (firma.com / firma.co.uk)
    or the same stem (longoinc.com / longolabs.com)."""
    a, b = reg.split(".", 1)[0], site_reg.split(".", 1)[0]
    common = 0
    for x, y in zip(a, b):
        if x != y:
            break
        common += 1
    return a == b or common >= 4


_CARD_STOP = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "div", "table", "ul", "ol"})


def _sibling_card(a) -> str | None:
    """The marker and what follows it among its siblings, up to the next heading, block or mail link
    (or two <br> in a row): a card written flat inside a long block."""
    parts = [text_of(a), a.tail or ""]
    last_br = False
    for sib in a.itersiblings():
        if not isinstance(sib.tag, str):
            parts.append(sib.tail or "")
            continue
        if sib.tag in _CARD_STOP or (sib.tag == "a" and "ailto:" in (sib.get("href") or "")[:8]):
            break
        if sib.tag == "br":
            if last_br and not (parts[-1] or "").strip():
                break
            last_br = True
            parts.append(sib.tail or "")
            continue
        last_br = False
        parts.append(text_of(sib) + (sib.tail or ""))
        if sum(map(len, parts)) > 300:
            break
    text = "".join(parts)
    return text if _DIGITS7.search(text) and len(text) <= 400 else None


def _markers(root, source: str, site_reg: str, own_email: bool):
    """Candidate markers, looked for only where the source can have one (most pages have neither an
    off-site address nor a link written as www.…): the XPath over every element is the costly part."""
    offsite_email = own_email and any(
        _email_domain_foreign(value.rpartition("@")[2].lower(), site_reg) for value in iter_text_emails(source)
    )
    if offsite_email or "addy" in source:
        yield from _MARKERS(root)
    elif ">www." in source or "> www." in source:
        yield from _WWW_LINKS(root)


def foreign_blocks(root, *, site_reg: str | None, own_email: bool, source: str = "") -> list[str]:
    """The texts of other organisations' contact cards on the page (see the module docstring)."""
    if site_reg is None:
        return []
    blocks: list[str] = []
    seen: set = set()
    for a in _markers(root, source, site_reg, own_email):
        if _foreign_domain(a, site_reg, own_email) is None:
            continue
        href = a.get("href") or ""
        extra = " " + href.split(":", 1)[1].split("?", 1)[0] if "ailto:" in href[:8] else ""
        if a.tag == "script":
            extra = " " + " ".join(iter_joomla_cloak(a.text or ""))
        card = _sibling_card(a)
        if card is not None:  # a flat card: <a>name</a><br>Agency<br>503-546-7871<br><br>
            blocks.append(card + extra)
            continue
        node = a
        for _ in range(_MAX_LEVELS):
            node = node.getparent()
            if node is None or node.tag in ("body", "html"):
                break
            text = "".join(_TEXT_NO_SCRIPT(node))
            if len(text) > _MAX_BLOCK_CHARS:
                break
            if _DIGITS7.search(text):
                if node not in seen:
                    seen.add(node)
                    blocks.append(text + extra)
                break
    return blocks
