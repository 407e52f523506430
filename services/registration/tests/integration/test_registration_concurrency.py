"""Cross-aggregate rules hold under concurrent requests: the checks read the views under a lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from billing_testing.harness import ServiceHarness
from registration.entrypoints import SERVICE

ADDRESS = {"line1": "1 Main St", "city": "Springfield", "state": "IL", "postal_code": "62701"}


def patient(mrn: str, given: str) -> dict[str, object]:
    return {
        "mrn": mrn,
        "name": {"given": given, "family": "Racer"},
        "birth_date": "1990-05-05",
        "sex": "M",
        "address": ADDRESS,
    }


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        yield harness


async def test_concurrent_registrations_of_one_mrn_let_exactly_one_pass(svc: ServiceHarness) -> None:
    desks = [svc.client(["front_desk"], subject=f"desk-{i}") for i in range(6)]
    responses = await asyncio.gather(
        *(
            desk.post("/patients", json=patient(f"mrn-race-{1 if i % 2 else ''}", f"P{i}"))
            for i, desk in enumerate(desks)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    # Two MRNs ("MRN-RACE-" and "MRN-RACE-1"), three attempts each: one of each passes.
    assert statuses == [201, 201, 409, 409, 409, 409]
    async with svc.runtime.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM events") == 2
        assert await connection.fetchval("SELECT count(DISTINCT mrn_index) FROM reg_patients") == 2


async def test_concurrent_overlapping_coverages_at_one_priority_let_exactly_one_pass(
    svc: ServiceHarness,
) -> None:
    admin, desk = svc.client(["admin"]), svc.client(["front_desk"])
    payer = await admin.post(
        "/payers", json={"name": "P", "edi_payer_id": "P1", "claim_filing_indicator": "MB"}
    )
    registered = await desk.post("/patients", json=patient("MRN-1", "Solo"))
    url = f"/patients/{registered.json()['patient_id']}/coverages"
    body = {
        "payer_id": payer.json()["payer_id"],
        "priority": "primary",
        "relationship_to_subscriber": "self",
        "effective_from": "2025-01-01",
    }
    responses = await asyncio.gather(
        *(svc.client(["front_desk"]).post(url, json={**body, "member_id": f"M{i}"}) for i in range(5))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    async with svc.runtime.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM reg_coverages") == 1
