"""One known history of a small practice, played onto the real topics, seen through every interface
of the reporting service: the JSON reports against figures worked out by hand, the CSV, a rebuild
from the log, and the dashboard in a real browser.

The history (event times at 15:00 UTC; reports count days in UTC):

  Jan 11  INV-1 Acme, Dr Osler, service Jan 10: 99213 $150 + 36415 $30 = $180. Claim C1 submitted.
  Jan 21  INV-2 Blue Plains, Dr Lister, service Jan 20: 99214 $220. Claim C2 fails the scrubber.
  Jan 22  C2 submitted.             Jan 24  C2 rejected by the clearinghouse (277CA).
  Jan 27  Recoded: INV-2 voided, C2 closed; INV-3 (coding version 2): 99213 $150; claim C3 submitted.
  Feb 05  C1 paid: $120 paid, CO-45 $40, PR-2 $20 (coinsurance).
  Feb 15  INV-4 Acme, Dr Osler, service Feb 14: 99213 $150 + 81002 $10 = $160. Claim C4 submitted.
  Feb 20  C3 denied: CO-50 $150 (posting of nothing: the balance stays open).
  Mar 03  C1 reversed by the payer: -$120 paid, -$40 CO-45, -$20 PR-2.
  Mar 05  INV-5 self-pay, Dr Lister, service Mar 5: 99203 $200.
  Mar 06  C1 paid again, corrected: $110 paid, CO-45 $50, PR-2 $20.
  Mar 10  C3 resubmitted.
  Mar 15  C4 partially paid: 99213 $100 paid, CO-45 $30, PR-3 $20; 81002 denied CO-97 $10.
  Mar 20  The patient of INV-1 pays $20; a statement for INV-4's $20.
  Apr 02  C3 paid: $90, CO-45 $60. INV-6 Blue Plains, Dr Lister, service Apr 1: 99214 $220; C6 submitted.
  Apr 10  The patient of INV-5 pays $50.
  and another tenant's invoice of $999.99 on Jan 15, which tenant-a must never see.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from billing_events.contracts.base import Event
from billing_events.contracts.claims import (
    AdjudicatedLine,
    CasAdjustment,
    ClaimAdjudicated,
    ClaimClosed,
    ClaimCreated,
    ClaimLine,
    ClaimReady,
    ClaimRejected,
    ClaimResubmitted,
    ClaimScrubFailed,
    ClaimSubmitted,
    Finding,
    RejectionReason,
)
from billing_events.contracts.invoicing import (
    Adjustment,
    InsurancePaymentPosted,
    InvoiceIssued,
    InvoiceLine,
    InvoiceVoided,
    PatientPaymentReceived,
    PatientStatementIssued,
    PostedLine,
)
from billing_events.contracts.registration import Address, PayerRegistered, ProviderEnrolled
from billing_testing.harness import ServiceHarness, publish_events
from reporting.adapters.rebuild import rebuild
from reporting.entrypoints import SERVICE

ACME, BLUE = "payer-acme", "payer-blue"
OSLER, LISTER, CLINIC = "prov-osler", "prov-lister", "prov-clinic"
ADDRESS = Address(line1="10 Clinic Rd", city="Springfield", state="IL", postal_code="62701")
CHROMIUM = Path("/usr/bin/chromium")

Cas = tuple[str, str, int]  # group, CARC, cents
Line = tuple[str, int, int, list[Cas]]  # code, charge, paid, adjustments


def at(day: str, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(15, minute), UTC)


def invoice(
    number: int,
    service: str,
    lines: list[tuple[str, int]],
    payer: str | None,
    provider: str,
    version: int = 1,
) -> InvoiceIssued:
    encounter = {3: 2}.get(number, number)  # INV-3 is INV-2's encounter, recoded
    return InvoiceIssued(
        invoice_id=f"inv-{number}",
        encounter_id=f"enc-{encounter}",
        patient_id=f"patient-{encounter}",
        coding_version=version,
        service_date=date.fromisoformat(service),
        billing_provider_id=CLINIC,
        rendering_provider_id=provider,
        place_of_service="11",
        diagnoses=("E11.9",),
        lines=tuple(
            InvoiceLine(line_number=n, code=code, units=1, unit_price_cents=cents, charge_cents=cents)
            for n, (code, cents) in enumerate(lines, start=1)
        ),
        total_charge_cents=sum(cents for _, cents in lines),
        responsibility="insurance" if payer else "self_pay",
        coverage_id=f"cov-{encounter}" if payer else None,
        payer_id=payer,
        fee_schedule="standard-2025",
    )


def claim_created(number: int, issued: InvoiceIssued) -> ClaimCreated:
    assert issued.payer_id is not None
    return ClaimCreated(
        claim_id=f"claim-{number}",
        patient_control_number=f"PCN{number}",
        invoice_id=issued.invoice_id,
        encounter_id=issued.encounter_id,
        patient_id=issued.patient_id,
        coverage_id=issued.coverage_id or "",
        payer_id=issued.payer_id,
        service_date=issued.service_date,
        diagnoses=issued.diagnoses,
        lines=tuple(
            ClaimLine(
                line_number=line.line_number,
                line_control_number=f"{number}-{line.line_number}",
                code=line.code,
                units=1,
                charge_cents=line.charge_cents,
                diagnosis_pointers=(1,),
            )
            for line in issued.lines
        ),
        total_charge_cents=issued.total_charge_cents,
    )


def submitted(number: int) -> ClaimSubmitted:
    return ClaimSubmitted(
        claim_id=f"claim-{number}",
        batch_id=f"batch-{number}",
        frequency_code="1",
        interchange_control_number=f"{number:09d}",
        group_control_number=str(number),
        transaction_set_control_number=f"{number:04d}",
        file_name=f"claims-{number}.837",
    )


def filed(number: int, issued: InvoiceIssued) -> list[Event]:
    """A claim made, scrubbed clean and sent."""
    return [claim_created(number, issued), ClaimReady(claim_id=f"claim-{number}"), submitted(number)]


def remitted(
    number: int, issued: InvoiceIssued, outcome: str, lines: list[Line], day: str, *, reversal: bool = False
) -> list[Event]:
    """The claim's adjudication and its posting to the invoice, as claims and invoicing publish them."""
    assert issued.payer_id is not None
    sign = -1 if reversal else 1
    paid = sign * sum(line[2] for line in lines)
    cas = [
        (n, g, r, sign * cents)
        for n, (_, _, _, adjustments) in enumerate(lines, 1)
        for g, r, cents in adjustments
    ]
    adjudication = ClaimAdjudicated(
        claim_id=f"claim-{number}",
        invoice_id=issued.invoice_id,
        remittance_id=f"era-{day}",
        payer_id=issued.payer_id,
        payer_claim_control_number=f"PCCN{number}",
        claim_status_code={"paid": "1", "partially_paid": "1", "denied": "4", "reversed": "22"}[outcome],
        outcome=outcome,
        total_charge_cents=sign * sum(line[1] for line in lines),
        paid_cents=paid,
        patient_responsibility_cents=sum(c for _, g, _, c in cas if g == "PR"),
        lines=tuple(
            AdjudicatedLine(
                line_number=n,
                code=code,
                charge_cents=sign * charge,
                paid_cents=sign * line_paid,
                adjustments=tuple(
                    CasAdjustment(group=g, reason_code=r, amount_cents=sign * c) for g, r, c in adjustments
                ),
            )
            for n, (code, charge, line_paid, adjustments) in enumerate(lines, 1)
        ),
        adjudicated_on=date.fromisoformat(day),
    )
    denied = outcome == "denied"
    posting = InsurancePaymentPosted(
        invoice_id=issued.invoice_id,
        claim_id=f"claim-{number}",
        payer_id=issued.payer_id,
        adjudication_id=f"adj-{number}-{day}",
        reversal=reversal,
        denied=denied,
        lines=tuple(
            PostedLine(
                line_number=line.line_number,
                paid_cents=line.paid_cents,
                adjustments=()
                if denied
                else tuple(
                    Adjustment(group=a.group, reason_code=a.reason_code, amount_cents=a.amount_cents)
                    for a in line.adjustments
                ),
            )
            for line in adjudication.lines
        ),
        paid_cents=paid,
        contractual_adjustment_cents=0 if denied else sum(c for _, g, _, c in cas if g == "CO"),
        other_adjustment_cents=0,
        patient_responsibility_cents=0 if denied else adjudication.patient_responsibility_cents,
        denial_reasons=tuple(f"{g}-{r}" for _, g, r, _ in cas) if denied else (),
        posted_on=date.fromisoformat(day),
    )
    return [adjudication, posting]


def patient_paid(number: int, cents: int, day: str) -> PatientPaymentReceived:
    return PatientPaymentReceived(
        payment_id=f"pay-{number}-{day}",
        patient_id=f"patient-{number}",
        invoice_id=f"inv-{number}",
        amount_cents=cents,
        applied_cents=cents,
        credit_cents=0,
        method="card",
        received_on=date.fromisoformat(day),
    )


INV1 = invoice(1, "2025-01-10", [("99213", 15000), ("36415", 3000)], ACME, OSLER)
INV2 = invoice(2, "2025-01-20", [("99214", 22000)], BLUE, LISTER)
INV3 = invoice(3, "2025-01-20", [("99213", 15000)], BLUE, LISTER, version=2)
INV4 = invoice(4, "2025-02-14", [("99213", 15000), ("81002", 1000)], ACME, OSLER)
INV5 = invoice(5, "2025-03-05", [("99203", 20000)], None, LISTER)
INV6 = invoice(6, "2025-04-01", [("99214", 22000)], BLUE, LISTER)
C1_FIRST: list[Line] = [
    ("99213", 15000, 10000, [("CO", "45", 3000), ("PR", "2", 2000)]),
    ("36415", 3000, 2000, [("CO", "45", 1000)]),
]

HISTORY: list[tuple[datetime, list[Event]]] = [
    (
        at("2025-01-02"),
        [
            PayerRegistered(
                payer_id=ACME, name="Acme Health", edi_payer_id="ACME1", claim_filing_indicator="CI"
            ),
            PayerRegistered(
                payer_id=BLUE, name="Blue Plains", edi_payer_id="BLUE1", claim_filing_indicator="BL"
            ),
            ProviderEnrolled(
                provider_id=OSLER,
                npi="1245319599",
                role="rendering",
                given_name="Ada",
                family_name="Osler",
                taxonomy_code="207Q00000X",
                address=ADDRESS,
            ),
            ProviderEnrolled(
                provider_id=LISTER,
                npi="1679576722",
                role="rendering",
                given_name="Ben",
                family_name="Lister",
                taxonomy_code="207Q00000X",
                address=ADDRESS,
            ),
            ProviderEnrolled(
                provider_id=CLINIC,
                npi="1234567893",
                role="billing",
                organization_name="Springfield Clinic",
                taxonomy_code="261QP2300X",
                address=ADDRESS,
            ),
        ],
    ),
    (at("2025-01-11"), [INV1, *filed(1, INV1)]),
    (
        at("2025-01-21"),
        [
            INV2,
            claim_created(2, INV2),
            ClaimScrubFailed(
                claim_id="claim-2", failures=(Finding(edit_id="NCCI-1", message="edit", field="lines"),)
            ),
        ],
    ),
    (at("2025-01-22"), [ClaimReady(claim_id="claim-2"), submitted(2)]),
    (
        at("2025-01-24"),
        [
            ClaimRejected(
                claim_id="claim-2",
                acknowledgement="277CA",
                control_number="0002",
                reasons=(RejectionReason(code="A7:562", description="entity identifier"),),
            )
        ],
    ),
    (
        at("2025-01-27"),
        [
            InvoiceVoided(
                invoice_id="inv-2", encounter_id="enc-2", reason="recoded", superseded_by_coding_version=2
            ),
            ClaimClosed(claim_id="claim-2", reason="invoice voided"),
            INV3,
            *filed(3, INV3),
        ],
    ),
    (at("2025-02-05"), remitted(1, INV1, "paid", C1_FIRST, "2025-02-05")),
    (at("2025-02-15"), [INV4, *filed(4, INV4)]),
    (
        at("2025-02-20"),
        remitted(3, INV3, "denied", [("99213", 15000, 0, [("CO", "50", 15000)])], "2025-02-20"),
    ),
    (at("2025-03-03"), remitted(1, INV1, "reversed", C1_FIRST, "2025-03-03", reversal=True)),
    (at("2025-03-05"), [INV5]),
    (
        at("2025-03-06"),
        remitted(
            1,
            INV1,
            "paid",
            [
                ("99213", 15000, 9000, [("CO", "45", 4000), ("PR", "2", 2000)]),
                ("36415", 3000, 2000, [("CO", "45", 1000)]),
            ],
            "2025-03-06",
        ),
    ),
    (
        at("2025-03-10"),
        [
            ClaimResubmitted(
                claim_id="claim-3",
                frequency_code="7",
                reason="records sent",
                payer_claim_control_number="PCCN3",
            )
        ],
    ),
    (
        at("2025-03-15"),
        remitted(
            4,
            INV4,
            "partially_paid",
            [
                ("99213", 15000, 10000, [("CO", "45", 3000), ("PR", "3", 2000)]),
                ("81002", 1000, 0, [("CO", "97", 1000)]),
            ],
            "2025-03-15",
        ),
    ),
    (
        at("2025-03-20"),
        [
            patient_paid(1, 2000, "2025-03-20"),
            PatientStatementIssued(
                statement_id="stmt-4",
                patient_id="patient-4",
                statement_date=date(2025, 3, 20),
                due_date=date(2025, 4, 19),
                amount_due_cents=2000,
                invoice_ids=("inv-4",),
            ),
        ],
    ),
    (
        at("2025-04-02"),
        [
            *remitted(3, INV3, "paid", [("99213", 15000, 9000, [("CO", "45", 6000)])], "2025-04-02"),
            INV6,
            *filed(6, INV6),
        ],
    ),
    (at("2025-04-10"), [patient_paid(5, 5000, "2025-04-10")]),
]
OTHER_TENANT = (at("2025-01-15"), [invoice(9, "2025-01-14", [("99215", 99999)], "payer-other", OSLER)])


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        for occurred_at, events in HISTORY:
            await publish_events(kafka_bootstrap, topic_prefix, events, occurred_at=occurred_at)
        await publish_events(
            kafka_bootstrap, topic_prefix, OTHER_TENANT[1], tenant="tenant-b", occurred_at=OTHER_TENANT[0]
        )
        await harness.drain()
        yield harness


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def aging_table(report: dict[str, Any]) -> dict[str, list[int]]:
    return {row["payer_name"]: list(row["buckets_cents"].values()) for row in report["rows"]}


async def test_reports_match_the_hand_computed_figures(svc: ServiceHarness) -> None:
    api = svc.client(roles=["biller"])

    # --- A/R aging as of past days: what was outstanding then, aged from the date of service.
    january = await get(api, "/reports/ar-aging", as_of="2025-01-31")
    # INV-1 $180, 21 days; INV-3 $150 (INV-2 voided, recoded), 11 days. Tenant-b's $999.99 is not here.
    assert aging_table(january) == {"Acme Health": [18000, 0, 0, 0, 0], "Blue Plains": [15000, 0, 0, 0, 0]}
    assert january["total_cents"] == 33000

    february = await get(api, "/reports/ar-aging", as_of="2025-02-28")
    # INV-4 $160 at 14 days; INV-3 $150 at 39 days (the denial posted nothing); INV-1: 180 - 120 - 40
    # leaves the $20 coinsurance with the patient, 49 days.
    assert aging_table(february) == {
        "Acme Health": [16000, 0, 0, 0, 0],
        "Blue Plains": [0, 15000, 0, 0, 0],
        "Self-pay": [0, 2000, 0, 0, 0],
    }
    assert february["total_cents"] == 33000

    reversed_day = await get(api, "/reports/ar-aging", as_of="2025-03-04")
    # The reversal put all of INV-1's $180 back on Acme (53 days), beside INV-4 (18 days).
    assert aging_table(reversed_day) == {
        "Acme Health": [16000, 18000, 0, 0, 0],
        "Blue Plains": [0, 15000, 0, 0, 0],
    }
    assert reversed_day["total_cents"] == 49000

    march = await get(api, "/reports/ar-aging", as_of="2025-03-31")
    # INV-1: 180 - 110 - 50 - 20 (patient) = 0. INV-3 at 70 days. INV-4: 160 - 100 - 40 = 20 for the
    # patient, 45 days. INV-5 $200 self-pay, 26 days.
    assert aging_table(march) == {"Blue Plains": [0, 0, 15000, 0, 0], "Self-pay": [20000, 2000, 0, 0, 0]}
    assert march["total_cents"] == 37000

    june = await get(api, "/reports/ar-aging", as_of="2025-06-30")
    # INV-6 $220 at 90 days; INV-5 200 - 50 = $150 at 117 days; INV-4's $20 at 136 days.
    assert aging_table(june) == {"Blue Plains": [0, 0, 22000, 0, 0], "Self-pay": [0, 0, 0, 15000, 2000]}
    assert june["totals"]["buckets_cents"] == {
        "0-30": 0,
        "31-60": 0,
        "61-90": 22000,
        "91-120": 15000,
        "120+": 2000,
    }
    assert june["total_cents"] == 39000

    # --- Revenue by payer and month.
    revenue = await get(
        api, "/reports/revenue", **{"from": "2025-01-01", "to": "2025-04-30", "group_by": "payer"}
    )
    table = {
        (r["period"], r["group_name"]): (
            r["gross_charges_cents"],
            r["voided_charges_cents"],
            r["insurance_payments_cents"],
            r["patient_payments_cents"],
            r["contractual_adjustments_cents"],
        )
        for r in revenue["rows"]
    }
    assert table == {
        ("2025-01", "Acme Health"): (18000, 0, 0, 0, 0),
        ("2025-01", "Blue Plains"): (22000 + 15000, 22000, 0, 0, 0),  # INV-2, its void, INV-3
        ("2025-02", "Acme Health"): (16000, 0, 12000, 0, 4000),  # INV-4; C1 paid
        ("2025-03", "Acme Health"): (
            0,
            0,
            -12000 + 11000 + 10000,
            0,
            -4000 + 5000 + 4000,
        ),  # reversal, C1, C4
        ("2025-03", "Self-pay"): (20000, 0, 0, 2000, 0),  # INV-5; INV-1's patient
        ("2025-04", "Blue Plains"): (22000, 0, 9000, 0, 6000),  # INV-6; C3 paid
        ("2025-04", "Self-pay"): (0, 0, 0, 5000, 0),
    }
    # (February's denial posted only zeros, so Blue Plains has no February row.)
    totals = revenue["totals"]
    assert totals["net_charges_cents"] == 113000 - 22000
    assert totals["payments_cents"] == 30000 + 7000
    assert totals["adjustments_cents"] == 15000
    # 0 + 91000 - 37000 - 15000 = 39000, the aging total at the end of April.
    assert revenue["reconciliation"] == {
        "opening_ar_cents": 0,
        "closing_ar_cents": 39000,
        "expected_closing_ar_cents": 39000,
        "reconciled": True,
    }

    by_code = await get(
        api, "/reports/revenue", **{"from": "2025-03-01", "to": "2025-03-31", "group_by": "code"}
    )
    codes = {
        r["group_key"]: (
            r["gross_charges_cents"],
            r["insurance_payments_cents"],
            r["contractual_adjustments_cents"],
            r["patient_payments_cents"],
        )
        for r in by_code["rows"]
    }
    assert codes == {
        "99203": (20000, 0, 0, 0),
        "99213": (0, -10000 + 9000 + 10000, -3000 + 4000 + 3000, 0),  # reversal, C1 again, C4
        "81002": (0, 0, 1000, 0),  # the denied line's CO-97
        "unassigned": (0, 0, 0, 2000),  # a patient's payment names no line
        # 36415: -2000 + 2000 paid and -1000 + 1000 adjusted cancel out: no row.
    }

    by_provider = await get(
        api, "/reports/revenue", **{"from": "2025-01-01", "to": "2025-04-30", "group_by": "provider"}
    )
    providers: dict[str, list[int]] = {}
    for r in by_provider["rows"]:
        sums = providers.setdefault(r["group_name"], [0, 0, 0])
        sums[0] += r["net_charges_cents"]
        sums[1] += r["payments_cents"]
        sums[2] += r["adjustments_cents"]
    assert providers == {
        "Ada Osler": [18000 + 16000, 12000 - 12000 + 11000 + 10000 + 2000, 4000 - 4000 + 5000 + 4000],
        "Ben Lister": [22000 - 22000 + 15000 + 20000 + 22000, 9000 + 5000, 6000],
    }

    # --- Denials: first adjudications C1 (paid, $180), C3 (denied, $150), C4 (partially paid, $160).
    denials = await get(api, "/reports/denials", **{"from": "2025-01-01", "to": "2025-04-30"})
    assert (denials["adjudicated_claims"], denials["denied_claims"]) == (3, 1)
    assert denials["denial_rate_by_count"] == {"numerator": 1, "denominator": 3, "percent": "33.33"}
    # 15000 / (18000 + 15000 + 16000) = 0.30612...
    assert denials["denial_rate_by_dollars"] == {"numerator": 15000, "denominator": 49000, "percent": "30.61"}
    assert [(r["reason"], r["claims"], r["amount_cents"]) for r in denials["top_reasons"]] == [
        ("CO-50", 1, 15000),
        ("CO-97", 1, 1000),
    ]
    assert [(p["payer_name"], p["denial_rate_by_count"]["percent"]) for p in denials["by_payer"]] == [
        ("Acme Health", "0.00"),
        ("Blue Plains", "100.00"),
    ]
    assert (denials["front_end_rejections"], denials["reversals"], denials["denied_lines"]) == (1, 1, 1)

    # --- KPIs at the end of April over 120 days (Jan 1 - Apr 30).
    kpis = (await get(api, "/reports/kpis", as_of="2025-04-30", window_days=120))["kpis"]
    values = {key: kpi["value"] for key, kpi in kpis.items()}
    assert values == {
        "days_in_ar": "61.6",  # 39000 / ((91000 charges - 15000 contractual) / 120) = 61.578...
        "clean_claim_rate": "80.00",  # C1, C3, C4, C6 clean of C1, C2, C3, C4, C6
        "first_pass_resolution_rate": "66.67",  # C1 and C4 of C1, C3, C4
        "denial_rate": "33.33",
        "denial_rate_dollars": "30.61",
        "net_collection_rate": "48.68",  # 37000 / 76000
        "average_days_to_payment": "40.8",  # (26 + 72 + 29 + 36) / 4 for INV-1, 3, 4, 5
        "aged_ar_over_90": "0.00",
    }
    assert (kpis["net_collection_rate"]["numerator"], kpis["net_collection_rate"]["denominator"]) == (
        37000,
        76000,
    )


async def test_reports_are_per_tenant_and_only_for_reading_roles(svc: ServiceHarness) -> None:
    other = await get(
        svc.client(roles=["auditor"], tenant="tenant-b"), "/reports/ar-aging", as_of="2025-01-31"
    )
    assert [(row["payer_key"], row["total_cents"]) for row in other["rows"]] == [("payer-other", 99999)]

    assert (await svc.client(roles=["admin"]).get("/reports/kpis")).status_code == 200
    forbidden = await svc.client(roles=["front_desk", "coder"]).get("/reports/ar-aging")
    assert forbidden.status_code == 403
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.app), base_url="http://service")
    async with anonymous:
        assert (await anonymous.get("/reports/denials")).status_code == 401
        assert (await anonymous.get("/dashboard")).status_code == 401
        assert (await anonymous.get("/")).status_code == 200  # the page alone holds no data
    reversed_range = await svc.client(roles=["biller"]).get(
        "/reports/revenue", params={"from": "2025-02-01", "to": "2025-01-01"}
    )
    assert reversed_range.status_code == 422
    assert reversed_range.json()["errors"][0]["field"] == "from"


async def csv_of(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, str]]:
    response = await client.get(path, params=params, headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_every_report_answers_csv_with_the_same_figures(svc: ServiceHarness) -> None:
    api = svc.client(roles=["auditor"])

    aging = await csv_of(api, "/reports/ar-aging", as_of="2025-03-04")
    assert [
        (r["payer_name"], r["days_0_30_cents"], r["days_31_60_cents"], r["total_cents"]) for r in aging
    ] == [
        ("Acme Health", "16000", "18000", "34000"),
        ("Blue Plains", "0", "15000", "15000"),
    ]

    params = {"from": "2025-01-01", "to": "2025-04-30", "group_by": "payer"}
    revenue_rows = await csv_of(api, "/reports/revenue", **params)
    revenue_json = await get(api, "/reports/revenue", **params)
    assert len(revenue_rows) == len(revenue_json["rows"]) == 7
    for name in ("net_charges_cents", "payments_cents", "adjustments_cents"):
        assert sum(int(r[name]) for r in revenue_rows) == revenue_json["totals"][name]

    reasons = await csv_of(
        api, "/reports/denials", **{"from": "2025-01-01", "to": "2025-04-30", "view": "reasons"}
    )
    assert [(r["reason"], r["amount_cents"]) for r in reasons] == [("CO-50", "15000"), ("CO-97", "1000")]
    payers = await csv_of(api, "/reports/denials", **{"from": "2025-01-01", "to": "2025-04-30"})
    assert [(r["payer_key"], r["denied_claims"], r["denial_rate_by_dollars_percent"]) for r in payers] == [
        (ACME, "0", "0.00"),
        (BLUE, "1", "100.00"),
        ("all", "1", "30.61"),
    ]

    kpis = {r["kpi"]: r for r in await csv_of(api, "/reports/kpis", as_of="2025-04-30", window_days=120)}
    assert kpis["days_in_ar"]["value"] == "61.6"
    assert (kpis["days_in_ar"]["numerator"], kpis["days_in_ar"]["denominator"]) == ("39000", "76000")
    assert kpis["clean_claim_rate"]["value"] == "80.00"


async def snapshot(api: httpx.AsyncClient) -> list[Any]:
    """Every report, in both formats, over the whole history."""
    queries: list[tuple[str, dict[str, Any]]] = [
        *(("/reports/ar-aging", {"as_of": day}) for day in ("2025-01-31", "2025-03-04", "2025-06-30")),
        *(
            (
                "/reports/revenue",
                {"from": "2025-01-01", "to": "2025-04-30", "group_by": group, "period": period},
            )
            for group in ("payer", "provider", "code")
            for period in ("day", "month")
        ),
        ("/reports/denials", {"from": "2025-01-01", "to": "2025-04-30"}),
        ("/reports/kpis", {"as_of": "2025-04-30", "window_days": 120}),
    ]
    taken: list[Any] = []
    for path, params in queries:
        taken.append(await get(api, path, **params))
        taken.append((await api.get(path, params=params, headers={"Accept": "text/csv"})).text)
    taken.append((await api.get("/dashboard", params={"as_of": "2025-04-30"})).text)
    return taken


async def test_rebuilding_from_the_topics_changes_no_report(svc: ServiceHarness) -> None:
    api = svc.client(roles=["biller"])
    before = await snapshot(api)
    for consumer in svc.consumers:  # a rebuild runs with the live consumers stopped
        await consumer.stop()

    progress: list[tuple[int, int]] = []
    replayed = await rebuild(svc.runtime, progress=lambda done, total: progress.append((done, total)))

    published = sum(len(events) for _, events in HISTORY) + len(OTHER_TENANT[1])
    assert replayed == published
    assert progress[-1] == (published, published)
    assert await snapshot(api) == before


@dataclass
class Served:
    base_url: str
    token: str


@pytest.fixture
async def served(svc: ServiceHarness) -> AsyncIterator[Served]:
    """The service's app on a real uvicorn server on a free port."""
    # Listening before uvicorn starts: the browser's first connection waits in the backlog.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(svc.app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    yield Served(f"http://127.0.0.1:{port}", svc.token(["biller"]))
    server.should_exit = True
    await task
    listener.close()


# Reads a PNG file in a blank page's canvas: how big it is, how many colours it has, how much blue.
PIXEL_STATS = """async (source) => {
  const image = new Image();
  image.src = source;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  let blue = 0;
  for (let i = 0; i < data.length; i += 4) {
    colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    if (data[i] < 80 && data[i + 1] < 140 && data[i + 2] > 200) blue += 1;
  }
  return { width: canvas.width, height: canvas.height, colours: colours.size, blue };
}"""


async def test_the_dashboard_renders_charts_and_kpis_in_a_real_browser(
    served: Served, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1400})
            failed: list[str] = []
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.on(
                "console", lambda message: failed.append(message.text) if message.type == "error" else None
            )
            await page.goto(f"{served.base_url}/?as_of=2025-04-30#token={served.token}")
            await page.wait_for_selector("body[data-loaded=yes]", timeout=15_000)

            assert "#token" not in page.url  # the token left the address bar
            for chart in ("aging", "denials", "revenue"):
                box = await page.locator(f'svg[data-chart="{chart}"]').bounding_box()
                assert box is not None and box["width"] > 100 and box["height"] > 100, chart
            bars = page.locator('svg[data-chart="aging"] rect.bar')
            # As of Apr 30: Blue Plains 0-30 (INV-6), self-pay 31-60 (INV-5) and 61-90 (INV-4).
            assert await bars.count() == 3
            for i in range(await bars.count()):
                bar = await bars.nth(i).bounding_box()
                assert bar is not None and bar["width"] > 0 and bar["height"] > 0
            assert await page.locator('svg[data-chart="denials"] rect.bar').count() == 2  # CO-50, CO-97
            assert await page.locator('svg[data-chart="revenue"] polyline').count() == 3

            # KPIs over the default 90 days (Jan 31 - Apr 30): 39000 / ((58000 - 15000) / 90) = 81.6 days;
            # payments 37000 / 43000 = 86.05%.
            tiles = {
                key: await page.locator(f'[data-kpi="{key}"] .number').inner_text()
                for key in (
                    "days_in_ar",
                    "clean_claim_rate",
                    "first_pass_resolution_rate",
                    "denial_rate",
                    "net_collection_rate",
                    "average_days_to_payment",
                )
            }
            assert tiles == {
                "days_in_ar": "81.6",
                "clean_claim_rate": "100.00%",  # C4 and C6, the claims created in the window
                "first_pass_resolution_rate": "66.67%",
                "denial_rate": "33.33%",
                "net_collection_rate": "86.05%",
                "average_days_to_payment": "40.8",
            }
            assert failed == []

            shot = tmp_path / "dashboard.png"
            await page.screenshot(path=str(shot))

            # The saved file, read back on a page of its own.
            blank = await browser.new_page()
            source = "data:image/png;base64," + base64.b64encode(shot.read_bytes()).decode()
            stats = await blank.evaluate(PIXEL_STATS, source)
        finally:
            await browser.close()

    assert (stats["width"], stats["height"]) == (1280, 1400)
    # A blank page has one colour; tiles, text and charts have hundreds, the charts' blue among them.
    assert stats["colours"] > 100
    assert stats["blue"] > 1000
