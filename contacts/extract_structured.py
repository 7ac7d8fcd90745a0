"""Structured contact markup for contacts.extract: JSON-LD, microdata, hCard, team pages.

Everything here returns plain tuples; ``contacts.extract`` validates, classifies
and deduplicates them. No recursion over the document (deep pages are safe).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from contacts.extract_html import segment_text, text_of

_WS = re.compile(r"\s+")


def clean(value) -> str | None:
    """A short human string from a JSON/markup value (str, list, {"name": …})."""
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value")
    if not isinstance(value, str):
        return None
    value = _WS.sub(" ", value).strip()
    return value[:200] or None


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@dataclass
class Structured:
    """Raw findings: (value, method, name, title) tuples and person tuples."""

    emails: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    phones: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    faxes: list[tuple[str, str]] = field(default_factory=list)  # (value, method)
    socials: list[tuple[str, str]] = field(default_factory=list)
    countries: list = field(default_factory=list)  # addressCountry values (region inference)
    # (name, title, email, phone, method, confidence)
    people: list[tuple[str, str | None, str | None, str | None, str, float]] = field(default_factory=list)

    def add_entity(self, method, person_conf, is_person, name, title, emails, phones, same_as):
        emails = [e for e in (clean(x) for x in emails) if e]
        phones = [p for p in (clean(x) for x in phones) if p]
        pname = name if is_person else None
        ptitle = title if is_person else None
        for e in emails:
            self.emails.append((e, method, pname, ptitle))
        for p in phones:
            self.phones.append((p, method, pname, ptitle))
        for s in same_as:
            if isinstance(s, str):
                self.socials.append((s.strip(), method))
        if is_person and name:
            self.people.append((name, title, emails[0] if emails else None,
                                phones[0] if phones else None, method, person_conf))


# --- JSON-LD -----------------------------------------------------------------------

_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_JSONLD_MAX_NODES = 5000


def _loads(text: str):
    text = text.strip()
    for prefix, suffix in (("<!--", "-->"), ("//<![CDATA[", "//]]>"), ("<![CDATA[", "]]>")):
        if text.startswith(prefix) and text.endswith(suffix):
            text = text[len(prefix):-len(suffix)].strip()
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", text), strict=False)
    except ValueError:
        return None


def _types(node: dict) -> set[str]:
    out = set()
    for t in as_list(node.get("@type")):
        if isinstance(t, str):
            out.add(t.rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower())
    return out


def _person_name(node: dict) -> str | None:
    name = clean(node.get("name"))
    if not name:
        parts = [clean(node.get("givenName")), clean(node.get("familyName"))]
        name = " ".join(p for p in parts if p) or None
    return name


def jsonld(root, out: Structured, unparsed: list[str], scripts: list | None = None) -> None:
    for script in root.iter("script") if scripts is None else scripts:
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        data = _loads(script.text or "")
        if data is None:
            unparsed.append(script.text or "")
            continue
        stack = [data]
        seen = 0
        while stack and seen < _JSONLD_MAX_NODES:
            node = stack.pop()
            seen += 1
            if isinstance(node, list):
                stack.extend(reversed(node))
                continue
            if not isinstance(node, dict):
                continue
            types = _types(node)
            is_person = "person" in types
            emails = as_list(node.get("email"))
            phones = as_list(node.get("telephone"))
            for fax in as_list(node.get("faxNumber")):
                fax = clean(fax)
                if fax:
                    out.faxes.append((fax, "jsonld"))
            if "addressCountry" in node:
                out.countries.append(node.get("addressCountry"))
            same_as = [s for s in as_list(node.get("sameAs")) if isinstance(s, str)]
            url = node.get("url")
            if isinstance(url, str):
                same_as.append(url)
            name = _person_name(node) if is_person else None
            title = clean(node.get("jobTitle")) if is_person else None
            if emails or phones or same_as or (is_person and name):
                out.add_entity("jsonld", 0.95, is_person, name, title, emails, phones, same_as)
            for key, value in node.items():
                if key != "@context" and isinstance(value, (dict, list)):
                    stack.append(value)


# --- microdata ---------------------------------------------------------------------

_MAX_ANCESTORS = 200


def _itemprop_value(el) -> str:
    tag = el.tag
    if tag == "meta":
        return el.get("content") or ""
    if tag in ("a", "link", "area"):
        return el.get("href") or ""
    if tag in ("img", "audio", "video", "source", "embed", "iframe"):
        return el.get("src") or ""
    if tag == "time":
        return el.get("datetime") or text_of(el)
    if tag in ("data", "meter"):
        return el.get("value") or ""
    return text_of(el)[:500]


# the properties read below: the value (the text of a whole subtree for most tags) of any other
# property (articleBody, description, offers…) is never computed
_MICRODATA_PROPS = frozenset(("name", "givenName", "familyName", "jobTitle", "email", "sameAs", "url",
                              "faxNumber", "addressCountry", "telephone"))


def _scope_owner(el, owners: dict):
    """The nearest ancestor with ``itemscope`` (at most ``_MAX_ANCESTORS`` + 1 levels up), or None.
    ``owners``: per ancestor, (its nearest itemscope ancestor-or-self, how many levels up) once known —
    a page's itemprops share their ancestors."""
    chain = []
    owner, found_at = None, None
    for i, anc in enumerate(el.iterancestors()):
        known = owners.get(anc)
        if known is not None:
            owner, up = known
            found_at = i + up if owner is not None else None
            break
        chain.append(anc)
        if anc.get("itemscope") is not None:
            owner, found_at = anc, i
            break
        if i > _MAX_ANCESTORS:
            return None  # not cached: for an element higher up the limit is further away
    else:
        for anc in chain:  # the root was reached without a scope
            owners[anc] = (None, 0)
        return None
    if owner is not None:
        for j, anc in enumerate(chain):
            owners[anc] = (owner, found_at - j)
    else:
        for anc in chain:
            owners[anc] = (None, 0)
    return owner if found_at is None or found_at <= _MAX_ANCESTORS + 1 else None


def microdata(root, out: Structured) -> None:
    scopes: dict = {}
    owners: dict = {}
    for el in root.xpath("//*[@itemprop]"):
        owner = _scope_owner(el, owners)
        if owner is None:
            continue
        props = scopes.setdefault(owner, {})
        value = None
        for prop in (el.get("itemprop") or "").split():
            prop = prop.rsplit("/", 1)[-1]
            if prop in _MICRODATA_PROPS:
                if value is None:
                    value = _itemprop_value(el)
                props.setdefault(prop, []).append(value)
    for scope, props in scopes.items():
        itemtype = (scope.get("itemtype") or "").lower()
        is_person = itemtype.rstrip("/").endswith("person")
        name = clean(props.get("name")) if is_person else None
        if is_person and not name:
            parts = [clean(props.get("givenName")), clean(props.get("familyName"))]
            name = " ".join(p for p in parts if p) or None
        title = clean(props.get("jobTitle")) if is_person else None
        emails = [e.split(":", 1)[1] if e.lower().startswith("mailto:") else e for e in props.get("email", [])]
        same_as = props.get("sameAs", []) + props.get("url", [])
        out.faxes.extend((f, "jsonld") for f in (clean(x) for x in props.get("faxNumber", [])) if f)
        out.countries.extend(props.get("addressCountry", []))
        out.add_entity("microdata", 0.9, is_person, name, title, emails, props.get("telephone", []), same_as)


# --- hCard / h-card ----------------------------------------------------------------

def _has_class(names: Iterable[str]) -> str:
    return " or ".join(f"contains(concat(' ', normalize-space(@class), ' '), ' {n} ')" for n in names)


_VCARD_XPATH = etree.XPath(f"//*[{_has_class(('vcard', 'h-card'))}]")
_FN_XPATH = etree.XPath(f".//*[{_has_class(('fn', 'p-name'))}]")
_TITLE_XPATH = etree.XPath(f".//*[{_has_class(('title', 'p-job-title', 'role', 'p-role'))}]")
_ORG_XPATH = etree.XPath(f".//*[{_has_class(('org', 'p-org'))}]")
_EMAIL_XPATH = etree.XPath(f".//*[{_has_class(('email', 'u-email'))}]")
_TEL_XPATH = etree.XPath(f".//*[{_has_class(('tel', 'p-tel'))}]")
_VALUE_XPATH = etree.XPath(f".//*[{_has_class(('value',))}]")
_TYPE_XPATH = etree.XPath(f".//*[{_has_class(('type',))}]")
_TEL_PREFIX = re.compile(r"^[^+\d(]*")


def _first_text(nodes) -> str | None:
    for node in nodes:
        text = clean(text_of(node))
        if text:
            return text
    return None


# elements whose class merely contains "vcard" / "h-card": a cheap XPath; the token test is done in Python
_VCARD_CANDIDATES = etree.XPath("descendant-or-self::*[contains(@class, 'vcard') or contains(@class, 'h-card')]")
_XML_SPACE = re.compile(r"[ \t\r\n]+")  # the whitespace of XPath's normalize-space


def _vcard_elements(root) -> list:
    """What ``_VCARD_XPATH`` selects (the same elements, in document order): its per-element
    concat(normalize-space(@class)) over the whole tree cost ~10x more."""
    return [el for el in _VCARD_CANDIDATES(root)
            if {"vcard", "h-card"}.intersection(_XML_SPACE.split(el.get("class") or ""))]


def vcards(root, out: Structured) -> None:
    for card in _vcard_elements(root):
        name = _first_text(_FN_XPATH(card))
        org = _first_text(_ORG_XPATH(card))
        title = _first_text(_TITLE_XPATH(card))
        is_person = bool(name) and name != org and "org" not in (
            (_FN_XPATH(card)[0].get("class") or "").split() if _FN_XPATH(card) else []
        )
        emails, phones = [], []
        for el in _EMAIL_XPATH(card):
            href = el.get("href") or ""
            emails.append(href.split("?", 1)[0] if href.lower().startswith("mailto:") else text_of(el))
        for el in _TEL_XPATH(card):
            # <span class="tel"><span class="type">fax</span> <span class="value">…</span></span>
            is_fax = any("fax" in text_of(t).lower() for t in _TYPE_XPATH(el))
            href = el.get("href") or ""
            if href.lower().startswith("tel:"):
                value_text = href
            else:
                value = _VALUE_XPATH(el)
                value_text = _TEL_PREFIX.sub("", text_of(value[0] if value else el).strip())
            if is_fax:
                out.faxes.append((value_text, "vcard"))
            else:
                phones.append(value_text)
        out.add_entity("vcard", 0.9, is_person, name if is_person else None, title, emails, phones, [])


# --- team pages --------------------------------------------------------------------

_UP = "A-ZÀ-ÖØ-ÞČŠŽŁŚŻ"
_LO = "a-zà-öø-ÿßčšžłśżćńę'’"
_PART = f"(?:Mc|Mac|O['’]|D['’])?[{_UP}][{_LO}]+"  # McDonald, O'Neil, D'Angelo
_WORD = f"{_PART}(?:-{_PART})?"
_NAME_RE = re.compile(
    r"^(?:(?:Dr|Prof|Dipl|Ing|Mag|Mr|Mrs|Ms|Herr|Frau|Mme|Sr|Sra|Dott|Dott\.ssa|Ir|Drs|Mr\.?)\.?(?:-[A-Za-z]+\.?)?\s+)*"
    f"{_WORD}(?:\\s+(?:(?:von|van|de|der|den|da|di|del|della|du|la|le|zu|ten|ter|y|dos|das|vom)\\s+)*{_WORD}){{1,3}}$"
)
_NOT_NAME_WORDS = frozenset(
    """contact us our about team services service unsere unser unsere leistungen kontakt über uber
    impressum datenschutz home news welcome willkommen öffnungszeiten opening hours address adresse
    anfahrt career careers karriere jobs nous contactez notre équipe equipe nuestro equipo contacto
    sobre nosotros chi siamo contatti il nostro ons over onze openingstijden get in touch follow
    newsletter privacy policy terms shop blog menu cart login more read view all call email mail
    phone telefon fax the and und et y e en und our my your ihr ihre wir we meet lernen sie
    standort location locations praxis kanzlei restaurant hotel firma company gmbh ag kg ltd inc llc
    sarl sas srl bv office büro mehr weitere termin appointment book buchen reservieren preise prices
    angebot angebote products produkte support hilfe help faq downloads referenzen projekte projects
    partner partners presse press aktuelles events veranstaltungen galerie gallery video videos
    berlin münchen hamburg köln frankfurt paris london madrid rom roma milano amsterdam wien zürich
    street straße strasse montag dienstag mittwoch donnerstag freitag samstag sonntag monday tuesday
    wednesday thursday friday saturday sunday lundi mardi mercredi jeudi vendredi samedi dimanche
    geschäftsführung management leitung vorstand founders gründer""".split()
)
_JOB_WORDS = re.compile(
    r"(?:ceo|cto|cfo|coo|cmo|founder|gründer|fondat|inhaber|owner|geschäftsführ|managing|manager|"
    r"director|direktor|directeur|directrice|direttore|directora|head|leiter|leitung|lead|partner|"
    r"president|präsident|vice|chair|officer|assistant|assistenz|assistent|consultant|berater|"
    r"engineer|ingenieur|developer|entwickler|designer|architect|architekt|sales|vertrieb|verkauf|"
    r"marketing|account|buchhalt|accountant|steuerberater|rechtsanwalt|anwalt|attorney|lawyer|"
    r"notar|avocat|abogad|avvocat|advocaat|arzt|ärztin|zahnarzt|doctor|médecin|medico|médico|"
    r"therap|dentist|nurse|pfleg|secretary|sekretär|sekretariat|secrétaire|segretari|office|"
    r"coordinator|koordinator|specialist|spezialist|expert|agent|broker|makler|chef|koch|cook|"
    r"gérant|gerente|responsable|responsabile|socio|socia|titolare|eigenaar|directie|medewerker|"
    r"mitarbeiter|angestellt|employee|associate|analyst|administrat|verwaltung|empfang|reception|"
    r"recepcion|accueil|technician|techniker|meister|azubi|trainee|intern|praktikant|"
    r"projekt|project|product|produkt|customer|kunden|support|service|hr\b|personal|recruit|"
    r"editor|redakt|photograph|fotograf|teacher|lehrer|trainer|coach|beraterin|ingénieur|"
    r"commercial|comercial|commerciale|amministrat|contable|comptable|boekhoud|vendedor|venditore)",
    re.IGNORECASE,
)
_HEADING_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6", "strong", "b", "dt"})
_NAME_CLASSES = frozenset({"name", "team-name", "member-name", "person-name", "staff-name"})
# contains(@class, 'name') is cheap; the exact class token is checked in Python
_HEADING_XPATH = etree.XPath("//h2|//h3|//h4|//h5|//h6|//strong|//b|//dt|//*[contains(@class, 'name')]")
_CLASS_VALUE_TAIL = re.compile(r"""class\s*=\s*["']?[^"'>]*$""")
_TOKEN_END = frozenset("\"' \t\n\r\f>")
_TOKEN_START = frozenset("\"'= \t\n\r\f")


# any class value holding "name" (a quoted value up to its closing quote, an unquoted one up to a space:
# "[^"'>]*" ran on through scripts and backtracked, ~0.5 ms on some pages)
_NAME_CLASS_SRC = re.compile(r"""class\s*=\s*(?:"[^"]*name|'[^']*name|[^\s"'>]*name)""")


def _name_class_in(low: str) -> bool:
    """Can the (lower-cased) source have an element whose class holds one of ``_NAME_CLASSES``?
    One regex pass rules out most pages; on the others each "name" written as a whole class token
    ("name", "team-name"…) is checked to sit in a class attribute's value (many pages have classes
    like "product-name", which never make a heading)."""
    if not _NAME_CLASS_SRC.search(low):  # one regex pass rules out most pages
        return False
    i = low.find("name")
    while i != -1:
        before, after = low[i - 1:i], low[i + 4:i + 5]
        if (after in _TOKEN_END or after == "") and (
                before in _TOKEN_START or low[max(0, i - 7):i].endswith(("team-", "member-", "person-", "staff-"))):
            k = low.rfind("class", max(0, i - 4000), i)
            while k != -1:
                if _CLASS_VALUE_TAIL.match(low, k, i):
                    return True
                k = low.rfind("class", max(0, i - 4000), k)
        i = low.find("name", i + 4)
    return False
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){1,6}")
_SEGMENT_MAX_SIBLINGS = 6
_SEGMENT_MAX_CHARS = 600


def looks_like_name(text: str) -> bool:
    if not 4 <= len(text) <= 60 or not _NAME_RE.match(text):
        return False
    words = [w.lower().strip(".") for w in text.split()]
    return not any(w in _NOT_NAME_WORDS for w in words)


def _looks_like_title(line: str) -> bool:
    return (
        2 <= len(line) <= 80
        and len(line.split()) <= 8
        and "@" not in line
        and sum(c.isdigit() for c in line) <= 2
        and not line.endswith((".", "!", "?", ":"))
    )


def _segment(h) -> list:
    """The heading's following siblings up to the next sibling of the same tag."""
    node = h
    for _ in range(3):  # <div class=name><h3>…</h3></div><div class=role>…</div>
        parent = node.getparent()
        if node.getnext() is not None or parent is None or len(parent) != 1 or parent.tag in ("body", "html"):
            break
        node = parent
    seg = []
    for sib in node.itersiblings():
        if not isinstance(sib.tag, str):
            continue
        if sib.tag == node.tag or len(seg) >= _SEGMENT_MAX_SIBLINGS:
            break
        seg.append(sib)
    return [node, *seg]


def _headings(root, low_source: str | None, headings: list | None):
    """Heading-like elements in document order. Without a class naming "name" in the source the
    XPath union (nine walks of the tree and a sort: most of this pass's cost) is one C-level walk,
    or none when the caller collected the heading tags (``headings``) in its own walk."""
    if low_source is not None and not _name_class_in(low_source):
        return root.iter(*_HEADING_TAGS) if headings is None else headings
    return _HEADING_XPATH(root)


def team_members(root, out: Structured, low_source: str | None = None, headings: list | None = None) -> None:
    """Team-page cards: a name-like heading followed by a job title (and maybe an address or number).
    ``low_source``: the page source lower-cased, when the caller has it (skips the costly walk);
    ``headings``: the elements of ``_HEADING_TAGS`` in document order, when the caller has them."""
    seen: set = set()
    not_names: set[str] = set()  # headings repeat ("Our services" in every section): decide each text once
    for h in _headings(root, low_source, headings):
        if not isinstance(h.tag, str) or h in seen:
            continue
        if h.tag not in _HEADING_TAGS and not _NAME_CLASSES.intersection((h.get("class") or "").split()):
            continue
        raw = text_of(h)
        if raw in not_names or len(raw) > 200:
            continue
        name = clean(raw)
        if not name or not looks_like_name(name):
            not_names.add(raw)
            continue
        seg = _segment(h)
        seen.update(seg)
        head = seg[0]
        lines: list[str] = []
        if head.tail and head.tail.strip():
            lines.append(head.tail)
        for el in seg[1:]:
            lines.append(segment_text(el, _SEGMENT_MAX_CHARS))
            if el.tail:
                lines.append(el.tail)
        text = "\n".join(lines)[:_SEGMENT_MAX_CHARS]
        # the head may hold the title itself: <div><h3>Name</h3><p>Title</p></div> climbed into node
        if head is not h:
            text = segment_text(head, _SEGMENT_MAX_CHARS).replace(name, "", 1) + "\n" + text
        rows = [r.strip(" \t|,–-·•") for r in text.split("\n")]
        rows = [r for r in rows if r]
        emails, phones = [], []
        for el in seg:
            for a in el.iter("a"):
                href = (a.get("href") or "").strip()
                low = href.lower()
                if low.startswith("mailto:"):
                    emails.append(href.split("?", 1)[0])
                elif low.startswith("tel:"):
                    phones.append(href)
        emails.extend(_EMAIL_IN_TEXT.findall(text))
        title = None
        if rows and _looks_like_title(rows[0]):
            if _JOB_WORDS.search(rows[0]) or ((emails or phones) and not looks_like_name(rows[0])):
                title = rows[0]
        if title is None:
            continue
        out.add_entity("team_pattern", 0.6, True, name, title, emails[:1], phones[:1], [])
