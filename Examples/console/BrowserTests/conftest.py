"""Shared fixtures: one headless Debian Chromium, signed-in pages, axe and screenshots."""

import os
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect, sync_playwright

URL = os.environ["CONSOLE_URL"]
ADMIN_USERNAME = os.environ["ADMIN_USERNAME"]
ADMIN_PASSWORD = os.environ["ADMIN_PASSWORD"]
SCREENSHOT_DIR = os.environ.get("SCREENSHOT_DIR")

_axe = Axe()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


def new_page(browser) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=URL)
    context.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)
    return context.new_page()


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture(scope="session")
def admin(browser) -> Page:
    page = new_page(browser)
    sign_in(page, ADMIN_USERNAME, ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    return page


def check_page(page: Page, screenshot: str | None = None) -> None:
    """axe-core finds no serious or critical violation, and every control has a label."""
    results = _axe.run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"axe violations on {page.url}: {bad}"
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
              .filter(e => !e.hidden && e.labels.length === 0 && !e.getAttribute('aria-label'))
              .map(e => e.outerHTML)"""
    )
    assert unlabelled == [], f"unlabelled controls on {page.url}: {unlabelled}"
    if screenshot and SCREENSHOT_DIR:
        page.screenshot(path=os.path.join(SCREENSHOT_DIR, f"{screenshot}.png"), full_page=True)


def csrf_of(page: Page) -> str:
    return page.locator("input[name=csrf]").first.get_attribute("value")


def user_id_from_url(page: Page) -> str:
    match = re.search(r"/admin/users/([0-9A-F-]{36})", page.url)
    assert match, page.url
    return match.group(1)


def open_profile_menu(page: Page, item: str) -> None:
    page.locator("details.profile > summary").click()
    page.get_by_role("link", name=item).click()
