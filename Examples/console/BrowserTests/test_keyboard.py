"""The whole flow with the keyboard alone: sign in, add a user, find them, sign out."""

from conftest import ADMIN_PASSWORD, ADMIN_USERNAME, new_page
from playwright.sync_api import Page, expect


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Presses Tab until the element matching `selector` has the focus."""
    target = page.locator(selector).first
    for _ in range(limit):
        if target.evaluate("e => e === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_flow(browser):
    page = new_page(browser)
    page.goto("/sign-in")
    tab_to(page, "#username")
    page.keyboard.type(ADMIN_USERNAME)
    page.keyboard.press("Tab")
    page.keyboard.type(ADMIN_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()

    tab_to(page, "a.button.primary")  # Add New User
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Create User Account")).to_be_visible()
    tab_to(page, "#firstName")
    page.keyboard.type("Ada")
    page.keyboard.press("Tab")
    page.keyboard.type("Keys")
    page.keyboard.press("Tab")
    page.keyboard.type("keys@example.com")
    tab_to(page, "#password")
    page.keyboard.type("Only-The-Keyboard-2026")
    tab_to(page, "button[type=submit].primary")
    page.keyboard.press("Enter")
    expect(page.get_by_text("What role would you like to assign to the user?")).to_be_visible()
    tab_to(page, "input[name=role]:checked")
    page.keyboard.press("ArrowUp")  # Admin ← General User
    expect(page.get_by_label("Admin", exact=True)).to_be_checked()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("General User", exact=True)).to_be_checked()
    tab_to(page, "button[type=submit].primary")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("The user was added.")

    tab_to(page, "summary")  # the profile menu
    page.keyboard.press("Enter")
    tab_to(page, "details.profile button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
