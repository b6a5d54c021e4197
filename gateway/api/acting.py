"""Who acts on the operator API: one system, and one person signed in through it.

An integrating system holds an operator token (role ``system``): that names the system. The
person it acts for signs in through it once (``POST /v1/account-sessions`` with their username
and password) and the system then sends the session token it got back in ``X-Account-Session``
on each call. The session is bound to the system that opened it, so a system can act only for
people who signed in through it, and never names a person by typing their username.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import flask
from connexion import NoContent

from gateway.api.context import services
from gateway.api.operators import require_role
from gateway.api.sign_in import checked_sign_in
from gateway.documents.hardened import parse_json
from gateway.errors import SessionInvalidError, SignInFailedError
from gateway.people import Person

SESSION_HEADER = "X-Account-Session"


def acting(token_info: dict[str, Any]) -> Person:
    """The person whose live ``api`` session, opened through this calling system, the call
    carries; SessionInvalidError (401) if there is none."""
    system = require_role(token_info, "system")
    token = flask.request.headers.get(SESSION_HEADER, "")
    person = services().sessions.person(token, kind="api", via=system, now=datetime.now(UTC))
    if person is None:
        raise SessionInvalidError(
            f"{SESSION_HEADER} must carry a live session opened through this system "
            "(POST /v1/account-sessions)"
        )
    return person


def open_session(token_info: dict[str, Any]) -> flask.Response:
    """Sign a person in through the calling system: 201 with their session token."""
    system = require_role(token_info, "system")
    gateway = services()
    body = parse_json(
        flask.request.get_data(),
        max_bytes=gateway.settings.max_body_bytes,
        max_depth=gateway.settings.max_json_depth,
    )
    gateway.json_schemas.check("AccountSignIn", body)
    username = str(body["username"]).strip().lower()
    now = datetime.now(UTC)
    person = checked_sign_in(
        gateway,
        username,
        str(body["password"]),
        source=system,
        address=flask.request.remote_addr,
        path=flask.request.path,
        now=now,
    )
    if person is None:
        raise SignInFailedError("that username and password do not match an active account")
    opened = gateway.sessions.open(person, kind="api", via=system, now=now)
    answer = {
        "session": opened.token,
        "username": person.username,
        "roles": sorted(person.roles),
        "expires_at": opened.expires_at.isoformat(),
    }
    return flask.Response(flask.json.dumps(answer), status=201, content_type="application/json")


def close_session(token_info: dict[str, Any]) -> tuple[object, int]:
    """Sign out the person whose session the call carries: 204."""
    acting(token_info)
    services().sessions.close(flask.request.headers.get(SESSION_HEADER), now=datetime.now(UTC))
    return NoContent, 204
