"""A password sign-in as every door that takes one (the pages, ``POST /v1/account-sessions``)
makes it: the guess allowances first, then argon2id, every refusal audited."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from gateway.errors import RateLimitedError

if TYPE_CHECKING:
    from gateway.app import Services
    from gateway.people import Person


def checked_sign_in(
    services: Services,
    username: str,
    password: str,
    *,
    source: str | None,
    address: str | None,
    path: str,
    now: datetime,
) -> Person | None:
    """The person if ``password`` is theirs; None (audited) if not. RateLimitedError (audited,
    the password untried) once ``source`` (a client address, an operator system) or the name
    has used its allowance: guessing costs the guesser time, not only argon2id's."""
    try:
        services.sign_in_address_limiter.take(f"sign-in-from:{source}")
        services.sign_in_limiter.take(f"sign-in:{username}")
    except RateLimitedError:
        services.refusals.record_sign_in_refusal(
            username=username, reason="too many attempts", address=address, path=path
        )
        raise
    person = services.accounts.authenticate(username, password, now=now)
    if person is None:
        services.refusals.record_sign_in_refusal(
            username=username, reason=None, address=address, path=path
        )
    return person
