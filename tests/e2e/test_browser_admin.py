"""A curator's first session in a real browser: log in, search, select places, watch them being deep-scanned
live (no reload), and every workflow list and the pipeline dashboard at 1366 px.

Headless Chromium (Debian's chromium + chromium-driver, driven by Selenium)
against the live server of pytest-django, the Places and websites sandboxes
in this process and one real `qcluster` worker process. Selenium is given the
browser and the driver explicitly, so Selenium Manager never downloads one.

Each step leaves a screenshot in screenshots/ (git-ignored): 01-login.png, …;
the lists, the dashboard and the operator page are also written to
docs/screenshots/ (committed: what the README shows) when UPDATE_SCREENSHOTS=1
is set, and to the test's temporary directory otherwise (a run leaves the
checkout clean).
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from places.models import Place, PlaceSearch

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = Path(django_settings.BASE_DIR) / "screenshots"
DOC_SCREENSHOTS = Path(django_settings.BASE_DIR) / "docs" / "screenshots"
WIDTH, HEIGHT = 1366, 900  # a common laptop screen (issue #16)
LAPTOP_HEIGHT = 768  # the pipeline page is measured at 1366×768
WAIT = 120  # seconds: the deadline of every wait (the worker, a page on a loaded machine)
USERNAME, PASSWORD = "admin-e2e", "e2e-admin-pass-5307"


@pytest.fixture
def browser(tmp_path):
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(path)]
    if missing:
        pytest.skip(f"needs Debian's chromium and chromium-driver ({', '.join(missing)} missing); "
                    "`apt-get install chromium chromium-driver` (.ci/run installs them)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium in .venv (pip install selenium)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-dev-shm-usage", f"--window-size={WIDTH},{HEIGHT}", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)  # must not fire: the machine may be loaded
    yield driver
    driver.quit()


def doc_screenshots_folder(tmp_path: Path) -> Path:
    """docs/screenshots/ with UPDATE_SCREENSHOTS=1; otherwise a temporary folder, so that a test run does not
    rewrite the committed images (and dirty the checkout)."""
    return DOC_SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path / "doc-screenshots"


class Shots:
    """Numbered screenshots of the steps, in screenshots/ (created at run time), and the documentation's."""

    def __init__(self, driver, doc_folder: Path):
        self.driver = driver
        self.doc_folder = doc_folder
        self.taken: list[Path] = []
        SCREENSHOTS.mkdir(exist_ok=True)

    def doc(self, name: str, *, from_top: bool = True) -> Path:
        """A screenshot of the documentation (<doc_folder>/<name>.png), as well as a numbered one."""
        if from_top:
            self.driver.execute_script("window.scrollTo(0, 0);")
        self.doc_folder.mkdir(parents=True, exist_ok=True)
        path = self.doc_folder / f"{name}.png"
        assert self.driver.save_screenshot(str(path)), f"could not save {path}"
        return self(name)

    def __call__(self, name: str) -> Path:
        path = SCREENSHOTS / f"{len(self.taken) + 1:02d}-{name}.png"
        assert self.driver.save_screenshot(str(path)), f"could not save {path}"
        self.taken.append(path)
        return path


def column_cells(driver, workflow: str) -> list:
    """The cells of a workflow's column in a change list (cells carry no class: found through the header)."""
    from selenium.webdriver.common.by import By

    headers = driver.find_elements(By.CSS_SELECTOR, "#result_list thead th")
    index = next(i for i, th in enumerate(headers) if f"column-{workflow}" in th.get_attribute("class").split())
    return [row.find_elements(By.XPATH, "./*")[index]
            for row in driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")]


def badges(driver, workflow: str) -> list[str]:
    """The processing state of every row of a change list for `workflow` ("" when never queued)."""
    from selenium.webdriver.common.by import By

    states = []
    for cell in column_cells(driver, workflow):
        badge = cell.find_elements(By.CSS_SELECTOR, "b[class^='s-']")
        states.append(badge[-1].get_attribute("class").removeprefix("s-") if badge else "")
    return states


def wait_live(driver, condition, what: str, timeout: float = WAIT):
    """Wait, without reloading, until `condition(driver)` holds: the page updates itself (live.js)."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("window.__notReloaded = true;")
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.5,
                      ignored_exceptions=(StaleElementReferenceException,)).until(condition)
    except TimeoutException:
        raise AssertionError(f"timed out after {timeout}s waiting for {what} (live, without reload)") from None
    assert driver.execute_script("return window.__notReloaded === true;"), "the page was reloaded"


def assert_on_screen(driver, elements, what: str) -> None:
    """Every element is visible without scrolling sideways: inside the window and inside the change list's
    own scroll box (which clips what is wider than the space between the sidebar and the filters)."""
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.CSS_SELECTOR, "#changelist .results")
    scroll = driver.execute_script("return [window.scrollX, arguments[0].scrollLeft];", box)
    assert scroll == [0, 0], f"{what}: scrolled sideways {scroll}"
    limit = driver.execute_script(
        "return Math.min(document.documentElement.clientWidth, arguments[0].getBoundingClientRect().right);", box)
    assert elements, f"{what}: nothing to measure"
    for element in elements:
        left, right, width = driver.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return [r.left, r.right, r.width];", element)
        assert width > 0 and left >= 0 and right <= limit + 0.5, \
            f"{what}: {element.text!r} spans {left:.0f}–{right:.0f} px, visible up to {limit:.0f} px"


LISTS = (  # every workflow model's change list: (path, its workflows, screenshot name)
    ("/admin/places/placesearch/", ["place_search"], "list-place-searches"),
    ("/admin/places/place/", ["deep_scan"], "list-places"),
    ("/admin/places/localbusiness/", ["domain_extraction"], "list-businesses"),
    ("/admin/pages/domain/", ["sitemap_discovery"], "list-domains"),
    ("/admin/pages/sitemapfile/", ["sitemap_import"], "list-sitemap-files"),
    ("/admin/pages/page/", ["page_scrape"], "list-pages"),
    ("/admin/contacts/contact/", ["contact_validation", "brevo_sync", "hubspot_sync", "webhook_sync"], "list-contacts"),
)
LONG_ERROR = ("HTTP 503 from https://www.a-very-long-business-name-for-testing.example/sitemaps/sitemap-index-2024.xml"
              " after 3 attempts: upstream unavailable")


def later_stages() -> None:
    """Rows of the later stages in every state, with long URLs and errors (the worker's run made the rest),
    and one row of each earlier list in Error, so every list has something to measure."""
    from places.models import LocalBusiness
    from tests.contacts.factories import ContactFactory
    from tests.pages.factories import DomainFactory, PageFactory, SitemapFileFactory

    long_domain = DomainFactory(domain="a-very-long-business-name-for-testing.example", errored=True,
                                sitemap_discovery_processing_error=LONG_ERROR)
    SitemapFileFactory(domain=long_domain, url=f"https://www.{long_domain.domain}/sitemaps/sitemap-index-2024-"
                       "restaurants-and-cafes.xml", errored=True,
                       sitemap_import_processing_error=LONG_ERROR)
    SitemapFileFactory(domain=long_domain, queued=True)
    PageFactory(domain=long_domain, url=f"https://www.{long_domain.domain}/en/about-us/contact-and-directions-to-"
                "our-store", errored=True, page_scrape_processing_error=LONG_ERROR)
    PageFactory(domain=long_domain, completed=True)
    ContactFactory(domain=long_domain, value="someone.with.a.long.name@a-very-long-business-name-for-testing.example",
                   validation_errored=True, contact_validation_processing_error=LONG_ERROR, brevo_queued=True)
    ContactFactory(domain=long_domain, validation_completed=True, webhook_completed=True)
    ContactFactory(domain=long_domain, phone=True, hubspot_errored=True)
    for model, wf in ((PlaceSearch, "place_search"), (Place, "deep_scan"), (LocalBusiness, "domain_extraction")):
        first = model.objects.order_by("pk").first()
        model.objects.filter(pk=first.pk).update(**{f"{wf}_processing_status": "Error",
                                                    f"{wf}_processing_error": LONG_ERROR,
                                                    f"{wf}_error_class": "http_5xx"})


def test_a_curator_searches_and_deep_scans_in_the_admin(
    browser, live_server, pipeline_env, pipeline_settings, processes, django_user_model, tmp_path,
):  # the worker (processes) starts after, and so stops before, the sandboxes it talks to
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    t0 = time.monotonic()
    driver, shot = browser, Shots(browser, doc_screenshots_folder(tmp_path))
    wait = WebDriverWait(driver, WAIT)
    worker = processes.start("qcluster", env=pipeline_env)
    django_user_model.objects.create_superuser(USERNAME, "admin-e2e@example.com", PASSWORD)

    def css(selector):
        return driver.find_element(By.CSS_SELECTOR, selector)

    try:
        # --- log in --------------------------------------------------------------------------------
        driver.get(f"{live_server.url}/admin/")
        wait.until(EC.presence_of_element_located((By.ID, "id_username")))
        assert "Log in" in driver.title
        css("#id_username").send_keys(USERNAME)
        css("#id_password").send_keys(PASSWORD)
        shot("login")
        css("#login-form [type=submit]").click()
        wait.until(EC.presence_of_element_located((By.ID, "user-tools")))
        assert "Site administration" in driver.title
        assert "Sandbox mode" in css("#sandbox-banner").text, "the admin says it runs against the sandbox"
        shot("admin-index")

        # --- a new place search: the admin's "add" form ------------------------------------------------
        driver.get(f"{live_server.url}/admin/places/placesearch/")
        css(".object-tools a.addlink").click()
        wait.until(EC.presence_of_element_located((By.ID, "id_query")))
        assert "New place search" in driver.title, driver.title
        css("#id_query").send_keys("bakery")
        css("#id_location_text").send_keys("Austin, TX")
        max_results = css("#id_max_results")
        max_results.clear()
        max_results.send_keys("10")
        shot("new-search")
        css("input[name=_save]").click()
        # The cost comes first (nothing is created yet); confirming runs it.
        wait.until(EC.presence_of_element_located((By.ID, "cost-summary")))
        assert "bakery: at most 1 Text Search request(s) ≈ $0.035" in css("#cost-summary").text
        assert not PlaceSearch.objects.exists()
        shot("new-search-cost")
        css("input[name=_confirm]").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist")))
        assert "was added successfully" in css("ul.messagelist").text
        shot("search-queued")
        search = PlaceSearch.objects.get()
        assert search.created_by.username == USERNAME

        # --- the worker runs it: the badge turns Completed by itself, no reload ----------------------------
        wait_live(driver, lambda d: badges(d, "place_search") == ["Completed"], "the search to show Completed")
        shot("search-completed")

        # --- its places (the search's "N place(s)" link): tick the rows, choose the deep-scan action ----------
        driver.get(f"{live_server.url}/admin/places/place/?search={search.pk}")
        wait.until(EC.presence_of_element_located((By.ID, "result_list")))
        rows = driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
        assert len(rows) == 4, [r.text for r in rows]
        assert badges(driver, "deep_scan") == [""] * 4, "never queued: no processing badge yet"
        shot("places")
        for box in driver.find_elements(By.CSS_SELECTOR, "#result_list tbody input.action-select"):
            box.click()
        assert len(driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr.selected")) == 4
        actions = Select(css("select[name=action]"))
        labels = [o.text for o in actions.options]
        selected = "Deep scan: mark as Selected (queues deep scan) — shows the cost first"
        assert selected in labels, labels
        actions.select_by_visible_text(selected)
        shot("deep-scan-action")
        css("button[name=index]").click()
        wait.until(EC.presence_of_element_located((By.ID, "cost-summary")))
        assert "this will cost ≈ $0.08 for 4 place(s)" in css("#cost-summary").text
        shot("deep-scan-cost")
        css("input[name=_confirm]").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist li.success")))
        message = css("ul.messagelist li.success").text
        assert re.search(r"Deep scan: 4 row\(s\) marked Selected: 4 queued\.", message), message
        seen = badges(driver, "deep_scan")
        assert len(seen) == 4 and set(seen) <= {"Queued", "Processing", "Completed"}, seen
        shot("deep-scan-queued")

        wait_live(driver, lambda d: badges(d, "deep_scan") == ["Completed"] * 4,
                  "the four places to show deep scan Completed")
        assert driver.execute_script("return document.body.getAttribute('data-live');") in ("idle", "polling")
        WebDriverWait(driver, WAIT).until(lambda d: d.execute_script("return document.body.getAttribute('data-live');")
                                          == "idle")  # nothing in flight: it stopped asking
        shot("deep-scan-completed")

        # --- and the curator's next stage is there ------------------------------------------------------
        driver.get(f"{live_server.url}/admin/places/localbusiness/")
        wait.until(EC.presence_of_element_located((By.ID, "result_list")))
        assert len(driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")) == 4
        shot("local-businesses")

        # --- every workflow list at 1366 px, sidebar and filters open: name, badges and error on screen -----
        later_stages()
        assert driver.find_element(By.ID, "nav-sidebar").is_displayed(), "the sidebar is open"
        for path, workflows, name in LISTS:
            driver.get(f"{live_server.url}{path}")
            wait.until(EC.presence_of_element_located((By.ID, "result_list")))
            assert driver.find_element(By.ID, "changelist-filter").is_displayed(), "the filters are open"
            names = driver.find_elements(By.CSS_SELECTOR, "#result_list tbody th")
            cells = [cell for wf in workflows for cell in column_cells(driver, wf)]
            shown = [b for cell in cells for b in cell.find_elements(By.CSS_SELECTOR, "b, i, small.err")]
            assert_on_screen(driver, names + shown, path)
            assert any(e.tag_name == "small" for e in shown), f"{path}: an error is shown under its badges"
            shot.doc(name)
        driver.find_element(By.ID, "filter-toggle").click()
        assert not driver.find_element(By.ID, "changelist-filter").is_displayed(), "the filter panel folds away"
        driver.find_element(By.ID, "filter-toggle").click()

        # --- the pipeline dashboard -------------------------------------------------------------------------
        driver.get(f"{live_server.url}/admin/operator/")
        wait.until(EC.presence_of_element_located((By.ID, "funnel")))
        counts = {li.get_attribute("data-stage"): li.find_element(By.CSS_SELECTOR, ".n").text
                  for li in driver.find_elements(By.CSS_SELECTOR, "#funnel li")}
        assert (counts["searches"], counts["places"], counts["businesses"]) == ("1", "4", "4"), counts
        assert counts["contacts"] == "3" and counts["validated"] == "1", counts
        assert driver.find_elements(By.CSS_SELECTOR, "#throughput svg rect.bar-ok"), "the 24 h chart has bars"
        numbers = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#workflow-table td.wf-number")]
        assert numbers[:11] == ["1", "2", "3", "4", "5", "6", "7", "8", "9a", "9b", "9c"], numbers
        # the Pipeline page fits a 1366×768 laptop screen beside the open sidebar: no sideways scrolling
        assert driver.find_element(By.ID, "nav-sidebar").is_displayed(), "the sidebar is open"
        driver.set_window_size(WIDTH, LAPTOP_HEIGHT)
        try:
            scroll_width, client_width = driver.execute_script(
                "const e = document.documentElement; return [e.scrollWidth, e.clientWidth];")
            assert scroll_width <= client_width, \
                f"the Pipeline page scrolls sideways at {WIDTH}×{LAPTOP_HEIGHT}: {scroll_width} > {client_width} px"
        finally:
            driver.set_window_size(WIDTH, HEIGHT)
        shot.doc("dashboard")
        driver.execute_script("document.getElementById('workflow-table').scrollIntoView();")
        shot.doc("operator", from_top=False)  # the workflow table (scrolled to the top it was the dashboard again)

        # --- a place's page: the business it became and the audit trail of the curator's action -----------
        driver.get(f"{live_server.url}/admin/places/place/")
        driver.find_element(By.LINK_TEXT, "Nettleby Bakery").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".field-status_history")))
        history = css(".field-status_history").text
        assert USERNAME in history and "Selected" in history and "Queued" in history, history
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", css(".field-status_history"))
        shot("place-history")
    except Exception:
        shot("failure")
        raise

    # the worker completed four; later_stages() put the first in Error for the lists' error line
    assert Place.objects.filter(deep_scan_processing_status="Completed").count() == 3
    assert worker.poll() is None, "the worker is still running"
    print(f"browser test: {time.monotonic() - t0:.1f} s; screenshots: {', '.join(p.name for p in shot.taken)}")
