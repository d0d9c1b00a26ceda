"""Console login in a real browser: a user created in the store signs in with user name and password
(OAuth2 password flow → JWT) and gets the live command room; a wrong password shows an error; an
API token pasted into the token field still works. Same real stack as tests/e2e/test_console.py."""

from __future__ import annotations

import pytest

from api import users
from api.store import make_session_factory
from tests.e2e.test_console import DESKTOP, PAGE_ERRORS, browser, no_script_errors, running_site  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def fresh_page(browser, url: str):  # noqa: F811
    ctx = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = ctx.new_page()
    page.on("pageerror", lambda exc: PAGE_ERRORS.append(f"{page.url}: {exc}"))
    page.goto(url)
    return page


def test_user_signs_in_with_password_and_sees_the_command_room(browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    with running_site(tmp_path) as site:
        factory = make_session_factory(site.settings.db_url)
        with factory() as s:
            users.add_user(s, users.NewUser(username="olga", password="command room password", role="operator"),
                           now=0, actor="test", origin="test")
        factory.kw["bind"].dispose()

        page = fresh_page(browser, f"{site.url}/")
        expect(page.locator("#status")).to_have_attribute("data-state", "disconnected")
        page.get_by_label("User name").fill("olga")
        page.get_by_label("Password").fill("not my password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#login-error")).to_have_text("Wrong user name or password.")
        expect(page.locator("main.command")).to_be_hidden()
        assert page.get_by_label("Password").input_value() == ""

        page.get_by_label("User name").fill("olga")
        page.get_by_label("Password").fill("command room password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#status")).to_have_attribute("data-state", "live")
        expect(page.locator("#who")).to_have_text("olga (operator)")
        expect(page.locator("main.command")).to_be_visible()
        expect(page.locator("#login-error")).to_be_hidden()
        token = page.evaluate("() => localStorage.getItem('lookout.token')")
        assert token.count(".") == 2  # a JWT, not the password
        # The live stream runs on the login token too: an alert reaches the feed.
        alert_id = site.produce(severity="high")
        expect(page.locator(f'#alerts li[data-alert-id="{alert_id}"]')).to_be_visible(timeout=5000)

        # Pasting an API token keeps working next to the password form.
        other = fresh_page(browser, f"{site.url}/reports.html")
        other.get_by_label("Access token").fill("tok-engineer")
        other.get_by_role("button", name="Connect").click()
        expect(other.locator("#who")).to_have_text("erin (engineer)")
        # Reports grouped by org node (rolled up); without org.yaml every incident is "(no node)".
        other.locator("#group").select_option("node")
        expect(other.locator("#attain")).to_contain_text("(no node)")
