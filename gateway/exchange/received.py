"""What the inbound path hands to the workflow that a received message changes (its "link")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

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
