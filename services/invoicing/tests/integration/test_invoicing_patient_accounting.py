"""Patient accounting through the API against the real broker and database: write-offs of each
reason, credit applied to another invoice and refunded, a payment plan, the statement run and the PDF,
with every ledger reconciling to the cent."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from billing_testing import builders
from billing_testing.harness import ServiceHarness, envelopes, publish_events, read_topic
from invoicing.adapters import accounting_queries
from invoicing.domain import ids
from invoicing.entrypoints import SERVICE
from invoicing.entrypoints.workers import statement_run_once

TENANT = "tenant-a"
PATIENT = "11111111-1111-4111-8111-111111111111"
PAYER = "22222222-2222-4222-8222-222222222222"
COVERAGE = "33333333-3333-4333-8333-333333333333"
FIRST = "44444444-4444-4444-8444-444444444444"
SECOND = "55555555-5555-4555-8555-555555555555"
SCHEDULE = {
    "effective_from": "2026-01-01",
    "rows": [
        {"code": "99213", "amount_cents": 12500},
        {"code": "99213", "modifier": "25", "amount_cents": 14000},
        {"code": "81002", "amount_cents": 1500},
    ],
}
# One office visit: 125.00; one urinalysis: 15.00.
VISIT = (builders.coded_line(1, "99213"),)
URINALYSIS = (builders.coded_line(1, "81002"),)


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        imported = await harness.client(["admin"]).put("/fee-schedules/standard", json=SCHEDULE)
        assert imported.status_code == 201, imported.text
        yield harness


async def play(svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str, *events: Any) -> None:
    await publish_events(kafka_bootstrap, topic_prefix, list(events), tenant=TENANT)
    await svc.drain()
    await svc.published()


async def invoice_of(svc: ServiceHarness, invoice_id: str) -> dict[str, Any]:
    response = await svc.client(["biller"]).get(f"/invoices/{invoice_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    reconciles(body)
    return body


def reconciles(invoice: dict[str, Any]) -> None:
    """charges = payments + adjustments + balance, for the invoice and for each party."""
    assert invoice["total_charge_cents"] == (
        invoice["paid_cents"] + invoice["adjustment_cents"] + invoice["balance_cents"]
    )
    assert invoice["paid_cents"] == invoice["insurance_paid_cents"] + invoice["patient_paid_cents"]
    by_payer = invoice["by_payer"]
    payer_money = sum(p["paid_cents"] + p["adjustment_cents"] for p in by_payer)
    assert (
        payer_money + invoice["written_off_cents"] + invoice["patient_paid_cents"] + invoice["balance_cents"]
        == invoice["total_charge_cents"]
    )
    assert (
        invoice["balance_cents"]
        == invoice["patient_responsibility_cents"] + invoice["insurance_balance_cents"]
    )


def today() -> date:
    return datetime.now(UTC).date()


async def test_each_write_off_reason_lowers_the_balance_within_what_the_patient_owes(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await play(svc, kafka_bootstrap, topic_prefix, builders.encounter_coded(FIRST, PATIENT, lines=VISIT))
    invoice_id = ids.invoice_id(TENANT, FIRST, 1)
    biller = svc.client(["biller"])
    amounts = {"small_balance": 500, "bad_debt": 1000, "charity": 2000, "administrative": 1500}
    for reason, amount in amounts.items():
        posted = await biller.post(
            f"/invoices/{invoice_id}/write-offs",
            json={"reason": reason, "amount_cents": amount},
            headers={"Idempotency-Key": f"wo-{reason}"},
        )
        assert posted.status_code == 201, posted.text
        assert posted.json()["reason"] == reason
    # The same key and body again: the first answer, nothing posted twice.
    again = await biller.post(
        f"/invoices/{invoice_id}/write-offs",
        json={"reason": "charity", "amount_cents": 2000},
        headers={"Idempotency-Key": "wo-charity"},
    )
    assert again.status_code == 201
    # 125.00 - (5 + 10 + 20 + 15) = 75.00 owed; 75.01 is more than the patient owes.
    too_much = await biller.post(
        f"/invoices/{invoice_id}/write-offs", json={"reason": "bad_debt", "amount_cents": 7501}
    )
    assert too_much.status_code == 422
    assert [e["field"] for e in too_much.json()["errors"]] == ["amount_cents"]
    front_desk = await svc.client(["front_desk"]).post(
        f"/invoices/{invoice_id}/write-offs", json={"reason": "charity", "amount_cents": 1}
    )
    assert front_desk.status_code == 403
    shown = await invoice_of(svc, invoice_id)
    assert (shown["other_adjustment_cents"], shown["balance_cents"]) == (5000, 7500)
    assert sorted((w["reason"], w["amount_cents"]) for w in shown["write_offs"]) == sorted(amounts.items())
    await svc.published()
    records = await read_topic(kafka_bootstrap, f"{topic_prefix}billing.invoicing.invoice", expect=5)
    assert [e.event_type for e in envelopes(records)].count("WriteOffPosted") == 4
    statement = await biller.get(f"/patients/{PATIENT}/statement")
    assert statement.json()["amount_due_cents"] == 7500


async def test_an_overpayment_pays_the_other_open_invoice_and_the_rest_is_refunded_once(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await play(
        svc,
        kafka_bootstrap,
        topic_prefix,
        builders.encounter_coded(FIRST, PATIENT, lines=VISIT, service_date=date(2026, 3, 2)),
        builders.encounter_coded(SECOND, PATIENT, lines=URINALYSIS, service_date=date(2026, 3, 9)),
    )
    first, second = ids.invoice_id(TENANT, FIRST, 1), ids.invoice_id(TENANT, SECOND, 1)
    paid = await svc.client(["front_desk"]).post(
        f"/invoices/{first}/payments",
        json={"amount_cents": 20000, "method": "card", "received_on": today().isoformat()},
        headers={"Idempotency-Key": "pay-200"},
    )
    assert paid.status_code == 201, paid.text
    # 200.00 on a 125.00 invoice: 75.00 credit, of which 15.00 pays the urinalysis; 60.00 stays.
    assert paid.json()["credit_cents"] == 7500
    shown = await invoice_of(svc, second)
    assert (shown["status"], shown["patient_paid_cents"], shown["balance_cents"]) == ("settled", 1500, 0)
    assert [p["kind"] for p in shown["postings"]] == ["charge", "credit_applied"]
    biller = svc.client(["biller"])
    statement = (await biller.get(f"/patients/{PATIENT}/statement")).json()
    assert (statement["amount_due_cents"], statement["credit_cents"]) == (0, 6000)

    over = await biller.post(
        f"/patients/{PATIENT}/refunds",
        json={"amount_cents": 6001, "method": "check"},
        headers={"Idempotency-Key": "refund-too-much"},
    )
    assert over.status_code == 422
    assert [e["field"] for e in over.json()["errors"]] == ["amount_cents"]
    without_key = await biller.post(
        f"/patients/{PATIENT}/refunds", json={"amount_cents": 100, "method": "check"}
    )
    assert without_key.status_code == 428
    refunded = await biller.post(
        f"/patients/{PATIENT}/refunds",
        json={"amount_cents": 6000, "method": "check", "reason": "overpayment"},
        headers={"Idempotency-Key": "refund-1"},
    )
    assert refunded.status_code == 201, refunded.text
    assert refunded.json()["credit_cents"] == 0
    statement = (await biller.get(f"/patients/{PATIENT}/statement")).json()
    assert statement["credit_cents"] == 0
    await invoice_of(svc, first)
    unknown = await biller.post(
        "/patients/99999999-9999-4999-8999-999999999999/refunds",
        json={"amount_cents": 100, "method": "check"},
        headers={"Idempotency-Key": "refund-unknown"},
    )
    assert unknown.status_code == 404


async def test_a_plan_the_statement_cycle_and_the_printed_statement_of_an_insured_patient(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await play(
        svc,
        kafka_bootstrap,
        topic_prefix,
        builders.payer_registered(PAYER),
        await builders.sealed_patient_registered(svc.runtime.vault, PATIENT),
        builders.coverage_added(COVERAGE, PATIENT, PAYER, group_number=None),
        builders.encounter_coded(FIRST, PATIENT),
    )
    invoice_id = ids.invoice_id(TENANT, FIRST, 1)
    adjudicated = builders.claim_adjudicated(
        invoice_id,
        PAYER,
        lines=(
            builders.adjudicated_line(1, "99213", 14000, 9000, ("CO", "45", 3000), ("PR", "3", 2000)),
            builders.adjudicated_line(2, "81002", 3000, 2000, ("CO", "45", 500), ("PR", "2", 500)),
        ),
        adjudicated_on=date(2026, 4, 1),
    )
    await play(svc, kafka_bootstrap, topic_prefix, adjudicated)
    biller = svc.client(["biller"])

    # 170.00 charged; Acme paid 90 + 20 = 110.00, adjusted 30 + 5 = 35.00; the patient owes 25.00.
    pdf = await biller.get(f"/patients/{PATIENT}/statement", headers={"Accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for expected in ("$170.00", "Acme Health (primary) paid $110.00, adjusted $35.00", "Amount due: $25.00"):
        assert expected in text, expected
    # The name and address come from registration's sealed copy, opened for this response only.
    assert "Maria Gonzalez" in text and "12 Elm Street" in text and "Cambridge, MA 02139" in text
    assert pdf.headers["cache-control"] == "no-store"
    assert "Financial assistance" in text
    assert (
        (await biller.get(f"/patients/{PATIENT}/statement"))
        .headers["content-type"]
        .startswith("application/json")
    )

    # The adjudication's statement (2026-04-01) opened the cycle; months later the run sends the
    # 90-day reminder once, however often it runs and whichever trigger (operator or timer) runs it.
    run = await biller.post("/statements/run", params={"as_of": today().isoformat()})
    assert run.status_code == 200, run.text
    assert (run.json()["patients"], run.json()["statements_by_cycle"]) == (1, {"3": 1})
    rerun = await biller.post("/statements/run", params={"as_of": today().isoformat()})
    assert rerun.json()["statements_issued"] == 0
    async with svc.runtime.pool.acquire() as connection:
        assert await accounting_queries.tenants_to_dun(connection) == [TENANT]
    assert await statement_run_once(svc.runtime) == 0  # the timer's run over every tenant: sent already
    statement = (await biller.get(f"/patients/{PATIENT}/statement")).json()
    assert [s["cycle"] for s in statement["statements"]] == [3, 0]  # newest first

    plan = await svc.client(["front_desk"]).post(
        f"/patients/{PATIENT}/payment-plans",
        json={"monthly_amount_cents": 1000, "first_due_on": today().isoformat()},
        headers={"Idempotency-Key": "plan-1"},
    )
    assert plan.status_code == 201, plan.text
    plan_id = plan.json()["plan_id"]
    assert [i["amount_cents"] for i in plan.json()["installments"]] == [1000, 1000, 500]  # 25.00
    second = await biller.post(
        f"/patients/{PATIENT}/payment-plans",
        json={"monthly_amount_cents": 500, "first_due_on": today().isoformat()},
    )
    assert second.status_code == 409
    tomorrow = (today() + timedelta(days=1)).isoformat()
    standing = (
        await biller.get(f"/patients/{PATIENT}/payment-plans/{plan_id}", params={"as_of": tomorrow})
    ).json()
    assert (standing["missed"], standing["missed_installments"]) == (True, [1])

    pay = await biller.post(
        f"/invoices/{invoice_id}/payments",
        json={"amount_cents": 1000, "method": "card", "received_on": today().isoformat()},
        headers={"Idempotency-Key": "plan-pay-1"},
    )
    assert pay.status_code == 201, pay.text
    standing = (
        await biller.get(f"/patients/{PATIENT}/payment-plans/{plan_id}", params={"as_of": tomorrow})
    ).json()
    assert (standing["missed"], standing["paid_cents"], standing["next_installment"]["number"]) == (
        False,
        1000,
        2,
    )
    # The rest of the 25.00 is paid off early: the plan completes and the statement cycle ends.
    await biller.post(
        f"/invoices/{invoice_id}/payments",
        json={"amount_cents": 1500, "method": "card", "received_on": today().isoformat()},
        headers={"Idempotency-Key": "plan-pay-2"},
    )
    standing = (await biller.get(f"/patients/{PATIENT}/payment-plans/{plan_id}")).json()
    assert standing["status"] == "completed"
    await invoice_of(svc, invoice_id)
    await svc.published()
    records = await read_topic(kafka_bootstrap, f"{topic_prefix}billing.invoicing.patient-account", expect=7)
    kinds = [e.event_type for e in envelopes(records)]
    assert "PaymentPlanCompleted" in kinds and "DunningCycleEnded" in kinds

    # A forgotten patient (key destroyed) still gets a statement, by account number only.
    await svc.runtime.vault.destroy(PATIENT)
    pdf = await biller.get(f"/patients/{PATIENT}/statement", headers={"Accept": "application/pdf"})
    assert pdf.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Maria" not in text and f"Account number: {PATIENT}" in text
    # Registration's PatientForgotten takes the unreadable copy away too.
    await play(svc, kafka_bootstrap, topic_prefix, builders.patient_forgotten(PATIENT))
    async with svc.runtime.pool.acquire() as connection:
        assert await accounting_queries.sealed_name_and_address(connection, TENANT, PATIENT) == (None, None)


async def test_bad_or_far_fetched_input_is_refused_with_the_field_named_never_a_server_error(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await play(svc, kafka_bootstrap, topic_prefix, builders.encounter_coded(FIRST, PATIENT, lines=VISIT))
    invoice_id = ids.invoice_id(TENANT, FIRST, 1)
    biller = svc.client(["biller"])
    cases: list[tuple[str, str, dict[str, Any] | None, dict[str, str], int, str | None]] = [
        (
            "post",
            "/invoices/no-such-invoice/write-offs",
            {"reason": "charity", "amount_cents": 1},
            {},
            404,
            None,
        ),
        (
            "post",
            f"/invoices/{invoice_id}/write-offs",
            {"reason": "gift", "amount_cents": 1},
            {},
            422,
            "reason",
        ),
        (
            "post",
            f"/invoices/{invoice_id}/write-offs",
            {"reason": "charity", "amount_cents": 0},
            {},
            422,
            "amount_cents",
        ),
        (
            "post",
            f"/invoices/{invoice_id}/write-offs",
            {"reason": "charity", "amount_cents": 100, "party": "insurance"},
            {},
            422,
            "party",
        ),
        (
            "post",
            f"/patients/{PATIENT}/payment-plans",
            {"monthly_amount_cents": 1000, "first_due_on": "9999-12-31"},
            {},
            422,
            "first_due_on",
        ),
        (
            "post",
            f"/patients/{PATIENT}/payment-plans",
            {"monthly_amount_cents": 1000, "first_due_on": "0001-01-01"},
            {},
            422,
            "first_due_on",
        ),
        (
            "post",
            f"/patients/{PATIENT}/payment-plans",
            {"monthly_amount_cents": 1, "first_due_on": 5},
            {},
            422,
            None,
        ),
        ("post", "/statements/run", None, {"as_of": "0001-01-01"}, 422, "as_of"),
        ("post", "/statements/run", None, {"as_of": "9999-12-31"}, 422, "as_of"),
        ("post", "/statements/run", None, {"as_of": "yesterday"}, 422, "as_of"),
        (
            "get",
            f"/patients/{PATIENT}/payment-plans/no-such-plan",
            None,
            {"as_of": "2026-13-01"},
            422,
            "as_of",
        ),
        ("get", f"/patients/{PATIENT}/payment-plans/no-such-plan", None, {}, 404, None),
    ]
    for method, path, body, params, status, field in cases:
        response = await biller.request(method, path, json=body, params=params)
        assert response.status_code == status, (path, body, params, response.text)
        if field is not None:
            assert field in [e["field"] for e in response.json()["errors"]], response.text
    # A plan of 0.01 a month would take 12,500 months: refused, naming the amount.
    slow = await biller.post(
        f"/patients/{PATIENT}/payment-plans",
        json={"monthly_amount_cents": 1, "first_due_on": today().isoformat()},
    )
    assert slow.status_code == 422 and slow.json()["errors"][0]["field"] == "monthly_amount_cents"
    await invoice_of(svc, invoice_id)
