"""`billing replay registration` while patients are being registered: registration's views come from
its own log, so the copy is built from the log beside the live tables and swapped in with appends
held for that moment. Nobody gets an error, and no patient registered during the rebuild is lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from billing_service.rebuild import OWN_LOG, rebuild_live
from billing_testing.harness import ServiceHarness
from registration.entrypoints import SERVICE

from .test_registration_api import PATIENT


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        yield harness


def patient(number: int) -> dict[str, Any]:
    return {**PATIENT, "mrn": f"MRN-{number:05d}"}


async def test_a_live_rebuild_of_the_own_log_loses_no_patient_and_fails_no_request(
    svc: ServiceHarness,
) -> None:
    desk = svc.client(["front_desk"], subject="desk-1")
    ids: list[str] = []
    for number in range(40):
        response = await desk.post("/patients", json=patient(number))
        assert response.status_code == 201, response.text
        ids.append(response.json()["patient_id"])
    first = (await desk.get(f"/patients/{ids[0]}")).json()
    finished = asyncio.Event()
    statuses: list[int] = []

    async def register_along() -> None:
        number = 1000
        while not finished.is_set():
            response = await desk.post("/patients", json=patient(number))
            statuses.append(response.status_code)
            if response.status_code == 201:
                ids.append(response.json()["patient_id"])
            number += 1

    async def read_along() -> None:
        while not finished.is_set():
            response = await desk.get(f"/patients/{ids[0]}")
            statuses.append(response.status_code)
            assert response.json() == first  # never a half-built view
            await asyncio.sleep(0.005)

    async def rebuild() -> Any:
        try:
            return await rebuild_live(svc.runtime, only=OWN_LOG)
        finally:
            finished.set()

    report, *_ = await asyncio.gather(rebuild(), register_along(), read_along())

    assert [part.part for part in report.parts] == [OWN_LOG]
    assert set(statuses) == {200, 201}
    assert len(ids) > 40, "patients were registered during the rebuild"
    for patient_id in ids:
        assert (await desk.get(f"/patients/{patient_id}")).status_code == 200
    async with svc.runtime.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM reg_patients") == len(ids)
        # The copy's sequences came along: a patient registered after the swap gets a row too.
    response = await desk.post("/patients", json=patient(99999))
    assert response.status_code == 201, response.text
    assert (await desk.get(f"/patients/{response.json()['patient_id']}")).status_code == 200
