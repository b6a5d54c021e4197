"""The IIO review workflow in real headless Chromium (issue 7, "Done when"): officers pick a
request NO sent, preview and approve an answer with four eyes, and see it delivered to NO's real
gateway with its receipt in the case's history; a refused case; an analyst kept out. NO's CMAA
carries the FY2012 provisions: a request's questions and an answer's text are free text, which
goes only under them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from gateway.app import build_services
from gateway.demo import prepare
from gateway.people import Person
from gateway.settings import load_settings
from tests.browser.conftest import SCREENSHOTS, add_accounts, sign_in
from tests.functional.test_assistance import request_from
from tests.processes import free_port, run, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def gateways(tmp_path: Path) -> Iterator[dict[str, object]]:
    """JP (under review) and NO (its partner), real processes; two requests from NO waiting."""
    jp, kr = prepare(tmp_path, "NO", free_port(), free_port())
    jp_env, kr_env = jp.environment(kr), kr.environment(jp)
    add_accounts(jp_env, {"tanaka": ("officer",), "sato": ("supervisor",), "yamada": ("analyst",)})
    with ExitStack() as stack:
        base = stack.enter_context(serving(jp_env, tmp_path / "jp.log"))
        stack.enter_context(serving(kr_env, tmp_path / "kr.log"))
        # NO's own gateway sends them (NO must know the requests JP answers)
        kr_services = build_services(load_settings(environ=kr_env))
        try:
            for number, code in (("0001", "H2"), ("0002", "H0")):
                row = kr_services.outbound.disclose(
                    recipient="JP",
                    message_type="assistance-request",
                    document=request_from(
                        "NO",
                        request_id=f"NO-RFA-{number}",
                        subject=f"request {number}: consignments declared as machine parts",
                        markings={"originator": "NO", "handling_code": code, "tlp": "TLP:AMBER"},
                    ),
                    purpose="intelligence",
                    actor="officer:kim",
                    now=datetime.now(UTC),
                )
                if row.state == "awaiting-review":
                    kr_services.outbound.approve(
                        row.message_id,
                        approver=Person("park", "park", frozenset({"supervisor"})),
                        now=datetime.now(UTC),
                    )
        finally:
            kr_services.database.dispose()
        sent = run(kr_env, "worker", "--once")
        assert sent.returncode == 0, sent.stderr
        yield {"base": base, "jp_env": jp_env}


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def open_case(page: Page, subject: str) -> None:
    page.get_by_role("row").filter(has_text=subject).get_by_role("link").click()


def compose(page: Page, outcome: str, *, answer: str = "", reason: str = "", code: str = "H1"):
    page.get_by_role("button", name="Assign to me").click()
    page.get_by_role("button", name="Start review").click()
    page.get_by_role("link", name="Compose the answer").click()
    page.get_by_label("Decision").select_option(outcome)
    if reason:
        page.get_by_label("Reason").select_option(reason)
    if answer:
        page.get_by_label("Answer to question 0").fill(answer)
    page.get_by_label("Handling code").select_option(code)
    page.get_by_role("button", name="Preview").click()


def test_answer_is_previewed_approved_with_four_eyes_and_delivered(chromium: Browser, gateways):
    base, page = gateways["base"], chromium.new_page(viewport={"width": 1366, "height": 900})
    sign_in(page, base, "tanaka")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="request 0001")).to_contain_text("received")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "review-queue.png"), full_page=True)

    open_case(page, "request 0001")
    expect(page.get_by_text("verified: signed by NO")).to_be_visible()
    compose(page, "answered", answer="The exporter was not known to us.", code="H2")
    expect(page.get_by_role("heading", name="What NO will receive")).to_be_visible()
    expect(
        page.get_by_text("a second officer (a supervisor other than the drafter)")
    ).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "review-preview.png"), full_page=True)
    page.get_by_role("button", name="Submit the answer for approval").click()
    expect(page.locator("dd strong")).to_have_text("answered")

    # the drafter is offered no way to release it
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    sign_out(page)

    sign_in(page, base, "sato")
    open_case(page, "request 0001")
    page.get_by_role("link", name="Preview what NO will receive").click()
    expect(page.get_by_text("The exporter was not known to us.").first).to_be_visible()
    page.go_back()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("dd strong")).to_have_text("released")

    delivered = run(gateways["jp_env"], "worker", "--once")
    assert delivered.returncode == 0, delivered.stderr
    page.reload()
    expect(page.get_by_role("cell", name="acknowledged")).to_be_visible()
    expect(page.get_by_text("receipt", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="system:assistance-answer:delivered")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "review-case.png"), full_page=True)
    page.get_by_role("button", name="Close").click()
    expect(page.locator("dd strong")).to_have_text("closed")


def test_refused_case_carries_its_reason(chromium: Browser, gateways):
    base, page = gateways["base"], chromium.new_page()
    sign_in(page, base, "tanaka")
    open_case(page, "request 0002")
    compose(page, "refused", reason="outside-scope")
    expect(page.locator("pre").nth(1)).to_contain_text('"outcome": "refused"')
    page.get_by_role("button", name="Submit the answer for approval").click()
    expect(page.locator("dd strong")).to_have_text("refused")
    expect(page.get_by_role("cell", name="in-review → refused (outside-scope)")).to_be_visible()
    sign_out(page)
    sign_in(page, base, "sato")
    open_case(page, "request 0002")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("dd strong")).to_have_text("released")


def test_analyst_is_kept_out_of_the_review_pages(chromium: Browser, gateways):
    base, page = gateways["base"], chromium.new_page()
    sign_in(page, base, "yamada")
    for path in ("/web/cases", "/web/cases/1", "/web/dead-letters"):
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 403, path
    forged = page.request.post(f"{base}/web/cases/1/actions", form={"action": "assign"})
    assert forged.status in (400, 403)  # no CSRF token, and no role


def test_a_copied_session_cookie_fails_after_sign_out(chromium: Browser, gateways):
    """Someone copies tanaka's cookie while she is signed in; she signs out; the copy opens
    nothing (the session is held by the server and ended there)."""
    base = gateways["base"]
    hers = chromium.new_context()
    page = hers.new_page()
    sign_in(page, base, "tanaka")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    theirs = chromium.new_context()
    theirs.add_cookies(hers.cookies())
    copy = theirs.new_page()
    copy.goto(f"{base}/web/cases")
    expect(copy.get_by_role("heading", name="Review queue")).to_be_visible()  # the copy works…
    sign_out(page)
    response = copy.goto(f"{base}/web/cases/1")
    assert response is not None
    expect(copy.get_by_role("heading", name="Sign in")).to_be_visible()  # …until she signs out
    assert "/web/login" in copy.url
    hers.close()
    theirs.close()
