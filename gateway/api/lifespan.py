"""What runs beside the requests for the life of a worker process (the ASGI lifespan).

The refusal counts (:mod:`gateway.exchange.refusals`) are written every summary interval, and
people's reads (:mod:`gateway.audit.reads`) once their batch is ``read_audit_seconds`` old; what
is left of either is written when the worker stops, so a count or a read waits at most one
interval and a clean shutdown loses none.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.app import Services


def worker_lifespan(
    services: Services,
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """The lifespan handler for connexion (called with the app, which it does not need)."""
    seconds = max(
        1, min(services.settings.refusal_summary_seconds, services.settings.read_audit_seconds)
    )  # 0 would spin
    refusals, reads = services.refusals, services.reads

    async def write_counts_every_interval() -> None:
        while True:
            await asyncio.sleep(seconds)
            await asyncio.to_thread(refusals.flush)
            await asyncio.to_thread(reads.flush, due_only=True)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        writer = asyncio.create_task(write_counts_every_interval())
        try:
            yield
        finally:
            writer.cancel()
            with suppress(asyncio.CancelledError):
                await writer
            await asyncio.to_thread(refusals.flush)
            await asyncio.to_thread(reads.flush)

    return lifespan
