"""The auditors' pages in real headless Chromium (Debian's package, driven by Playwright),
against a real gateway process that real partner calls have filled."""

from __future__ import annotations

import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from gateway.client.partner import PartnerClient
from gateway.registry import pinned_keys
from gateway.settings import PROJECT_ROOT
from gateway.trust.keys import SigningKey, read_jwk_file
from tests.browser.conftest import SCREENSHOTS, add_accounts, sign_in
from tests.processes import gateway_environment, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def gateway(tmp_path: Path, sqlite_template: Path) -> Iterator[dict[str, str]]:
    database = tmp_path / "gateway.sqlite3"
    shutil.copy(sqlite_template, database)
    env = gateway_environment(
        tmp_path,
        f"sqlite:///{database}",
        # one unauthenticated refusal recorded alone, the rest counted and written within 1 s
        GATEWAY_REFUSAL_AUDIT_BURST="1",
        GATEWAY_REFUSAL_AUDIT_PER_MINUTE="1",
        GATEWAY_REFUSAL_SUMMARY_SECONDS="1",
    )
    add_accounts(env, {"ito": ("auditor",)})
    with serving(env, tmp_path / "serve.log") as base:
        with PartnerClient(
            base_url=base,
            caller="KR",
            receiver="JP",
            key=SigningKey.from_jwk(read_jwk_file(tmp_path / "keys" / "KR.private.jwk")),
            receiver_keys=pinned_keys(tmp_path / "pins", "JP"),
        ) as kr:
            message_id = _fill(kr)
        _flood(base, database)
        yield {"base": base, "message_id": message_id}


def _fill(kr: PartnerClient) -> str:
    """One accepted report and one refused call, through the real protocol."""
    sample = (PROJECT_ROOT / "specs" / "samples" / "seizure-report.json").read_bytes()
    message_id = str(uuid.uuid4())
    assert (
        kr.send(
            "/v1/seizure-reports",
            sample,
            content_type="application/json",
            message_type="seizure-report",
            message_id=message_id,
        ).status
        == 202
    )
    assert (
        kr.send(
            "/v1/seizure-reports",
            b"{}",
            content_type="application/json",
            message_type="seizure-report",
        ).status
        == 422
    )
    return message_id


def _flood(base: str, database: Path) -> None:
    """Three calls without credentials; returns once the gateway has written their count."""
    for _ in range(3):
        assert httpx.post(f"{base}/v1/assistance-requests", content=b"{}").status_code == 401
    deadline = time.monotonic() + 30
    with sqlite3.connect(database) as connection:
        while time.monotonic() < deadline:
            query = "SELECT count(*) FROM audit_event WHERE tag = 'partner:excess:refused'"
            if connection.execute(query).fetchone()[0]:
                return
            time.sleep(0.2)
    pytest.fail("the gateway did not write the count of refusals")


def test_auditor_follows_a_message_from_the_log_to_its_signature(chromium: Browser, gateway):
    base = gateway["base"]
    page = chromium.new_page(viewport={"width": 1366, "height": 768})
    sign_in(page, base, "ito")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.get_by_role("cell", name="partner:seizure-report:received")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "audit-log.png"), full_page=True)

    page.get_by_label("Decision").select_option("denied")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("cell", name="partner:seizure-report:refused")).to_be_visible()
    expect(page.get_by_role("cell", name="partner:seizure-report:received")).to_have_count(0)
    page.get_by_role("row", name="partner:seizure-report:refused").get_by_role("link").click()
    expect(page.get_by_text("Nothing of this message was stored: it was refused.")).to_be_visible()
    expect(page.get_by_role("cell", name="schema-invalid")).to_be_visible()
    page.go_back()

    page.get_by_label("Decision").select_option("")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=f"{gateway['message_id'][:8]}…").first.click()
    expect(page.get_by_role("heading", name=f"Message {gateway['message_id']}")).to_be_visible()
    expect(page.locator("#signature-status")).to_contain_text("verified: signed by KR")
    expect(page.get_by_role("cell", name="policy:seizure-report:decided")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "audit-message.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{base}/web/audit/events")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.close()


def test_wrong_password_is_told_and_keyboard_reaches_the_form(chromium: Browser, gateway):
    page = chromium.new_page()
    page.goto(f"{gateway['base']}/web/login")
    expect(page.get_by_label("Username")).to_be_focused()  # typing can start at once
    page.keyboard.type("ito")
    page.keyboard.press("Tab")
    page.keyboard.type("not-the-password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("do not match an active account")
    page.close()


def test_auditor_sees_a_flood_of_unauthenticated_calls_as_a_count(chromium: Browser, gateway):
    page = chromium.new_page()
    sign_in(page, gateway["base"], "ito")
    page.get_by_label("Decision").select_option("denied")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("cell", name="partner:assistance-request:refused")).to_have_count(1)
    flood = page.get_by_role("row", name="partner:excess:refused")
    expect(flood.get_by_role("cell", name="unauthenticated")).to_be_visible()
    expect(flood).to_contain_text("2 counted (token-missing: 2) from address 127.0.0.1")
    page.close()
