"""Real headless Chromium (Debian's package, driven by Playwright) for the pages' tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from gateway.settings import PROJECT_ROOT
from tests.conftest import REQUIRE_ALL

# The README's screenshots are refreshed on purpose (GATEWAY_UPDATE_SCREENSHOTS=1 make test);
# ordinary runs keep theirs under the ignored var/.
SCREENSHOTS = PROJECT_ROOT / (
    "docs/screenshots" if os.environ.get("GATEWAY_UPDATE_SCREENSHOTS") == "1" else "var/screenshots"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        message = (
            "Debian's chromium is not installed (apt-get install chromium); .ci/run installs it"
        )
        if REQUIRE_ALL:
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


def add_accounts(env: dict[str, str], accounts: dict[str, tuple[str, ...]]) -> None:
    """Accounts (password: tests.conftest.PASSWORD) on the installation ``env`` describes."""
    from gateway.app import build_services
    from gateway.settings import load_settings
    from tests.conftest import create_accounts

    services = build_services(load_settings(environ=env))
    try:
        create_accounts(services, accounts)
    finally:
        services.database.dispose()


def sign_in(page: Page, base: str, username: str, start: str = "/web/") -> None:
    """Open ``start``, land on the sign-in form, sign in as ``username``."""
    from tests.conftest import PASSWORD

    page.goto(f"{base}{start}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
