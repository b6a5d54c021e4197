"""What the inbound path hands to the workflow that a received message changes (its "link"), and
the workflows it hands messages to."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from gateway.store.models import Message
from gateway.trust.xmldsig import AuthorityCertificate


@dataclass(frozen=True)
class Received:
    """A message that passed every check, about to be stored with its effects."""

    caller: str
    message_id: str
    message_type: str
    document: dict[str, Any]
    body_sha256: str
    now: datetime
    #: The issuing authority whose pinned certificate verified the document's own signature.
    signed_by: AuthorityCertificate | None = None


#: Runs in the storing transaction: what receiving the message changes elsewhere. It may raise a
#: GatewayError, and then nothing of the message is stored.
Link = Callable[[Session, Received], None]


class BatchIngest(Protocol):
    """Where the hub takes a member's batch in (gateway.rilo.hub.Hub)."""

    def batch_received(self, session: Session, received: Received) -> None: ...

    def withdraw(
        self, session: Session, member: str, report_ids: Iterable[str], *, now: datetime
    ) -> int: ...


class HubFeed(Protocol):
    """A member's feed to the hub (gateway.rilo.feed.Feed)."""

    def report_received(self, session: Session, received: Received) -> None: ...

    def withdraw_onward(
        self, session: Session, source_message_id: str, *, reason: str | None, now: datetime
    ) -> int: ...

    def markings_changed(self, session: Session, message: Message, *, now: datetime) -> int: ...


class RequestCases(Protocol):
    """Where a received request for assistance opens its case (gateway.review.cases.Cases)."""

    def request_received(self, session: Session, received: Received) -> None: ...
