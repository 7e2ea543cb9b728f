"""Screenshots of a running board, as a team lead's browser shows it: signs in through the sign-in
form with Debian's headless Chromium and writes board.png and fidelity.png at full page height.

  python -m tools.screenshots http://127.0.0.1:8080 USERNAME OUT_DIR [--team htcr:belfast] [--week 2026-12-07]

The password is read from CAREPATH_BOARD_PASSWORD, or asked for: never from the command line,
where every user of the machine could read it. The browser setup here is the browser tests' too.
"""

import argparse
import base64
import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@contextmanager
def chromium(width: int = 1280, height: int = 1600) -> Iterator[WebDriver]:
    """Debian's Chromium, headless, driven through Debian's chromedriver. Naming the driver's path
    keeps Selenium Manager from looking for one on the network."""
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def sign_in(driver: WebDriver, base_url: str, username: str, password: str, goto: str = "/") -> None:
    """Sign in through the form, as a person would; raises with the page's own message if refused."""
    driver.get(f"{base_url}/sign-in?{urlencode({'next': goto})}")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: urlsplit(d.current_url).path != "/sign-in" or d.find_elements(By.CSS_SELECTOR, ".error"))
    if urlsplit(driver.current_url).path == "/sign-in":
        raise RuntimeError(f"sign-in refused: {driver.find_element(By.CSS_SELECTOR, '.error').text}")


def phone_width(driver: WebDriver, width: int = 390, height: int = 844) -> None:
    """Lay the page out as a phone would (desktop Chromium will not make a window this narrow)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})


def full_page_png(driver: WebDriver, path: Path) -> Path:
    """The whole page, however long, not only the part in the window (and no blank window below a short one)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    height = driver.execute_script("return Math.ceil(document.body.getBoundingClientRect().height)") or size["height"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(height, size["height"]), "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def screenshots(base_url: str, username: str, password: str, out_dir: Path, team: str | None = None,
                week: str | None = None) -> list[Path]:
    """board.png and fidelity.png of `team` (default: where the user lands after signing in)."""
    base_url = base_url.rstrip("/")
    out_dir.mkdir(parents=True, exist_ok=True)
    with chromium() as driver:
        sign_in(driver, base_url, username, password, f"/teams/{team}" if team else "/")
        board_path = urlsplit(driver.current_url).path
        if not board_path.startswith("/teams/"):
            raise RuntimeError(f"signed in, but landed on {board_path}, not a board: say which --team")
        board = full_page_png(driver, out_dir / "board.png")
        driver.get(f"{base_url}{board_path}/fidelity" + (f"?{urlencode({'week': week})}" if week else ""))
        fidelity = full_page_png(driver, out_dir / "fidelity.png")
    return [board, fidelity]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Screenshots of a running board (board.png, fidelity.png).")
    parser.add_argument("base_url", help="where the board is served, e.g. http://127.0.0.1:8080")
    parser.add_argument("username")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--team", help="e.g. htcr:belfast (default: where the user lands)")
    parser.add_argument("--week", help="the fidelity week, YYYY-MM-DD (default: this week)")
    args = parser.parse_args(argv)
    password = os.environ.get("CAREPATH_BOARD_PASSWORD") or getpass.getpass(f"{args.username}'s password: ")
    for path in screenshots(args.base_url, args.username, password, args.out_dir, args.team, args.week):
        print(path, file=sys.stderr)


if __name__ == "__main__":
    main()
