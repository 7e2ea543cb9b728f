"""The board in a real browser (Debian's headless Chromium): a team lead signs in through the form,
finds the breached referral, the missed visit and the overdue follow-up, still sees them on a
phone without scrolling sideways, and opens the fidelity figures and one figure's episodes.
For now the rows come from a hand-written reader, not from journeys on the broker."""

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from services.board.signin import Users, add_user
from services.board.web import WebSettings, create_app
from tests.board_fakes import NOW, BelfastIds, FakeReader, belfast_board
from tests.browser import chromium, needs_chromium, phone_width, serving, sign_in
from tests.fakes import FixedClock

pytestmark = needs_chromium

PASSWORD = "alice's long password"


@pytest.fixture(scope="module")
def ids() -> BelfastIds:
    return BelfastIds()


@pytest.fixture(scope="module")
def board_url(ids, tmp_path_factory) -> Iterator[str]:
    users = tmp_path_factory.mktemp("board") / "users.json"
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    add_user(users, "alice", "belfast", PASSWORD, hasher=cheap)
    reader = FakeReader({"htcr:belfast": belfast_board(ids)})
    # Plain HTTP on 127.0.0.1, so the cookie cannot be HTTPS-only here.
    app = create_app(reader, Users(users, cheap), WebSettings("a-browser-test-secret-of-40-characters!!", https_only=False),
                     FixedClock(NOW))
    with serving(app) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


def row_of(driver: WebDriver, patient) -> str:
    """The class of the board row naming the patient, found by the whole id in its title."""
    code = driver.find_element(By.CSS_SELECTOR, f'code.id[title="{patient}"]')
    assert code.text == str(patient)[:8] and code.is_displayed()
    return code.find_element(By.XPATH, "./ancestor::tr").get_attribute("class")


def test_a_team_lead_signs_in_and_finds_what_slipped(browser, board_url, ids):
    """Signed in through the form, the team lead lands on the board and finds the breached referral, the missed visit and the overdue follow-up, each marked."""
    sign_in(browser, board_url, "alice", PASSWORD)
    assert urlsplit(browser.current_url).path == "/teams/htcr:belfast"
    assert "red" in row_of(browser, ids.breached).split()
    assert "amber" in row_of(browser, ids.missed).split()
    assert "red" in row_of(browser, ids.overdue).split()
    assert "red" not in row_of(browser, ids.waiting).split()
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "breached: 2 h 10 min past the 4 h target" in page
    assert "missed: nobody recorded a visit" in page
    assert "overdue by 5 h" in page


def test_the_board_fits_a_phone_without_sideways_scrolling(browser, board_url, ids):
    """At a phone's 390 px the board is one column, as wide as the screen, and the same three rows are still there."""
    sign_in(browser, board_url, "alice", PASSWORD)
    phone_width(browser)
    browser.get(f"{board_url}/teams/htcr:belfast")
    assert browser.execute_script("return window.innerWidth") == 390
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    for patient in (ids.breached, ids.missed, ids.overdue):
        assert row_of(browser, patient)
    code = browser.find_element(By.CSS_SELECTOR, f'code.id[title="{ids.breached}"]')
    assert code.rect["x"] + code.rect["width"] <= 390


def test_the_fidelity_page_leads_to_the_episodes_behind_a_figure(browser, board_url):
    """From the board, the fidelity page shows a chart per figure, and a figure's link opens its episodes, those that fell short marked."""
    sign_in(browser, board_url, "alice", PASSWORD)
    browser.find_element(By.LINK_TEXT, "Fidelity").click()
    assert urlsplit(browser.current_url).path == "/teams/htcr:belfast/fidelity"
    assert len(browser.find_elements(By.CSS_SELECTOR, "li.figure svg")) == 5
    browser.find_element(By.PARTIAL_LINK_TEXT, "assessed within 4 hours").click()
    assert urlsplit(browser.current_url).path == "/teams/htcr:belfast/fidelity/assessed-within-4h"
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.episode")) == 11
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.episode.red")) == 2
    assert "fell short" in browser.find_element(By.CSS_SELECTOR, "tr.episode.red").text.lower()  # the tag is set in capitals


def test_the_browser_is_sent_to_sign_in_and_back(browser, board_url):
    """Opening the fidelity page without a session goes through the sign-in form and back to the fidelity page."""
    browser.get(f"{board_url}/teams/htcr:belfast/fidelity?week=2026-11-30")
    assert urlsplit(browser.current_url).path == "/sign-in"
    browser.find_element(By.ID, "username").send_keys("alice")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]").click()
    assert browser.current_url == f"{board_url}/teams/htcr:belfast/fidelity?week=2026-11-30"
