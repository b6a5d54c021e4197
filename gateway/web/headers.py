"""The headers every page is sent with, error pages included (see :mod:`gateway.web`)."""

from __future__ import annotations

from typing import TypeVar

from werkzeug.wrappers import Response

R = TypeVar("R", bound=Response)

#: The pages load their own stylesheet and nothing else, post forms only to the gateway, and are
#: never framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # page addresses name cases and messages
    "Cache-Control": "no-store",
}


def secured(response: R) -> R:
    """``response`` with :data:`SECURITY_HEADERS`."""
    response.headers.update(SECURITY_HEADERS)
    return response
