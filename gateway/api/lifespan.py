"""What runs beside the requests for the life of a worker process (the ASGI lifespan).

The refusal counts (:mod:`gateway.exchange.refusals`) are written every summary interval, and
whatever is left when the worker stops, so a count waits at most one interval and a clean
shutdown loses none.
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
    seconds = max(1, services.settings.refusal_summary_seconds)  # 0 would spin
    refusals = services.refusals

    async def write_counts_every_interval() -> None:
        while True:
            await asyncio.sleep(seconds)
            await asyncio.to_thread(refusals.flush)

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

    return lifespan
