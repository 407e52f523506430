"""`billing replay reporting` on a running service (blue/green): the live consumers keep consuming, the
API keeps answering from the live tables and never from a half-built copy, and after the swap the
reports are what the live projection gave, including an event that arrived during the rebuild."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from billing_service.rebuild import OWN_LOG, RebuildAlreadyRunning, UnknownSubscription, rebuild_live
from billing_testing.harness import ServiceHarness, publish_events

from .conftest import at, patient_paid
from .test_reporting_history_aging import aging_table
from .test_reporting_history_rebuild import snapshot


async def test_a_live_rebuild_answers_throughout_and_swaps_in_the_same_reports(
    svc: ServiceHarness, published_events: int, kafka_bootstrap: str, topic_prefix: str
) -> None:
    api = svc.client(roles=["biller"])
    before = await snapshot(api)
    march_before = (await api.get("/reports/ar-aging", params={"as_of": "2025-03-31"})).json()
    started, finished = asyncio.Event(), asyncio.Event()
    parts: set[str] = set()

    def progress(part: str, done: int, total: int) -> None:
        parts.add(part)
        started.set()

    answers: list[tuple[int, Any]] = []

    async def read_all_along() -> None:
        while not finished.is_set():
            response = await api.get("/reports/ar-aging", params={"as_of": "2025-03-31"})
            answers.append((response.status_code, response.json()))
            await asyncio.sleep(0.005)

    async def keep_consuming() -> None:
        while not finished.is_set():
            for consumer in svc.consumers:
                await consumer.poll_once(timeout_ms=50)

    async def meanwhile() -> None:
        await started.wait()
        # A second rebuild of the same service is refused while this one runs.
        with pytest.raises(RebuildAlreadyRunning, match="already running"):
            await rebuild_live(svc.runtime)
        # The patient of INV-5 pays $30 more on June 1, during the rebuild.
        await publish_events(
            kafka_bootstrap, topic_prefix, [patient_paid(5, 3000, "2025-06-01")], occurred_at=at("2025-06-01")
        )

    async def rebuild() -> Any:
        try:
            return await rebuild_live(svc.runtime, progress=progress)
        finally:
            finished.set()

    report, *_ = await asyncio.gather(rebuild(), read_all_along(), keep_consuming(), meanwhile())
    await svc.drain()

    assert parts == {"reporting", "reporting-finance"}
    # Every event of the history was rebuilt, and the payment too, whichever side applied it first.
    assert report.events in (published_events, published_events + 1)
    assert answers, "the API was read during the rebuild"
    assert {status for status, _ in answers} == {200}
    # Never an empty or half-built view: every answer during the rebuild is the live one.
    assert all(body == march_before for _, body in answers)

    # The history's reports are unchanged (all but June's aging, in JSON and CSV: the 5th and 6th
    # answers of the snapshot); the payment of June 1 is counted exactly once:
    # INV-5: 200 - 50 - 30 = $120 at 117 days; INV-6 $220 at 90 days; INV-4's $20 at 136 days.
    after = await snapshot(api)
    assert after[:4] + after[6:] == before[:4] + before[6:]
    june = (await api.get("/reports/ar-aging", params={"as_of": "2025-06-30"})).json()
    assert aging_table(june) == {"Blue Plains": [0, 0, 22000, 0, 0], "Self-pay": [0, 0, 0, 12000, 2000]}
    assert june["total_cents"] == 22000 + 12000 + 2000

    # Nothing is left behind: no copy, no retired tables.
    async with svc.runtime.pool.acquire() as connection:
        schemas = await connection.fetch(
            "SELECT nspname FROM pg_namespace WHERE nspname IN ('billing_rebuild', 'billing_retired')"
        )
    assert schemas == []


async def test_a_rebuild_of_one_subscription_leaves_the_others_alone(svc: ServiceHarness) -> None:
    api = svc.client(roles=["biller"])
    before = await snapshot(api)

    report = await rebuild_live(svc.runtime, only="reporting-finance")

    assert [part.part for part in report.parts] == ["reporting-finance"]
    assert await snapshot(api) == before
    with pytest.raises(UnknownSubscription, match="no projection 'nope'"):
        await rebuild_live(svc.runtime, only="nope")
    with pytest.raises(UnknownSubscription):
        await rebuild_live(svc.runtime, only=OWN_LOG)  # reporting keeps no projection of its own log
