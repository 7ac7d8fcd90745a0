"""Email helpers for contacts.extract: validation and junk filters, text scanning,
obfuscations, Cloudflare decoding, mailto: parsing."""
from __future__ import annotations

import functools
import html as _html
import re
from urllib.parse import parse_qs, unquote

from email_validator import EmailNotValidError, validate_email

from contacts.extract_data import has_public_suffix, registrable_domain

_LOCAL_REV = re.compile(r"[A-Za-z0-9._%+\-]{1,64}")
_DOMAIN = re.compile(
    r"(?:[^\W_](?:[\w\-]{0,61}[^\W_])?\.){1,8}(?:[^\W\d_]{2,24}|xn--[a-z0-9\-]{1,59})(?![\w\-]*@)",
    re.UNICODE,
)
_TLD_GLUE = re.compile(r"^([a-z]{2,}?)(?=[A-Z])")
_FILE_EXT = frozenset(
    "png jpg jpeg gif webp svg bmp ico tif tiff avif heic heif css js mjs cjs ts json xml pdf zip gz "
    "tgz rar 7z mp4 mov webm m4v avi mp3 wav ogg woff woff2 ttf eot otf map php html htm asp aspx "
    "jsp txt csv doc docx xls xlsx ppt pptx".split()
)
_RETINA = re.compile(r"^\d+(?:\.\d+)?x(?:[.\-_]|$)")
_PLACEHOLDER_DOMAINS = frozenset(
    "example.com example.org example.net example.de example.fr example.es example.it example.nl "
    "example.co.uk domain.com domain.de domain.tld yourdomain.com yourdomain.de your-domain.com "
    "yoursite.com yourwebsite.com yourcompany.com mydomain.com mysite.com mycompany.com "
    "company.com test.com test.de testing.com sample.com beispiel.de musterfirma.de mustermann.de "
    "email.tld domain.example sentry.io sentry-next.wixpress.com sentry.wixpress.com "
    "wixpress.com ingest.sentry.io placeholder.com".split()
)
_PLACEHOLDER_TLDS = frozenset({"example", "test", "invalid", "localhost", "local", "tld", "lan", "internal"})
_PLACEHOLDER_LOCALS = frozenset(
    """your ihre deine votre vous tuo jouw uw yourname your.name your_name youremail your.email your-email yourmail you
    username user.name firstname.lastname first.last firstname lastname first_last name.surname
    vorname.nachname vorname nachname max.mustermann maxmustermann mustermann erika.mustermann
    john.doe jane.doe johndoe janedoe prenom.nom nome.cognome nombre.apellido
    voornaam.achternaam someone somebody anybody xxx xxxx xyz abc test tester
    email e-mail emailaddress email.address mail name
    nom.prenom prenom nom prénom.nom nombre apellido nombre.apellidos nome cognome nome.sobrenome
    voornaam achternaam fornamn.efternamn fornamn efternamn fornavn.etternavn fornavn.efternavn
    etunimi.sukunimi imie.nazwisko jmeno.prijmeni meno.priezvisko ime.prezime vardas.pavarde
    ad.soyad adiniz.soyadiniz nev keresztnev.vezeteknev vezeteknev.keresztnev
    max.muster hans.muster erika.musterfrau musterfrau jean.dupont jean.dupond juan.perez
    juan.pérez mario.rossi jan.kowalski jan.novak jan.jansen sven.svensson ola.nordmann
    matti.meikalainen vorname_nachname vorname-nachname firstname_lastname firstname-lastname
    prenom_nom nombre_apellido nome_cognome first.lastname f.lastname initial.lastname""".split()
)
# local parts that are only placeholders when the domain is a generic word too
_WEAK_PLACEHOLDER_LOCALS = frozenset({"email", "e-mail", "mail", "name", "test", "xxx", "abc", "user", "me"})
_NO_REPLY = re.compile(
    r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply|no[-_.]?response|mailer[-_.]?daemon|"
    r"postmaster|bounces?|bounce[-_.+].*|unsubscribe)(?:[-_.+].*)?$"
)
_HEX_ID = re.compile(r"^[0-9a-f]{24,}$")
_YOUR = re.compile(r"^(?:your|ihre?|deine?|votre|tu|su|uw|jouw)[._\-]?(?:name|e-?mail|mail|address|adresse|login|id)\b")


@functools.lru_cache(maxsize=4096)
def clean_email(value: str) -> str | None:
    """The normalized address, or None for junk: assets, placeholders, no-reply, tracking,
    invalid syntax or a TLD that is not on the public suffix list."""
    value = value.strip().strip("<>()[]{}\"'.,;:!?")
    if "@" not in value or len(value) > 254:
        return None
    local, _, domain = value.rpartition("@")
    domain = domain.lower().rstrip(".")
    llocal = local.lower()
    labels = domain.split(".")
    if labels[-1] in _FILE_EXT or _RETINA.match(domain) or labels[-1] in _PLACEHOLDER_TLDS:
        return None
    if domain in _PLACEHOLDER_DOMAINS or registrable_domain(domain) in _PLACEHOLDER_DOMAINS:
        return None
    if _NO_REPLY.match(llocal) or _HEX_ID.match(llocal):
        return None
    if llocal in _PLACEHOLDER_LOCALS and (
        llocal not in _WEAK_PLACEHOLDER_LOCALS or labels[0] in ("domain", "email", "mail", "company", "firma", "website", "site")
    ):
        return None
    if _YOUR.match(llocal):
        return None
    try:
        result = validate_email(
            f"{local}@{domain}", check_deliverability=False, allow_quoted_local=False,
            allow_domain_literal=False, globally_deliverable=True,
        )
    except EmailNotValidError:
        return None
    if not has_public_suffix(result.ascii_domain):
        return None
    return result.normalized.lower()


def decode_cfemail(hexstr: str) -> str | None:
    """Cloudflare email protection: the first byte is the XOR key of the rest."""
    hexstr = hexstr.strip()
    if len(hexstr) < 4 or len(hexstr) % 2 or not re.fullmatch(r"[0-9a-fA-F]+", hexstr):
        return None
    data = bytes.fromhex(hexstr)
    key = data[0]
    try:
        return bytes(b ^ key for b in data[1:]).decode("utf-8")
    except UnicodeDecodeError:
        return None


_MAILTO_PREFIX = re.compile(r"^(?:\s*mailto\s*:\s*)+", re.IGNORECASE)


def mailto_addresses(href: str) -> list[str]:
    """Recipients of a mailto: link ("mailto:mailto: x@y" and spaces after the colon included)."""
    rest = _MAILTO_PREFIX.sub("", unquote(href[:7]) + href[7:] if href[:7].lower() != "mailto:" else href)
    path, _, query = rest.partition("?")
    out = [_MAILTO_PREFIX.sub("", a) for a in re.split(r"[,;]", unquote(path)) if a.strip()]
    for key, values in parse_qs(query).items():
        if key.lower() in ("to", "cc", "bcc"):
            for v in values:
                out.extend(a for a in re.split(r"[,;]", v) if a.strip())
    return [a.strip() for a in out]


# an "@" that can be an address's: a local-part character before it, a domain's first character after it
# (CSS @media, @import, handles after a space… are skipped by one C-level scan)
_AT_SCAN = re.compile(r"@(?<=[A-Za-z0-9._%+\-]@)(?=[^\W_])")


def iter_text_emails(text: str):
    """Addresses around each '@' (bounded windows: linear in the text size)."""
    for at in _AT_SCAN.finditer(text):
        i = at.start()
        left = text[max(0, i - 64):i][::-1]
        m = _LOCAL_REV.match(left)
        if m:
            local = m.group(0)[::-1].lstrip(".-")
            d = _DOMAIN.match(text, i + 1, min(len(text), i + 256))
            if local and d:
                domain = d.group(0)
                tld = domain.rsplit(".", 1)[-1]
                glue = _TLD_GLUE.match(tld)  # "info@firma.deTelefon" (inline text glued)
                if glue:
                    domain = domain[: len(domain) - len(tld)] + glue.group(1)
                yield f"{local}@{domain}"


_AT = (
    # not "(a)": it is how lists are enumerated
    r"(?:[\[\(\{<]\s*(?:at|ad|@|ät|arroba|chiocciola|klammeraffe|snabel-a|apenstaartje)\s*[\]\)\}>]"
    r"|#(?:at|@)#|\*(?:at|@)\*|_(?:at|@)_|/(?:at|@)/"
    r"|(?<=\s)(?:AT|at|@|arroba|chiocciola)(?=\s))"
)
_DOT = (
    r"(?:\s*[\[\(\{<]\s*(?:dot|punkt|point|punto|pt|\.)\s*[\]\)\}>]\s*|#(?:dot|punkt)#|\*(?:dot|punkt)\*"
    r"|\s+(?:DOT|dot|Punkt|punkt|punto|point|\.)\s+|\.)"
)
# _AT for scanning a whole page: one leading character class (the engine skips every other character in C;
# the alternation as written is tried at every position, ~4x slower); the same matches
_OBF_SCAN = re.compile(
    r"[\[\(\{<#*_/Aa@c](?:(?<=[\[\(\{<])\s*(?:at|ad|@|ät|arroba|chiocciola|klammeraffe|snabel-a|apenstaartje)\s*[\]\)\}>]"
    r"|(?<=#)(?:at|@)#|(?<=\*)(?:at|@)\*|(?<=_)(?:at|@)_|(?<=/)(?:at|@)/"
    r"|(?<=\s.)(?:(?<=A)T|(?<=a)t|(?<=@)|(?<=a)rroba|(?<=c)hiocciola)(?=\s))"
)
_OBF_MARK = re.compile(_AT)
_OBF_DOMAIN = re.compile(
    rf"([A-Za-z0-9](?:[A-Za-z0-9\-]{{0,61}}[A-Za-z0-9])?(?:{_DOT}[A-Za-z0-9](?:[A-Za-z0-9\-]{{0,61}}[A-Za-z0-9])?){{1,4}})"
    r"(?![A-Za-z0-9\-])"
)
_OBF_DOT_SPLIT = re.compile(_DOT)
_SPACED_DOTS = re.compile(
    r"[A-Za-z0-9\-]+(?:\s+(?:DOT|dot|Punkt|punkt|punto|point|\.)\s+[A-Za-z0-9\-]+)+"
)
_PLAIN_AT = frozenset({"AT", "at", "@", "arroba", "chiocciola"})


def iter_obfuscated(text: str, site_reg: str | None):
    """``(address, as written)`` for "[at]/(at)/[ad]/AT … [dot]/DOT" obfuscations (each distinct
    line once: menus and footers repeat)."""
    seen: set[str] = set()
    done_upto = -1
    for m in _OBF_SCAN.finditer(text):  # one C-level pass finds the lines worth a look
        if m.start() < done_upto:
            continue
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        end = len(text) if end == -1 else end
        done_upto = end
        line = text[start:end]
        if line in seen:
            continue
        seen.add(line)
        yield from _obfuscated_in(line, site_reg)


def _obfuscated_in(text: str, site_reg: str | None):
    for m in _OBF_MARK.finditer(text):
        marker = m.group(0)
        seg_start = max(0, m.start() - 70)
        left = text[seg_start:m.start()].rstrip()
        lm = _LOCAL_REV.match(left[::-1])
        if not lm:
            continue
        local = lm.group(0)[::-1].lstrip(".-")
        local_start = seg_start + len(left) - len(local)
        start = m.end()
        while start < len(text) and text[start] in " \t":
            start += 1
        dm = _OBF_DOMAIN.match(text, start, min(len(text), start + 256))
        if not local or not dm:
            continue
        domain_src = dm.group(1)
        domain = ".".join(_OBF_DOT_SPLIT.split(domain_src))
        bracketed = marker.strip() not in _PLAIN_AT  # [at], (at), #at#, _at_ … are deliberate
        if not bracketed:
            # "name AT domain DOT com", "name @ domain . com", "nombre arroba dominio punto es":
            # only when clearly an address — every dot is spelled out or spaced, and
            # anything but upper-case "AT … DOT" only for the site's own domain.
            if not _SPACED_DOTS.fullmatch(domain_src):
                continue
            if not (marker == "AT" and "DOT" in domain_src) and registrable_domain(domain) != site_reg:
                continue
        yield f"{local}@{domain}", text[local_start:dm.end()]


ENTITY_AT = re.compile(r"&#0*64;|&#[xX]0*40;|&commat;")


# --- CMS encoders ------------------------------------------------------------------

_TYPO3_CALL = re.compile(r"""linkTo_UnCryptMailto\(\s*(?:&#0?39;|['"])([^'"&]+)(?:&#0?39;|['"])\s*(?:,\s*(-?\d+))?""")


def _typo3_shift(code: int, start: int, end: int, offset: int) -> int:
    if start <= code <= end:
        return start + (code - start + offset) % (end - start + 1)
    return code


def decode_typo3(encoded: str, vector: int | None = None) -> str | None:
    """TYPO3's spam protection: a Caesar shift of "mailto:…" over three character ranges
    (``linkTo_UnCryptMailto('nbjmup+…')`` and ``data-mailto-token`` / ``data-mailto-vector``).
    Without the vector every shift is tried and the one that yields ``mailto:`` wins."""
    offsets = [-vector] if vector is not None else range(-26, 27)
    for offset in offsets:
        out = "".join(
            chr(_typo3_shift(_typo3_shift(_typo3_shift(ord(c), 0x2B, 0x3A, offset), 0x40, 0x5A, offset),
                             0x61, 0x7A, offset))
            for c in encoded
        )
        if out.lower().startswith("mailto:"):
            return out
    return None


def iter_typo3(source: str):
    """Every TYPO3-encrypted mailto in the raw page source (href or onclick)."""
    for m in _TYPO3_CALL.finditer(source):
        decoded = decode_typo3(m.group(1), int(m.group(2)) if m.group(2) else None)
        if decoded is None and m.group(2):
            decoded = decode_typo3(m.group(1))
        if decoded:
            yield from mailto_addresses(decoded)


_JOOMLA_ASSIGN = re.compile(r"addy[\w]*\s*=\s*([^;]+);")
_JS_STRING = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def iter_joomla_cloak(script: str):
    """Joomla's email cloak: the address built by string concatenation in a script
    (``var addy123 = 'info' + '&#64;'; addy123 = addy123 + 'example' + '&#46;' + 'com';``)."""
    parts: list[str] = []
    for m in _JOOMLA_ASSIGN.finditer(_html.unescape(script)):
        expr = m.group(1)
        if "+" not in expr and not _JS_STRING.search(expr):
            continue
        for lit in _JS_STRING.finditer(expr):
            parts.append(lit.group(1) if lit.group(1) is not None else lit.group(2))
        text = "".join(parts)
        if "@" in text and "." in text.rsplit("@", 1)[-1]:
            yield text
            parts = []
