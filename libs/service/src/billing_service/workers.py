"""Background work a service runs beside its API and consumers (`ServiceDefinition.workers`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg
import asyncpg.pool

from billing_events.consumer import describe_error
from billing_events.store import keeps_session_state

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


def every_or_on_notify(
    name: str,
    seconds: float,
    action: Callable[[], Awaitable[object]],
    *,
    pool: asyncpg.Pool,
    channel: str,
    linger: float,
) -> Worker:
    """Like `every`, and also `linger` seconds after a PostgreSQL NOTIFY on `channel` (what the round
    does has just become due, in another process maybe): the round's latency is then `linger`, not
    up to `seconds`. Lingering gathers what becomes due together into one round (one file per payer
    rather than one per claim). Listening needs a connection of its own: if it is lost (a database
    restart), the worker rounds every `seconds` and listens again as soon as it can."""

    async def run(stop: asyncio.Event) -> None:
        wake = asyncio.Event()

        def notified(*_: object) -> None:
            wake.set()

        listener: asyncpg.pool.PoolConnectionProxy | None = None
        try:
            while not stop.is_set():
                if listener is None or listener.is_closed():
                    listener = await _listen(pool, channel, notified, listener)
                wake.clear()  # before the round: what becomes due during it wakes the next one
                try:
                    await action()
                except Exception as error:
                    log.warning("worker round failed", extra={"worker": name, "error": describe_error(error)})
                waiter = asyncio.ensure_future(wake.wait())
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait({waiter, stopper}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
                for task in (waiter, stopper):
                    task.cancel()
                if wake.is_set() and not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=linger)
        finally:
            if listener is not None:
                await _release(pool, listener, channel, notified)

    return run


async def _listen(
    pool: asyncpg.Pool,
    channel: str,
    callback: Callable[..., None],
    lost: asyncpg.pool.PoolConnectionProxy | None,
) -> asyncpg.pool.PoolConnectionProxy | None:
    if lost is not None:
        with contextlib.suppress(Exception):
            await pool.release(lost)
    try:
        connection = await pool.acquire()
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return None  # the rounds go on every `seconds`; the next one tries again
    keeps_session_state(connection)  # LISTEN: fully reset when it goes back to the pool
    try:
        await connection.add_listener(channel, callback)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        await pool.release(connection)
        return None
    return connection


async def _release(
    pool: asyncpg.Pool,
    connection: asyncpg.pool.PoolConnectionProxy,
    channel: str,
    callback: Callable[..., None],
) -> None:
    with contextlib.suppress(Exception):
        await connection.remove_listener(channel, callback)
    with contextlib.suppress(Exception):
        await pool.release(connection)
