"""Coordination of benefits on the ledger: the patient owes only what no payer owes, statements wait
for the last expected payer, and charges = payments + adjustments + balance to the cent, per payer
and patient. Amounts computed by hand."""

from __future__ import annotations

from datetime import date

from billing_events.contracts.base import Event
from billing_events.contracts.claims import ClaimAdjudicated
from billing_events.contracts.invoicing import (
    CodedInvoiceLine,
    FeeScheduleRow,
    InsurancePaymentPosted,
    InvoiceSettled,
)
from billing_events.envelope import Metadata
from billing_testing import builders
from invoicing.adapters.projections import invoice_document
from invoicing.domain.invoice import (
    DECIDER,
    ApplyPatientPayment,
    Coding,
    InvoiceState,
    IssueInvoice,
    PrimaryCoverage,
    adjudication_from,
)
from invoicing.domain.pricing import PriceList

TENANT = "tenant-a"
META = Metadata(tenant=TENANT, actor="test")
ON = date(2026, 3, 2)
SCHEDULE = PriceList.of(
    "standard",
    date(2026, 1, 1),
    [FeeScheduleRow(code="99213", amount_cents=12500), FeeScheduleRow(code="81002", amount_cents=1500)],
)
CODING = Coding(
    encounter_id="enc-1",
    patient_id="pat-1",
    coding_version=1,
    service_date=ON,
    billing_provider_id="prov-b",
    rendering_provider_id="prov-r",
    place_of_service="11",
    diagnoses=("E11.9",),
    lines=(
        CodedInvoiceLine(line_number=1, code="99213", units=1, diagnosis_pointers=(1,)),
        CodedInvoiceLine(line_number=2, code="81002", units=2, diagnosis_pointers=(1,)),
    ),
)


def issued() -> InvoiceState:
    return DECIDER.fold(
        DECIDER.decide(
            IssueInvoice("inv-1", CODING, SCHEDULE, PrimaryCoverage("cov-1", "acme")), DECIDER.initial
        )
    )


def post(state: InvoiceState, claim: ClaimAdjudicated) -> tuple[list[Event], InvoiceState]:
    events = list(DECIDER.decide(adjudication_from(claim), state))
    return events, DECIDER.fold(events, state)


# 155.00 charged: 99213 125.00 and 81002 2 x 15.00.
# Acme (primary): line 1 paid 80.00, CO-45 25.00, PR-2 20.00; line 2 paid 20.00, PR-3 10.00.
# Paid 100.00, written off 25.00, 30.00 left, which Globex (secondary) is billed.
ACME = builders.claim_adjudicated(
    "inv-1",
    "acme",
    claim_id="claim-acme",
    remittance_id="era-acme",
    lines=(
        builders.adjudicated_line(1, "99213", 12500, 8000, ("CO", "45", 2500), ("PR", "2", 2000)),
        builders.adjudicated_line(2, "81002", 3000, 2000, ("PR", "3", 1000)),
    ),
    next_payer_id="globex",
)
# Globex: line 1 paid 15.00 (OA-23 105.00 reports Acme's part; PR-2 5.00); line 2 paid 10.00
# (OA-23 20.00). Paid 25.00; 5.00 is the patient's.
GLOBEX = builders.claim_adjudicated(
    "inv-1",
    "globex",
    claim_id="claim-globex",
    remittance_id="era-globex",
    lines=(
        builders.adjudicated_line(1, "99213", 12500, 1500, ("OA", "23", 10500), ("PR", "2", 500)),
        builders.adjudicated_line(2, "81002", 3000, 1000, ("OA", "23", 2000)),
    ),
    sequence="secondary",
)


def reconciles(state: InvoiceState) -> bool:
    return state.total_charge_cents == state.paid_cents + state.adjustment_cents + state.balance_cents


def test_while_the_secondary_is_expected_the_patient_owes_nothing() -> None:
    events, state = post(issued(), ACME)
    (posted,) = events
    assert isinstance(posted, InsurancePaymentPosted) and posted.awaiting_next_payer
    assert posted.patient_responsibility_cents == 3000  # Acme's PR, on record
    assert (state.balance_cents, state.patient_responsibility_cents, state.insurance_balance_cents) == (
        3000,
        0,
        3000,
    )
    assert state.awaiting_next_payer and reconciles(state)


def test_the_patient_owes_what_neither_payer_paid_and_the_ledger_reconciles_per_payer() -> None:
    _, state = post(issued(), ACME)
    events, state = post(state, GLOBEX)
    (posted,) = events
    assert isinstance(posted, InsurancePaymentPosted)
    # OA-23 is the prior payer's impact: Globex adjusts nothing off the balance.
    assert (posted.paid_cents, posted.other_adjustment_cents, posted.patient_responsibility_cents) == (
        2500,
        0,
        500,
    )
    # 155.00 - 100.00 - 25.00 - 25.00 = 5.00, all the patient's.
    assert (state.balance_cents, state.patient_responsibility_cents, state.insurance_balance_cents) == (
        500,
        500,
        0,
    )
    assert not state.awaiting_next_payer and reconciles(state)
    document = invoice_document(state)
    assert document["by_payer"] == [
        {"payer_id": "acme", "sequence": "primary", "paid_cents": 10000, "adjustment_cents": 2500},
        {"payer_id": "globex", "sequence": "secondary", "paid_cents": 2500, "adjustment_cents": 0},
    ]
    paid = sum(row["paid_cents"] + row["adjustment_cents"] for row in document["by_payer"])
    assert paid + document["patient_paid_cents"] + document["balance_cents"] == 15500

    payment = DECIDER.decide(ApplyPatientPayment("inv-1", "pay-1", 500, "card", date(2026, 5, 1)), state)
    settled = DECIDER.fold(payment, state)
    assert [type(e) for e in payment][-1] is InvoiceSettled
    # 155.00 = 100.00 (Acme) + 25.00 (Globex) + 5.00 (patient) + 25.00 (CO-45) + 0.00 open.
    assert (settled.insurance_paid_cents, settled.patient_paid_cents, settled.adjustment_cents) == (
        12500,
        500,
        2500,
    )
    assert settled.balance_cents == 0 and reconciles(settled)


def test_a_secondary_answer_posted_before_the_primarys_awaits_no_one_when_the_primary_arrives() -> None:
    """Two claims, two partitions: Globex's payment can be posted before Acme's answer that billed it.
    The same ledger as in the other order: 5.00 left, the patient's, and no payer awaited."""
    _, state = post(issued(), GLOBEX)
    assert not state.awaiting_next_payer
    _, state = post(state, ACME)
    assert (state.balance_cents, state.patient_responsibility_cents, state.insurance_balance_cents) == (
        500,
        500,
        0,
    )
    assert not state.awaiting_next_payer and reconciles(state)


def test_a_reversed_secondary_answer_puts_the_balance_back_with_the_secondary() -> None:
    _, state = post(issued(), ACME)
    _, state = post(state, GLOBEX)
    reversal = GLOBEX.model_copy(
        update={"outcome": "reversed", "claim_status_code": "22", "remittance_id": "r2"}
    )
    _, state = post(state, reversal)
    assert (state.balance_cents, state.patient_responsibility_cents) == (3000, 0)
    assert reconciles(state)


def test_a_tertiary_after_a_secondary_that_left_a_balance() -> None:
    _, state = post(issued(), ACME)
    # Globex pays 15.00 of the 30.00 and names the state plan next; PR 15.00 is not the patient's yet.
    globex = builders.claim_adjudicated(
        "inv-1",
        "globex",
        claim_id="claim-globex",
        remittance_id="era-globex",
        lines=(
            builders.adjudicated_line(1, "99213", 12500, 1500, ("OA", "23", 10500), ("PR", "2", 500)),
            builders.adjudicated_line(2, "81002", 3000, 0, ("OA", "23", 2000), ("PR", "3", 1000)),
        ),
        sequence="secondary",
        next_payer_id="state",
    )
    _, state = post(state, globex)
    assert (state.balance_cents, state.patient_responsibility_cents) == (1500, 0)
    # The state plan (payer of last resort): line 1 pays nothing, 5.00 stays PR-2 (OA-23 120.00 is the
    # earlier payers' part); line 2 pays 5.00 and writes off 5.00 (CO-45) of its 10.00 left.
    plan = builders.claim_adjudicated(
        "inv-1",
        "state",
        claim_id="claim-state",
        remittance_id="era-state",
        lines=(
            builders.adjudicated_line(1, "99213", 12500, 0, ("OA", "23", 12000), ("PR", "2", 500)),
            builders.adjudicated_line(2, "81002", 3000, 500, ("OA", "23", 2000), ("CO", "45", 500)),
        ),
        sequence="tertiary",
    )
    _, state = post(state, plan)
    # 155.00 = 100.00 + 15.00 + 5.00 paid, 25.00 + 5.00 written off, 5.00 left to the patient.
    assert state.insurance_paid_cents == 10000 + 1500 + 500
    assert state.adjustment_cents == 2500 + 500
    assert (state.balance_cents, state.patient_responsibility_cents, state.insurance_balance_cents) == (
        500,
        500,
        0,
    )
    assert reconciles(state)


def test_a_primary_correction_then_the_replaced_secondarys_answer_reconcile_to_the_cent() -> None:
    _, state = post(issued(), ACME)
    # Acme takes its answer back (CLP02 22) and answers again: line 1 paid 90.00, CO-45 25.00,
    # PR-2 10.00; line 2 paid 20.00, PR-3 10.00. Paid 110.00, written off 25.00, 20.00 left for Globex.
    reversal = ACME.model_copy(
        update={"outcome": "reversed", "claim_status_code": "22", "remittance_id": "r2"}
    )
    corrected = builders.claim_adjudicated(
        "inv-1",
        "acme",
        claim_id="claim-acme",
        remittance_id="r2",
        payer_claim_control_number="PCN-2",
        lines=(
            builders.adjudicated_line(1, "99213", 12500, 9000, ("CO", "45", 2500), ("PR", "2", 1000)),
            builders.adjudicated_line(2, "81002", 3000, 2000, ("PR", "3", 1000)),
        ),
        next_payer_id="globex",
    )
    _, state = post(state, reversal)
    # 155.00 open again, Acme's: its answer no longer stands.
    assert (state.balance_cents, state.patient_responsibility_cents) == (15500, 0) and reconciles(state)
    _, state = post(state, corrected)
    # 155.00 - 110.00 - 25.00 = 20.00, awaited from Globex: the patient owes nothing yet.
    assert (state.balance_cents, state.patient_responsibility_cents) == (2000, 0)
    assert state.awaiting_next_payer and reconciles(state)
    # Globex answers the replacement claim (frequency 7): it pays the 20.00 (10.00 a line, OA-23
    # reporting Acme's 115.00 and 20.00).
    replaced = builders.claim_adjudicated(
        "inv-1",
        "globex",
        claim_id="claim-globex",
        remittance_id="era-globex-2",
        lines=(
            builders.adjudicated_line(1, "99213", 12500, 1000, ("OA", "23", 11500)),
            builders.adjudicated_line(2, "81002", 3000, 1000, ("OA", "23", 2000)),
        ),
        sequence="secondary",
    )
    events, state = post(state, replaced)
    # 155.00 = 110.00 (Acme) + 20.00 (Globex) + 25.00 (CO-45): settled, nothing to the patient.
    assert (state.insurance_paid_cents, state.adjustment_cents, state.balance_cents) == (13000, 2500, 0)
    assert state.patient_responsibility_cents == 0 and reconciles(state)
    assert any(isinstance(e, InvoiceSettled) for e in events)
