"""`billing replay SERVICE` on the running platform (issue "Operator tools"): every service's
projections are rebuilt blue/green while visits keep arriving through the APIs. No request fails,
nothing is lost or doubled, and the views after the swaps answer what the live ones answered."""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from billing_cli import demo
from billing_testing.platform import ALL_SERVICES, Platform, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

BILLING = Path(sys.executable).parent / "billing"


async def replay(platform: Platform, service: str) -> str:
    process = await asyncio.create_subprocess_exec(
        str(BILLING), "replay", service, env=platform.environment(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 300)
    text = output.decode(errors="replace")
    assert process.returncode == 0, f"billing replay {service} failed:\n{text[-3000:]}"
    return text


async def views(platform: Platform, encounters: list[str]) -> dict[str, Any]:
    """What billers and the CFO read: each encounter's invoices and claims, the A/R and revenue."""
    biller, finance = platform.headers("biller"), platform.headers("finance", "biller")
    seen: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=60) as client:
        for encounter_id in encounters:
            invoices = await client.get(
                f"{platform.url('invoicing')}/invoices", params={"encounter_id": encounter_id}, headers=biller
            )
            claims = await client.get(
                f"{platform.url('claims')}/claims", params={"encounter_id": encounter_id}, headers=biller
            )
            seen[encounter_id] = (
                sorted((i["invoice_id"], i["status"], i["balance_cents"]) for i in invoices.json()["items"]),
                sorted((c["claim_id"], c["status"]) for c in claims.json()["items"]),
            )
        for path in ("/reports/ar-aging", "/reports/revenue"):
            response = await client.get(f"{platform.url('reporting')}{path}", headers=finance)
            assert response.status_code == 200, response.text
            body = response.json()
            body.pop("generated_at", None)
            seen[path] = body
    return seen


async def test_every_service_is_replayed_live_while_visits_arrive(
    platform: Platform, reference: demo.Reference
) -> None:
    result = demo.SimulationResult()
    visits: list[demo.Simulated] = []

    async def workload() -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            for batch in range(6):
                numbers = list(range(7_000 + batch * 5, 7_000 + batch * 5 + 5))
                visits.extend(
                    await demo.simulate_batch(
                        client, platform.endpoints, reference, platform.tenant, random.Random(batch),
                        numbers, result,
                    )
                )  # fmt: skip
                await asyncio.sleep(0.5)

    running = asyncio.create_task(workload())
    for service in ALL_SERVICES:
        await replay(platform, service)
    await running
    assert result.coded == len(visits) == 30 and not result.failures

    encounters = [v.encounter_id for v in visits]
    for visit in visits:

        async def settled(encounter_id: str = visit.encounter_id, insured: bool = visit.insured) -> bool:
            async with httpx.AsyncClient(timeout=30) as client:
                invoices = (
                    await client.get(
                        f"{platform.url('invoicing')}/invoices", params={"encounter_id": encounter_id},
                        headers=platform.headers("biller"),
                    )
                ).json()["items"]  # fmt: skip
                claims = (
                    await client.get(
                        f"{platform.url('claims')}/claims", params={"encounter_id": encounter_id},
                        headers=platform.headers("biller"),
                    )
                ).json()["items"]  # fmt: skip
            live = [i for i in invoices if i["status"] != "voided"]
            return len(live) == 1 and len([c for c in claims if c["status"] != "voided"]) == (
                1 if insured else 0
            )

        await eventually(settled, timeout=180, what=f"one invoice (and claim) for {visit.encounter_id}")

    # Quiet now: the views rebuilt a second time equal the ones the first replay left and the
    # consumers kept up to date since.
    before = await eventually(lambda: views(platform, encounters), timeout=30)
    for service in ("invoicing", "claims", "reporting"):
        await replay(platform, service)
    assert await views(platform, encounters) == before
