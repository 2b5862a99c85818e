"""The people page and one's profile in a browser, wide and phone-sized: an admin creates an
account and a group, a person saves a time zone and makes an API token; nothing scrolls sideways."""

from tests.browser.conftest import shoot
from tests.browser.conftest import sign_in

NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


def test_people_page_wide_and_narrow(site, browser, page):
    sign_in(page, site, "alice")
    page.goto(site.url + "/admin/users")
    page.fill("#new-username", "erin")
    page.fill("#new-display-name", "Erin Eve")
    page.fill("#new-email", "erin@example.org")
    page.click("#create-user")
    secret = page.locator("#secret-value").inner_text()
    assert len(secret) >= 12
    shoot(page, "70-admin-people-new-account")
    page.fill("#group-name", "Writers")
    page.click("#create-group")
    page.wait_for_selector("[data-group=Writers]")
    group = page.locator("[data-group=Writers]")
    for name in ("bob", "erin"):
        group.locator("input[name=username]").fill(name)
        group.locator("button", has_text="Add").first.click()
        page.wait_for_selector(f"[data-group=Writers] .group-members >> text={name}")
    page.locator("tr[data-username=bob] summary").click()
    assert page.locator("#reset-{}".format(site.user_ids["bob"])).is_visible()
    assert page.evaluate(NO_OVERFLOW)
    assert page.js_errors == []
    shoot(page, "70-admin-people-groups")

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    small = phone.new_page()
    sign_in(small, site, "alice")
    small.goto(site.url + "/admin/users")
    assert small.locator("[data-group=Writers]").is_visible()
    assert small.evaluate(NO_OVERFLOW)
    shoot(small, "71-admin-people-phone")
    phone.close()


def test_profile_page_wide_and_narrow(site, browser, page):
    sign_in(page, site, "bob")
    page.click("#account-link")
    page.fill("#profile-name", "Robert Baker")
    page.fill("#profile-email", "bob@example.org")
    page.select_option("#profile-language", "fr")
    page.select_option("#profile-timezone", "Europe/Berlin")
    page.click("#save-profile")
    page.wait_for_selector("text=Profil enregistré.")  # said in the language just chosen
    assert page.locator("#profile-timezone").input_value() == "Europe/Berlin"
    page.fill("#token-name", "nightly backup")
    page.click("#create-token")
    assert page.locator("#new-token-value").inner_text().startswith("cot_")
    assert page.locator("#token-list", has_text="nightly backup").is_visible()
    assert page.evaluate(NO_OVERFLOW)
    assert page.js_errors == []
    shoot(page, "72-profile")

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    small = phone.new_page()
    sign_in(small, site, "bob")
    small.goto(site.url + "/auth/account")
    assert small.locator("#profile-name").input_value() == "Robert Baker"
    assert small.evaluate(NO_OVERFLOW)
    shoot(small, "73-profile-phone")
    phone.close()
