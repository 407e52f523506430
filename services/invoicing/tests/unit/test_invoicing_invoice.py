"""The Invoice decider, rule by rule: given events, when a command, then events (or a refusal)."""

from __future__ import annotations

from datetime import date

import pytest

from billing_events.contracts.base import Event
from billing_events.contracts.claims import ClaimAdjudicated
from billing_events.contracts.invoicing import (
    Adjustment,
    CodedInvoiceLine,
    FeeScheduleRow,
    InsurancePaymentPosted,
    InvoiceHeld,
    InvoiceIssued,
    InvoiceSettled,
    InvoiceVoided,
    PatientPaymentApplied,
    PostedLine,
)
from billing_testing import builders
from billing_testing.builders import Outcome
from invoicing.domain.errors import InvalidInput, InvoiceNotPayable, NothingToReverse, UnknownInvoice
from invoicing.domain.invoice import (
    DECIDER,
    ApplyPatientPayment,
    Coding,
    InvoiceState,
    IssueInvoice,
    PostAdjudication,
    PrimaryCoverage,
    RepriceHeldInvoice,
    VoidInvoice,
    adjudication_from,
)
from invoicing.domain.pricing import PriceList

ON = date(2026, 3, 2)
SCHEDULE = PriceList.of(
    "standard",
    date(2026, 1, 1),
    [FeeScheduleRow(code="99213", amount_cents=12500), FeeScheduleRow(code="81002", amount_cents=1500)],
)
COVERAGE = PrimaryCoverage("cov-1", "payer-1")
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


def given(*events: Event) -> InvoiceState:
    return DECIDER.fold(events)


def when(state: InvoiceState, command: object) -> tuple[list[Event], InvoiceState]:
    events = list(DECIDER.decide(command, state))  # type: ignore[arg-type]
    return events, DECIDER.fold(events, state)


def issued(coverage: PrimaryCoverage | None = COVERAGE) -> list[Event]:
    return list(DECIDER.decide(IssueInvoice("inv-1", CODING, SCHEDULE, coverage), DECIDER.initial))


def posting(
    paid: int,
    *adjustments: tuple[str, str, int],
    claim: str = "claim-1",
    adjudication: str = "adj-1",
    reversal: bool = False,
    denied: bool = False,
    pr: int = 0,
    on: date = date(2026, 4, 1),
) -> PostAdjudication:
    return PostAdjudication(
        invoice_id="inv-1",
        claim_id=claim,
        payer_id="payer-1",
        adjudication_id=adjudication,
        reversal=reversal,
        denied=denied,
        lines=(
            PostedLine(
                line_number=1,
                paid_cents=paid,
                adjustments=tuple(
                    Adjustment(group=g, reason_code=r, amount_cents=a) for g, r, a in adjustments
                ),
            ),
        ),
        patient_responsibility_cents=pr,
        remark_codes=(),
        posted_on=on,
    )


def payment(amount: int, payment_id: str = "pay-1") -> ApplyPatientPayment:
    return ApplyPatientPayment("inv-1", payment_id, amount, "cash", date(2026, 4, 10))


# Issuing.


def test_a_priced_coding_with_primary_coverage_issues_an_insurance_invoice() -> None:
    (event,) = issued()
    assert isinstance(event, InvoiceIssued)
    assert (event.responsibility, event.coverage_id, event.payer_id) == ("insurance", "cov-1", "payer-1")
    assert [line.charge_cents for line in event.lines] == [12500, 3000]
    assert event.total_charge_cents == 15500
    state = given(event)
    assert (state.status, state.total_charge_cents, state.balance_cents) == ("open", 15500, 15500)
    assert state.patient_responsibility_cents == 0  # the payer has not spoken yet


def test_without_coverage_the_patient_is_responsible_for_the_whole_charge() -> None:
    (event,) = issued(coverage=None)
    assert isinstance(event, InvoiceIssued) and event.responsibility == "self_pay"
    assert given(event).patient_responsibility_cents == 15500


def test_issuing_the_same_coding_again_changes_nothing() -> None:
    state = given(*issued())
    assert when(state, IssueInvoice("inv-1", CODING, SCHEDULE, COVERAGE))[0] == []


def test_a_line_without_price_holds_the_invoice_with_the_coding_kept_for_later() -> None:
    partial = PriceList.of("standard", date(2026, 1, 1), [FeeScheduleRow(code="99213", amount_cents=12500)])
    (event,) = DECIDER.decide(IssueInvoice("inv-1", CODING, partial, COVERAGE), DECIDER.initial)
    assert isinstance(event, InvoiceHeld)
    assert [(e.line_number, e.code) for e in event.pricing_errors] == [(2, "81002")]
    assert [line.unit_price_cents for line in event.lines] == [12500, None]
    state = given(event)
    assert (state.status, state.total_charge_cents, state.postings) == ("held", 0, ())


def test_a_held_invoice_is_issued_once_a_schedule_prices_every_line() -> None:
    held = given(*DECIDER.decide(IssueInvoice("inv-1", CODING, None, None), DECIDER.initial))
    assert when(held, RepriceHeldInvoice(None, None))[0] == []  # same errors: nothing new to say
    events, state = when(held, RepriceHeldInvoice(SCHEDULE, COVERAGE))
    assert [type(e) for e in events] == [InvoiceIssued]
    assert (state.status, state.total_charge_cents, state.coding_version) == ("open", 15500, 1)


def test_repricing_an_issued_invoice_changes_nothing() -> None:
    assert when(given(*issued()), RepriceHeldInvoice(SCHEDULE, None))[0] == []


# Voiding.


def test_voiding_takes_back_the_outstanding_charge() -> None:
    events, state = when(given(*issued()), VoidInvoice("recoded", superseded_by_coding_version=2))
    assert events == [
        InvoiceVoided(
            invoice_id="inv-1", encounter_id="enc-1", reason="recoded", superseded_by_coding_version=2
        )
    ]
    assert (state.status, state.total_charge_cents, state.balance_cents) == ("voided", 0, 0)
    assert when(state, VoidInvoice("again"))[0] == []
    assert when(DECIDER.initial, VoidInvoice("never issued"))[0] == []


def test_voiding_keeps_what_was_already_paid_on_record() -> None:
    state = given(*issued())
    _, state = when(state, posting(10000, ("CO", "45", 2000)))
    _, state = when(state, VoidInvoice("recoded"))
    # 15500 charged, 3500 outstanding taken back: 12000 = 10000 paid + 2000 adjusted + 0.
    assert (state.total_charge_cents, state.paid_cents, state.adjustment_cents, state.balance_cents) == (
        12000,
        10000,
        2000,
        0,
    )


# Payer adjudications.


def test_an_adjudication_posts_payment_and_adjustments_and_moves_pr_to_the_patient() -> None:
    events, state = when(
        given(*issued()), posting(10000, ("CO", "45", 2500), ("PR", "3", 2000), ("OI", "23", 500))
    )
    (posted,) = events
    assert isinstance(posted, InsurancePaymentPosted)
    assert (posted.paid_cents, posted.contractual_adjustment_cents, posted.other_adjustment_cents) == (
        10000,
        2500,
        500,
    )
    assert posted.patient_responsibility_cents == 2000
    assert (state.paid_cents, state.adjustment_cents, state.balance_cents) == (10000, 3000, 2500)
    assert state.patient_responsibility_cents == 2000
    assert state.insurance_balance_cents == 500


def test_oa_adjustments_of_5010_remittances_are_other_adjustments() -> None:
    events, state = when(given(*issued()), posting(10000, ("CO", "45", 2500), ("OA", "23", 1000)))
    assert isinstance(events[0], InsurancePaymentPosted) and events[0].other_adjustment_cents == 1000
    assert (state.adjustment_cents, state.balance_cents) == (3500, 2000)


def test_an_adjudication_that_leaves_nothing_owed_settles_the_invoice() -> None:
    events, state = when(given(*issued()), posting(12000, ("CO", "45", 3500)))
    assert [type(e) for e in events] == [InsurancePaymentPosted, InvoiceSettled]
    assert events[1] == InvoiceSettled(invoice_id="inv-1", patient_id="pat-1", settled_on=date(2026, 4, 1))
    assert (state.status, state.balance_cents) == ("settled", 0)


def test_the_same_adjudication_twice_is_posted_once() -> None:
    _, state = when(given(*issued()), posting(10000))
    assert when(state, posting(10000))[0] == []


def test_a_denial_posts_no_money_and_shows_its_reasons() -> None:
    command = posting(0, ("CO", "50", 15500), denied=True)
    command = PostAdjudication(**{**command.__dict__, "remark_codes": ("N130",)})
    events, state = when(given(*issued()), command)
    (posted,) = events
    assert isinstance(posted, InsurancePaymentPosted) and posted.denied
    assert (posted.paid_cents, posted.contractual_adjustment_cents) == (0, 0)
    assert (state.status, state.balance_cents, state.denial_reasons) == ("denied", 15500, ("CO-50", "N130"))


def test_a_payment_after_a_denial_makes_the_invoice_open_again() -> None:
    _, state = when(given(*issued()), posting(0, ("CO", "50", 15500), denied=True))
    _, state = when(state, posting(5000, adjudication="adj-2"))
    assert (state.status, state.denial_reasons, state.balance_cents) == ("open", (), 10500)


def test_a_reversal_undoes_the_latest_posting_of_its_claim_exactly() -> None:
    _, state = when(given(*issued()), posting(10000, ("CO", "45", 2500), ("PR", "3", 2000)))
    events, state = when(state, posting(-1, reversal=True, adjudication="adj-2"))
    (reversal,) = events
    assert isinstance(reversal, InsurancePaymentPosted)
    assert reversal.reverses_adjudication_id == "adj-1"
    assert (
        reversal.paid_cents,
        reversal.contractual_adjustment_cents,
        reversal.patient_responsibility_cents,
    ) == (
        -10000,
        -2500,
        -2000,
    )
    assert reversal.lines[0].adjustments[0].amount_cents == -2500
    assert (state.paid_cents, state.adjustment_cents, state.balance_cents) == (0, 0, 15500)
    assert state.patient_responsibility_cents == 0
    with pytest.raises(NothingToReverse):
        DECIDER.decide(posting(0, reversal=True, adjudication="adj-3"), state)


def test_a_reversal_reopens_a_settled_invoice() -> None:
    _, state = when(given(*issued()), posting(12000, ("CO", "45", 3500)))
    events, state = when(state, posting(0, reversal=True, adjudication="adj-2"))
    assert [type(e) for e in events] == [InsurancePaymentPosted]
    assert (state.status, state.settled, state.balance_cents) == ("open", False, 15500)


def test_a_reversal_touches_only_its_own_claim() -> None:
    _, state = when(given(*issued()), posting(3000, claim="claim-1"))
    _, state = when(state, posting(4000, claim="claim-2", adjudication="adj-2"))
    events, state = when(state, posting(0, claim="claim-1", reversal=True, adjudication="adj-3"))
    assert isinstance(events[0], InsurancePaymentPosted) and events[0].reverses_adjudication_id == "adj-1"
    assert state.insurance_paid_cents == 4000


def test_a_payer_overpayment_shows_as_overpaid() -> None:
    _, state = when(given(*issued()), posting(16000))
    assert (state.status, state.balance_cents, state.patient_responsibility_cents) == ("overpaid", -500, 0)


def test_nothing_is_posted_to_an_unknown_or_held_invoice() -> None:
    with pytest.raises(UnknownInvoice):
        DECIDER.decide(posting(100), DECIDER.initial)
    held = given(*DECIDER.decide(IssueInvoice("inv-1", CODING, None, None), DECIDER.initial))
    with pytest.raises(InvoiceNotPayable):
        DECIDER.decide(posting(100), held)


def test_a_payer_posting_on_a_voided_invoice_is_still_recorded() -> None:
    _, state = when(given(*issued()), VoidInvoice("recoded"))
    events, state = when(state, posting(1000))
    assert len(events) == 1
    assert (state.status, state.balance_cents) == ("voided", -1000)


# Patient payments.


def test_a_partial_patient_payment_lowers_the_balance() -> None:
    events, state = when(given(*issued(coverage=None)), payment(5000))
    assert events == [
        PatientPaymentApplied(
            invoice_id="inv-1",
            payment_id="pay-1",
            patient_id="pat-1",
            applied_cents=5000,
            method="cash",
            received_on=date(2026, 4, 10),
        )
    ]
    assert (state.status, state.balance_cents, state.patient_responsibility_cents) == ("open", 10500, 10500)


def test_a_payment_of_the_whole_balance_settles_and_more_is_not_applied() -> None:
    events, state = when(given(*issued(coverage=None)), payment(20000))
    applied = events[0]
    assert isinstance(applied, PatientPaymentApplied) and applied.applied_cents == 15500
    assert isinstance(events[1], InvoiceSettled)
    assert (state.status, state.balance_cents) == ("settled", 0)
    assert when(state, payment(100, "pay-2"))[0] == []  # nothing left to apply: all of it is credit


def test_the_same_payment_is_applied_once() -> None:
    _, state = when(given(*issued(coverage=None)), payment(100))
    assert when(state, payment(100))[0] == []


def test_a_payment_is_refused_on_a_voided_or_held_invoice_or_without_an_amount() -> None:
    _, voided = when(given(*issued()), VoidInvoice("recoded"))
    with pytest.raises(InvoiceNotPayable) as refused:
        DECIDER.decide(payment(100), voided)
    assert refused.value.status == "voided"
    with pytest.raises(InvalidInput):
        DECIDER.decide(payment(0), given(*issued()))


def test_what_the_patient_paid_counts_against_their_responsibility() -> None:
    _, state = when(given(*issued()), posting(10000, ("CO", "45", 2500), ("PR", "3", 3000)))
    _, state = when(state, payment(1000))
    assert (state.balance_cents, state.patient_responsibility_cents) == (2000, 2000)


# From an 835 adjudication to a posting command.


def adjudicated(status: str, outcome: Outcome, *, remittance_id: str = "rem-1") -> ClaimAdjudicated:
    return builders.claim_adjudicated(
        "inv-1",
        "payer-1",
        remittance_id=remittance_id,
        payer_claim_control_number="PCN",
        claim_status_code=status,
        outcome=outcome,
        total_charge_cents=15500,
        paid_cents=9000,
        patient_responsibility_cents=1500,
        claim_adjustments=(builders.cas("CO", "45", 500),),
        lines=(
            builders.adjudicated_line(1, "99213", 12500, 9000, ("CO", "45", 2000), remark_codes=("M15",)),
        ),
        adjudicated_on=date(2026, 4, 1),
    )


def test_claim_level_adjustments_post_as_line_zero_and_clp05_stands_in_for_missing_pr() -> None:
    command = adjudication_from(adjudicated("1", "paid"))
    assert (command.reversal, command.denied) == (False, False)
    assert [line.line_number for line in command.lines] == [1, 0]
    (posted,) = DECIDER.decide(command, given(*issued()))
    assert isinstance(posted, InsurancePaymentPosted)
    assert (posted.paid_cents, posted.contractual_adjustment_cents, posted.patient_responsibility_cents) == (
        9000,
        2500,
        1500,
    )


def test_the_outcome_claims_decided_is_posted_as_the_event_says() -> None:
    # Claims reads the 835 (CLP02 22 a reversal, 4 a denial) and publishes the outcome; invoicing
    # trusts the event and never re-reads status codes (one fact in one place).
    assert adjudication_from(adjudicated("22", "reversed")).reversal
    denied = adjudication_from(adjudicated("4", "denied"))
    assert denied.denied and not denied.reversal
    assert denied.remark_codes == ("M15",)
    paid = adjudication_from(adjudicated("22", "paid"))
    assert not paid.reversal and not paid.denied


def test_the_adjudication_id_is_stable_and_tells_a_reversal_from_its_correction() -> None:
    first = adjudication_from(adjudicated("1", "paid")).adjudication_id
    assert first == adjudication_from(adjudicated("1", "paid")).adjudication_id
    assert first != adjudication_from(adjudicated("22", "reversed")).adjudication_id
    assert first != adjudication_from(adjudicated("1", "paid", remittance_id="rem-2")).adjudication_id
