"""`billing replay interop` while interop runs: FHIR reads answer throughout from the live view, never
from the copy being built, and after the swap every resource is what the live projection gave."""

from __future__ import annotations

import asyncio
from typing import Any

from billing_service.rebuild import rebuild_live
from billing_testing.harness import ServiceHarness

from .test_interop_fhir import TENANT, Visit, fhir_get, interop, play

__all__ = ["interop"]  # the fixture, shared with the FHIR tests

TYPES = ("Patient", "Coverage", "Encounter", "Claim", "ClaimResponse", "ExplanationOfBenefit", "Organization")


async def test_a_live_rebuild_answers_throughout_and_swaps_in_the_same_resources(
    interop: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    visits = [Visit() for _ in range(2)]
    events = [e for v in visits for e in await v.events(interop)]
    await play(interop, kafka_bootstrap, topic_prefix, events, TENANT)
    client = interop.client(["auditor"])

    async def snapshot() -> list[Any]:
        return [(await fhir_get(client, f"/fhir/{t}", _count="100")).get("entry") for t in TYPES]

    before = await snapshot()
    finished = asyncio.Event()
    reads: list[int] = []

    async def read_along() -> None:
        while not finished.is_set():
            response = await client.get(f"/fhir/Patient/{visits[0].patient_id}")
            reads.append(response.status_code)
            await asyncio.sleep(0.005)

    async def keep_consuming() -> None:
        while not finished.is_set():
            for consumer in interop.consumers:
                await consumer.poll_once(timeout_ms=50)

    async def rebuild() -> Any:
        try:
            return await rebuild_live(interop.runtime)
        finally:
            finished.set()

    report, *_ = await asyncio.gather(rebuild(), read_along(), keep_consuming())

    assert report.events == len(events)
    assert reads and set(reads) == {200}  # never a 404 from an empty or half-built view
    assert await snapshot() == before
