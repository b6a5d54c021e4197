"""The HTTP protocol ``gateway serve`` runs: uvicorn's (httptools) with a deadline for the head.

uvicorn times out a connection only while it is idle between requests, and each byte received
resets that: a client that connects and sends nothing, or trickles its request line and headers
a byte at a time (Slowloris), holds a connection, and a file descriptor, for as long as it likes.
The request edge (:mod:`gateway.api.edge`) bounds the body, but runs only once the head is in.

Here a connection must deliver each request's complete head within ``header_timeout_seconds``
of its first byte (of connecting, for the first request); otherwise it is closed. Nothing is
answered (no request was read to answer) and nothing is audited (no request, and the volume is
the caller's to choose); the close is logged.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger(__name__)


@functools.cache
def head_deadline_seconds() -> float:
    """``header_timeout_seconds`` of this worker's settings (read once per process)."""
    from gateway.settings import load_settings

    return float(load_settings().header_timeout_seconds)


class HeadDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request head is late."""

    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm_head_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_deadline is None:  # the first request's runs from connecting
            self._arm_head_deadline()

    def on_headers_complete(self) -> None:
        self._disarm_head_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        self._head_deadline = self.loop.call_later(head_deadline_seconds(), self._head_too_late)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_late(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            logger.info(
                "closed a connection from %s: no complete request head within %s s",
                self.client[0] if self.client else "an unknown address",
                head_deadline_seconds(),
            )
            self.transport.close()
