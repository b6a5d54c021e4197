"""Errors under /web are pages in the site's layout with the way back; under /v1 they stay RFC 9457
problems (issue 20, item 7). Real pages in Chromium: tests/browser/test_error_pages.py."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.web.headers import SECURITY_HEADERS
from tests.functional.test_web_session import csrf, sign_in

PROBLEMS = "https://customs.go.jp/gateway/problems/"


@pytest.fixture
def browser(settings, services, people):
    with TestClient(create_app(settings, services), base_url="https://testserver") as client:
        yield client


def back_link(page: str) -> str:
    return re.search(r'<a class="button" href="([^"]*)"', page).group(1)


def assert_error_page(response, status: int, kind: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert f"HTTP {status} · <code>{kind}</code>" in response.text
    assert '<link rel="stylesheet"' in response.text  # the site's layout
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name


def test_missing_case_is_a_page_leading_to_the_queue(browser):
    sign_in(browser, "tanaka")
    page = browser.get("/web/cases/424242")
    assert_error_page(page, 404, "not-found")
    assert "<h1>Not found</h1>" in page.text
    assert back_link(page.text) == "/web/cases"


def test_page_without_the_role_is_a_page_leading_home(browser):
    sign_in(browser, "ito")
    page = browser.get("/web/cases", headers={"Referer": "https://testserver/web/cases?x=1"})
    assert_error_page(page, 403, "forbidden")
    assert "this page needs the officer or supervisor role" in page.text
    assert back_link(page.text) == "/web/audit/events"  # never back to another refusal


def test_stale_form_is_a_page_leading_back_to_the_form(browser):
    sign_in(browser, "tanaka")
    page = browser.post("/web/cases/7/actions", data={"action": "assign", "csrf": "stale"})
    assert_error_page(page, 400, "request-invalid")
    assert "the form is stale or forged (CSRF check); reload the page" in page.text
    assert back_link(page.text) == "/web/cases/7"
    retry = browser.post("/web/dead-letters/m-1/retry", data={"csrf": "stale"})
    assert back_link(retry.text) == "/web/dead-letters"


def test_unknown_page_and_method_are_pages_too(browser):
    sign_in(browser, "tanaka")
    unknown = browser.get("/web/no-such-page")
    assert_error_page(unknown, 404, "not-found")
    assert back_link(unknown.text) == "/web/cases"
    wrong_method = browser.delete("/web/cases")
    assert_error_page(wrong_method, 405, "method-not-allowed")
    assert "GET" in wrong_method.headers["allow"]


def test_way_back_is_the_referring_page_of_this_gateway_only(browser):
    sign_in(browser, "tanaka")
    queue = "https://testserver/web/cases?state=new&partner=NO"
    came = browser.get("/web/cases/424242", headers={"Referer": queue})
    assert back_link(came.text) == "/web/cases?state=new&amp;partner=NO"
    for elsewhere in ("https://evil.example/web/cases", "https://testserver/v1/cases"):
        page = browser.get("/web/cases/424242", headers={"Referer": elsewhere})
        assert back_link(page.text) == "/web/cases", elsewhere
    cross_site = browser.get(
        "/web/cases/424242", headers={"Referer": queue, "Sec-Fetch-Site": "cross-site"}
    )
    assert back_link(cross_site.text) == "/web/cases"


def test_error_page_for_nobody_signed_in_leads_to_sign_in(browser):
    page = browser.post("/web/login", data={"username": "ito", "password": "x"})
    assert_error_page(page, 400, "request-invalid")
    assert back_link(page.text) == "/web/login"
    assert "Sign out" not in page.text


def test_web_without_slash_still_redirects(browser):
    response = browser.get("/web", follow_redirects=False)
    assert response.status_code in (301, 308) and response.headers["location"].endswith("/web/")


def test_v1_errors_stay_problem_json(browser):
    for path, status, kind in (
        ("/v1/cases", 401, "token-missing"),
        ("/v1/no-such-resource", 404, "not-found"),
    ):
        response = browser.get(path)
        assert response.status_code == status, path
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == PROBLEMS + kind
    refused = browser.get("/v1/cases", headers={"Authorization": "Bearer not-a-token"})
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 401


def test_signed_in_officer_still_gets_problems_from_the_api(browser):
    """The session cookie changes nothing under /v1."""
    sign_in(browser, "tanaka")
    page = browser.get("/web/cases")
    response = browser.post("/v1/cases/1/actions", data={"csrf": csrf(page.text)})
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].startswith(PROBLEMS)
