"""The auditors' exchange statistics page in real headless Chromium (Debian's package, driven by
Playwright), against a real gateway process that real partner calls have filled: the table, the
chart drawn on the server, the downloads."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from gateway.client.partner import PartnerClient
from gateway.registry import pinned_keys
from gateway.trust.keys import SigningKey, read_jwk_file
from tests.browser.conftest import SCREENSHOTS, add_accounts, sign_in
from tests.browser.test_audit_pages import _fill, _flood
from tests.processes import gateway_environment, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def gateway(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A gateway with one accepted report, one refused, and unauthenticated calls refused (one
    recorded alone, the others counted)."""
    database = tmp_path / "gateway.sqlite3"
    shutil.copy(sqlite_template, database)
    env = gateway_environment(
        tmp_path,
        f"sqlite:///{database}",
        GATEWAY_REFUSAL_AUDIT_BURST="1",
        GATEWAY_REFUSAL_AUDIT_PER_MINUTE="1",
        GATEWAY_REFUSAL_SUMMARY_SECONDS="1",
    )
    add_accounts(env, {"ito": ("auditor",), "yamada": ("analyst",)})
    with serving(env, tmp_path / "serve.log") as base:
        with PartnerClient(
            base_url=base,
            caller="KR",
            receiver="JP",
            key=SigningKey.from_jwk(read_jwk_file(tmp_path / "keys" / "KR.private.jwk")),
            receiver_keys=pinned_keys(tmp_path / "pins", "JP"),
        ) as kr:
            _fill(kr)
        _flood(base, database)
        yield base


def test_auditor_reads_the_table_and_chart_and_downloads_both(chromium: Browser, gateway, tmp_path):
    page = chromium.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    sign_in(page, gateway, "ito")
    page.get_by_role("link", name="Exchange statistics").click()
    expect(page.get_by_role("heading", name="Exchange statistics")).to_be_visible()
    response = page.request.get(page.url)
    assert "default-src 'none'" in response.headers["content-security-policy"]

    chart = page.get_by_role("img", name="Messages per day by outcome")
    expect(chart).to_be_visible()
    expect(chart.locator("rect")).not_to_have_count(0)
    by_period = page.get_by_role("table", name="Messages per day by outcome (the chart's figures)")
    expect(by_period.get_by_role("columnheader", name="accepted")).to_be_visible()
    expect(by_period.get_by_role("columnheader", name="refused")).to_be_visible()
    expect(by_period.get_by_role("rowheader")).to_have_count(1)

    accepted = page.locator("table.statistics tr", has_text="accepted")
    expect(accepted).to_contain_text("KR")
    expect(accepted).to_contain_text("seizure-report")
    expect(page.locator("table.statistics tr", has_text="schema-invalid")).to_contain_text("KR")
    expect(page.locator("table.statistics tr", has_text="token-missing")).to_contain_text(
        "(not authenticated)"
    )
    expect(page.get_by_role("heading", name="Refusals only counted")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "audit-statistics.png"), full_page=True)

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text())))
    assert {(r["partner"], r["outcome"], r["reason"], r["messages"]) for r in rows} == {
        ("KR", "accepted", "", "1"),
        ("KR", "refused", "schema-invalid", "1"),
        ("", "refused", "token-missing", "1"),
    }
    with page.expect_download() as json_download:
        page.get_by_role("link", name="JSON").click()
    figures = json.loads(Path(json_download.value.path()).read_text())
    assert figures["totals"]["messages"] == 3
    assert figures["excess_refusals"][0]["problem"] == "token-missing"
    expect(page.locator("main p strong").first).to_have_text("3")

    page.get_by_label("Direction").select_option("out")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("cell", name="No message in this range.")).to_be_visible()
    expect(page.get_by_role("img")).to_have_count(0)
    page.close()


def test_bad_filters_and_other_roles_are_refused(chromium: Browser, gateway):
    page = chromium.new_page()
    sign_in(page, gateway, "ito")
    answer = page.goto(f"{gateway}/web/audit/statistics?since=2026-05-02&until=2026-05-01")
    assert answer is not None and answer.status == 400
    expect(page.get_by_text("since must be before until")).to_be_visible()
    assert page.goto(f"{gateway}/web/audit/statistics?period=year").status == 400
    page.close()
    analyst = chromium.new_page()
    sign_in(analyst, gateway, "yamada")
    assert analyst.goto(f"{gateway}/web/audit/statistics").status == 403
    assert analyst.goto(f"{gateway}/web/audit/statistics.csv").status == 403
    analyst.close()
    assert (
        httpx.get(f"{gateway}/web/audit/statistics.json", follow_redirects=False).status_code == 302
    )
