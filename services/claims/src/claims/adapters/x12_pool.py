"""Reading X12 off the event loop: each file is read in a worker process, within a time budget.

A file can be slow to read for honest reasons (a payer's 835 with 250,000 claims) or hostile ones
(millions of segments, a pattern that makes the reader crawl). Read in the service's own process,
either would stop its event loop, and with it every request and every other tenant's file. Here the
read runs in a pool process; past the budget that process is killed (pebble kills exactly the one
worker running the late file, others' reads go on) and the file is refused with a reason that says
so.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout

from pebble import ProcessExpired, ProcessPool

from claims.adapters.x12_inbound import read_inbound
from claims.application.ports import FileRefused
from claims.domain.inbound import InboundDocument

Read = Callable[[bytes], InboundDocument]


def _read_guarded(read: Read, data: bytes) -> InboundDocument:
    try:
        return read(data)
    except MemoryError:
        raise FileRefused("the file needs more memory than a reader may use") from None
    except RecursionError:
        raise FileRefused("the file is nested deeper than the reader follows") from None


class PooledReader:
    """An InboundReader (and the API's reader) that reads in worker processes with a time budget."""

    def __init__(
        self,
        *,
        budget_seconds: float,
        workers: int = 2,
        read: Read = read_inbound,
    ) -> None:
        self.budget_seconds = budget_seconds
        self.read = read
        # forkserver: the workers start from a small clean process, not a fork of one that holds
        # the event loop, sockets and threads.
        self._pool = ProcessPool(
            max_workers=workers,
            context=multiprocessing.get_context("forkserver"),
        )

    async def __call__(self, data: bytes) -> InboundDocument:
        future = self._pool.schedule(_read_guarded, args=[self.read, data], timeout=self.budget_seconds)
        try:
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            raise FileRefused(
                f"the file was not read within its budget of {self.budget_seconds:g} s "
                "(too large or built to be slow to read); nothing of it was applied"
            ) from None
        except ProcessExpired as expired:
            raise FileRefused(
                f"the reader's process ended while reading the file (exit code {expired.exitcode}); "
                "nothing of it was applied"
            ) from None
        except asyncio.CancelledError:
            future.cancel()  # type: ignore[no-untyped-call]  # the worker is killed, not left reading
            raise

    def close(self) -> None:
        self._pool.stop()  # type: ignore[no-untyped-call]
        self._pool.join()
