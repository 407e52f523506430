"""Coordination of benefits and provider-level money through the real topics and database: the A/R
aging follows the party that owes the balance now (primary, secondary, patient) as each payer answers,
and an 835's PLB reasons reach revenue's cash without touching the A/R. Figures worked out by hand:

  Jan 11  INV-1 Acme, service Jan 10: 99213 $125 + 81002 $15 = $140. Acme is primary, Globex secondary.
  Feb 05  Acme pays $90 (99213 $80, CO-45 $25, PR-2 $20; 81002 $10, PR-3 $5) and names Globex for the
          $25 left. Its payment's PLB: WO $30 recouped (an earlier claim), L6 $1.25 interest added.
  Feb 20  Globex pays $20 and leaves $5 to the patient (OA-23 reports Acme's part).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from billing_events.contracts.base import Event
from billing_events.contracts.claims import ProviderLevelAdjustment, RemittanceReceived
from billing_testing import builders
from billing_testing.harness import ServiceHarness, publish_events
from reporting.entrypoints import SERVICE

ACME, GLOBEX = "payer-acme", "payer-globex"


def at(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(15), UTC)


INV1 = builders.invoice_issued(
    "inv-1",
    encounter_id="enc-1",
    patient_id="patient-1",
    service_date=date(2025, 1, 10),
    billing_provider_id="prov-clinic",
    rendering_provider_id="prov-osler",
    diagnoses=("E11.9",),
    lines=(
        builders.invoice_line(1, "99213", 12500, diagnosis_pointers=()),
        builders.invoice_line(2, "81002", 1500, diagnosis_pointers=()),
    ),
    coverage_id="cov-1",
    payer_id=ACME,
    fee_schedule="standard-2025",
)


def answer_and_posting(
    claim_id: str, payer: str, sequence: str, next_payer: str | None, lines: list[Any], day: str
) -> list[Event]:
    adjudicated = builders.claim_adjudicated(
        "inv-1",
        payer,
        claim_id=claim_id,
        remittance_id=f"era-{day}",
        lines=tuple(builders.adjudicated_line(n, *line) for n, line in enumerate(lines, 1)),
        adjudicated_on=date.fromisoformat(day),
        sequence=sequence,  # type: ignore[arg-type]
        next_payer_id=next_payer,
    )
    posted = builders.insurance_payment_posted(
        "inv-1",
        payer,
        claim_id=claim_id,
        adjudication_id=f"adj-{claim_id}",
        lines=tuple(
            builders.posted_line(
                line.line_number,
                line.paid_cents,
                # A later payer's OA-23 reports the earlier payer's part: invoicing posts no adjustment.
                *(
                    (a.group, a.reason_code, a.amount_cents)
                    for a in line.adjustments
                    if a.reason_code != "23"
                ),
            )
            for line in adjudicated.lines
        ),
        posted_on=date.fromisoformat(day),
    ).model_copy(update={"sequence": sequence, "awaiting_next_payer": next_payer is not None})
    return [adjudicated, posted]


PRIMARY = answer_and_posting(
    "claim-1",
    ACME,
    "primary",
    GLOBEX,
    [("99213", 12500, 8000, ("CO", "45", 2500), ("PR", "2", 2000)), ("81002", 1500, 1000, ("PR", "3", 500))],
    "2025-02-05",
)
ACME_PAYMENT = RemittanceReceived(
    remittance_id="era-acme-1",
    payer_id=ACME,
    payer_name="ACME HEALTH",
    trace_number="T-1",
    payment_cents=9000 - 2875,  # 90.00 - (30.00 - 1.25)
    payment_date=date(2025, 2, 5),
    claim_count=1,
    matched_claim_ids=("claim-1",),
    provider_adjustment_cents=2875,
    provider_adjustments=(
        ProviderLevelAdjustment(
            provider_identifier="1234567893",
            fiscal_period_end=date(2025, 12, 31),
            reason_code="WO",
            amount_cents=3000,
            reference="ICN-OLD-7",
        ),
        ProviderLevelAdjustment(
            provider_identifier="1234567893",
            fiscal_period_end=date(2025, 12, 31),
            reason_code="L6",
            amount_cents=-125,
        ),
    ),
    claim_paid_cents=9000,
)
SECONDARY = answer_and_posting(
    "claim-1-secondary",
    GLOBEX,
    "secondary",
    None,
    [("99213", 12500, 2000, ("OA", "23", 10500)), ("81002", 1500, 0, ("OA", "23", 1000), ("PR", "3", 500))],
    "2025-02-20",
)
HISTORY: list[tuple[datetime, list[Event]]] = [
    (
        at("2025-01-11"),
        [builders.payer_registered(ACME), builders.payer_registered(GLOBEX, name="Globex"), INV1],
    ),
    (at("2025-02-05"), [*PRIMARY, ACME_PAYMENT]),
    (at("2025-02-20"), SECONDARY),
]


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        for occurred_at, events in HISTORY:
            await publish_events(kafka_bootstrap, topic_prefix, events, occurred_at=occurred_at)
        await harness.drain()
        yield harness


async def aging(svc: ServiceHarness, day: str) -> tuple[dict[str, int], dict[str, int]]:
    report = (await svc.client(["auditor"]).get("/reports/ar-aging", params={"as_of": day})).json()
    by_payer = {row["payer_key"]: row["total_cents"] for row in report["rows"]}
    by_party = {
        row["party"]: row["total_cents"] for row in report["by_responsible_party"] if row["total_cents"]
    }
    return by_payer, by_party


async def test_the_balance_moves_to_whoever_owes_it_now_and_plb_reaches_cash_not_ar(
    svc: ServiceHarness,
) -> None:
    # Jan 31: the whole 140.00 is Acme's, as primary.
    assert await aging(svc, "2025-01-31") == ({ACME: 14000}, {"primary": 14000})
    # Feb 10: 140.00 - 90.00 - 25.00 = 25.00, owed by Globex as secondary; nothing by the patient yet.
    assert await aging(svc, "2025-02-10") == ({GLOBEX: 2500}, {"secondary": 2500})
    # Feb 28: 25.00 - 20.00 = 5.00, the patient's.
    assert await aging(svc, "2025-02-28") == ({"self_pay": 500}, {"patient": 500})

    revenue = (
        await svc.client(["auditor"]).get(
            "/reports/revenue", params={"from": "2025-02-01", "to": "2025-02-28", "group_by": "payer"}
        )
    ).json()
    # Insurance payments 90.00 + 20.00 = 110.00; PLB 30.00 - 1.25 = 28.75; deposits 81.25.
    assert revenue["cash"] == {
        "insurance_payments_cents": 11000,
        "provider_adjustment_cents": 2875,
        "insurance_deposits_cents": 8125,
        "patient_payments_cents": 0,
        "cash_received_cents": 8125,
    }
    assert [
        (p["group_key"], p["reason_code"], p["amount_cents"]) for p in revenue["provider_adjustments"]
    ] == [
        (ACME, "L6", -125),
        (ACME, "WO", 3000),
    ]
    # The A/R still reconciles: opening 140.00 - 110.00 paid - 25.00 CO-45 = 5.00 closing.
    assert (revenue["reconciliation"]["closing_ar_cents"], revenue["reconciliation"]["reconciled"]) == (
        500,
        True,
    )
