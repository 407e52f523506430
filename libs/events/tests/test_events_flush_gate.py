"""The flush gate: a commit is answered only after a WAL flush that began after it committed, and
concurrent commits share flushes. No database: the connection is a stand-in that records when each
flush began and ended."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import asyncpg
import pytest

from billing_events.store import DURABLE_AND_WAKE, FlushGate


class Disk:
    def __init__(self) -> None:
        self.flushes: list[tuple[int, int]] = []  # (began at tick, ended at tick)
        self.tick = 0
        self.fail_next = False

    async def execute(self, statement: str) -> None:
        assert statement == DURABLE_AND_WAKE
        self.tick += 1
        began = self.tick
        await asyncio.sleep(0.01)
        if self.fail_next:
            self.fail_next = False
            raise ConnectionResetError("the server went away")
        self.tick += 1
        self.flushes.append((began, self.tick))


async def test_each_commit_waits_for_a_flush_that_began_after_it_and_concurrent_commits_share_one() -> None:
    disk = Disk()
    gate = FlushGate()
    connection = cast(asyncpg.Connection, disk)
    covered: dict[int, tuple[int, int]] = {}

    async def commit(number: int) -> None:
        committed_at = disk.tick
        await gate.flushed(connection)
        # The flush that answered this commit began after it: the latest one finished by now.
        covered[number] = (committed_at, max(began for began, _ in disk.flushes))

    first = asyncio.create_task(commit(0))
    await asyncio.sleep(0.001)  # the first flush is in flight: later commits need the next one
    await asyncio.gather(first, *(commit(n) for n in range(1, 16)))
    assert len(disk.flushes) == 2
    assert all(began > committed_at for committed_at, began in covered.values())


async def test_a_failed_flush_is_retried_by_a_waiter_and_fails_its_own_caller_only() -> None:
    disk = Disk()
    gate = FlushGate()
    connection = cast(asyncpg.Connection, disk)
    disk.fail_next = True
    leader = asyncio.create_task(gate.flushed(connection))
    await asyncio.sleep(0.001)
    follower = asyncio.create_task(gate.flushed(connection))
    with pytest.raises(ConnectionResetError):
        await leader
    await follower  # flushed again by the follower itself
    assert len(disk.flushes) == 1


async def test_a_cancelled_waiter_leaves_the_flight_to_the_others() -> None:
    disk = Disk()
    gate = FlushGate()
    connection = cast(asyncpg.Connection, disk)
    leader = asyncio.create_task(gate.flushed(connection))
    await asyncio.sleep(0.001)
    waiters: list[asyncio.Task[Any]] = [asyncio.create_task(gate.flushed(connection)) for _ in range(3)]
    await asyncio.sleep(0.001)
    waiters[0].cancel()
    await asyncio.gather(leader, *waiters[1:])
    assert waiters[0].cancelled() and len(disk.flushes) == 2
