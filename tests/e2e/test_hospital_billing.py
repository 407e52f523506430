"""Hospital billing end to end: a facility's inpatient stay from admission through charges, ICD-10-PCS
coding and its MS-DRG, discharge, the 837I (valid for pyx12), the payer simulator's DRG payment with
MIA, to a posted, reconciled invoice; and an outpatient visit paid by fee schedule with MOA.

Expected amounts are worked out by hand from the simulator's demo rule table
(services/payer-simulator/demo-rules.yaml, DEMO-AETNA: DRG base rate 6,500.00, DRG 470 weight 1.9000,
outpatient fees 99284 520.00 and 80053 14.00, no deductible, coinsurance 20%) and the chargemaster
below. Written for the lead's e2e run; never run by the engineer who wrote it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from billing_cli import demo
from billing_testing.platform import Platform, eventually
from billing_testing.x12 import pyx12_errors

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
ADMITTED = NOW - timedelta(days=3)
CHARGEMASTER = {
    "effective_from": "2021-01-01",
    "rows": [
        {
            "charge_code": "RB-MED",
            "description": "Room and board",
            "revenue_code": "0120",
            "amount_cents": 200000,
        },
        {
            "charge_code": "OR-HIP",
            "description": "Operating room, hip",
            "revenue_code": "0360",
            "hcpcs": "27130",
            "amount_cents": 850050,
        },
        {
            "charge_code": "ER-4",
            "description": "Emergency room level 4",
            "revenue_code": "0450",
            "hcpcs": "99284",
            "amount_cents": 95000,
        },
        {
            "charge_code": "LAB-CMP",
            "description": "Comprehensive metabolic panel",
            "revenue_code": "0300",
            "hcpcs": "80053",
            "amount_cents": 4500,
        },
    ],
}


@pytest.fixture(scope="module")
async def hospital(platform: Platform) -> tuple[demo.Reference, str]:
    reference = await demo.seed(platform.endpoints, platform.tenant)
    async with httpx.AsyncClient(timeout=60) as client:
        facility = await client.post(
            f"{platform.url('registration')}/facilities",
            json={
                "name": "E2E General Hospital",
                "npi": "1538000005",
                "tax_id": "04-7654321",
                "kind": "hospital",
                "address": {
                    "line1": "1 Harbor Way",
                    "city": "Boston",
                    "state": "MA",
                    "postal_code": "02110-2001",
                },
            },
            headers={**platform.headers("admin"), "Idempotency-Key": "e2e-facility"},
        )
        assert facility.status_code == 201, facility.text
        cdm = await client.put(
            f"{platform.url('invoicing')}/chargemaster", json=CHARGEMASTER, headers=platform.headers("admin")
        )
        assert cdm.status_code == 200, cdm.text
    return reference, facility.json()["facility_id"]


async def admit(
    platform: Platform, reference: demo.Reference, facility_id: str, setting: str, admitted: datetime
) -> str:
    desk = platform.headers("front_desk")
    async with httpx.AsyncClient(timeout=30) as client:
        patient = await client.post(
            f"{platform.url('registration')}/patients",
            json={
                "mrn": f"HOSP-{uuid.uuid4().hex[:10]}",
                "name": {"given": "Hospital", "family": "Patient"},
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
        coverage = await client.post(
            f"{platform.url('registration')}/patients/{patient_id}/coverages",
            json={
                "payer_id": reference.payer_ids[0],  # DEMO-AETNA
                "member_id": f"M{uuid.uuid4().hex[:9].upper()}",
                "priority": "primary",
                "relationship_to_subscriber": "self",
                "effective_from": "2020-01-01",
            },
            headers=desk,
        )
        assert coverage.status_code == 201, coverage.text
        admission = await client.post(
            f"{platform.url('registration')}/admissions",
            json={
                "patient_id": patient_id,
                "facility_id": facility_id,
                "attending_provider_id": reference.rendering_provider_ids[0],
                "setting": setting,
                "admitted_at": admitted.isoformat(),
                "admission_type": "1",
                "admission_source": "1",
            },
            headers=desk,
        )
        assert admission.status_code == 201, admission.text
    encounter_id: str = admission.json()["encounter_id"]
    return encounter_id


async def charge(platform: Platform, encounter_id: str, lines: list[tuple[str, int, str]]) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            f"{platform.url('invoicing')}/encounters/{encounter_id}/charges",
            json={"lines": [{"charge_code": c, "units": u, "service_date": d} for c, u, d in lines]},
            headers={**platform.headers("front_desk"), "Idempotency-Key": str(uuid.uuid4())},
        )
    assert response.status_code == 201, response.text


async def code(platform: Platform, encounter_id: str, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as client:

        async def accepted() -> dict[str, Any] | None:
            response = await client.put(
                f"{platform.url('coding')}/encounters/{encounter_id}/coding",
                json=body,
                headers=platform.headers("coder"),
            )
            if response.status_code == 404:  # coding has not consumed AdmissionOpened yet
                return None
            assert response.status_code == 200, response.text
            answer: dict[str, Any] = response.json()
            return answer

        return await eventually(accepted, what="coding to know the admission")


async def discharge(platform: Platform, encounter_id: str, at: datetime) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            f"{platform.url('registration')}/admissions/{encounter_id}/discharge",
            json={"discharged_at": at.isoformat(), "discharge_status": "01"},
            headers={**platform.headers("front_desk"), "Idempotency-Key": str(uuid.uuid4())},
        )
    assert response.status_code == 200, response.text


async def get(platform: Platform, service: str, path: str) -> Any:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(f"{platform.url(service)}{path}", headers=platform.headers("biller"))
    assert response.status_code == 200, response.text
    return response.json()


async def paid_invoice(platform: Platform, encounter_id: str) -> dict[str, Any]:
    async def posted() -> dict[str, Any] | None:
        items = (await get(platform, "invoicing", f"/invoices?encounter_id={encounter_id}"))["items"]
        found = [i for i in items if i["paid_cents"] > 0]
        return found[0] if found else None

    return await eventually(posted, timeout=180, what="the payer's payment posted")


def reconciles(invoice: dict[str, Any]) -> bool:
    return bool(
        invoice["total_charge_cents"]
        == invoice["paid_cents"] + invoice["adjustment_cents"] + invoice["balance_cents"]
    )


async def claim_file(platform: Platform, encounter_id: str) -> tuple[dict[str, Any], str]:
    claims = (await get(platform, "claims", f"/claims?encounter_id={encounter_id}"))["items"]
    (claim,) = [c for c in claims if c["kind"] == "institutional"]
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(
            f"{platform.url('claims')}/claims/{claim['claim_id']}/837", headers=platform.headers("biller")
        )
    assert response.status_code == 200, response.text
    return claim, response.text


def remittances_with(platform: Platform, patient_control_number: str) -> str:
    inbound = platform.clearinghouse / "inbound"
    texts = [p.read_text() for p in sorted(inbound.rglob("*.x12")) if ".835." in p.name]
    return "".join(t for t in texts if f"CLP*{patient_control_number}*" in t)


async def test_an_inpatient_stay_is_paid_by_drg_and_reconciles(
    platform: Platform, hospital: tuple[demo.Reference, str]
) -> None:
    reference, facility_id = hospital
    stay = await admit(platform, reference, facility_id, "inpatient", ADMITTED)
    first_day, surgery = ADMITTED.date().isoformat(), (ADMITTED.date() + timedelta(days=1)).isoformat()
    await charge(platform, stay, [("RB-MED", 3, first_day), ("OR-HIP", 1, surgery)])
    # The coder codes the stay once it is discharged (the DRG depends on the discharge status).
    await discharge(platform, stay, ADMITTED + timedelta(days=3))
    coded = await code(
        platform,
        stay,
        {
            "principal_diagnosis": {"code": "M16.11", "poa": "Y"},
            "admitting_diagnosis": "M25.551",
            "diagnoses": [{"code": "I10", "poa": "Y"}],
            "procedures": [{"code": "0SR9019", "date": surgery}],
        },
    )
    # Unilateral primary osteoarthritis of the right hip, a cemented total hip replacement: MS-DRG 470.
    assert coded["drg"]["code"] == "470", coded

    invoice = await paid_invoice(platform, stay)
    # Charges 3 x 2,000.00 + 8,500.50 = 14,500.50. DRG 470 at DEMO-AETNA: 1.9000 x 6,500.00 = 12,350.00
    # allowed, so CO-45 = 14,500.50 - 12,350.00 = 2,150.50; coinsurance 20% = 2,470.00 (PR-2);
    # the payer pays 12,350.00 - 2,470.00 = 9,880.00; the patient owes 2,470.00.
    assert invoice["total_charge_cents"] == 1_450_050
    assert invoice["paid_cents"] == 988_000
    assert invoice["adjustment_cents"] == 215_050
    assert invoice["patient_responsibility_cents"] == 247_000
    assert invoice["balance_cents"] == 247_000
    assert reconciles(invoice)

    claim, x12 = await claim_file(platform, stay)
    assert "005010X223A2" in x12 and pyx12_errors(x12) == []
    assert "HI*DR:470" in x12 and "CL1*1*1*01" in x12 and ":A:1*" in x12
    remittance = remittances_with(platform, claim["patient_control_number"])
    # MIA01 covered days 3, MIA04 the DRG amount 12,350.00.
    assert "MIA*3***12350" in remittance


async def test_an_outpatient_visit_is_paid_by_fee_schedule_and_reconciles(
    platform: Platform, hospital: tuple[demo.Reference, str]
) -> None:
    reference, facility_id = hospital
    arrived = NOW - timedelta(hours=6)
    visit = await admit(platform, reference, facility_id, "outpatient", arrived)
    day = arrived.date().isoformat()
    await charge(platform, visit, [("ER-4", 1, day), ("LAB-CMP", 1, day)])
    await discharge(platform, visit, arrived + timedelta(hours=4))
    await code(platform, visit, {"principal_diagnosis": {"code": "R07.9"}})

    invoice = await paid_invoice(platform, visit)
    # 99284: allowed min(950.00, 520.00) = 520.00, coinsurance 104.00, paid 416.00;
    # 80053: allowed min(45.00, 14.00) = 14.00, coinsurance 2.80, paid 11.20.
    # Paid 427.20; CO-45 430.00 + 31.00 = 461.00; the patient owes 106.80; 995.00 in all.
    assert invoice["total_charge_cents"] == 99_500
    assert invoice["paid_cents"] == 42_720
    assert invoice["adjustment_cents"] == 46_100
    assert invoice["balance_cents"] == 10_680
    assert reconciles(invoice)

    claim, x12 = await claim_file(platform, visit)
    assert pyx12_errors(x12) == [] and ":A:1*" in x12 and "HI*DR" not in x12
    assert "CLM*" + claim["patient_control_number"] + "*995***13:A:1" in x12
    # MOA02: what the fee schedule lines paid, 416.00 + 11.20.
    assert "MOA**427.2" in remittances_with(platform, claim["patient_control_number"])
