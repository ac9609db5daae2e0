"""The seed's whole scenario in a real browser, in order: each test builds on the previous."""

import json
import os
import re

from conftest import (
    ADMIN_USERNAME,
    check_page,
    csrf_of,
    new_page,
    open_profile_menu,
    sign_in,
    user_id_from_url,
)
from playwright.sync_api import Page, expect

state: dict = {}

POLICIES = [
    {
        "name": "Reports viewer",
        "description": "May view every report.",
        "permissions": [{"resourceType": "report", "allowed": ["view"], "resourceIds": ["*"]}],
    },
    {
        "name": "Project editor",
        "description": "May edit project 42 and its documents.",
        "permissions": [
            {"resourceType": "project", "allowed": ["view", "edit"], "resourceIds": ["42"]},
            {"resourceType": "document", "allowed": ["*"], "resourceIds": ["parent:42"]},
        ],
    },
    {"name": "Unused", "description": "Held by nobody.",
     "permissions": [{"resourceType": "invoice", "allowed": ["view"], "resourceIds": ["7"]}]},
]


def test_sign_in_page_and_wrong_password(browser):
    page = new_page(browser)
    page.goto("/sign-in")
    check_page(page, "sign-in")
    sign_in(page, ADMIN_USERNAME, "not the password")
    expect(page.get_by_role("alert")).to_have_text("The username or password is not right.")
    sign_in(page, "nobody@example.com", "not the password")
    expect(page.get_by_role("alert")).to_have_text("The username or password is not right.")


def test_sign_in_issues_a_new_session_id(browser):
    page = new_page(browser)
    page.goto("/sign-in")
    # The form's token only (no session before sign-in), then the session alone.
    (before,) = page.context.cookies()
    assert before["name"] == "umk_console_signin"
    assert before["httpOnly"] and before["sameSite"] == "Strict"
    sign_in(page, ADMIN_USERNAME, os.environ["ADMIN_PASSWORD"])
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    (after,) = page.context.cookies()
    assert after["name"] == "umk_console"
    assert after["value"] != before["value"]
    assert after["httpOnly"] and after["sameSite"] == "Strict"
    page.context.close()


def test_admin_lands_on_administration(admin: Page):
    expect(admin.get_by_role("heading", name="Administration")).to_be_visible()
    expect(admin.get_by_role("cell", name=ADMIN_USERNAME)).to_be_visible()


def test_import_and_list_policies(admin: Page):
    open_profile_menu(admin, "Access-control policies")
    expect(admin.get_by_role("heading", name="Access-control policies")).to_be_visible()
    admin.get_by_label("Policy JSON").fill(json.dumps(POLICIES, indent=2))
    admin.get_by_role("button", name="Import").click()
    expect(admin.get_by_role("status")).to_have_text("The policies were imported.")
    for policy in POLICIES:
        expect(admin.get_by_role("link", name=policy["name"])).to_be_visible()
    check_page(admin)


def test_import_of_bad_json_is_refused(admin: Page):
    admin.goto("/admin/policies")
    admin.get_by_label("Policy JSON").fill('{"name": "", "permissions": 7}')
    admin.get_by_role("button", name="Import").click()
    expect(admin.get_by_role("alert")).to_contain_text("policy")
    expect(admin.get_by_role("link", name="Unused")).to_be_visible()


def test_view_and_export_policy(admin: Page):
    admin.goto("/admin/policies")
    admin.get_by_role("link", name="Project editor").click()
    expect(admin.get_by_role("heading", name="Project editor")).to_be_visible()
    expect(admin.get_by_role("cell", name="parent:42")).to_be_visible()
    check_page(admin, "policy")
    response = admin.request.get("/admin/policies/export")
    assert response.ok
    exported = json.loads(response.body())
    assert sorted(p["name"] for p in exported) == sorted(p["name"] for p in POLICIES)


def create_user(page: Page, first, last, username, password=None, role="General User", policies=(),
                status="Active", shots=False):
    """The seed's "Adding a New User": Administration → Add New → step 1 → Continue → step 2."""
    page.goto("/admin/users")
    page.get_by_role("link", name="Add New User").click()
    expect(page.get_by_role("heading", name="Create User Account")).to_be_visible()
    page.get_by_label("First Name").fill(first)
    page.get_by_label("Last Name").fill(last)
    page.get_by_label("Username").fill(username)
    if password is None:
        page.get_by_label("Auto-Generate Password").check()
    else:
        page.get_by_label("Enter a password").check()
        page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label(status, exact=True).check()
    if shots:
        check_page(page, "create-user-step1")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("What role would you like to assign to the user?")).to_be_visible()
    page.get_by_label(role, exact=True).check()
    if policies:
        page.get_by_label("Select policies").select_option(label=list(policies))
    if shots:
        check_page(page, "create-user-step2")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Add User").click()
    return posted.value


def test_create_user_with_typed_password(admin: Page):
    create_user(admin, "Grace", "Hopper", "grace@example.com", "Compiler-COBOL-1959",
                policies=["Reports viewer", "Project editor"], shots=True)
    expect(admin.get_by_role("status")).to_have_text("The user was added.")
    expect(admin.get_by_role("heading", name="User Details")).to_be_visible()
    expect(admin.get_by_text("Project editor, Reports viewer", exact=True)).to_be_visible()
    state["grace"] = user_id_from_url(admin)


def test_create_user_with_generated_password_shown_once(admin: Page):
    response = create_user(admin, "Alan", "Turing", "alan@example.com", None, policies=["Reports viewer"])
    assert response.headers["cache-control"] == "no-store"
    expect(admin.get_by_role("heading", name="Generated password")).to_be_visible()
    generated = admin.get_by_label("Generated password").input_value()
    assert len(generated) >= 15
    state["alan_password"] = generated
    check_page(admin, "generated-password")
    admin.get_by_role("link", name="Done").click()
    state["alan"] = user_id_from_url(admin)
    assert generated not in admin.content()


def test_create_admin_and_inactive_user(admin: Page):
    create_user(admin, "Katherine", "Johnson", "katherine@example.com", "Orbital-Mechanics-1962",
                role="Admin")
    expect(admin.get_by_role("status")).to_have_text("The user was added.")
    expect(admin.get_by_role("definition").filter(has_text=re.compile("^Admin$"))).to_be_visible()
    create_user(admin, "Edsger", "Dijkstra", "edsger@example.com", "Shortest-Path-1956",
                status="Inactive")
    expect(admin.get_by_role("definition").filter(has_text=re.compile("^Inactive$"))).to_be_visible()
    create_user(admin, "Barbara", "Liskov", "barbara@example.com", "Substitution-Principle-87")
    create_user(admin, "Donald", "Knuth", "donald@example.com", "Art-Of-Programming-68")


def test_create_user_refusals_keep_the_form(admin: Page):
    admin.goto("/admin/users/new")
    admin.get_by_label("First Name").fill("Dup")
    admin.get_by_label("Last Name").fill("Licate")
    admin.get_by_label("Username").fill("not-an-email")
    admin.get_by_label("Password", exact=True).fill("Whatever-Long-Password-1")
    # The browser itself refuses a username that is no e-mail address; skip that to see the
    # console's own answer.
    admin.locator("form.card").evaluate("form => form.noValidate = true")
    admin.get_by_role("button", name="Continue").click()
    expect(admin.get_by_role("alert")).to_be_visible()
    expect(admin.get_by_label("First Name")).to_have_value("Dup")
    expect(admin.get_by_label("Password", exact=True)).to_have_value("")  # never sent back
    admin.get_by_label("Username").fill("GRACE@example.com")
    admin.get_by_label("Password", exact=True).fill("Whatever-Long-Password-1")
    admin.get_by_role("button", name="Continue").click()
    admin.get_by_role("button", name="Add User").click()
    expect(admin.get_by_role("alert")).to_contain_text("already exists")


def test_list_search_filters_and_paging(admin: Page):
    admin.goto("/admin/users")
    expect(admin.get_by_text("7 users found")).to_be_visible()
    expect(admin.locator("tbody tr")).to_have_count(5)
    admin.get_by_role("link", name="Next page").click()
    expect(admin.locator("tbody tr")).to_have_count(2)
    admin.get_by_role("link", name="First page").click()
    admin.get_by_label("Search").fill("hopper")
    admin.get_by_role("button", name="Filter").click()
    expect(admin.locator("tbody tr")).to_have_count(1)
    expect(admin.get_by_role("link", name="grace@example.com")).to_be_visible()
    admin.get_by_label("Search").fill("")
    admin.get_by_label("Status").select_option(label="Inactive")
    admin.get_by_role("button", name="Filter").click()
    expect(admin.locator("tbody tr")).to_have_count(1)
    expect(admin.get_by_role("link", name="edsger@example.com")).to_be_visible()
    admin.get_by_label("Status").select_option(label="Any status")
    admin.get_by_label("Role").select_option(label="Admin")
    admin.get_by_role("button", name="Filter").click()
    expect(admin.locator("tbody tr")).to_have_count(2)
    admin.get_by_label("Role").select_option(label="Any role")
    admin.get_by_label("Policy").select_option(label="Project editor")
    admin.get_by_role("button", name="Filter").click()
    expect(admin.locator("tbody tr")).to_have_count(1)
    admin.goto("/admin/users")
    check_page(admin, "administration")


def test_per_user_menu_sets_inactive_and_active(admin: Page):
    admin.goto("/admin/users?q=barbara")
    admin.get_by_label("Actions for barbara@example.com").click()
    admin.get_by_role("button", name="Set as Inactive").click()
    expect(admin.get_by_role("status")).to_have_text("The user is now inactive.")
    admin.goto("/admin/users?q=barbara")
    admin.get_by_label("Actions for barbara@example.com").click()
    admin.get_by_role("button", name="Set as Active").click()
    expect(admin.get_by_role("status")).to_have_text("The user is now active.")
    admin.goto("/admin/users?q=barbara")
    admin.get_by_label("Actions for barbara@example.com").click()
    check_page(admin, "user-menu")


def test_own_row_and_edit_page_offer_no_self_status_or_role(admin: Page):
    admin.goto(f"/admin/users?q={ADMIN_USERNAME}")
    admin.get_by_label(f"Actions for {ADMIN_USERNAME}").click()
    expect(admin.get_by_role("link", name="Edit")).to_be_visible()
    expect(admin.get_by_role("button", name="Set as Inactive")).to_have_count(0)
    admin.get_by_role("link", name="Edit").click()
    expect(admin.get_by_text("nobody changes their own status")).to_be_visible()
    expect(admin.get_by_role("radio", name="Inactive")).to_have_count(0)
    admin.get_by_role("button", name="Continue").click()
    expect(admin.get_by_text("nobody changes their own role")).to_be_visible()
    expect(admin.get_by_role("radio", name="General User")).to_have_count(0)
    state["admin_id"] = admin.url.split("/admin/users/")[1].split("/")[0]


def test_forced_self_deactivation_shows_the_refusal(admin: Page):
    admin.goto("/admin/users")
    response = admin.request.post(
        f"/admin/users/{state['admin_id']}/status", form={"csrf": csrf_of(admin), "status": "inactive"})
    assert response.status == 403
    body = response.text()
    assert "You cannot activate or deactivate yourself." in body
    assert "Fatal error" not in body and "Traceback" not in body
    admin.goto("/admin/users")
    expect(admin.get_by_role("heading", name="Administration")).to_be_visible()


def test_forced_self_role_change_shows_the_refusal(admin: Page):
    admin.goto(f"/admin/users/{state['admin_id']}/edit")
    admin.get_by_role("button", name="Continue").click()
    draft = admin.locator("input[name=draft]").get_attribute("value")
    response = admin.request.post(
        f"/admin/users/{state['admin_id']}/edit/role",
        form={"csrf": csrf_of(admin), "draft": draft, "role": "general"})
    assert response.status == 403
    assert "You cannot grant or revoke your own admin access." in response.text()


def test_user_details_and_edit_in_two_steps(admin: Page):
    admin.goto("/admin/users?q=grace")
    admin.get_by_role("link", name="grace@example.com").click()
    expect(admin.get_by_role("heading", name="User Details")).to_be_visible()
    expect(admin.get_by_role("cell", name="user.created")).to_be_visible()
    check_page(admin, "user-details")
    admin.get_by_role("link", name="Edit user grace@example.com").click()
    expect(admin.get_by_role("heading", name="Edit User Account")).to_be_visible()
    expect(admin.get_by_text("grace@example.com")).to_be_visible()
    expect(admin.get_by_role("textbox", name="Username")).to_have_count(0)
    admin.get_by_label("First Name").fill("Grace Brewster")
    check_page(admin, "edit-user-step1")
    admin.get_by_role("button", name="Continue").click()
    admin.get_by_label("Select policies").select_option(label=["Project editor"])
    check_page(admin, "edit-user-step2")
    admin.get_by_role("button", name="Update User").click()
    expect(admin.get_by_role("status")).to_have_text("The user was updated.")
    expect(admin.get_by_text("Grace Brewster Hopper", exact=True)).to_be_visible()
    expect(admin.get_by_role("definition").filter(has_text=re.compile("^Project editor$"))).to_be_visible()


def test_enable_admin_access_by_edit(admin: Page):
    admin.goto("/admin/users?q=donald")
    admin.get_by_label("Actions for donald@example.com").click()
    admin.get_by_role("link", name="Edit").click()
    admin.get_by_role("button", name="Continue").click()
    admin.get_by_label("Admin", exact=True).check()
    admin.get_by_role("button", name="Update User").click()
    expect(admin.get_by_role("status")).to_have_text("The user was updated.")
    expect(admin.get_by_role("definition").filter(has_text=re.compile("^Admin$"))).to_be_visible()


def test_forged_username_on_edit_changes_nothing(admin: Page):
    admin.goto(f"/admin/users/{state['grace']}/edit")
    response = admin.request.post(
        f"/admin/users/{state['grace']}/edit",
        form={"csrf": csrf_of(admin), "firstName": "X", "lastName": "Y", "status": "active",
              "passwordMode": "keep", "username": "mallory@example.com"})
    assert response.status == 400
    assert "The username cannot be changed" in response.text()
    admin.goto(f"/admin/users/{state['grace']}")
    expect(admin.get_by_text("Grace Brewster Hopper", exact=True)).to_be_visible()


def test_bad_input_gets_a_message(admin: Page):
    admin.goto(f"/admin/users/{state['grace']}")
    csrf = csrf_of(admin)
    huge = admin.request.post(
        f"/admin/users/{state['grace']}/edit",
        form={"csrf": csrf, "firstName": "x" * 5000, "lastName": "Y", "status": "active", "passwordMode": "keep"})
    assert huge.status == 400 and "longer than" in huge.text()
    wrong = admin.request.post(
        f"/admin/users/{state['grace']}/status", form={"csrf": csrf, "status": "sideways"})
    assert wrong.status == 400 and "Status must be Active or Inactive" in wrong.text()
    unknown = admin.request.get("/admin/users/00000000-0000-4000-8000-000000000000")
    assert unknown.status == 404 and "No such user" in unknown.text()
    malformed = admin.request.get("/admin/users/not-an-id")
    assert malformed.status == 404
    admin.goto(f"/admin/users/{state['grace']}")
    expect(admin.get_by_role("definition").filter(has_text=re.compile("^Active$"))).to_be_visible()


def test_direct_api_access_and_api_password(admin: Page):
    admin.goto(f"/admin/users/{state['grace']}")
    admin.get_by_role("button", name="Enable direct API access").click()
    expect(admin.get_by_role("status")).to_have_text("Direct API access is enabled.")
    admin.get_by_role("link", name="Create API password").click()
    check_page(admin, "api-password")
    with admin.expect_response(lambda r: r.request.method == "POST") as posted:
        admin.get_by_role("button", name="Save API password").click()
    assert posted.value.headers["cache-control"] == "no-store"
    token = admin.get_by_label("Generated API password").input_value()
    assert len(token) > 20
    admin.get_by_role("link", name="Done").click()
    expect(admin.get_by_text("Enabled, API password set")).to_be_visible()
    admin.get_by_role("link", name="Reset API password").click()
    admin.get_by_label("Enter an API password").check()
    admin.get_by_label("API password", exact=True).fill("Typed-API-Password-2026")
    admin.get_by_role("button", name="Save API password").click()
    expect(admin.get_by_role("status")).to_have_text("The API password was set.")
    admin.get_by_role("button", name="Disable direct API access").click()
    expect(admin.get_by_role("status")).to_have_text("Direct API access is disabled.")


def test_policy_delete_refused_while_held(admin: Page):
    admin.goto("/admin/policies")
    admin.get_by_role("link", name="Reports viewer").click()
    admin.get_by_role("button", name="Delete policy").click()
    expect(admin.get_by_role("alert")).to_contain_text("1")
    admin.goto("/admin/policies")
    admin.get_by_role("link", name="Unused").click()
    admin.get_by_role("button", name="Delete policy").click()
    expect(admin.get_by_role("status")).to_have_text("The policy was deleted.")
    expect(admin.get_by_role("link", name="Unused")).to_have_count(0)
    check_page(admin, "policies")


def test_audit_trail_with_filters(admin: Page):
    open_profile_menu(admin, "Audit trail")
    expect(admin.get_by_role("heading", name="Audit trail")).to_be_visible()
    expect(admin.get_by_role("cell", name="policy.deleted")).to_be_visible()
    admin.get_by_label("About user").fill("barbara@example.com")
    admin.get_by_label("Action").select_option("user.deactivated")
    admin.get_by_role("button", name="Filter").click()
    expect(admin.locator("tbody tr")).to_have_count(1)
    check_page(admin, "audit")
    admin.get_by_label("About user").fill("")
    admin.get_by_label("Action").select_option("")
    admin.get_by_label("From").fill("2000-01-01")
    admin.get_by_label("To").fill("2000-01-02")
    admin.get_by_role("button", name="Filter").click()
    expect(admin.get_by_text("No events.")).to_be_visible()


def test_general_user_must_change_password_then_my_account(browser):
    page = new_page(browser)
    sign_in(page, "alan@example.com", state["alan_password"])
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    expect(page.get_by_text("Choose your own before you continue")).to_be_visible()
    check_page(page, "change-password")
    page.goto("/account")
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    page.get_by_label("Current password").fill(state["alan_password"])
    page.get_by_label("New password", exact=True).fill("Enigma-Bombe-1940")
    page.get_by_label("Confirm new password").fill("Enigma-Bombe-1940")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Your password was changed.")
    page.get_by_label("First Name").fill("Alan Mathison")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Your name was saved.")
    expect(page.get_by_label("First Name")).to_have_value("Alan Mathison")
    check_page(page, "my-account")
    state["alan_page"] = page


def test_general_user_cannot_reach_admin_pages_by_url(browser):
    page: Page = state["alan_page"]
    for path in ["/admin/users", "/admin/policies", "/admin/audit", f"/admin/users/{state['grace']}/edit"]:
        response = page.goto(path)
        assert response.status == 403
        expect(page.get_by_role("alert")).to_have_text("Only administrators can open this page.")
    page.goto("/account")
    response = page.request.post(
        f"/admin/users/{state['grace']}/status", form={"csrf": csrf_of(page), "status": "inactive"})
    assert response.status == 403
    page.locator("details.profile > summary").click()
    expect(page.get_by_role("link", name="Administration")).to_have_count(0)


def test_forged_post_without_token_or_cross_site_is_refused(admin: Page):
    admin.goto(f"/admin/users/{state['grace']}")
    no_token = admin.request.post(f"/admin/users/{state['grace']}/status", form={"status": "inactive"})
    assert no_token.status == 403 and "Request refused" in no_token.text()
    wrong_token = admin.request.post(
        f"/admin/users/{state['grace']}/status", form={"csrf": "A" * 43, "status": "inactive"})
    assert wrong_token.status == 403
    cross_site = admin.request.post(
        f"/admin/users/{state['grace']}/status",
        form={"csrf": csrf_of(admin), "status": "inactive"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status == 403
    admin.reload()
    expect(admin.get_by_role("definition").filter(has_text=re.compile("^Active$"))).to_be_visible()


def test_deactivated_users_open_session_ends(admin: Page):
    page: Page = state["alan_page"]
    page.goto("/account")
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    admin.goto(f"/admin/users/{state['alan']}")
    admin.get_by_role("button", name="Set as Inactive").click()
    expect(admin.get_by_role("status")).to_have_text("The user is now inactive.")
    page.goto("/account")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Your session has ended. Sign in again.")
    sign_in(page, "alan@example.com", "Enigma-Bombe-1940")
    expect(page.get_by_role("alert")).to_have_text("The account is inactive.")


def test_demoted_admins_session_loses_admin_pages(browser, admin: Page):
    page = new_page(browser)
    sign_in(page, "katherine@example.com", "Orbital-Mechanics-1962")
    # An administrator chose her password: she must choose her own first.
    page.get_by_label("Current password").fill("Orbital-Mechanics-1962")
    page.get_by_label("New password", exact=True).fill("Hidden-Figures-1961")
    page.get_by_label("Confirm new password").fill("Hidden-Figures-1961")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    admin.goto("/admin/users?q=katherine")
    admin.get_by_label("Actions for katherine@example.com").click()
    admin.get_by_role("link", name="Edit").click()
    admin.get_by_role("button", name="Continue").click()
    admin.get_by_label("General User", exact=True).check()
    admin.get_by_role("button", name="Update User").click()
    expect(admin.get_by_role("status")).to_have_text("The user was updated.")
    page.goto("/admin/users")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_throttling_does_not_reveal_which_accounts_exist(browser):
    page = new_page(browser)
    messages = {}
    for username in ["barbara@example.com", "no-such-person@example.com"]:
        for _ in range(3):
            sign_in(page, username, "wrong password")
        messages[username] = page.get_by_role("alert").inner_text()
    assert re.fullmatch(r"Too many failed attempts; try again in \d+ seconds\.", messages["barbara@example.com"])
    assert re.sub(r"\d+", "N", messages["barbara@example.com"]) == re.sub(
        r"\d+", "N", messages["no-such-person@example.com"])


def test_sign_out(admin: Page):
    admin.goto("/admin/users")
    admin.locator("details.profile > summary").click()
    admin.get_by_role("button", name="Sign out").click()
    expect(admin.get_by_role("status")).to_have_text("You are signed out.")
    admin.goto("/admin/users")
    expect(admin.get_by_role("heading", name="Sign in")).to_be_visible()
