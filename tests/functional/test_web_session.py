"""Web sessions: sign-in with a local account (argon2id), CSRF on every form, roles, sign-out,
and the trusted single-sign-on header."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from gateway.app import build_services, create_app
from gateway.store.models import Account, AuditEvent
from tests.conftest import PASSWORD


@pytest.fixture
def browser(settings, services, people):
    # https: the session cookie is Secure
    with TestClient(create_app(settings, services), base_url="https://testserver") as client:
        yield client


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def sign_in(browser, username: str, password: str = PASSWORD, next_page: str = ""):
    form = browser.get("/web/login")
    return browser.post(
        "/web/login" + (f"?next={next_page}" if next_page else ""),
        data={"username": username, "password": password, "csrf": csrf(form.text)},
        follow_redirects=False,
    )


def tags(services) -> list[str]:
    with services.database.transaction() as session:
        return [e.tag for e in session.execute(select(AuditEvent)).scalars()]


def test_pages_need_a_session(browser):
    response = browser.get("/web/audit/events", follow_redirects=False)
    assert response.status_code == 302 and "/web/login" in response.headers["location"]


def test_pages_are_sent_unframeable_uncached_and_scriptless(browser):
    """Clickjacking of the four-eyes buttons, cached personal data, injected script: each page
    says no to all three (a real browser applies them: tests/browser/test_page_security.py)."""
    sign_in(browser, "ito")
    for page in ("/web/login", "/web/audit/events", "/web/static/gateway.css"):
        headers = browser.get(page).headers
        assert headers["content-security-policy"] == (
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        ), page
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"


def test_auditor_signs_in_and_out_and_both_are_audited(browser, services):
    response = sign_in(browser, "ito")
    assert response.status_code == 302 and response.headers["location"] == "/web/audit/events"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Strict" in cookie
    page = browser.get("/web/audit/events")
    assert page.status_code == 200 and "web:session:opened" in page.text
    assert PASSWORD not in page.text
    out = browser.post("/web/logout", data={"csrf": csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 302
    assert browser.get("/web/audit/events", follow_redirects=False).status_code == 302
    assert "web:session:closed" in tags(services)


def test_officer_lands_on_the_queue(browser):
    assert sign_in(browser, "tanaka").headers["location"] == "/web/cases"


def test_wrong_password_is_refused_and_audited(browser, services):
    response = sign_in(browser, "ito", "not-the-password-at-all")
    assert response.status_code == 401 and 'role="alert"' in response.text
    assert sign_in(browser, "nobody-here").status_code == 401
    assert tags(services).count("web:session:refused") == 2


def test_disabled_account_signs_in_nowhere_and_loses_its_session(browser, services):
    from datetime import UTC, datetime

    assert sign_in(browser, "ito").status_code == 302
    services.accounts.disable("ito", actor="admin:test", now=datetime.now(UTC))
    assert browser.get("/web/audit/events", follow_redirects=False).status_code == 302
    assert sign_in(browser, "ito").status_code == 401


def test_passwords_are_stored_as_argon2id_hashes(services, people):
    with services.database.transaction() as session:
        stored = session.execute(select(Account.password_hash)).scalars().all()
    assert stored and all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)


def test_short_password_is_refused(services):
    from datetime import UTC, datetime

    from gateway.errors import DocumentError

    with pytest.raises(DocumentError, match="at least 12"):
        services.accounts.create(
            "short",
            roles=["officer"],
            display_name="",
            password="short",
            actor="t",
            now=datetime.now(UTC),
        )


def test_form_without_csrf_token_is_refused(browser):
    """Regression: right after sign-in an empty token matched the session's absent one."""
    sign_in(browser, "ito")
    assert browser.post("/web/logout", data={}).status_code == 400
    assert (
        browser.post("/web/login", data={"username": "ito", "password": PASSWORD}).status_code
        == 400
    )


def test_analyst_cannot_open_the_audit_log_nor_the_queue(browser):
    sign_in(browser, "yamada")
    for page in ("/web/audit/events", "/web/cases"):
        refused = browser.get(page)
        assert refused.status_code == 403
        # a page with its own problem kind (it was "request-invalid": flask.abort's 403 had none)
        assert refused.headers["content-type"].startswith("text/html")
        assert "<code>forbidden</code>" in refused.text
        assert "this page needs the" in refused.text


@pytest.mark.parametrize("case_id", ["429544260242657247232", "2147483648", "0"])
def test_case_page_beyond_the_database_integer_is_not_found_not_a_500(browser, case_id):
    """Found by hand: connexion's int converter takes any number, and SQLite's INTEGER
    overflowed on the case's query (500). Pages take the API's bound (1 to 2**31 - 1)."""
    sign_in(browser, "suzuki")
    for page in (f"/web/cases/{case_id}", f"/web/cases/{case_id}/compose"):
        assert browser.get(page).status_code == 404, page
    queue = browser.get("/web/cases")
    posted = browser.post(f"/web/cases/{case_id}/actions", data={"csrf": csrf(queue.text)})
    assert posted.status_code == 404


def test_open_redirect_after_sign_in_is_refused(browser):
    response = sign_in(browser, "ito", next_page="https://evil.example/")
    assert response.headers["location"] == "/web/audit/events"


@pytest.fixture
def behind_sso(settings, people):
    sso = replace(
        settings, identity_header="X-Forwarded-User", identity_header_proxies="testclient"
    )
    services = build_services(sso)
    with TestClient(create_app(sso, services), base_url="https://testserver") as client:
        yield client
    services.database.dispose()


def test_identity_header_from_the_trusted_proxy_signs_in(behind_sso):
    page = behind_sso.get("/web/audit/events", headers={"X-Forwarded-User": "ito"})
    assert page.status_code == 200
    assert behind_sso.get("/web/cases", headers={"X-Forwarded-User": "ito"}).status_code == 403


def test_identity_header_naming_no_account_is_not_a_sign_in(behind_sso):
    response = behind_sso.get(
        "/web/audit/events", headers={"X-Forwarded-User": "mallory"}, follow_redirects=False
    )
    assert response.status_code == 302


def test_identity_header_spelled_with_an_underscore_is_not_believed(behind_sso):
    """A proxy that sets (or strips) only ``X-Forwarded-User`` passes ``X-Forwarded_User``
    through; the WSGI bridge would read both as one header."""
    response = behind_sso.get(
        "/web/audit/events", headers={"X-Forwarded_User": "ito"}, follow_redirects=False
    )
    assert response.status_code == 302


def test_identity_header_from_an_untrusted_address_is_ignored(browser):
    """Without the setting (or from another address) the header means nothing."""
    response = browser.get(
        "/web/audit/events", headers={"X-Forwarded-User": "ito"}, follow_redirects=False
    )
    assert response.status_code == 302


def test_password_guessing_is_slowed_to_the_sign_in_allowance(settings, people):
    """Five wrong passwords at once, then the sixth attempt (even the right one) is refused
    without trying the password, and audited; another account is not affected."""
    limited = replace(settings, sign_in_burst=5, sign_in_per_minute=1)
    services = build_services(limited)
    with TestClient(create_app(limited, services), base_url="https://testserver") as client:
        statuses = [sign_in(client, "ito", "wrong-guess").status_code for _ in range(5)]
        assert statuses == [401] * 5
        refused = sign_in(client, "ito")  # the right password, too late
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert "Too many sign-in attempts" in refused.text
        assert sign_in(client, "suzuki").status_code == 302
    with services.database.transaction() as session:
        details = [
            e.detail
            for e in session.execute(
                select(AuditEvent).where(AuditEvent.tag == "web:session:refused")
            ).scalars()
        ]
    services.database.dispose()
    assert details[-1] == {
        "username": "ito",
        "reason": "too many attempts",
        "address": "testclient",  # starlette's TestClient's
    }


def test_password_guessing_across_account_names_from_one_address_is_limited(
    settings, services, people
):
    """A guesser that rotates account names (each with a fresh allowance of its own) still
    spends the address's: beyond it, 429 without trying the password; its refusals are recorded
    one by one within the address's audit allowance and beyond it counted; another address is
    not affected."""
    limited = replace(
        settings,
        sign_in_per_address_burst=4,
        sign_in_per_address_per_minute=1,
        refusal_audit_burst=2,
        refusal_audit_per_minute=1,
    )
    built = build_services(limited)
    try:
        app = create_app(limited, built)
        with TestClient(app, base_url="https://testserver", client=("203.0.113.5", 1)) as guesser:
            statuses = [sign_in(guesser, f"guess{n}", "wrong-guess").status_code for n in range(7)]
            assert statuses == [401] * 4 + [429] * 3
            with TestClient(app, base_url="https://testserver", client=("192.0.2.1", 1)) as officer:
                assert sign_in(officer, "ito").status_code == 302
        with built.database.transaction() as session:
            events = list(
                session.execute(
                    select(AuditEvent)
                    .where(AuditEvent.tag.in_(["web:session:refused", "web:excess:refused"]))
                    .order_by(AuditEvent.log_index)
                ).scalars()
            )
            alone = [e.detail for e in events if e.tag == "web:session:refused"]
            [excess] = [e.detail for e in events if e.tag == "web:excess:refused"]
    finally:
        built.database.dispose()
    assert alone == [
        {"username": "guess0", "address": "203.0.113.5"},
        {"username": "guess1", "address": "203.0.113.5"},
    ]
    assert excess["source"] == "address 203.0.113.5"
    assert excess["problems"] == {"sign-in-failed": 2, "too-many-attempts": 3}
    assert excess["paths"] == {"/web/login": 5}
    assert len(alone) + excess["count"] == 7  # every attempt, one way or the other


def test_a_copied_cookie_opens_nothing_after_sign_out(settings, services, browser):
    """The session is held by the server: signing out ends it for every copy of the cookie."""
    sign_in(browser, "ito")
    copied = dict(browser.cookies)
    with TestClient(create_app(settings, services), base_url="https://testserver") as thief:
        thief.cookies.update(copied)
        assert thief.get("/web/audit/events", follow_redirects=False).status_code == 200
        page = browser.get("/web/audit/events")
        browser.post("/web/logout", data={"csrf": csrf(page.text)})
        after = thief.get("/web/audit/events", follow_redirects=False)
    assert after.status_code == 302 and "/web/login" in after.headers["location"]
    assert "web:session:closed" in tags(services)
