"""Reading an answer from another gateway without trusting its size or its pace."""

from __future__ import annotations

import time

import httpx


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
