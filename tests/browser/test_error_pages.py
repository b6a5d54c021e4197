"""Errors on the pages as an officer meets them in real headless Chromium (issue 20, item 7): a
page in the site's layout with the status kept, what went wrong, and a link that leads back,
under the pages' content policy (no script, no violation)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.browser.conftest import add_accounts, sign_in
from tests.processes import gateway_environment, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def base(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    database = tmp_path / "gateway.sqlite3"
    shutil.copy(sqlite_template, database)
    env = gateway_environment(tmp_path, f"sqlite:///{database}")
    add_accounts(env, {"tanaka": ("officer",), "yamada": ("analyst",)})
    with serving(env, tmp_path / "serve.log") as url:
        yield url


def watched(page: Page) -> list[str]:
    """The content-policy violations ``page`` reports from now on."""
    violations: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security" in message.text:
            violations.append(message.text)

    page.on("console", note)
    return violations


def test_missing_case_is_a_page_with_the_way_back_to_the_queue(chromium: Browser, base: str):
    page = chromium.new_page()
    violations = watched(page)
    sign_in(page, base, "tanaka")
    expect(page).to_have_url(f"{base}/web/cases")
    response = page.goto(f"{base}/web/cases/424242")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page).to_have_title("Not found · Japan Customs IIO")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.get_by_role("alert")).to_contain_text("424242")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()  # the site's layout
    page.get_by_role("link", name="Back to your start page").click()
    expect(page).to_have_url(f"{base}/web/cases")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    assert violations == []


def test_forbidden_page_is_a_page_with_the_way_back_home(chromium: Browser, base: str):
    page = chromium.new_page()
    violations = watched(page)
    sign_in(page, base, "yamada")
    response = page.goto(f"{base}/web/cases")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed for this role")
    expect(page.get_by_role("alert")).to_have_text("this page needs the officer or supervisor role")
    expect(page.locator("main")).to_contain_text("HTTP 403 · forbidden")
    page.get_by_role("link", name="Back to your start page").click()
    expect(page).to_have_url(f"{base}/web/trends")
    assert violations == []


def test_stale_form_is_a_page_with_the_way_back(chromium: Browser, base: str):
    """The officer signs in again in a second tab (a new session, a new form token); the form
    left open in the first is stale."""
    context = chromium.new_context()
    first, second = context.new_page(), context.new_page()
    sign_in(first, base, "tanaka")
    expect(first).to_have_url(f"{base}/web/cases")
    second.goto(f"{base}/web/cases")
    second.get_by_role("button", name="Sign out").click()
    sign_in(second, base, "tanaka")
    expect(second).to_have_url(f"{base}/web/cases")
    with first.expect_navigation() as navigation:
        first.get_by_role("button", name="Sign out").click()
    response = navigation.value
    assert response is not None and response.status == 400
    expect(first.get_by_role("alert")).to_have_text(
        "the form is stale or forged (CSRF check); reload the page"
    )
    first.get_by_role("link", name="Back to your start page").click()
    expect(first).to_have_url(f"{base}/web/cases")
    context.close()


def test_unknown_page_is_a_page_not_a_problem(chromium: Browser, base: str):
    page = chromium.new_page()
    response = page.goto(f"{base}/web/no-such-page")
    assert response is not None and response.status == 404
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    page.get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(f"{base}/web/login")
