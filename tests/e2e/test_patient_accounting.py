"""Patient accounting end to end (issue 21): each write-off reason, an overpayment's credit applied to
the patient's other invoice, a refund, a payment plan and the printed statement, through the running
services; every ledger reconciles to the cent. Self-pay patients, so no payer timing is involved;
amounts are worked out by hand from this module's fee schedule."""

from __future__ import annotations

import io
import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from billing_cli import demo
from billing_testing.platform import Platform, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TODAY = date.today()


async def new_patient(platform: Platform) -> str:
    async with httpx.AsyncClient(timeout=30) as client:
        patient = await client.post(
            f"{platform.url('registration')}/patients",
            json={
                "mrn": f"E2E-PA-{uuid.uuid4().hex[:8]}",
                "name": {"given": "Rosa", "family": "Parks"},
                "birth_date": "1960-02-04",
                "sex": "F",
                "address": {
                    "line1": "7 Ledger Lane",
                    "city": "Montgomery",
                    "state": "AL",
                    "postal_code": "36104",
                },
            },
            headers=platform.headers("front_desk"),
        )
    assert patient.status_code == 201, patient.text
    patient_id: str = patient.json()["patient_id"]
    return patient_id


async def coded_visit(platform: Platform, reference: demo.Reference, patient_id: str, code: str) -> str:
    """A self-pay encounter coded with one line; returns its open invoice's id."""
    async with httpx.AsyncClient(timeout=30) as client:
        encounter = await client.post(
            f"{platform.url('registration')}/encounters",
            json={
                "patient_id": patient_id,
                "billing_provider_id": reference.billing_provider_id,
                "rendering_provider_id": reference.rendering_provider_ids[0],
                "service_date": TODAY.isoformat(),
                "place_of_service": "11",
            },
            headers=platform.headers("front_desk"),
        )
        assert encounter.status_code == 201, encounter.text
        encounter_id = encounter.json()["encounter_id"]
        body = {"diagnoses": ["J06.9"], "lines": [{"code": code, "units": 1, "diagnosis_pointers": [1]}]}

        async def coded() -> bool | None:
            response = await client.put(
                f"{platform.url('coding')}/encounters/{encounter_id}/coding", json=body,
                headers=platform.headers("coder"),
            )  # fmt: skip
            if response.status_code == 404:
                return None
            assert response.status_code == 200, response.text
            return True

        await eventually(coded, what="coding to know the encounter")

        async def invoice_id() -> str | None:
            response = await client.get(
                f"{platform.url('invoicing')}/invoices", params={"encounter_id": encounter_id},
                headers=platform.headers("biller"),
            )  # fmt: skip
            items = response.json()["items"] if response.status_code == 200 else []
            open_items = [i["invoice_id"] for i in items if i["status"] == "open"]
            return open_items[0] if open_items else None

        found: str = await eventually(invoice_id, what="the self-pay invoice")
        return found


async def invoice(platform: Platform, invoice_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(
            f"{platform.url('invoicing')}/invoices/{invoice_id}", headers=platform.headers("biller")
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    # charges = payments + adjustments + balance, and the balance is all the patient's (self-pay).
    assert body["total_charge_cents"] == body["paid_cents"] + body["adjustment_cents"] + body["balance_cents"]
    assert body["patient_responsibility_cents"] == max(body["balance_cents"], 0)
    return body


async def post(
    platform: Platform, path: str, body: dict[str, Any], role: str, key: str | None
) -> httpx.Response:
    headers = platform.headers(role) | ({"Idempotency-Key": key} if key else {})
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(f"{platform.url('invoicing')}{path}", json=body, headers=headers)


async def test_write_offs_credit_refund_plan_and_the_printed_statement(
    platform: Platform, reference: demo.Reference
) -> None:
    patient_id = await new_patient(platform)
    visit = await coded_visit(platform, reference, patient_id, "99213")  # 120.00
    draw = await coded_visit(platform, reference, patient_id, "36415")  # 15.00

    # Each reason: 1 + 2 + 3 + 4 = 10.00 written off the visit's 120.00, leaving 110.00.
    for reason, cents in (
        ("small_balance", 100),
        ("bad_debt", 200),
        ("charity", 300),
        ("administrative", 400),
    ):
        written = await post(
            platform,
            f"/invoices/{visit}/write-offs",
            {"reason": reason, "amount_cents": cents},
            "biller",
            reason,
        )
        assert written.status_code == 201, written.text
    assert (await invoice(platform, visit))["balance_cents"] == 11_000
    too_much = await post(
        platform,
        f"/invoices/{visit}/write-offs",
        {"reason": "bad_debt", "amount_cents": 11_001},
        "biller",
        "too-much",
    )
    assert too_much.status_code == 422

    # 130.00 paid on the visit: 110.00 applied, 20.00 credit; 15.00 of it pays the blood draw.
    paid = await post(
        platform,
        f"/invoices/{visit}/payments",
        {"amount_cents": 13_000, "method": "card", "received_on": TODAY.isoformat()},
        "front_desk",
        "e2e-pa-pay",
    )
    assert paid.status_code == 201, paid.text
    assert (paid.json()["applied_cents"], paid.json()["credit_cents"]) == (11_000, 2_000)
    drawn = await invoice(platform, draw)
    assert (drawn["status"], drawn["patient_paid_cents"]) == ("settled", 1_500)
    assert (await invoice(platform, visit))["status"] == "settled"

    # The 5.00 left is refunded, and no more.
    assert (
        await post(
            platform,
            f"/patients/{patient_id}/refunds",
            {"amount_cents": 501, "method": "check"},
            "biller",
            "r0",
        )
    ).status_code == 422
    refunded = await post(
        platform, f"/patients/{patient_id}/refunds", {"amount_cents": 500, "method": "check"}, "biller", "r1"
    )
    assert refunded.status_code == 201, refunded.text
    assert refunded.json()["credit_cents"] == 0

    # A new visit of 120.00 on a plan of 50.00 a month: 50 + 50 + 20.
    later = await coded_visit(platform, reference, patient_id, "99213")
    plan = await post(
        platform,
        f"/patients/{patient_id}/payment-plans",
        {"monthly_amount_cents": 5_000, "first_due_on": TODAY.isoformat()},
        "front_desk",
        "e2e-pa-plan",
    )
    assert plan.status_code == 201, plan.text
    assert [i["amount_cents"] for i in plan.json()["installments"]] == [5_000, 5_000, 2_000]

    async with httpx.AsyncClient(timeout=30) as client:
        pdf = await client.get(
            f"{platform.url('invoicing')}/patients/{patient_id}/statement",
            headers=platform.headers("front_desk") | {"Accept": "application/pdf"},
        )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for expected in (
        "Rosa Parks",
        "7 Ledger Lane",
        "$120.00",
        "Amount due: $120.00",
        "Payment plan: $50.00 a month.",
    ):
        assert expected in text, expected
    assert (await invoice(platform, later))["balance_cents"] == 12_000
