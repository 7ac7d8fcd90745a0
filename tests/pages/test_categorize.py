"""The multilingual URL categoriser: a table of real-world paths."""
import pytest

from pages.categorize import CATEGORIES, Category, categorize_url

# (path, category, suggested)
TABLE = [
    # English
    ("/", "home", False),
    ("/contact", "contact", True),
    ("/contact/", "contact", True),
    ("/contact-us", "contact", True),
    ("/contact-us.html", "contact", True),
    ("/contact.php", "contact", True),
    ("/pages/contact", "contact", True),
    ("/en/contact-us/", "contact", True),
    ("/get-in-touch", "contact", True),
    ("/company/contact", "contact", True),
    ("/about", "about", True),
    ("/about-us", "about", True),
    ("/who-we-are", "about", True),
    ("/our-story", "about", True),
    ("/about/history", "about", True),
    ("/team", "team", True),
    ("/our-team", "team", True),
    ("/about/team", "team", True),
    ("/meet-the-team", "team", True),
    ("/staff", "team", True),
    ("/our-people", "team", True),
    ("/leadership", "team", True),
    ("/privacy-policy", "legal", False),
    ("/terms-of-service", "legal", False),
    ("/cookie-policy", "legal", False),
    ("/legal/privacy", "legal", False),
    ("/careers", "careers", False),
    ("/jobs/software-engineer", "careers", False),
    ("/locations", "locations", True),
    ("/store-locator", "locations", True),
    ("/find-us", "locations", True),
    ("/services", "services", False),
    ("/services/plumbing", "services", False),
    ("/blog", "blog", False),
    ("/blog/2024/05/how-to-contact-your-plumber", "blog", False),
    ("/news/new-office-opening", "blog", False),
    ("/shop", "product", False),
    ("/products/red-shoes", "product", False),
    ("/collections/summer", "product", False),
    ("/menu", "product", False),
    ("/index.html", "home", False),
    ("/files/brochure.pdf", "other", False),
    ("/wp-content/uploads/2023/01/photo.jpg", "other", False),
    ("/random-page", "other", False),
    ("/contact-us-today-for-a-quote", "contact", True),
    # German
    ("/kontakt", "contact", True),
    ("/de/kontakt/", "contact", True),
    ("/kontaktformular", "contact", True),
    ("/kontakt-aufnehmen", "contact", True),
    ("/impressum", "impressum", True),
    ("/impressum.html", "impressum", True),
    ("/de/impressum", "impressum", True),
    ("/ueber-uns", "about", True),
    ("/%C3%BCber-uns", "about", True),
    ("/uber-uns", "about", True),
    ("/unternehmen", "about", True),
    ("/unser-team", "team", True),
    ("/team/ansprechpartner", "team", True),
    ("/datenschutz", "legal", False),
    ("/datenschutzerklaerung", "legal", False),
    ("/agb", "legal", False),
    ("/karriere", "careers", False),
    ("/stellenangebote", "careers", False),
    ("/standorte", "locations", True),
    ("/anfahrt", "locations", True),
    ("/leistungen", "services", False),
    ("/aktuelles/sommerfest-2024", "blog", False),
    ("/startseite", "home", False),
    # Spanish
    ("/contacto", "contact", True),
    ("/es/contacto/", "contact", True),
    ("/contactenos", "contact", True),
    ("/quienes-somos", "about", True),
    ("/sobre-nosotros", "about", True),
    ("/equipo", "team", True),
    ("/nuestro-equipo", "team", True),
    ("/aviso-legal", "impressum", True),
    ("/politica-de-privacidad", "legal", False),
    ("/privacidad", "legal", False),
    ("/empleo", "careers", False),
    ("/trabaja-con-nosotros", "careers", False),
    ("/ubicaciones", "locations", True),
    ("/servicios", "services", False),
    ("/noticias/nueva-tienda", "blog", False),
    ("/tienda", "product", False),
    # French
    ("/nous-contacter", "contact", True),
    ("/contactez-nous", "contact", True),
    ("/fr/contact", "contact", True),
    ("/a-propos", "about", True),
    ("/%C3%A0-propos", "about", True),
    ("/qui-sommes-nous", "about", True),
    ("/notre-equipe", "team", True),
    ("/%C3%A9quipe", "team", True),
    ("/mentions-legales", "impressum", True),
    ("/mentions-l%C3%A9gales", "impressum", True),
    ("/politique-de-confidentialite", "legal", False),
    ("/confidentialite", "legal", False),
    ("/carrieres", "careers", False),
    ("/recrutement", "careers", False),
    ("/nous-trouver", "locations", True),
    ("/actualites/portes-ouvertes", "blog", False),
    ("/boutique", "product", False),
    # Italian
    ("/contatti", "contact", True),
    ("/it/contatti", "contact", True),
    ("/chi-siamo", "about", True),
    ("/il-nostro-team", "team", True),
    ("/note-legali", "impressum", True),
    ("/privacy", "legal", False),
    ("/lavora-con-noi", "careers", False),
    ("/dove-siamo", "locations", True),
    ("/sedi", "locations", True),
    ("/servizi", "services", False),
    # Dutch, Nordic, Portuguese, others
    ("/over-ons", "about", True),
    ("/nl/contact", "contact", True),
    ("/colofon", "impressum", True),
    ("/vacatures", "careers", False),
    ("/vestigingen", "locations", True),
    ("/kontakta-oss", "contact", True),
    ("/om-oss", "about", True),
    ("/yhteystiedot", "contact", True),
    ("/contato", "contact", True),
    ("/fale-conosco", "contact", True),
    ("/quem-somos", "about", True),
    ("/iletisim", "contact", True),
    ("/kontakty", "contact", True),
]


def test_table_is_large_and_multilingual():
    assert len(TABLE) >= 80
    assert len({path for path, _, _ in TABLE}) == len(TABLE)


@pytest.mark.parametrize("path, category, suggested", TABLE)
def test_categorize_table(path, category, suggested):
    result = categorize_url("https://www.example.com" + path)
    assert (result.category, result.suggested) == (category, suggested), result
    assert 0.0 <= result.confidence <= 1.0
    assert result.category in CATEGORIES


def test_bare_paths_and_queries_are_accepted():
    assert categorize_url("/kontakt?ref=footer#form").category == "contact"
    assert categorize_url("https://example.com/kontakt?ref=footer").category == "contact"


def test_confidence_falls_with_depth_and_weaker_matches():
    top = categorize_url("https://example.com/contact").confidence
    nested = categorize_url("https://example.com/company/contact").confidence
    deep = categorize_url("https://example.com/a/b/c/contact").confidence
    partial = categorize_url("https://example.com/contact-us-today-for-a-quote").confidence
    below = categorize_url("https://example.com/contact/thank-you").confidence
    assert top > nested > deep
    assert top > partial > below
    assert top >= 0.9


def test_priority_orders_contact_pages_first():
    contact = categorize_url("https://example.com/kontakt")
    team = categorize_url("https://example.com/team")
    blog = categorize_url("https://example.com/blog/post")
    assert (contact.priority, team.priority, blog.priority) == (1, 2, 3)
    assert contact.priority_score > team.priority_score > blog.priority_score


def test_result_type():
    result = categorize_url("https://example.com/impressum")
    assert isinstance(result, Category)
    assert result.matched == "impressum"
