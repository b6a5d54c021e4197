"""RILO analysts' trend pages in real headless Chromium against the hub's gateway process: the
quarterly report with its server-drawn charts, the CSV download, and disclosure control shown."""

from __future__ import annotations

import os
import re
import shutil
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from gateway.app import build_services
from gateway.demo import hub_registry
from gateway.rilo.synthetic import reports
from gateway.settings import load_settings
from gateway.trust.keys import generate_jwk, write_private_jwk
from tests.browser.conftest import SCREENSHOTS, add_accounts, sign_in
from tests.processes import free_port, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def hub(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    database = tmp_path / "hub.sqlite3"
    shutil.copy(sqlite_template, database)
    write_private_jwk(tmp_path / "keys" / "RILO-AP.private.jwk", generate_jwk())
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        GATEWAY_GATEWAY_ID="RILO-AP",
        GATEWAY_DATABASE_URL=f"sqlite:///{database}",
        GATEWAY_KEYS_DIR=str(tmp_path / "keys"),
        GATEWAY_KEY_PINS_DIR=str(tmp_path / "pins"),
        GATEWAY_REGISTRY_DIR=str(hub_registry(tmp_path)),
        GATEWAY_WEB_SECRET_FILE=str(tmp_path / "web-secret"),
        GATEWAY_PORT=str(free_port()),
        GATEWAY_LOG_LEVEL="WARNING",
    )
    add_accounts(env, {"lee": ("analyst",), "tanaka": ("officer",)})
    services = build_services(load_settings(environ=env))
    try:  # members' reports as the hub holds them once their batches are accepted
        by_member = defaultdict(list)
        for report in reports(4000, seed=5, start=date(2025, 1, 1), end=date(2026, 9, 30)):
            by_member[report["reporting_administration"]].append(report)
        assert services.hub is not None
        for member, items in by_member.items():
            with services.database.transaction() as session:
                services.hub.ingest(
                    session, member, items, message_id="seed", now=datetime.now(UTC)
                )
    finally:
        services.database.dispose()
    with serving(env, tmp_path / "hub.log") as base:
        yield base


def test_analyst_reads_the_quarter_and_downloads_it(chromium: Browser, hub: str):
    page = chromium.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    sign_in(page, hub, "lee")
    expect(page.get_by_role("heading", level=1)).to_contain_text("seizure trends")
    page.get_by_role("textbox", name="Period").fill("2026-Q2")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("2026-Q2")
    expect(page.get_by_role("img", name="Seizures by Illicit Trade Report section")).to_be_visible()
    expect(page.get_by_role("cell", name="drugs", exact=True)).to_be_visible()
    expect(page.get_by_text("Exact figures, for RILO analysts only").first).to_be_visible()
    expect(page.get_by_role("columnheader", name="By member").first).to_be_visible()
    # section navigation, and the monthly series of the top five commodities and corridors
    # over the 36 months to the quarter's end (the eighteen before the first report say none)
    expect(page.get_by_role("navigation", name="Sections of the report")).to_be_visible()
    series = page.get_by_role(
        "img", name=re.compile(r"^Monthly seizures of .+, 2023-07 to 2026-06$")
    )
    expect(series).to_have_count(10)
    expect(page.get_by_text(re.compile(r"; 18 months with none$")).first).to_be_visible()
    # a change of a few seizures is flagged as within chance, a large one is not
    expect(page.get_by_text("(n.s.)").first).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "rilo-trends.png"), full_page=False)
    page.get_by_role("link", name="Monthly series").click()
    expect(page).to_have_url(re.compile(r"#series$"))
    page.screenshot(path=str(SCREENSHOTS / "rilo-trends-series.png"), full_page=False)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the report (CSV)").click()
    saved = Path(download.value.path()).read_text()
    assert saved.startswith("dimension,value,suppressed,cases")
    assert download.value.suggested_filename == "rilo-ap-2026-Q2.csv"


def test_an_officer_does_not_see_the_trends(chromium: Browser, hub: str):
    page = chromium.new_page()
    sign_in(page, hub, "tanaka")
    response = page.goto(f"{hub}/web/trends")
    assert response is not None and response.status == 403
