"""Who is signed in to the pages: local accounts (username and password, argon2id) or, when
configured, the identity a single-sign-on reverse proxy puts in a header.

Sessions are held by the server (:mod:`gateway.sessions`): the signed cookie (HttpOnly, Secure,
SameSite=Strict) carries the session's random token and the CSRF token, and each request looks the
session and its account up, so sign-out, an idle or old session, a new password, a changed role
or a disabled account end it at once, also for a copy of the cookie. Every form carries a CSRF
token. Sign-in, failed sign-in and
sign-out are audit events (refused sign-ins within an allowance per address, beyond it counted:
:mod:`gateway.exchange.refusals`). An account name may be tried ``sign_in_burst`` times at once,
then ``sign_in_per_minute`` a minute, and a client address ``sign_in_per_address_burst`` times
at once, then ``sign_in_per_address_per_minute`` (429 beyond, without trying the password: each
try costs argon2id's time and memory).

The SSO header (``identity_header``) is believed only from the proxies listed in
``identity_header_proxies``; from anywhere else it is ignored.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

import flask

from gateway.api.context import services
from gateway.api.sign_in import checked_sign_in
from gateway.errors import RateLimitedError
from gateway.people import Person

F = TypeVar("F", bound=Callable[..., Any])
#: The page each role lands on after sign-in, in order of preference.
HOMES = (
    ("officer", "web.cases"),
    ("supervisor", "web.cases"),
    ("auditor", "web.events"),
    ("analyst", "web.trends"),
    ("admin", "web.cases"),
)


def csrf_token() -> str:
    if "csrf" not in flask.session:
        flask.session["csrf"] = secrets.token_urlsafe(32)
    return str(flask.session["csrf"])


def check_csrf() -> None:
    """Refuse a form whose token is not this session's (an absent token never matches)."""
    sent = flask.request.form.get("csrf", "")
    expected = flask.session.get("csrf", "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        flask.abort(400, "the form is stale or forged (CSRF check); reload the page")


def _from_proxy() -> Person | None:
    settings = services().settings
    if not settings.identity_header:
        return None
    trusted = {p.strip() for p in settings.identity_header_proxies.split(",") if p.strip()}
    name = flask.request.headers.get(settings.identity_header, "")
    if not name or flask.request.remote_addr not in trusted:
        return None
    return services().accounts.person(name)


def current_user() -> Person | None:
    """The person signed in (or named by the trusted proxy), if their account is active."""
    if "person" in flask.g:
        found: Person | None = flask.g.person
        return found
    person = _from_proxy()
    if person is None:
        token = flask.session.get("sid")
        person = services().sessions.person(token, kind="web", now=datetime.now(UTC))
    flask.g.person = person
    return person


def home_of(person: Person) -> str:
    return next((page for role, page in HOMES if role in person.roles), "web.login")


def requires(*roles: str) -> Callable[[F], F]:
    """The view needs a signed-in person holding one of ``roles``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            person = current_user()
            if person is None:
                wanted = flask.request.full_path.rstrip("?")
                return flask.redirect(flask.url_for("web.login", next=wanted))
            if not person.roles & set(roles):
                flask.abort(403, f"this page needs the {' or '.join(roles)} role")
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def session_pages(web: flask.Blueprint) -> None:
    @web.app_context_processor
    def layout_values() -> dict[str, Any]:
        return {"user": current_user(), "csrf_token": csrf_token}

    @web.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        error = None
        if flask.request.method == "POST":
            check_csrf()
            username = flask.request.form.get("username", "").strip().lower()
            try:
                person = checked_sign_in(
                    services(),
                    username,
                    flask.request.form.get("password", ""),
                    source=flask.request.remote_addr,
                    address=flask.request.remote_addr,
                    path=flask.request.path,
                    now=datetime.now(UTC),
                )
            except RateLimitedError as refused:
                return (
                    flask.render_template(
                        "login.html",
                        error="Too many sign-in attempts; "
                        f"try again in {refused.retry_after} seconds.",
                    ),
                    429,
                    {"Retry-After": str(refused.retry_after)},
                )
            if person is not None:
                services().sessions.close(flask.session.get("sid"), now=datetime.now(UTC))
                flask.session.clear()  # a new session and CSRF token after sign-in
                opened = services().sessions.open(
                    person, kind="web", via=flask.request.remote_addr, now=datetime.now(UTC)
                )
                flask.session["sid"] = opened.token
                csrf_token()
                target = flask.request.args.get("next", "")
                return flask.redirect(
                    target if target.startswith("/web/") else flask.url_for(home_of(person))
                )
            error = "That username and password do not match an active account."
        return flask.render_template("login.html", error=error), 200 if error is None else 401

    @web.post("/logout")
    def logout() -> Any:
        check_csrf()
        services().sessions.close(flask.session.get("sid"), now=datetime.now(UTC))
        flask.session.clear()
        return flask.redirect(flask.url_for("web.login"))

    @web.get("/")
    def home() -> Any:
        person = current_user()
        if person is None:
            return flask.redirect(flask.url_for("web.login"))
        return flask.redirect(flask.url_for(home_of(person)))
