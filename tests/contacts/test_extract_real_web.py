"""contacts.extract on what the real web does and the project's own pages did not (issue #12):
one rule per test, on minimal HTML."""
from __future__ import annotations

import pytest

from contacts.extract import ExtractionResult, extract_page
from contacts.extract_emails import decode_typo3, mailto_addresses
from contacts.extract_html import parse, visible_text


def run(body: str, *, url: str = "https://www.firma.de/", lang: str = "de", region: str | None = None,
        head: str = "") -> ExtractionResult:
    html = f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'
    return extract_page(html, url=url, region=region)


def emails(r) -> set[str]:
    return {e.normalized for e in r.emails}


def phones(r) -> set[str]:
    return {p.e164 for p in r.phones}


def faxes(r) -> set[str]:
    return {p.e164 for p in r.faxes}


def socials(r) -> dict[str, str]:
    return {s.url: s.location for s in r.socials}


# --- parsing -------------------------------------------------------------------------

def test_unclosed_noscript_does_not_swallow_the_page():
    r = run('<noscript><img src="/pixel.gif"><div><p>Tel. 030 2345678 · info@firma.de</p></div>')
    assert emails(r) == {"info@firma.de"} and phones(r) == {"+49302345678"}


def test_closed_noscript_is_still_not_text():
    r = run("<noscript><p>Bitte JavaScript aktivieren: js@firma.de</p></noscript><p>ok@firma.de</p>")
    assert emails(r) == {"ok@firma.de"}


def test_unclosed_noscript_in_head_leaves_the_body_to_the_browser_tree():
    html = ('<html><head><noscript><img src="/p.gif"></head>'
            '<body><p>Kontakt: info@firma.de</p></body></html>')
    assert emails(extract_page(html, url="https://firma.de/")) == {"info@firma.de"}


def test_blocks_are_separate_lines_in_the_visible_text():
    root = parse("<div>Tel. 030 1<div>2</div></div><p>a</p><p>b</p><span>c</span><span>d</span>")
    lines = [line for line in visible_text(root, 10_000).split("\n") if line]
    assert lines == ["Tel. 030 1", "2", "a", "b", "cd"]


def test_control_characters_do_not_break_the_parse():
    r = extract_page("<p>\x00\x0bTel. 030 2345678\x1f</p>", url="https://firma.de/")
    assert phones(r) == {"+49302345678"}


# --- faxes -----------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    "<p>Tel. 030 2345678</p><p>Fax: 030 2345679</p>",
    "<p>Tel.: 030 2345678 | Telefax: 030 2345679</p>",
    "<p>T 030 2345678 F 030 2345679</p>",
    "<p>T: 030 2345678, F: 030 2345679</p>",
    '<p>Telefon: <a href="tel:+49302345678">030 2345678</a><br>Fax: <a href="tel:+49302345679">030 2345679</a></p>',
    '<a href="tel:+49302345678">030 2345678</a> <a href="tel:+49302345679"><i class="fa fa-fax"></i> 030 2345679</a>',
    '<a href="tel:+49302345678">030 2345678</a> <a title="Fax" href="tel:+49302345679">030 2345679</a>',
    '<a href="tel:+49302345678">Tel</a> <a href="fax:+49302345679">Fax</a>',
    '<ul><li><span>Telefon</span> <a href="tel:+49302345678">030 2345678</a></li>'
    '<li><span>Fax</span> <a href="tel:+49302345679">030 2345679</a></li></ul>',
    '<div class="vcard"><span class="tel"><span class="type">work</span> <span class="value">+49 30 2345678</span></span>'
    '<span class="tel"><span class="type">fax</span> <span class="value">+49 30 2345679</span></span></div>',
    '<script type="application/ld+json">{"@type": "Organization", "telephone": "+49 30 2345678",'
    ' "faxNumber": "+49 30 2345679"}</script>',
    '<div itemscope itemtype="https://schema.org/Organization"><span itemprop="telephone">+49 30 2345678</span>'
    '<span itemprop="faxNumber">+49 30 2345679</span></div>',
    "<p>Télécopie : 030 2345679 — Téléphone : 030 2345678</p>",
])
def test_fax_numbers_are_faxes_not_phones(body):
    r = run(body)
    assert phones(r) == {"+49302345678"}
    assert faxes(r) == {"+49302345679"}


def test_tel_fax_label_is_a_phone():
    assert phones(run("<p>Tel./Fax: 030 2345678</p>")) == {"+49302345678"}


# --- tel: links against their visible text ---------------------------------------------

def test_tel_link_with_an_extra_digit_reports_the_visible_number_only():
    r = run('<a href="tel:+493023456789">030 2345678</a>')
    assert phones(r) == {"+49302345678"}


def test_tel_link_with_a_label_as_text_uses_the_target():
    assert phones(run('<a href="tel:+49302345678">Rufen Sie uns an</a>')) == {"+49302345678"}


# --- separators and invisible characters ---------------------------------------------

@pytest.mark.parametrize("written", [
    "030\u2009/\u20092345678",           # thin spaces around a slash
    "030 / 234\u00ad5678",               # soft hyphen
    "030\u200b 2345\u200b678",           # zero-width spaces
    "030\u00a02345678",                  # no-break space
    "030\u20132345678",                  # en dash
    "030 \u2014 2345678",                # em dash
])
def test_separators_and_invisible_characters_inside_numbers(written):
    assert phones(run(f"<p>Tel. {written}</p>")) == {"+49302345678"}


def test_second_extension_written_as_a_suffix():
    assert phones(run("<p>Tel.: 0711 12345 \u2013 20 oder \u2013 22</p>")) == {"+497111234520", "+497111234522"}
    assert phones(run("<p>Tel.: 0711 12345-20 or -22</p>")) == {"+497111234520", "+497111234522"}


def test_numbers_glued_to_the_next_word_or_to_their_label():
    r = run("<p>Telefon 030 2345678Fax 030 2345679E-Mail info@firma.de</p>")
    assert phones(r) == {"+49302345678"} and faxes(r) == {"+49302345679"}
    assert phones(run("<p>Tel.030 2345678</p>")) == {"+49302345678"}


def test_glued_order_numbers_are_still_not_phones():
    assert phones(run("<p>Bestellnummer: 4711081520 · Artikel-Nr. 123456789</p>")) == set()


# --- the region of national numbers -----------------------------------------------------

@pytest.mark.parametrize("body,url,lang,expected_region,how", [
    ("<p>Tel. 089 2345678</p>", "https://firma.de/", "en", "DE", "cctld"),
    ("<p>Tel. 089 2345678</p>", "https://firma.com/", "de-DE", "DE", "language"),
    ("<p>Tel. 089 2345678</p>", "https://firma.com/", "de", "DE", "language"),
    ("<p>Hauptstr. 1, D-80331 München</p><p>Tel. 089 2345678</p>", "https://firma.com/", "en", "DE",
     "postal_address"),
    ("<p>Hauptstr. 1, 80331 München, Deutschland</p><p>Tel. 089 2345678</p>", "https://firma.com/", "en", "DE",
     "postal_address"),
    ("<p>Tel. 089 2345678 · Hotline +49 800 1234567</p>", "https://firma.com/", "en", "DE",
     "international_numbers"),
])
def test_region_inferred_from_the_page(body, url, lang, expected_region, how):
    r = run(body, url=url, lang=lang)
    assert (r.region, r.region_source) == (expected_region, how)
    assert "+49892345678" in phones(r)


def test_region_from_structured_address_country():
    r = run('<script type="application/ld+json">{"@type": "LocalBusiness", "address": {"addressCountry": "AT"}}'
            "</script><p>Tel. 01 5123456</p>", url="https://firma.com/", lang="en")
    assert r.region_source == "structured_address" and phones(r) == {"+4315123456"}


def test_known_region_wins_over_the_page():
    r = run("<p>Tel. 01 5123456</p>", url="https://firma.de/", region="AT")
    assert (r.region, r.region_source) == ("AT", "known") and phones(r) == {"+4315123456"}


def test_no_clue_no_national_numbers():
    r = run("<p>Call 089 2345678</p>", url="https://firma.com/", lang="en")
    assert r.region is None and phones(r) == set()


def test_labelled_national_number_without_trunk_prefix():
    assert phones(run("<p>Tel. 89 2345678</p>")) == {"+49892345678"}
    assert phones(run("<p>Zimmer 89 2345678</p>")) == set()  # unlabelled: not read


# --- obfuscated and encoded emails --------------------------------------------------------

def test_typo3_uncrypt_mailto_link():
    r = run("<a href=\"javascript:linkTo_UnCryptMailto('nbjmup+jogpAgjsnb/ef');\">info(at)firma.de</a>")
    assert emails(r) == {"info@firma.de"}
    assert next(e for e in r.emails).method in ("encoded", "obfuscated")


def test_typo3_shift_with_an_explicit_offset_and_data_token():
    assert decode_typo3("nbjmup+jogpAgjsnb/ef", 1) == "mailto:info@firma.de"
    assert decode_typo3("ocknvq,kphqBhktoc0fg") == "mailto:info@firma.de"  # shift 2, found by trying
    r = run('<a href="#" data-mailto-token="nbjmup+lpoubluAgjsnb/ef" data-mailto-vector="1">Kontakt</a>')
    assert emails(r) == {"kontakt@firma.de"}


def test_joomla_email_cloak_script():
    script = ("<span id=\"cloak1\">JavaScript required</span><script>document.getElementById('cloak1').innerHTML = '';"
              "var prefix = '&#109;a' + 'i&#108;' + '&#116;o'; var addy1 = 'info' + '&#64;';"
              "addy1 = addy1 + 'firma' + '&#46;' + 'de';</script>")
    assert emails(run(script)) == {"info@firma.de"}


@pytest.mark.parametrize("written", [
    "info[ad]firma.de", "info (at) firma.de", "info[at]firma[dot]de", "info#at#firma.de", "info{at}firma.de",
])
def test_at_variants(written):
    assert emails(run(f"<p>Mail: {written}</p>")) == {"info@firma.de"}


def test_enumeration_letters_are_not_at_signs():
    assert emails(run("<p>Artikel 3(a)firma.de regelt …</p>")) == set()


def test_doubled_and_spaced_mailto():
    assert mailto_addresses("mailto:mailto:info@firma.de") == ["info@firma.de"]
    assert mailto_addresses("mailto: info@firma.de?subject=Hallo") == ["info@firma.de"]
    r = run('<a href="mailto:mailto:info@firma.de">x</a><a href="MAILTO:%20office@firma.de">y</a>')
    assert emails(r) == {"info@firma.de", "office@firma.de"}


@pytest.mark.parametrize("placeholder", [
    "vorname.nachname@firma.de", "prenom.nom@firma.fr", "nombre.apellido@firma.es", "nome.cognome@firma.it",
    "voornaam.achternaam@firma.nl", "fornamn.efternamn@firma.se", "fornavn.etternavn@firma.no",
    "imie.nazwisko@firma.pl", "etunimi.sukunimi@firma.fi", "max.mustermann@firma.de", "jan.kowalski@firma.pl",
])
def test_placeholder_local_parts_in_many_languages(placeholder):
    assert emails(run(f"<p>z.B. {placeholder} — info@firma.de</p>")) == {"info@firma.de"}


# --- social profiles -----------------------------------------------------------------------

@pytest.mark.parametrize("href,canonical", [
    ("https://www.pinterest.de/firma/", "https://pinterest.com/firma"),
    ("https://www.xing.com/pages/firma-gmbh", "https://xing.com/pages/firma-gmbh"),
    ("https://www.threads.net/@firma", "https://threads.net/@firma"),
    ("https://bsky.app/profile/firma.bsky.social", "https://bsky.app/profile/firma.bsky.social"),
    ("https://mastodon.social/@firma", "https://mastodon.social/@firma"),
    ("https://vimeo.com/firma", "https://vimeo.com/firma"),
    ("https://github.com/firma", "https://github.com/firma"),
    ("https://www.youtube.com/firma", "https://youtube.com/firma"),
    ("https://www.youtube.com/user/Firma", "https://youtube.com/user/firma"),
    ("https://www.youtube.com/c/Firma", "https://youtube.com/c/firma"),
    ("https://www.youtube.com/@Firma", "https://youtube.com/@firma"),
    ("https://www.linkedin.com/company/firma/", "https://linkedin.com/company/firma"),
    ("https://www.linkedin.com/school/firma/", "https://linkedin.com/school/firma"),
    ("https://www.linkedin.com/edu/firma", "https://linkedin.com/edu/firma"),
    ("https://www.linkedin.com/showcase/firma-labs/", "https://linkedin.com/showcase/firma-labs"),
])
def test_profile_platforms_and_legacy_forms(href, canonical):
    assert socials(run(f'<footer><a href="{href}">profile</a></footer>')) == {canonical: "footer"}


@pytest.mark.parametrize("href", [
    "https://twitter.com/firma/status/1234567890", "https://www.facebook.com/firma/posts/123",
    "https://www.facebook.com/firma/photos/a.1/2/", "https://www.instagram.com/p/Cabc/",
    "https://www.youtube.com/watch?v=abc", "https://vimeo.com/123456789", "https://github.com/firma/website",
    "https://www.pinterest.com/pin/123456/", "https://www.tiktok.com/@firma/video/123",
])
def test_posts_videos_and_repositories_are_not_profiles(href):
    assert socials(run(f'<footer><a href="{href}">x</a></footer>')) == {}


def test_mastodon_on_any_server_with_rel_me():
    assert socials(run('<footer><a rel="me" href="https://example.org/@firma">M</a></footer>')) == {
        "https://example.org/@firma": "footer"}
    assert socials(run('<footer><a href="https://example.org/@firma">M</a></footer>')) == {}


def test_profiles_in_onclick_and_data_href():
    r = run("<footer><span onclick=\"window.open('https://www.facebook.com/firma','_blank')\">fb</span>"
            '<div data-href="https://www.instagram.com/firma/">ig</div></footer>')
    assert socials(r) == {"https://facebook.com/firma": "footer", "https://instagram.com/firma": "footer"}


def test_jsonld_same_as_is_recorded_as_structured():
    r = run('<script type="application/ld+json">{"@type": "Organization", "sameAs": '
            '["https://www.facebook.com/firma", "https://www.xing.com/pages/firma"]}</script>')
    assert socials(r) == {"https://facebook.com/firma": "jsonld", "https://xing.com/pages/firma": "jsonld"}


def test_embedded_posts_and_author_bylines_are_third_parties():
    r = run('<article><p class="byline">Von <a href="https://twitter.com/autorin">Autorin</a></p>'
            '<blockquote class="twitter-tweet"><a href="https://twitter.com/someone">@someone</a></blockquote>'
            '</article><footer><a href="https://twitter.com/firma">X</a></footer>')
    assert socials(r) == {"https://x.com/firma": "footer"}


def test_article_links_give_way_to_the_sites_own_profiles():
    r = run('<article><p>Wir trafen <a href="https://instagram.com/celebrity">sie</a></p></article>'
            '<footer><a href="https://instagram.com/firma">Instagram</a></footer>')
    assert socials(r) == {"https://instagram.com/firma": "footer"}


def test_where_each_profile_was_found():
    r = run('<header><a href="https://facebook.com/firma">f</a></header>'
            '<nav><a href="https://instagram.com/firma">i</a></nav>'
            '<div class="contact-box"><a href="https://www.xing.com/pages/firma">x</a></div>'
            '<main><p><a href="https://www.linkedin.com/company/firma">l</a></p></main>')
    assert socials(r) == {
        "https://facebook.com/firma": "header", "https://instagram.com/firma": "nav",
        "https://xing.com/pages/firma": "contact", "https://linkedin.com/company/firma": "main",
    }


# --- one call, everything -------------------------------------------------------------------

def test_extract_page_returns_metadata_from_the_same_parse():
    head = ('<title> Firma  GmbH </title><meta name="description" content="Schreinerei">'
            '<link rel="canonical" href="/kontakt">')
    r = run('<h1>Kontakt</h1><p>Wir bauen Möbel.</p><a href="https://facebook.com/firma">fb</a>', head=head)
    meta = r.metadata
    assert meta["title"] == "Firma GmbH" and meta["meta_description"] == "Schreinerei"
    assert meta["h1"] == "Kontakt" and meta["canonical_url"] == "https://www.firma.de/kontakt"
    assert meta["language"] == "de" and meta["social_links"] == ["https://facebook.com/firma"]
    assert meta["word_count"] == 5  # Kontakt Wir bauen Möbel. fb


def test_empty_page_has_empty_metadata():
    r = extract_page("", url="https://firma.de/")
    assert not r and r.metadata["word_count"] == 0 and r.metadata["title"] == ""


# --- shapes seen on the real-page corpus ------------------------------------------------------

def test_fax_label_on_the_line_above_and_after_the_number():
    r = run("<div>Phone:</div><div>305.682.1944</div><div>Fax:</div><div>305.682.1945</div>",
            url="https://bluedog.com/", lang="en", region="US")
    assert phones(r) == {"+13056821944"} and faxes(r) == {"+13056821945"}
    r = run("<p>202.400.3052 voice</p><p>202.299.1148 fax</p><p>Contact: 202-400-3052 Fax: 202-299-1148</p>",
            url="https://kmb.com/", lang="en", region="US")
    assert phones(r) == {"+12024003052"} and faxes(r) == {"+12022991148"}


def test_unlabelled_number_that_is_labelled_fax_elsewhere_is_a_fax():
    r = run("<p>T: 0492 - 524 333</p><p>F: 0492 - 524 898</p><table><tr><td>0492 - 52 48 98</td></tr></table>",
            url="https://firma.nl/", lang="nl")
    assert phones(r) == {"+31492524333"} and faxes(r) == {"+31492524898"}


def test_tel_fax_label_is_both_kinds():
    r = run("<p>Tel./Fax: 069 12345678</p>")
    assert phones(r) == {"+496912345678"} and faxes(r) == {"+496912345678"}


def test_fax_icon_image_labels_the_number():
    r = run('<p><img src="/img/phone.gif"> +351 229 812 220</p><p><img src="/img/fax.gif"> +351 229 812 222</p>',
            url="https://innux.com/", lang="en")
    assert phones(r) == {"+351229812220"} and faxes(r) == {"+351229812222"}


@pytest.mark.parametrize("text", [
    "Dinsdag - Vrijdag 09.00 - 18.00 uur", "CVR: 35545905", "Size: 35-70-125-250 grams",
    "PIN: 25.07.400.004; 25.18.200.002", "P.IVA e Cod. Fisc. 03836450407",
])
def test_hours_company_numbers_sizes_and_pins_are_not_phones(text):
    r = run(f"<p>{text}</p>", url="https://firma.nl/", lang="nl")
    assert phones(r) == set() and faxes(r) == set()


@pytest.mark.parametrize("address,region", [
    ("8500 Wilshire Blvd, Beverly Hills CA 90211", "US"),
    ("183 Marsh Wall, London E14 9SR", "GB"),
    ("Industrieweg 140, 5683 CG Best", "NL"),
    ("100 King St W, Toronto, ON M5X 1A9", "CA"),
])
def test_region_from_postal_code_shapes(address, region):
    r = run(f"<p>{address}</p>", url="http://unknown.invalid/", lang="en")
    assert (r.region, r.region_source) == (region, "postal_address")


def test_region_from_north_american_number_format():
    r = run("<p>Call (413) 732-8702 or 413.732.8703</p>", url="http://unknown.invalid/", lang="en")
    assert r.region_source == "number_format" and phones(r) == {"+14137328702", "+14137328703"}


def test_other_organisations_cards_are_not_the_business():
    body = ('<p>Hotel: 253-941-6000 · <a href="mailto:info@hotel-example.com">info@hotel-example.com</a></p>'
            '<div class="place"><b>Tacoma Dome</b><p>Phone: 253.272.3663</p>'
            '<p>Website: <a href="http://www.tacomadome.org">www.tacomadome.org</a></p></div>'
            '<div><h3>Press contacts</h3><a href="mailto:angie@lanepr.com"><b>Angie</b></a><br>LANE PR<br>'
            '503-546-7871<br><br></div>')
    r = run(body, url="https://hotel-example.com/", lang="en", region="US")
    assert phones(r) == {"+12539416000"}
    assert emails(r) == {"info@hotel-example.com"}


def test_the_business_own_other_domain_is_not_a_third_party():
    body = ('<p>Longo Lab Design | Ramsey, NJ 07446 | (800) 635-6646 | '
            '<a href="mailto:info@longoinc.com">info@longoinc.com</a></p><p>sales@longolabs.com</p>')
    r = run(body, url="https://longolabs.com/", lang="en", region="US")
    assert phones(r) == {"+18006356646"} and "info@longoinc.com" in emails(r)


def test_share_buttons_are_not_profiles_but_shareable_lists_are():
    r = run('<div class="share-buttons"><a href="https://twitter.com/someone">t</a></div>'
            '<ul><li class="shareable facebook"><a href="http://www.Facebook.com/TheHoxton">f</a></li></ul>')
    assert socials(r) == {"https://facebook.com/thehoxton": "body"}
