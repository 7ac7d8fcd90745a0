"""A curator's first session in a real browser: log in, search, select places, watch them being deep-scanned.

Headless Chromium (Debian's chromium + chromium-driver, driven by Selenium)
against the live server of pytest-django, the Places and websites sandboxes
in this process and one real `qcluster` worker process. Selenium is given the
browser and the driver explicitly, so Selenium Manager never downloads one.

Each step leaves a screenshot in screenshots/ (git-ignored): 01-login.png,
02-admin-index.png, 03-new-search.png, … Look at them after a run.
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
WAIT = 60  # seconds: the deadline of every wait on the worker
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
                     "--disable-dev-shm-usage", "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


class Shots:
    """Numbered screenshots of the steps, in screenshots/ (created at run time)."""

    def __init__(self, driver):
        self.driver = driver
        self.taken: list[Path] = []
        SCREENSHOTS.mkdir(exist_ok=True)

    def __call__(self, name: str) -> Path:
        path = SCREENSHOTS / f"{len(self.taken) + 1:02d}-{name}.png"
        assert self.driver.save_screenshot(str(path)), f"could not save {path}"
        self.taken.append(path)
        return path


def badges(driver, column: str) -> list[str]:
    """The processing-status badge of every row of a change list, for a workflow column (`<name>_statuses`)."""
    from selenium.webdriver.common.by import By

    cells = driver.find_elements(By.CSS_SELECTOR, f"#result_list tbody td.field-{column}")
    # curation badge (if any), then the processing badge; an empty status is a grey "—" without data-status
    return [(cell.find_elements(By.CSS_SELECTOR, ":scope > span")[-1].get_attribute("data-status") or "")
            for cell in cells]


def reveal(driver, column: str) -> None:
    """Scroll the change list sideways to a workflow's status column (it sits right of the facts, off-screen)."""
    from selenium.webdriver.common.by import By

    cells = driver.find_elements(By.CSS_SELECTOR, f"#result_list td.field-{column}")
    if cells:
        driver.execute_script("arguments[0].scrollIntoView({block: 'nearest', inline: 'center'});", cells[0])


def reload_until(driver, condition, what: str, timeout: float = WAIT):
    """Reload the page until `condition(driver)` is true (a curator pressing F5), with a deadline."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    def reloaded(d):
        d.refresh()
        return condition(d)

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.5).until(reloaded)
    except TimeoutException:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None


def test_a_curator_searches_and_deep_scans_in_the_admin(
    browser, live_server, pipeline_env, pipeline_settings, processes, django_user_model,
):  # the worker (processes) starts after, and so stops before, the sandboxes it talks to
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    t0 = time.monotonic()
    driver, shot = browser, Shots(browser)
    wait = WebDriverWait(driver, 15)
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
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist")))
        assert "was added successfully" in css("ul.messagelist").text
        reveal(driver, "place_search_statuses")
        shot("search-queued")
        search = PlaceSearch.objects.get()
        assert search.created_by.username == USERNAME

        # --- the worker runs it: reload until the badge says Completed ------------------------------------
        reload_until(driver, lambda d: badges(d, "place_search_statuses") == ["Completed"],
                     "the search to show Completed")
        assert "4 place(s)" in css("#result_list").text
        reveal(driver, "place_search_statuses")
        shot("search-completed")

        # --- its places: tick the rows, choose the deep-scan action, apply --------------------------------
        driver.find_element(By.LINK_TEXT, "4 place(s)").click()
        wait.until(EC.url_contains("/admin/places/place/"))
        wait.until(EC.presence_of_element_located((By.ID, "result_list")))
        rows = driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
        assert len(rows) == 4, [r.text for r in rows]
        assert badges(driver, "deep_scan_statuses") == [""] * 4, "never queued: no processing badge yet"
        shot("places")
        for box in driver.find_elements(By.CSS_SELECTOR, "#result_list tbody input.action-select"):
            box.click()
        assert len(driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr.selected")) == 4
        actions = Select(css("select[name=action]"))
        labels = [o.text for o in actions.options]
        assert "Deep scan: mark as Selected (queues deep scan)" in labels, labels
        actions.select_by_visible_text("Deep scan: mark as Selected (queues deep scan)")
        shot("deep-scan-action")
        css("button[name=index]").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist li.success")))
        message = css("ul.messagelist li.success").text
        assert re.search(r"Deep scan: 4 row\(s\) marked Selected: 4 queued\.", message), message
        seen = badges(driver, "deep_scan_statuses")
        assert len(seen) == 4 and set(seen) <= {"Queued", "Processing", "Completed"}, seen
        reveal(driver, "deep_scan_statuses")
        shot("deep-scan-queued")

        reload_until(driver, lambda d: badges(d, "deep_scan_statuses") == ["Completed"] * 4,
                     "the four places to show deep scan Completed")
        assert all("Selected" in cell.text for cell in
                   driver.find_elements(By.CSS_SELECTOR, "#result_list tbody td.field-deep_scan_statuses"))
        reveal(driver, "deep_scan_statuses")
        shot("deep-scan-completed")

        # --- and the curator's next stage is there ------------------------------------------------------
        driver.get(f"{live_server.url}/admin/places/localbusiness/")
        wait.until(EC.presence_of_element_located((By.ID, "result_list")))
        assert len(driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")) == 4
        shot("local-businesses")

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

    assert Place.objects.filter(deep_scan_processing_status="Completed").count() == 4
    assert worker.poll() is None, "the worker is still running"
    print(f"browser test: {time.monotonic() - t0:.1f} s; screenshots: {', '.join(p.name for p in shot.taken)}")
