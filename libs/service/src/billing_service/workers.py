"""Background work a service runs beside its API and consumers (`ServiceDefinition.workers`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from billing_events.consumer import describe_error

log = logging.getLogger(__name__)

# A worker runs until the event is set.
Worker = Callable[[asyncio.Event], object]


def every(name: str, seconds: float, action: Callable[[], Awaitable[object]]) -> Worker:
    """Run `action` every `seconds` until stopped; a failed round is logged (its error type only, never
    patient data) and the next round tries again."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await action()
            except Exception as error:
                log.warning("worker round failed", extra={"worker": name, "error": describe_error(error)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=seconds)

    return run
