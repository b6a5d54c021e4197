"""The request edge: the first thing every request meets inside connexion's error handling.

It puts the gateway's services where connexion's security function can reach them, and enforces
the body size limit before anything parses the body (PROTOCOL §7): a declared ``Content-Length``
over the limit is refused at once, a body streamed without one is counted while it is read. The
body is buffered (it is small by construction) so its SHA-256 is known to the refusal log.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import PayloadTooLargeError

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
        if scope["method"] in {"GET", "HEAD", "OPTIONS", "DELETE"}:
            await self.app(scope, receive, send)
            return
        body = await self._read_body(scope, receive)
        facts.size = len(body)
        facts.body_sha256 = hashlib.sha256(body).hexdigest()
        await self.app(scope, _replay(body), send)

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
