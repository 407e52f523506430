"""Coordination of benefits on the ledger, through the real broker and database: the primary pays
part and names the secondary, no statement goes out; the secondary pays; the patient owes what
neither paid, and the ledger reconciles to the cent per payer and patient. Amounts by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from billing_testing import builders
from billing_testing.harness import ServiceHarness, publish_events
from invoicing.domain import ids
from invoicing.entrypoints import SERVICE

TENANT = "tenant-a"
PATIENT = "11111111-1111-4111-8111-111111111111"
ACME = "22222222-2222-4222-8222-222222222222"
GLOBEX = "55555555-5555-4555-8555-555555555555"
STATE_PLAN = "66666666-6666-4666-8666-666666666666"
COVERAGE = "33333333-3333-4333-8333-333333333333"
ENCOUNTER = "44444444-4444-4444-8444-444444444444"
INVOICE = ids.invoice_id(TENANT, ENCOUNTER, 1)
SCHEDULE = {
    "effective_from": "2026-01-01",
    "rows": [
        {"code": "99213", "modifier": "25", "amount_cents": 14000},
        {"code": "81002", "amount_cents": 1500},
    ],
}


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        await harness.client(["admin"]).put("/fee-schedules/standard", json=SCHEDULE)
        yield harness


async def play(svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str, *events: Any) -> None:
    await publish_events(kafka_bootstrap, topic_prefix, list(events), tenant=TENANT)
    await svc.drain()
    await svc.published()


async def invoice_and_statement(svc: ServiceHarness) -> tuple[dict[str, Any], dict[str, Any]]:
    invoice = (await svc.client(["biller"]).get(f"/invoices/{INVOICE}")).json()
    statement = (await svc.client(["front_desk"]).get(f"/patients/{PATIENT}/statement")).json()
    return invoice, statement


def reconciles(invoice: dict[str, Any]) -> bool:
    """charges = payments + adjustments + outstanding, to the cent, per payer and patient."""
    payers = sum(row["paid_cents"] + row["adjustment_cents"] for row in invoice["by_payer"])
    split = invoice["insurance_balance_cents"] + invoice["patient_responsibility_cents"]
    return bool(
        invoice["total_charge_cents"] == payers + invoice["patient_paid_cents"] + invoice["balance_cents"]
        and invoice["balance_cents"] == split
        and invoice["total_charge_cents"]
        == invoice["paid_cents"] + invoice["adjustment_cents"] + invoice["balance_cents"]
    )


async def coded(svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str) -> None:
    await play(
        svc,
        kafka_bootstrap,
        topic_prefix,
        builders.coverage_added(COVERAGE, PATIENT, ACME, group_number=None),
        builders.encounter_coded(ENCOUNTER, PATIENT),
    )


# 170.00 charged: 99213-25 140.00 and 81002 2 x 15.00. Acme (primary) pays 90.00 and 20.00, writes
# off 30.00 and 5.00 (CO-45), and leaves 20.00 + 5.00 = 25.00 (PR) that Globex (secondary) is billed.
ACME_PAYS_PART = builders.claim_adjudicated(
    INVOICE,
    ACME,
    claim_id="claim-acme",
    remittance_id="era-acme",
    lines=(
        builders.adjudicated_line(1, "99213", 14000, 9000, ("CO", "45", 3000), ("PR", "3", 2000)),
        builders.adjudicated_line(2, "81002", 3000, 2000, ("CO", "45", 500), ("PR", "2", 500)),
    ),
    next_payer_id=GLOBEX,
)


async def test_the_secondary_pays_and_the_patient_owes_what_neither_paid(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await coded(svc, kafka_bootstrap, topic_prefix)
    await play(svc, kafka_bootstrap, topic_prefix, ACME_PAYS_PART)
    waiting, no_statement = await invoice_and_statement(svc)
    # Globex pays 15.00 of line 1's 20.00 (PR-2 5.00 left) and line 2's 5.00; OA-23 reports Acme's part.
    globex = builders.claim_adjudicated(
        INVOICE,
        GLOBEX,
        claim_id="claim-globex",
        remittance_id="era-globex",
        lines=(
            builders.adjudicated_line(1, "99213", 14000, 1500, ("OA", "23", 12000), ("PR", "2", 500)),
            builders.adjudicated_line(2, "81002", 3000, 500, ("OA", "23", 2500)),
        ),
        sequence="secondary",
    )
    await play(svc, kafka_bootstrap, topic_prefix, globex)
    after, statement = await invoice_and_statement(svc)

    # 170.00 - 110.00 paid - 35.00 written off = 25.00, all expected from Globex, none the patient's yet.
    assert (waiting["balance_cents"], waiting["insurance_balance_cents"]) == (2500, 2500)
    assert (waiting["patient_responsibility_cents"], waiting["awaiting_next_payer"]) == (0, True)
    assert no_statement["statements"] == [] and no_statement["amount_due_cents"] == 0
    assert reconciles(waiting)
    # 25.00 - 20.00 (Globex) = 5.00, the patient's; OA-23 adjusts nothing off the balance.
    assert (after["paid_cents"], after["adjustment_cents"], after["balance_cents"]) == (13000, 3500, 500)
    assert (after["patient_responsibility_cents"], after["insurance_balance_cents"]) == (500, 0)
    assert after["by_payer"] == [
        {"payer_id": ACME, "sequence": "primary", "paid_cents": 11000, "adjustment_cents": 3500},
        {"payer_id": GLOBEX, "sequence": "secondary", "paid_cents": 2000, "adjustment_cents": 0},
    ]
    assert reconciles(after)
    assert [s["amount_due_cents"] for s in statement["statements"]] == [500]

    paid = await svc.client(["front_desk"]).post(
        f"/invoices/{INVOICE}/payments",
        json={"amount_cents": 500, "method": "card", "received_on": "2026-05-01"},
        headers={"Idempotency-Key": "pay-after-all-payers"},
    )
    settled, _ = await invoice_and_statement(svc)
    assert paid.status_code == 201
    # 170.00 = 110.00 (Acme) + 20.00 (Globex) + 5.00 (patient) + 35.00 (CO-45) + 0.00 open.
    assert (settled["status"], settled["balance_cents"], settled["patient_paid_cents"]) == ("settled", 0, 500)
    assert reconciles(settled)


async def test_a_tertiary_pays_last_and_a_crossover_waits_like_a_billed_secondary(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await coded(svc, kafka_bootstrap, topic_prefix)
    crossover = ACME_PAYS_PART.model_copy(update={"claim_status_code": "19", "crossover": True})
    await play(svc, kafka_bootstrap, topic_prefix, crossover)
    waiting, _ = await invoice_and_statement(svc)
    # Globex pays 10.00 and names the state plan; 15.00 stays open with the insurers.
    globex = builders.claim_adjudicated(
        INVOICE,
        GLOBEX,
        claim_id="claim-globex",
        remittance_id="era-globex",
        lines=(
            builders.adjudicated_line(1, "99213", 14000, 1000, ("OA", "23", 12000), ("PR", "2", 1000)),
            builders.adjudicated_line(2, "81002", 3000, 0, ("OA", "23", 2500), ("PR", "2", 500)),
        ),
        sequence="secondary",
        next_payer_id=STATE_PLAN,
    )
    await play(svc, kafka_bootstrap, topic_prefix, globex)
    secondary_done, _ = await invoice_and_statement(svc)
    # The state plan (payer of last resort) pays 10.00 of line 1 and writes off line 2's 5.00 (CO-45).
    plan = builders.claim_adjudicated(
        INVOICE,
        STATE_PLAN,
        claim_id="claim-state",
        remittance_id="era-state",
        lines=(
            builders.adjudicated_line(1, "99213", 14000, 1000, ("OA", "23", 13000)),
            builders.adjudicated_line(2, "81002", 3000, 0, ("OA", "23", 2500), ("CO", "45", 500)),
        ),
        sequence="tertiary",
    )
    await play(svc, kafka_bootstrap, topic_prefix, plan)
    last, statement = await invoice_and_statement(svc)

    assert (waiting["patient_responsibility_cents"], waiting["insurance_balance_cents"]) == (0, 2500)
    assert (secondary_done["balance_cents"], secondary_done["patient_responsibility_cents"]) == (1500, 0)
    # 170.00 = 110.00 + 10.00 + 10.00 paid + 35.00 + 5.00 written off: nothing left for the patient.
    assert (last["status"], last["balance_cents"], last["patient_responsibility_cents"]) == ("settled", 0, 0)
    assert [row["sequence"] for row in last["by_payer"]] == ["primary", "secondary", "tertiary"]
    assert reconciles(waiting) and reconciles(secondary_done) and reconciles(last)
    assert statement["statements"] == []
