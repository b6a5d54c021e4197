"""The request edge: the first thing every request meets inside connexion's error handling.

It puts the gateway's services where connexion's security function can reach them, refuses a NUL
character in the path, the query or a header (no parameter may carry one, and PostgreSQL could
not store it), and enforces the limits that come before any parsing (PROTOCOL §7):

* the body size: a declared ``Content-Length`` over the limit is refused at once, a body
  streamed without one is counted while it is read;
* the time to send the body (``body_timeout_seconds``, then 408): a stalled client does not
  hold a worker;
* the time to answer (``request_timeout_seconds``, then 503 with ``Retry-After``). The work
  under way is not interrupted half-way: it commits whole or not at all, and the partner's
  resend of the same message gets the same receipt (PROTOCOL §5).

The body is buffered (it is small by construction) so its SHA-256 is known to the refusal log.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import (
    BodyTimeoutError,
    PayloadTooLargeError,
    ProcessingTimeoutError,
    RequestInvalidError,
)

if TYPE_CHECKING:
    from gateway.app import Services

SERVICES_KEY = "gateway.services"
FACTS_KEY = "gateway.facts"


@dataclass
class RequestFacts:
    """What the edge learnt about the request body, for the audit record of a refusal."""

    body_sha256: str | None = None
    size: int = 0


def facts_of(scope: Scope) -> RequestFacts | None:
    facts = scope.get(FACTS_KEY)
    return facts if isinstance(facts, RequestFacts) else None


def services_of(scope: Scope) -> Services:
    return scope[SERVICES_KEY]  # type: ignore[no-any-return]


def _drop_underscored_headers(scope: Scope) -> None:
    """Forget every request header whose name has an underscore. The WSGI bridge names headers
    ``HTTP_X_FORWARDED_USER`` whether they came as ``X-Forwarded-User`` or ``X-Forwarded_User``,
    so a client could pass a proxy that sets (or strips) only the first spelling and still be
    believed as the trusted identity header; no header of the protocol has an underscore (nginx
    drops them too by default)."""
    scope["headers"] = [(name, value) for name, value in scope["headers"] if b"_" not in name]


class RequestEdge:
    def __init__(self, app: ASGIApp, *, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Mutated in place: connexion's exception handlers see the same scope dict.
        scope[SERVICES_KEY] = self.services
        scope.setdefault("extensions", {})
        facts = RequestFacts()
        scope[FACTS_KEY] = facts
        _refuse_nul(scope)
        _drop_underscored_headers(scope)
        settings = self.services.settings
        if scope["method"] not in {"GET", "HEAD", "OPTIONS", "DELETE"}:
            try:
                body = await asyncio.wait_for(
                    self._read_body(scope, receive), settings.body_timeout_seconds
                )
            except TimeoutError:
                raise BodyTimeoutError(
                    f"the body did not arrive within {settings.body_timeout_seconds} s"
                ) from None
            facts.size = len(body)
            facts.body_sha256 = hashlib.sha256(body).hexdigest()
            receive = _replay(body)
        await self._answer_in_time(scope, receive, send, settings.request_timeout_seconds)

    async def _answer_in_time(
        self, scope: Scope, receive: Receive, send: Send, seconds: int
    ) -> None:
        started = False
        late = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if late:  # the caller has had its 503 already
                return
            started = True
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, guarded_send), seconds)
        except TimeoutError:
            if started:  # too late for a problem: the response is on its way
                raise
            late = True
            raise ProcessingTimeoutError(
                f"no answer within {seconds} s; sending the same message again is safe"
            ) from None

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.services.settings.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            raise PayloadTooLargeError(f"the body is {declared} bytes; the limit is {limit}")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLargeError(f"the body is over the limit of {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _refuse_nul(scope: Scope) -> None:
    query: bytes = scope.get("query_string", b"")
    path: bytes = scope.get("raw_path") or scope["path"].encode()
    if any(b"\x00" in part or b"%00" in part for part in (query, path)) or any(
        b"\x00" in value for _, value in scope["headers"]
    ):
        raise RequestInvalidError("a NUL character is not allowed in the path, query or headers")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
