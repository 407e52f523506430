"""The patient's side end to end: an estimate within the final bill, an ACA preventive visit at $0 and
the payer's PR on one in the appeal work queue, a financial-assistance patient charged at AGB. Amounts
by hand from services/payer-simulator/demo-rules.yaml, its contracts/DEMO-BCBS.csv (imported by
`billing seed`) and the suite's fee schedule (conftest.py)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest

from billing_cli import demo
from billing_testing.platform import Platform, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

AETNA, BCBS = 0, 2  # demo.seed registers DEMO-AETNA, DEMO-MEDICARE, DEMO-BCBS in this order
TODAY = date.today()


async def call(platform: Platform, method: str, service: str, path: str, role: str, **kwargs: Any) -> Any:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.request(
            method, f"{platform.url(service)}{path}", headers=platform.headers(role), **kwargs
        )
    assert response.status_code in (200, 201, 202), response.text
    return response.json()


async def patient(
    platform: Platform, reference: demo.Reference, payer_index: int | None
) -> tuple[str, str | None]:
    body = {
        "mrn": f"E2E-PS-{uuid.uuid4().hex[:10]}",
        "name": {"given": "Pat", "family": "Side"},
        "birth_date": "1970-04-01",  # 56: a 40-64 preventive visit (99396)
        "sex": "F",
        "address": {"line1": "1 Test Way", "city": "Springfield", "state": "IL", "postal_code": "62701"},
    }
    patient_id = (await call(platform, "POST", "registration", "/patients", "front_desk", json=body))[
        "patient_id"
    ]
    if payer_index is None:
        return patient_id, None
    coverage = {
        "payer_id": reference.payer_ids[payer_index],
        "member_id": f"M{uuid.uuid4().hex[:9].upper()}",
        "priority": "primary",
        "relationship_to_subscriber": "self",
        "effective_from": "2020-01-01",
    }
    path = f"/patients/{patient_id}/coverages"
    return patient_id, (await call(platform, "POST", "registration", path, "front_desk", json=coverage))[
        "coverage_id"
    ]


async def visit(
    platform: Platform, reference: demo.Reference, patient_id: str, code: str, diagnosis: str
) -> dict[str, Any]:
    """Open an encounter, code it, and wait for its invoice to reach its final patient share."""
    encounter = {
        "patient_id": patient_id,
        "billing_provider_id": reference.billing_provider_id,
        "rendering_provider_id": reference.rendering_provider_ids[0],
        "service_date": TODAY.isoformat(),
        "place_of_service": "11",
    }
    encounter_id = (
        await call(platform, "POST", "registration", "/encounters", "front_desk", json=encounter)
    )["encounter_id"]
    coding = {"diagnoses": [diagnosis], "lines": [{"code": code, "units": 1, "diagnosis_pointers": [1]}]}
    async with httpx.AsyncClient(timeout=30) as client:

        async def coded() -> bool:
            response = await client.put(
                f"{platform.url('coding')}/encounters/{encounter_id}/coding",
                json=coding,
                headers=platform.headers("coder"),
            )
            if response.status_code == 404:
                return False
            assert response.status_code == 200, response.text
            return True

        await eventually(coded, what="coding to know the encounter")
    return {"encounter_id": encounter_id}


async def invoice_when(platform: Platform, encounter_id: str, ready: Any, what: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        items = (
            await call(platform, "GET", "invoicing", f"/invoices?encounter_id={encounter_id}", "biller")
        )["items"]
        live = [i for i in items if i["status"] != "voided"]
        return live[0] if live and ready(live[0]) else None

    invoice = await eventually(found, timeout=120, what=what)
    assert (
        invoice["total_charge_cents"]
        == invoice["paid_cents"] + invoice["adjustment_cents"] + invoice["balance_cents"]
    )
    return invoice


def adjudicated(invoice: dict[str, Any]) -> bool:
    return any(p["kind"] == "insurance_payment" for p in invoice["postings"])


async def test_an_estimate_is_within_the_final_patient_bill(
    platform: Platform, reference: demo.Reference
) -> None:
    patient_id, coverage_id = await patient(platform, reference, BCBS)
    check = await call(
        platform, "POST", "registration", f"/coverages/{coverage_id}/eligibility-checks", "front_desk",
        json={"service_date": TODAY.isoformat()},
    )  # fmt: skip

    async def answered() -> bool:
        body = await call(
            platform, "GET", "registration", f"/eligibility-checks/{check['check_id']}", "front_desk"
        )
        return bool(body["status"] == "active")

    await eventually(answered, timeout=90, what="the 271")

    async def estimated() -> dict[str, Any] | None:
        body = {
            "patient_id": patient_id,
            "service_date": TODAY.isoformat(),
            "lines": [{"code": "99214", "units": 1}],
        }
        estimate: dict[str, Any] = await call(
            platform, "POST", "invoicing", "/estimates", "front_desk", json=body
        )
        return estimate if estimate["benefits"] else None  # invoicing has the 271's answer

    estimate = await eventually(estimated, what="an estimate with the 271's benefits")
    # DEMO-BCBS, 99214: contract 148.75 allowed; copay 30.00; deductible 100.00 (a new member);
    # 10% of 18.75 = 1.88 (half up): the patient 131.88, the payer 16.87.
    assert (estimate["patient_estimate_cents"], estimate["expected_payer_cents"]) == (13188, 1687)

    encounter = await visit(platform, reference, patient_id, "99214", "I10")
    invoice = await invoice_when(platform, encounter["encounter_id"], adjudicated, "the BCBS 835 posted")
    assert invoice["patient_responsibility_cents"] == 13188
    assert invoice["patient_responsibility_cents"] <= estimate["patient_estimate_cents"]
    accuracy = await call(
        platform, "GET", "invoicing", "/estimates/accuracy", "biller",
        params={"from": TODAY.isoformat(), "to": TODAY.isoformat()},
    )  # fmt: skip
    mine = [i for i in accuracy["items"] if i["estimate_id"] == estimate["estimate_id"]]
    assert mine and mine[0]["within_estimate"]


async def test_a_preventive_visit_costs_the_patient_nothing(
    platform: Platform, reference: demo.Reference
) -> None:
    patient_id, _ = await patient(platform, reference, BCBS)
    encounter = await visit(platform, reference, patient_id, "99396", "Z00.00")
    invoice = await invoice_when(platform, encounter["encounter_id"], adjudicated, "the BCBS 835 posted")
    # DEMO-BCBS honours PHS Act 2713: 99396 allowed 195.50 (contract), paid in full, CO-45 34.50.
    assert (invoice["preventive_line_numbers"], invoice["in_network"]) == ([1], True)
    assert (invoice["paid_cents"], invoice["adjustment_cents"]) == (19550, 3450)
    assert (invoice["patient_responsibility_cents"], invoice["balance_cents"]) == (0, 0)


async def test_a_payers_pr_on_a_preventive_visit_goes_to_the_appeal_queue(
    platform: Platform, reference: demo.Reference
) -> None:
    # Invoicing holds a contract with DEMO-AETNA (in network); its simulator rules charge coinsurance.
    contract = {"effective_from": "2020-01-01", "rows": [{"code": "99396", "allowed_cents": 18400}]}
    await call(
        platform, "PUT", "invoicing", f"/contracts/{reference.payer_ids[AETNA]}", "admin", json=contract
    )
    patient_id, _ = await patient(platform, reference, AETNA)
    encounter = await visit(platform, reference, patient_id, "99396", "Z00.00")
    invoice = await invoice_when(platform, encounter["encounter_id"], adjudicated, "the Aetna 835 posted")
    # DEMO-AETNA: 80% of 230.00 = 184.00 allowed, CO-45 46.00, PR-2 20% = 36.80, paid 147.20. The
    # PR is withheld from the patient and stays with the payer: a likely appeal.
    assert (invoice["paid_cents"], invoice["preventive_cost_sharing_cents"]) == (14720, 3680)
    assert (invoice["patient_responsibility_cents"], invoice["insurance_balance_cents"]) == (0, 3680)

    async def queued() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = await call(
                platform, "GET", "invoicing", "/work-queues/preventive-cost-sharing", "biller", params=params
            )
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        return [i for i in items if i["invoice_id"] == invoice["invoice_id"]] or None

    (item,) = await eventually(queued, what="the invoice in the preventive cost-sharing queue")
    assert item["lines"][0]["adjustments"] == ["PR-2"]


POLICY = {
    "effective_from": "2020-01-01",
    "agb_percent": 45,
    "tiers": [
        {"max_fpl_percent": 200, "discount_percent": 100},
        {"max_fpl_percent": 400, "discount_percent": 40},
    ],
    "fpl": {
        "year": 2025,
        "source": "HHS poverty guidelines, 90 FR 5917 (2025)",
        "rows": [
            {"household_size": 1, "amount_cents": 1565000},
            {"household_size": 2, "amount_cents": 2115000},
        ],
        "per_additional_person_cents": 550000,
    },
}


async def test_a_financial_assistance_patient_is_charged_at_agb(
    platform: Platform, reference: demo.Reference
) -> None:
    await call(platform, "PUT", "invoicing", "/financial-assistance-policy", "admin", json=POLICY)
    patient_id, _ = await patient(platform, reference, None)
    encounter = await visit(platform, reference, patient_id, "99213", "I10")
    invoice = await invoice_when(
        platform,
        encounter["encounter_id"],
        lambda i: i["patient_responsibility_cents"] > 0,
        "the self-pay invoice",
    )
    assert invoice["patient_responsibility_cents"] == 12000
    applications = f"/patients/{patient_id}/financial-assistance-applications"
    household = {"household_size": 2, "household_income_cents": 6_000_000}
    decided = await call(platform, "POST", "invoicing", applications, "front_desk", json=household)
    # 60,000 / 21,150 = 283% of the guideline: 40% off 120.00 = 72.00; AGB 45% = 54.00, the lower:
    # a charity write-off of 66.00.
    assert (decided["eligible"], decided["discount_percent"]) == (True, 40)
    assert [w["amount_cents"] for w in decided["charity_write_offs"]] == [6600]
    after = await invoice_when(
        platform, encounter["encounter_id"], lambda i: i["adjustment_cents"] > 0, "the charity write-off"
    )
    assert (after["patient_responsibility_cents"], after["balance_cents"], after["adjustment_cents"]) == (
        5400,
        5400,
        6600,
    )
