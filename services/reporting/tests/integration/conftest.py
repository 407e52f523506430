"""One known history of a small practice, played onto the real topics before each test of this folder:
the fixture `svc` is the reporting service that consumed it. Each test_reporting_history_<report>.py
module checks one interface against figures worked out by hand from this history: A/R aging, revenue,
denials, KPIs, the CSV answers, access, a rebuild from the log, and the dashboard in a real browser.

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

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from billing_events.contracts.base import Event
from billing_events.contracts.claims import ClaimCreated, ClaimSubmitted
from billing_events.contracts.invoicing import InvoiceIssued, PatientPaymentReceived
from billing_events.contracts.registration import Address
from billing_testing import builders
from billing_testing.harness import ServiceHarness, publish_events
from reporting.entrypoints import SERVICE

ACME, BLUE = "payer-acme", "payer-blue"
OSLER, LISTER, CLINIC = "prov-osler", "prov-lister", "prov-clinic"
ADDRESS = Address(line1="10 Clinic Rd", city="Springfield", state="IL", postal_code="62701")

Line = tuple[str, int, int, list[builders.Cas]]  # code, charge, paid, adjustments


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
    return builders.invoice_issued(
        f"inv-{number}",
        encounter_id=f"enc-{encounter}",
        patient_id=f"patient-{encounter}",
        coding_version=version,
        service_date=date.fromisoformat(service),
        billing_provider_id=CLINIC,
        rendering_provider_id=provider,
        diagnoses=("E11.9",),
        lines=tuple(
            builders.invoice_line(n, code, cents, diagnosis_pointers=())
            for n, (code, cents) in enumerate(lines, start=1)
        ),
        coverage_id=f"cov-{encounter}" if payer else None,
        payer_id=payer,
        fee_schedule="standard-2025",
    )


def claim_created(number: int, issued: InvoiceIssued) -> ClaimCreated:
    return builders.claim_created(
        f"claim-{number}",
        issued,
        patient_control_number=f"PCN{number}",
        lines=tuple(
            builders.claim_line(
                line.line_number,
                line.code,
                line.charge_cents,
                line_control_number=f"{number}-{line.line_number}",
            )
            for line in issued.lines
        ),
    )


def submitted(number: int) -> ClaimSubmitted:
    return builders.claim_submitted(
        f"claim-{number}",
        batch_id=f"batch-{number}",
        interchange_control_number=f"{number:09d}",
        group_control_number=str(number),
        transaction_set_control_number=f"{number:04d}",
        file_name=f"claims-{number}.837",
    )


def filed(number: int, issued: InvoiceIssued) -> list[Event]:
    """A claim made, scrubbed clean and sent."""
    return [claim_created(number, issued), builders.claim_ready(f"claim-{number}"), submitted(number)]


def remitted(
    number: int,
    issued: InvoiceIssued,
    outcome: builders.Outcome,
    lines: list[Line],
    day: str,
    *,
    reversal: bool = False,
) -> list[Event]:
    """The claim's adjudication and its posting to the invoice, as claims and invoicing publish them."""
    assert issued.payer_id is not None
    sign = -1 if reversal else 1
    adjudication = builders.claim_adjudicated(
        issued.invoice_id,
        issued.payer_id,
        claim_id=f"claim-{number}",
        remittance_id=f"era-{day}",
        payer_claim_control_number=f"PCCN{number}",
        outcome=outcome,
        lines=tuple(
            builders.adjudicated_line(
                n, code, sign * charge, sign * paid, *((g, r, sign * cents) for g, r, cents in adjustments)
            )
            for n, (code, charge, paid, adjustments) in enumerate(lines, 1)
        ),
        adjudicated_on=date.fromisoformat(day),
    )
    denied = outcome == "denied"
    posting = builders.insurance_payment_posted(
        issued.invoice_id,
        issued.payer_id,
        claim_id=f"claim-{number}",
        adjudication_id=f"adj-{number}-{day}",
        reversal=reversal,
        denied=denied,
        # A denial posts nothing but its reasons: the balance stays open.
        lines=tuple(
            builders.posted_line(
                line.line_number,
                line.paid_cents,
                *(() if denied else ((a.group, a.reason_code, a.amount_cents) for a in line.adjustments)),
            )
            for line in adjudication.lines
        ),
        denial_reasons=tuple(
            f"{a.group}-{a.reason_code}" for line in adjudication.lines for a in line.adjustments
        )
        if denied
        else (),
        posted_on=date.fromisoformat(day),
    )
    return [adjudication, posting]


def patient_paid(number: int, cents: int, day: str) -> PatientPaymentReceived:
    return builders.patient_payment_received(
        f"pay-{number}-{day}",
        f"patient-{number}",
        f"inv-{number}",
        cents,
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
            builders.payer_registered(ACME, name="Acme Health", edi_payer_id="ACME1"),
            builders.payer_registered(
                BLUE, name="Blue Plains", edi_payer_id="BLUE1", claim_filing_indicator="BL"
            ),
            builders.rendering_provider_enrolled(
                OSLER,
                npi="1245319599",
                given_name="Ada",
                family_name="Osler",
                taxonomy_code="207Q00000X",
                address=ADDRESS,
            ),
            builders.rendering_provider_enrolled(
                LISTER,
                npi="1679576722",
                given_name="Ben",
                family_name="Lister",
                taxonomy_code="207Q00000X",
                address=ADDRESS,
            ),
            builders.billing_provider_enrolled(
                CLINIC,
                npi="1234567893",
                name="Springfield Clinic",
                taxonomy_code="261QP2300X",
                tax_id=None,
                address=ADDRESS,
            ),
        ],
    ),
    (at("2025-01-11"), [INV1, *filed(1, INV1)]),
    (
        at("2025-01-21"),
        [INV2, claim_created(2, INV2), builders.claim_scrub_failed("claim-2", ("NCCI-1", "edit", "lines"))],
    ),
    (at("2025-01-22"), [builders.claim_ready("claim-2"), submitted(2)]),
    (
        at("2025-01-24"),
        [
            builders.claim_rejected(
                "claim-2", ("A7:562", "entity identifier"), acknowledgement="277CA", control_number="0002"
            )
        ],
    ),
    (
        at("2025-01-27"),
        [
            builders.invoice_voided("inv-2", "enc-2", reason="recoded", superseded_by_coding_version=2),
            builders.claim_closed("claim-2", reason="invoice voided"),
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
            builders.claim_resubmitted(
                "claim-3", frequency_code="7", reason="records sent", payer_claim_control_number="PCCN3"
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
            builders.patient_statement_issued(
                "stmt-4",
                "patient-4",
                ("inv-4",),
                2000,
                statement_date=date(2025, 3, 20),
                due_date=date(2025, 4, 19),
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
    """The reporting service after consuming the whole history (and tenant-b's invoice)."""
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


@pytest.fixture
def published_events() -> int:
    """How many events the history put on the topics, both tenants'."""
    return sum(len(events) for _, events in HISTORY) + len(OTHER_TENANT[1])
