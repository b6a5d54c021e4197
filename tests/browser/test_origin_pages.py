"""The officers' certificate-of-origin pages in real headless Chromium against a real gateway
process: look a declared certificate up at clearance, see the overdue verifications."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from gateway.app import build_services
from gateway.origin.register import OriginRegister
from gateway.origin.synthetic import authority_name, certificate
from gateway.settings import load_settings
from gateway.trust.xmldsig import generate_authority
from tests.browser.conftest import SCREENSHOTS, add_accounts, sign_in
from tests.processes import gateway_environment, serving

pytestmark = pytest.mark.browser
NOW = datetime.now(UTC)


@pytest.fixture
def gateway(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    database = tmp_path / "gateway.sqlite3"
    shutil.copy(sqlite_template, database)
    env = gateway_environment(tmp_path, f"sqlite:///{database}")
    add_accounts(env, {"sato": ("officer",), "ito": ("auditor",)})
    _register_received_certificate(env)
    with serving(env, tmp_path / "serve.log") as base:
        yield base


def _register_received_certificate(env: dict[str, str]) -> None:
    """A certificate from ID as the register holds it once received (the inbound path is tested
    elsewhere), and a verification JP asked about it 100 days ago: overdue."""
    services = build_services(load_settings(environ=env))
    register = OriginRegister(
        gateway_id="JP", registry=services.registry, policies=services.policies
    )
    document = certificate(
        number="ID-2026-0042",
        exporting_party="ID",
        importing_party="JP",
        agreement="JP-ID-EPA",
        issue_date=NOW.date(),
        items=8,
    )
    _, authority = generate_authority(authority_name("ID"), "ID")
    try:
        with services.database.transaction() as session:
            register.record_version(
                session,
                direction="in",
                document=document,
                message_id=str(uuid.uuid4()),
                body_sha256="0" * 64,
                signed_by=authority,
                actor="ID",
                now=NOW,
            )
            register.open_verification(
                session,
                direction="out",
                partner="ID",
                document={
                    "certificate": {
                        "exporting_party": "ID",
                        "certificate_number": "ID-2026-0042",
                        "issue_date": NOW.date().isoformat(),
                    },
                    "agreement": "JP-ID-EPA",
                    "reason": "doubt-origin-criterion",
                    "questions": ["Provide the cost statement of item 3."],
                },
                message_id=str(uuid.uuid4()),
                actor="officer:sato",
                now=NOW - timedelta(days=100),
            )
    finally:
        services.database.dispose()


def test_officer_checks_a_declared_certificate_and_sees_the_overdue_verification(
    chromium: Browser, gateway: str
):
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    sign_in(page, gateway, "sato", start="/web/origin/certificates")
    expect(page).to_have_url(f"{gateway}/web/origin/certificates")

    page.get_by_label("Certificate number").fill("ID-2026-0042")
    page.get_by_label("Issue date").fill(NOW.date().isoformat())
    page.keyboard.press("Enter")  # keyboard alone is enough
    verdict = page.get_by_role("heading", level=2).first
    expect(verdict).to_contain_text("Valid: certificate ID-2026-0042, version 1")
    expect(page.get_by_text("verified against the pinned certificate of")).to_be_visible()
    expect(page.get_by_role("cell", name="overdue")).to_be_visible()
    expect(page.get_by_role("heading", name="Items (8)")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "origin-lookup.png"), full_page=True)

    page.get_by_role("link", name="Verifications").click()
    page.get_by_label("Show").select_option("overdue")
    page.get_by_role("button", name="Filter").click()
    row = page.get_by_role("row").filter(has_text="ID-2026-0042")
    expect(row).to_contain_text("overdue")
    expect(row).to_contain_text((NOW - timedelta(days=100) + timedelta(days=90)).date().isoformat())
    page.screenshot(path=str(SCREENSHOTS / "origin-verifications.png"), full_page=True)

    row.get_by_role("link", name="ID-2026-0042").click()
    expect(page.get_by_role("heading", level=2).first).to_contain_text("Valid")

    page.get_by_label("Certificate number").fill("NO-SUCH")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("status")).to_contain_text("No certificate NO-SUCH")


def test_auditor_cannot_open_the_officers_pages(chromium: Browser, gateway: str):
    page = chromium.new_page()
    sign_in(page, gateway, "ito")
    expect(page).to_have_url(f"{gateway}/web/audit/events")
    response = page.goto(f"{gateway}/web/origin/certificates")
    assert response is not None and response.status == 403
