"""Web sessions: signed, HttpOnly, Secure, SameSite=Strict cookies; CSRF on every form.

Until officers' accounts exist (issue 7), a person signs in with an operator token of role
``auditor`` or ``officer``; the session then holds only the name and role, never the token.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

import flask

from gateway.api.context import services
from gateway.api.operators import token_holder
from gateway.audit import log as audit_log

SESSION_SECONDS = 8 * 3600
#: Roles that may sign in to the pages, and the page each lands on.
HOME_BY_ROLE = {"auditor": "web.events", "officer": "web.origin_lookup"}
F = TypeVar("F", bound=Callable[..., Any])


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


def current_user() -> dict[str, Any] | None:
    user = flask.session.get("user")
    if not user or time.time() - flask.session.get("since", 0) > SESSION_SECONDS:
        return None
    return {"name": user, "role": flask.session.get("role")}


def requires(*roles: str) -> Callable[[F], F]:
    """The view needs a signed-in person holding one of ``roles``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                wanted = flask.request.full_path.rstrip("?")
                return flask.redirect(flask.url_for("web.login", next=wanted))
            if user["role"] not in roles:
                flask.abort(403, f"this page needs the {' or '.join(roles)} role")
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def _record(tag: str, actor: str) -> None:
    gateway = services()
    with gateway.database.transaction() as session:
        audit_log.append(
            session, audit_log.Event(tag=tag, occurred_at=datetime.now(UTC), actor=actor)
        )


def session_pages(web: flask.Blueprint) -> None:
    @web.app_context_processor
    def layout_values() -> dict[str, Any]:
        return {"user": current_user(), "csrf_token": csrf_token}

    @web.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        error = None
        if flask.request.method == "POST":
            check_csrf()
            match = token_holder(services().operator_tokens, flask.request.form.get("token", ""))
            if match is not None and match[1] in HOME_BY_ROLE:
                holder, role = match
                name = f"{role}:{holder}"
                flask.session.clear()  # a new session id and CSRF token after sign-in
                flask.session.update(user=name, role=role, since=time.time())
                csrf_token()
                _record(f"{role}:session:opened", name)
                target = flask.request.args.get("next", "")
                return flask.redirect(
                    target if target.startswith("/web/") else flask.url_for(HOME_BY_ROLE[role])
                )
            error = "That token is not an auditor's token nor an officer's."
        return flask.render_template("login.html", error=error), 200 if error is None else 401

    @web.post("/logout")
    def logout() -> Any:
        check_csrf()
        user = current_user()
        if user is not None:
            _record(f"{user['role']}:session:closed", user["name"])
        flask.session.clear()
        return flask.redirect(flask.url_for("web.login"))

    @web.get("/")
    def home() -> Any:
        user = current_user()
        return flask.redirect(
            flask.url_for(HOME_BY_ROLE.get(user["role"] if user else "", "web.events"))
        )
