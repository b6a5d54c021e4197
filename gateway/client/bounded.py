"""Reading an answer from another gateway without trusting its size, its pace or its words.

:func:`read_bounded` bounds the body as it arrives. What the gateway keeps of it (a refusal's
problem, an error's text: the outbox row, the audit log, the pages and the CLI that show them) is
bounded again before it is stored: :func:`partner_problem` keeps RFC 9457's members and the
protocol's ``rule`` only, each string at most :data:`MAX_PARTNER_TEXT` characters, and
:func:`bounded_text` cuts any other text the partner chose (a 5 KB problem ``type``, an HTML error
page) the same way, with an ellipsis and the length it had.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from gateway.documents.hardened import parse_json
from gateway.errors import DocumentError

#: The most characters of one string from a partner that the gateway keeps.
MAX_PARTNER_TEXT = 300
#: The members of a partner's problem that are kept (RFC 9457, and ``rule``: PROTOCOL §6).
PROBLEM_MEMBERS = ("type", "title", "status", "detail", "instance", "rule")
#: Deeper JSON than a problem has is not a problem (and would exhaust the parser's recursion).
_MAX_PROBLEM_DEPTH = 8


class AnswerOutOfBounds(Exception):
    """The answer was larger than allowed, or still arriving at the deadline."""


def read_bounded(
    response: httpx.Response,
    *,
    max_bytes: int,
    seconds: float | None = None,
    since: float | None = None,
) -> bytes:
    """The body of a streamed ``response``: at most ``max_bytes``, all in by ``seconds`` after
    ``since`` (a ``time.monotonic()``; default: now), or with no deadline beyond the client's own
    timeouts if ``seconds`` is None; AnswerOutOfBounds otherwise, as soon as it is known. A server
    that answers without end, or a byte at a time within each read timeout, would otherwise hold
    the reader as long as it likes."""
    start = time.monotonic() if since is None else since
    deadline = None if seconds is None else start + seconds
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise AnswerOutOfBounds(f"the answer is over {max_bytes} bytes")
        if deadline is not None and time.monotonic() > deadline:
            raise AnswerOutOfBounds(f"the answer took over {seconds:g} s")
        chunks.append(chunk)
    return b"".join(chunks)


def bounded_text(text: str, limit: int = MAX_PARTNER_TEXT) -> str:
    """``text`` with every control or formatting character (a newline, a terminal escape, a
    direction override) as a space, and cut to ``limit`` characters with an ellipsis and the
    length it had, e.g. ``"https://x.test/aaa… (5120 characters)"``."""
    printable = "".join(c if c.isprintable() else " " for c in text[: limit + 1])
    if len(text) <= limit:
        return printable
    return f"{printable[:limit]}… ({len(text)} characters)"


def partner_problem(body: bytes) -> dict[str, Any]:
    """What is kept of a partner's problem: the known members (:data:`PROBLEM_MEMBERS`), each
    string bounded by :func:`bounded_text`, ``status`` only if it is an HTTP status. A body that
    is not a JSON object (an HTML error page, a bare string, garbage) is kept as its bounded
    ``detail``; an empty one as ``{}``."""
    try:
        problem = _json_object(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()  # at most the answer's bound
        return {"detail": bounded_text(text)} if text else {}
    kept: dict[str, Any] = {}
    for member in PROBLEM_MEMBERS:
        value = problem.get(member)
        if member == "status":
            if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
                kept[member] = value
        elif isinstance(value, str):
            kept[member] = bounded_text(value)
    return kept


def _json_object(body: bytes) -> dict[str, Any]:
    """The JSON object in ``body``; ValueError if it holds none (or nests deeper than a problem
    does)."""
    try:
        value = parse_json(body, max_bytes=len(body), max_depth=_MAX_PROBLEM_DEPTH)
    except DocumentError as error:
        raise ValueError(error.detail) from error
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value
