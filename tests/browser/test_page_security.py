"""The pages' protective headers as a real browser (headless Chromium) applies them: the pages
still work under their content policy, and another site cannot frame them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import add_accounts, sign_in
from tests.processes import gateway_environment, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def base(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    database = tmp_path / "gateway.sqlite3"
    shutil.copy(sqlite_template, database)
    env = gateway_environment(tmp_path, f"sqlite:///{database}")
    add_accounts(env, {"ito": ("auditor",)})
    with serving(env, tmp_path / "serve.log") as url:
        yield url


def test_pages_work_under_their_content_policy_and_refuse_to_be_framed(
    chromium: Browser, base: str
) -> None:
    page = chromium.new_page()
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    sign_in(page, base, "ito")
    expect(page).to_have_url(f"{base}/web/audit/events")
    # the stylesheet loaded (the policy allows the gateway's own): the header has its colour
    background = page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")
    assert background == "rgb(11, 42, 74)"
    assert violations == []

    # a page of another origin (about:blank here) that frames the sign-in page gets nothing
    framing = chromium.new_page()
    with framing.expect_console_message(lambda m: "frame-ancestors" in m.text) as refusal:
        framing.set_content(f'<iframe src="{base}/web/login" width="600" height="400"></iframe>')
    assert "The request has been blocked" in refusal.value.text
    assert framing.frames[1].query_selector("form") is None
