"""Authentication of partner calls: connexion's bearer function for ``partnerAssertion``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request

from gateway.api.edge import services_of
from gateway.trust.assertions import verify_assertion


def request_url(request: Request, public_url: str) -> str:
    """The URL the caller addressed, without query: what its ``htu`` claim must equal."""
    if public_url:
        return public_url.rstrip("/") + request.url.path
    return str(request.url.replace(query=""))


def bearer_info(token: str, request: Request) -> dict[str, Any]:
    """Verify the client assertion (PROTOCOL §3) and name the caller.

    Pure verification, no I/O: the ``jti`` is consumed by the workflow, in the transaction of
    the call's effect. Raises an AuthenticationError subclass on any failure, and
    RateLimitedError when the verified caller is over its allowance.
    """
    services = services_of(request.scope)
    settings = services.settings
    assertion = verify_assertion(
        token,
        keys_of=services.registry.keys_of,
        receiver_id=settings.gateway_id,
        method=request.method,
        url=request_url(request, settings.public_url),
        now=datetime.now(UTC),
        clock_skew=timedelta(seconds=settings.clock_skew_seconds),
        max_lifetime=timedelta(seconds=settings.max_assertion_lifetime_seconds),
    )
    services.rate_limiter.take(assertion.caller)
    return {"sub": assertion.caller, "assertion": assertion}
