"""The revenue cycle end to end: five service processes, the payer simulator, real Kafka and
PostgreSQL, nothing mocked. Expected amounts are worked out by hand from the payer simulator's demo
rule table (services/payer-simulator/demo-rules.yaml) and the suite's fee schedule (conftest.py)."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from billing_cli import demo
from billing_testing.platform import Platform, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TODAY = date.today()


async def open_encounter(
    platform: Platform, reference: demo.Reference, *, payer_index: int | None, service_date: date = TODAY
) -> tuple[str, str]:
    desk = platform.headers("front_desk")
    async with httpx.AsyncClient(timeout=30) as client:
        patient = await client.post(
            f"{platform.url('registration')}/patients",
            json={
                "mrn": f"E2E-{uuid.uuid4().hex[:10]}",
                "name": {"given": "Test", "family": "Patient"},
                "birth_date": "1950-06-15",
                "sex": "F",
                "address": {
                    "line1": "1 Test Way",
                    "city": "Springfield",
                    "state": "IL",
                    "postal_code": "62701",
                },
            },
            headers=desk,
        )
        assert patient.status_code == 201, patient.text
        patient_id = patient.json()["patient_id"]
        if payer_index is not None:
            coverage = await client.post(
                f"{platform.url('registration')}/patients/{patient_id}/coverages",
                json={
                    "payer_id": reference.payer_ids[payer_index],
                    "member_id": f"M{uuid.uuid4().hex[:9].upper()}",
                    "priority": "primary",
                    "relationship_to_subscriber": "self",
                    "effective_from": "2020-01-01",
                },
                headers=desk,
            )
            assert coverage.status_code == 201, coverage.text
        encounter = await client.post(
            f"{platform.url('registration')}/encounters",
            json={
                "patient_id": patient_id,
                "billing_provider_id": reference.billing_provider_id,
                "rendering_provider_id": reference.rendering_provider_ids[0],
                "service_date": service_date.isoformat(),
                "place_of_service": "11",
            },
            headers=desk,
        )
        assert encounter.status_code == 201, encounter.text
    return patient_id, encounter.json()["encounter_id"]


async def code(
    platform: Platform, encounter_id: str, lines: list[tuple[str, list[str]]], diagnoses: list[str]
) -> None:
    body = {
        "diagnoses": diagnoses,
        "lines": [{"code": c, "modifiers": m, "units": 1, "diagnosis_pointers": [1]} for c, m in lines],
    }
    async with httpx.AsyncClient(timeout=30) as client:

        async def accepted() -> httpx.Response | None:
            response = await client.put(
                f"{platform.url('coding')}/encounters/{encounter_id}/coding", json=body,
                headers=platform.headers("coder"),
            )  # fmt: skip
            if response.status_code == 404:  # coding has not consumed EncounterOpened yet
                return None
            assert response.status_code == 200, response.text
            return response

        await eventually(accepted, what="coding to know the encounter")


async def get(platform: Platform, service: str, path: str, *roles: str) -> Any:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(f"{platform.url(service)}{path}", headers=platform.headers(*roles))
    assert response.status_code == 200, response.text
    return response.json()


async def invoices_of(platform: Platform, encounter_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (
        await get(platform, "invoicing", f"/invoices?encounter_id={encounter_id}", "biller")
    )["items"]
    return items


async def claims_of(platform: Platform, encounter_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (
        await get(platform, "claims", f"/claims?encounter_id={encounter_id}", "biller")
    )["items"]
    return items


def reconciles(invoice: dict[str, Any]) -> bool:
    return bool(
        invoice["total_charge_cents"]
        == invoice["paid_cents"] + invoice["adjustment_cents"] + invoice["balance_cents"]
    )


async def test_insured_patient_paid_by_payer_then_patient_then_settled(
    platform: Platform, reference: demo.Reference
) -> None:
    patient_id, encounter_id = await open_encounter(platform, reference, payer_index=1)  # DEMO-MEDICARE
    await code(platform, encounter_id, [("99214", [])], ["E11.9"])

    async def adjudicated() -> dict[str, Any] | None:
        found = [i for i in await invoices_of(platform, encounter_id) if i["paid_cents"] > 0]
        return found[0] if found else None

    invoice = await eventually(adjudicated, timeout=120, what="the payer's payment posted")
    # Medicare demo rules on a $900.00 charge: allowed 62.5% = 562.50, so CO-45 = 337.50; the
    # member's whole deductible 257.00 (PR-1); coinsurance 20% of 305.50 = 61.10 (PR-2);
    # the payer pays 562.50 - 257.00 - 61.10 = 244.40.
    assert invoice["total_charge_cents"] == 90_000
    assert invoice["paid_cents"] == 24_440
    assert invoice["adjustment_cents"] == 33_750
    assert invoice["patient_responsibility_cents"] == 25_700 + 6_110
    assert invoice["balance_cents"] == 31_810
    assert reconciles(invoice)

    statement = await get(platform, "invoicing", f"/patients/{patient_id}/statement", "front_desk")
    assert statement["amount_due_cents"] == 31_810

    async with httpx.AsyncClient(timeout=30) as client:
        paid = await client.post(
            f"{platform.url('invoicing')}/invoices/{invoice['invoice_id']}/payments",
            json={"amount_cents": 31_810, "method": "card", "received_on": TODAY.isoformat()},
            headers={**platform.headers("front_desk"), "Idempotency-Key": f"pay-{encounter_id}"},
        )
    assert paid.status_code == 201, paid.text
    settled = await eventually(lambda: _status(platform, encounter_id, "settled"), what="the invoice settled")
    assert settled["balance_cents"] == 0
    assert settled["paid_cents"] == 24_440 + 31_810
    assert reconciles(settled)


async def _status(platform: Platform, encounter_id: str, status: str) -> dict[str, Any] | None:
    found = [i for i in await invoices_of(platform, encounter_id) if i["status"] == status]
    return found[0] if found else None


async def test_a_denial_is_visible_in_the_reports(platform: Platform, reference: demo.Reference) -> None:
    _, encounter_id = await open_encounter(platform, reference, payer_index=0)  # DEMO-AETNA
    await code(platform, encounter_id, [("97810", [])], ["M54.50"])  # not covered by this payer: CO-96

    denied = await eventually(lambda: _status(platform, encounter_id, "denied"), timeout=120, what="a denial")
    assert denied["paid_cents"] == 0
    assert denied["balance_cents"] == 8_000

    async def reported() -> dict[str, Any] | None:
        report = await get(platform, "reporting", f"/reports/denials?from={TODAY}&to={TODAY}", "biller")
        return report if "96" in str(report) else None

    report = await eventually(reported, timeout=60, what="the denial in the denials report")
    assert "CO" in str(report) or "96" in str(report)


async def test_a_self_pay_patient_gets_a_statement(platform: Platform, reference: demo.Reference) -> None:
    patient_id, encounter_id = await open_encounter(platform, reference, payer_index=None)
    await code(platform, encounter_id, [("99213", [])], ["J06.9"])

    async def statement() -> dict[str, Any] | None:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.get(
                f"{platform.url('invoicing')}/patients/{patient_id}/statement",
                headers=platform.headers("front_desk"),
            )
        return (
            response.json() if response.status_code == 200 and response.json()["amount_due_cents"] else None
        )

    found = await eventually(statement, what="the self-pay statement")
    assert found["amount_due_cents"] == 12_000
    assert [item["encounter_id"] for item in found["open_items"]] == [encounter_id]
    assert await claims_of(platform, encounter_id) == []


async def test_recoding_after_invoicing_voids_and_reissues(
    platform: Platform, reference: demo.Reference
) -> None:
    _, encounter_id = await open_encounter(
        platform, reference, payer_index=2, service_date=TODAY - timedelta(days=3)
    )
    await code(platform, encounter_id, [("99213", [])], ["J06.9"])
    first = await eventually(lambda: _status(platform, encounter_id, "open"), what="the first invoice")
    assert first["total_charge_cents"] == 12_000

    await code(platform, encounter_id, [("99214", [])], ["J06.9", "I10"])

    async def reissued() -> list[dict[str, Any]] | None:
        found = await invoices_of(platform, encounter_id)
        live = [i for i in found if i["status"] != "voided"]
        voided = [i for i in found if i["status"] == "voided"]
        return (
            found if len(live) == 1 and len(voided) == 1 and live[0]["total_charge_cents"] == 90_000 else None
        )

    invoices = await eventually(reissued, what="the old invoice voided and a new one issued")
    assert {i["invoice_id"] for i in invoices} >= {first["invoice_id"]}

    async def one_live_claim() -> list[dict[str, Any]] | None:
        claims = await claims_of(platform, encounter_id)
        live = [c for c in claims if c["status"] not in ("voided", "closed")]
        return claims if len(live) == 1 and live[0]["total_charge_cents"] == 90_000 else None

    await eventually(one_live_claim, timeout=120, what="exactly one live claim for the recoded encounter")


async def test_a_service_killed_during_a_workload_loses_and_duplicates_nothing(
    platform: Platform, reference: demo.Reference
) -> None:
    encounters: list[tuple[str, bool]] = []

    async def workload(count: int) -> None:
        for n in range(count):
            insured = n % 3 != 2
            _, encounter_id = await open_encounter(
                platform, reference, payer_index=(n % 3) if insured else None
            )
            await code(platform, encounter_id, [("99213", [])], ["I10"])
            encounters.append((encounter_id, insured))

    running = asyncio.create_task(workload(12))
    await asyncio.sleep(4)
    platform.kill("invoicing")
    platform.kill("claims")
    await asyncio.sleep(2)
    platform.start("invoicing")
    platform.start("claims")
    await running
    await platform.wait_ready(("invoicing", "claims"))

    for encounter_id, insured in encounters:

        async def settled_state(encounter_id: str = encounter_id, insured: bool = insured) -> bool:
            invoices = [i for i in await invoices_of(platform, encounter_id) if i["status"] != "voided"]
            if len(invoices) != 1:
                return False
            claims = [c for c in await claims_of(platform, encounter_id) if c["status"] not in ("voided",)]
            return len(claims) == (1 if insured else 0)

        await eventually(settled_state, timeout=120, what=f"one invoice (and claim) for {encounter_id}")
        for invoice in await invoices_of(platform, encounter_id):
            assert reconciles(invoice)
    # Nothing was created twice while the services were down and replaying.
    assert len(encounters) == 12


async def test_batches_sent_to_both_replicas_give_one_invoice_and_one_claim_per_encounter(
    platform: Platform, reference: demo.Reference
) -> None:
    """Three batches of ten visits (POST /intake, POST /codings), each batch to the other API process
    of registration and coding, consumed by two consumers per group: no encounter is invoiced or
    claimed twice, none is lost, and every invoice's ledger balances."""
    assert platform.replicas == 2, "the e2e suite runs every service as two replicas"
    result = demo.SimulationResult()
    visits: list[demo.Simulated] = []
    async with httpx.AsyncClient(timeout=60) as client:
        for batch in range(3):
            endpoints = platform.endpoints  # each time the other replica of every service
            numbers = list(range(9_000 + batch * 10, 9_000 + batch * 10 + 10))
            visits += await demo.simulate_batch(
                client, endpoints, reference, platform.tenant, random.Random(batch), numbers, result
            )
    assert result.coded == len(visits) == 30 and not result.failures

    seen: dict[str, Any] = {}
    for visit in visits:

        async def settled(encounter_id: str = visit.encounter_id, insured: bool = visit.insured) -> bool:
            invoices = [i for i in await invoices_of(platform, encounter_id) if i["status"] != "voided"]
            claims = [c for c in await claims_of(platform, encounter_id) if c["status"] != "voided"]
            seen.update(insured=insured, invoices=invoices, claims=claims)
            return len(invoices) == 1 and len(claims) == (1 if insured else 0)

        try:
            await eventually(settled, timeout=120, what=f"one invoice (and claim) for {visit.encounter_id}")
        except AssertionError:
            raise AssertionError(f"not settled: {seen}") from None
        # A coding priced before its coverage reached invoicing is invoiced self-pay, then voided and
        # invoiced to the payer (reassign_to_late_coverage): the voided one stays listed.
        live = [i for i in await invoices_of(platform, visit.encounter_id) if i["status"] != "voided"]
        (invoice,) = live
        assert reconciles(invoice)


async def test_every_service_log_verifies_through_the_operator_command(platform: Platform) -> None:
    """`billing verify-log` walks each service's hash chain after the whole suite's traffic."""
    import sys
    from pathlib import Path

    billing = Path(sys.executable).parent / "billing"
    for service in ("registration", "coding", "invoicing", "claims", "reporting"):
        process = await asyncio.create_subprocess_exec(
            str(billing), "verify-log", service, env=platform.environment(),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, output.decode()
        assert "intact" in output.decode()
