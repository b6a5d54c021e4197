"""Web sessions: sign-in with an auditor's token, CSRF on every form, roles, sign-out."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from tests.conftest import AUDITOR_TOKEN, OPERATOR_TOKEN


@pytest.fixture
def browser(settings, services):
    # https: the session cookie is Secure
    with TestClient(create_app(settings, services), base_url="https://testserver") as client:
        yield client


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def sign_in(browser, token: str):
    form = browser.get("/web/login")
    return browser.post(
        "/web/login", data={"token": token, "csrf": csrf(form.text)}, follow_redirects=False
    )


def test_pages_need_a_session(browser):
    response = browser.get("/web/audit/events", follow_redirects=False)
    assert response.status_code == 302 and "/web/login" in response.headers["location"]


def test_auditor_signs_in_and_out_and_both_are_audited(browser, services):
    response = sign_in(browser, AUDITOR_TOKEN)
    assert response.status_code == 302
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Strict" in cookie
    page = browser.get("/web/audit/events")
    assert page.status_code == 200 and "auditor:session:opened" in page.text
    assert AUDITOR_TOKEN not in page.text
    out = browser.post("/web/logout", data={"csrf": csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 302
    assert browser.get("/web/audit/events", follow_redirects=False).status_code == 302


def test_form_without_csrf_token_is_refused(browser):
    """Regression: right after sign-in an empty token matched the session's absent one."""
    sign_in(browser, AUDITOR_TOKEN)
    assert browser.post("/web/logout", data={}).status_code == 400
    assert browser.post("/web/login", data={"token": AUDITOR_TOKEN}).status_code == 400


def test_a_system_token_is_not_an_auditors(browser):
    response = sign_in(browser, OPERATOR_TOKEN)
    assert response.status_code == 401 and 'role="alert"' in response.text


def test_open_redirect_after_sign_in_is_refused(browser):
    form = browser.get("/web/login")
    response = browser.post(
        "/web/login?next=https://evil.example/",
        data={"token": AUDITOR_TOKEN, "csrf": csrf(form.text)},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/web/audit/events"
