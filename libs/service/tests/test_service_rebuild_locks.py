"""A live swap never deadlocks a report: the cycle CI hit, built on purpose.

A report's transaction holds one projection table and then reads another; the swap wants both.
Before, the swap moved the tables one by one with a 2 s lock timeout, so it could hold the second
while the report held the first, and PostgreSQL's deadlock detector cancelled one of them after 1 s.
"""

from __future__ import annotations

import asyncio

import asyncpg

from billing_service.rebuild import _LOCK_CONTENDED, _lock_tables, _take_locks


async def test_a_swap_that_meets_a_report_in_the_opposite_order_gives_way_and_the_report_answers(
    database_url: str,
) -> None:
    setup = await asyncpg.connect(database_url)
    report = await asyncpg.connect(database_url)
    swap = await asyncpg.connect(database_url)
    try:
        await setup.execute("CREATE TABLE first_table (n int); CREATE TABLE second_table (n int)")
        await setup.execute("INSERT INTO first_table VALUES (1); INSERT INTO second_table VALUES (2)")

        report_transaction = report.transaction(isolation="repeatable_read")
        await report_transaction.start()
        assert await report.fetchval("SELECT n FROM second_table") == 2

        async def swap_both() -> BaseException | None:
            try:
                async with swap.transaction():
                    await _take_locks(swap, [_lock_tables(["first_table", "second_table"])], 400)
            except _LOCK_CONTENDED as refused:
                gave_way: BaseException = refused
                return gave_way
            return None

        swapping = asyncio.create_task(swap_both())
        await asyncio.sleep(0.1)  # the swap holds first_table and waits for second_table
        # The report now wants the table the swap holds: a cycle.
        started = asyncio.get_running_loop().time()
        assert await report.fetchval("SELECT n FROM first_table") == 1
        waited = asyncio.get_running_loop().time() - started
        await report_transaction.commit()

        refused = await swapping
        assert isinstance(refused, _LOCK_CONTENDED), "the swap gives way, so it can try again"
        assert not isinstance(refused, asyncpg.DeadlockDetectedError)
        assert waited < 1.0, "the report waited less than deadlock_timeout"

        # Once the report is done, the same swap goes through.
        assert await swap_both() is None
    finally:
        for connection in (report, swap, setup):
            await connection.close()
