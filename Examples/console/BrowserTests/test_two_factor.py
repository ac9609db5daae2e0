"""Two-factor sign-in in a real browser: set up an authenticator app on My account, sign in
with a code and with a recovery code, and an administrator's reset. Codes are computed here
from the key the page shows (RFC 6238 with the standard library's hmac)."""

import base64
import hashlib
import hmac
import struct
import time

from conftest import ADMIN_PASSWORD, ADMIN_USERNAME, check_page, new_page, sign_in, user_id_from_url
from playwright.sync_api import Page, expect
from test_console import create_user

USERNAME = "dorothy.vaughan@example.com"
PASSWORD = "Orbital-Mechanics-1962"


def totp(secret: str, offset_steps: int = 0) -> str:
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    counter = int(time.time()) // 30 + offset_steps
    mac = hmac.digest(key, struct.pack(">Q", counter), hashlib.sha1)
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def sign_out(page: Page) -> None:
    page.locator("details.profile > summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")


def test_two_factor_sign_in_from_set_up_to_reset(browser):
    admin = new_page(browser)
    sign_in(admin, ADMIN_USERNAME, ADMIN_PASSWORD)
    expect(admin.get_by_role("heading", name="Administration")).to_be_visible()
    create_user(admin, "Dorothy", "Vaughan", USERNAME, PASSWORD)
    expect(admin.get_by_role("heading", name="User Details")).to_be_visible()
    user_id = user_id_from_url(admin)

    # The user sets up an app on My account (the admin set her password: change it first).
    page = new_page(browser)
    sign_in(page, USERNAME, PASSWORD)
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(PASSWORD + "!")
    page.get_by_label("Confirm new password").fill(PASSWORD + "!")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    page.get_by_label("Your password, to set it up").fill(PASSWORD + "!")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_role("heading", name="Set up an authenticator app")).to_be_visible()
    secret = page.get_by_test_id("two-factor-secret").inner_text()
    assert len(secret.replace(" ", "")) == 32  # 160 bits
    assert page.get_by_test_id("two-factor-uri").inner_text().startswith("otpauth://totp/")
    check_page(page, "two-factor-set-up")
    # A wrong code keeps the enrolment: the app she set up stays good, and she tries again.
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "The code is not right; enter the code your app shows now.")
    page.get_by_label("Code from the app").fill(totp(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").locator("li").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10
    check_page(page)
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_role("status")).to_have_text("Two-factor sign-in is on.")

    # Signing in now takes a code; a wrong one is refused and the page stays.
    sign_out(page)
    sign_in(page, USERNAME, PASSWORD + "!")
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    check_page(page, "sign-in-code")
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_have_text("The code is not right.")
    # The set-up used the current step's code; the next step's is accepted (one step of skew).
    page.get_by_label("Code from your authenticator app").fill(totp(secret, 1))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()

    # A recovery code signs in once.
    sign_out(page)
    sign_in(page, USERNAME, PASSWORD + "!")
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    sign_out(page)
    sign_in(page, USERNAME, PASSWORD + "!")
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_have_text("The code is not right.")
    page.get_by_label("Recovery code").fill(codes[1])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()

    # An administrator resets the lost factor: her open session ends, and the password alone
    # signs her in again.
    admin.goto(f"/admin/users/{user_id}")
    expect(admin.get_by_role("region", name="Profile").get_by_text("On", exact=True)).to_be_visible()
    admin.get_by_role("button", name="Reset two-factor sign-in").click()
    expect(admin.get_by_role("status")).to_have_text(
        "Two-factor sign-in was reset; the user can enrol a new app.")
    page.goto("/account")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, USERNAME, PASSWORD + "!")
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    expect(page.get_by_role("button", name="Set up an authenticator app")).to_be_visible()

    # She sets up a new app, then turns it off herself: that takes a code of the factor. (One
    # failure at a time here: the test server throttles after two.) Setting it up takes her
    # password: a session alone cannot tie the account to another app.
    page.get_by_label("Your password, to set it up").fill("not her password")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_role("alert")).to_have_text("The password is not right.")
    page.get_by_label("Your password, to set it up").fill(PASSWORD + "!")
    page.get_by_role("button", name="Set up an authenticator app").click()
    secret = page.get_by_test_id("two-factor-secret").inner_text()
    page.get_by_label("Code from the app").fill(totp(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    codes = page.get_by_test_id("recovery-codes").locator("li").all_inner_texts()
    page.get_by_role("link", name="Done").click()
    page.get_by_label("Code from the app, to turn it off").fill("000000")
    page.get_by_role("button", name="Turn off two-factor sign-in").click()
    expect(page.get_by_role("alert")).to_have_text("The code is not right.")
    page.get_by_label("Or a recovery code").fill(codes[0])
    page.get_by_role("button", name="Turn off two-factor sign-in").click()
    expect(page.get_by_role("button", name="Set up an authenticator app")).to_be_visible()
