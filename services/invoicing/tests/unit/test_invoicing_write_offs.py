"""Write-offs on the Invoice decider: bounded by what the party owes, reconciling to the cent."""

from __future__ import annotations

from datetime import date

import pytest

from billing_events.contracts.base import Event
from billing_events.contracts.invoicing import (
    Adjustment,
    CodedInvoiceLine,
    FeeScheduleRow,
    InvoiceSettled,
    PostedLine,
    WriteOffPosted,
)
from invoicing.domain.errors import InvalidInput, InvoiceNotPayable
from invoicing.domain.invoice import (
    DECIDER,
    Coding,
    InvoiceState,
    IssueInvoice,
    PostAdjudication,
    PrimaryCoverage,
    VoidInvoice,
)
from invoicing.domain.pricing import PriceList
from invoicing.domain.write_offs import PostWriteOff

ON = date(2026, 3, 2)
SCHEDULE = PriceList.of("standard", date(2026, 1, 1), [FeeScheduleRow(code="99213", amount_cents=20000)])
CODING = Coding(
    encounter_id="enc-1",
    patient_id="pat-1",
    coding_version=1,
    service_date=ON,
    billing_provider_id="prov-b",
    rendering_provider_id="prov-r",
    place_of_service="11",
    diagnoses=("E11.9",),
    lines=(CodedInvoiceLine(line_number=1, code="99213", units=1, diagnosis_pointers=(1,)),),
)


def issued(coverage: PrimaryCoverage | None = None) -> InvoiceState:
    return DECIDER.fold(DECIDER.decide(IssueInvoice("inv-1", CODING, SCHEDULE, coverage), DECIDER.initial))


def adjudicated(paid: int, co: int, pr: int) -> InvoiceState:
    state = issued(PrimaryCoverage("cov-1", "payer-1"))
    command = PostAdjudication(
        invoice_id="inv-1",
        claim_id="claim-1",
        payer_id="payer-1",
        adjudication_id="adj-1",
        reversal=False,
        denied=False,
        lines=(
            PostedLine(
                line_number=1,
                paid_cents=paid,
                adjustments=(
                    Adjustment(group="CO", reason_code="45", amount_cents=co),
                    Adjustment(group="PR", reason_code="1", amount_cents=pr),
                ),
            ),
        ),
        patient_responsibility_cents=pr,
        remark_codes=(),
        posted_on=date(2026, 4, 1),
    )
    return DECIDER.fold(DECIDER.decide(command, state), state)


def write_off(
    amount: int, reason: str = "small_balance", party: str = "patient", write_off_id: str = "wo-1"
) -> PostWriteOff:
    return PostWriteOff("inv-1", write_off_id, reason, party, amount, date(2026, 5, 1))  # type: ignore[arg-type]


def when(state: InvoiceState, command: PostWriteOff) -> tuple[list[Event], InvoiceState]:
    events = list(DECIDER.decide(command, state))
    return events, DECIDER.fold(events, state)


def reconciles(state: InvoiceState) -> bool:
    return state.total_charge_cents == state.paid_cents + state.adjustment_cents + state.balance_cents


@pytest.mark.parametrize("reason", ["small_balance", "bad_debt", "charity", "administrative"])
def test_each_reason_writes_off_the_patients_balance_as_an_other_adjustment(reason: str) -> None:
    # Self-pay 200.00; writing off 150.00 leaves 50.00 owed: 20000 = 0 paid + 15000 + 5000.
    events, after = when(issued(), write_off(15000, reason))
    assert events == [
        WriteOffPosted(
            invoice_id="inv-1",
            write_off_id="wo-1",
            patient_id="pat-1",
            reason=reason,
            party="patient",
            amount_cents=15000,
            written_off_on=date(2026, 5, 1),
        )
    ]
    assert (after.other_adjustment_cents, after.balance_cents, after.patient_responsibility_cents) == (
        15000,
        5000,
        5000,
    )
    assert reconciles(after)


def test_writing_off_the_whole_balance_settles_the_invoice() -> None:
    events, after = when(issued(), write_off(20000, "charity"))
    assert isinstance(events[-1], InvoiceSettled)
    assert (after.status, after.balance_cents) == ("settled", 0)


def test_a_write_off_above_what_the_patient_owes_is_refused_naming_the_amount() -> None:
    # Payer paid 120.00, CO 50.00, PR 30.00: the patient owes 30.00, so 30.01 is too much.
    state = adjudicated(12000, 5000, 3000)
    assert state.patient_responsibility_cents == 3000
    with pytest.raises(InvalidInput) as refused:
        DECIDER.decide(write_off(3001), state)
    assert [e.field for e in refused.value.errors] == ["amount_cents"]
    assert "3000 cents" in refused.value.errors[0].message


def test_a_patient_write_off_leaves_the_payers_part_of_the_balance_alone() -> None:
    # Payer paid 100.00, CO 50.00, PR 30.00: balance 50.00 = 30.00 patient + 20.00 still expected
    # from the payer. Writing off the patient's 30.00 leaves the payer's 20.00 as it was.
    state = adjudicated(10000, 5000, 3000)
    assert (state.patient_responsibility_cents, state.insurance_balance_cents) == (3000, 2000)
    _, after = when(state, write_off(3000, "bad_debt"))
    assert (after.balance_cents, after.patient_responsibility_cents, after.insurance_balance_cents) == (
        2000,
        0,
        2000,
    )
    assert reconciles(after)


def test_an_administrative_write_off_of_the_payers_part_is_bounded_by_it() -> None:
    state = adjudicated(10000, 5000, 3000)  # the payer still owes 20.00, as above
    with pytest.raises(InvalidInput):
        DECIDER.decide(write_off(2001, "administrative", "insurance"), state)
    _, after = when(state, write_off(2000, "administrative", "insurance"))
    assert (after.insurance_balance_cents, after.patient_responsibility_cents) == (0, 3000)


@pytest.mark.parametrize("reason", ["bad_debt", "charity"])
def test_bad_debt_and_charity_are_of_the_patients_balance_only(reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        DECIDER.decide(write_off(100, reason, "insurance"), adjudicated(10000, 5000, 3000))
    assert [e.field for e in refused.value.errors] == ["party"]


def test_zero_and_negative_amounts_are_refused() -> None:
    for amount in (0, -5):
        with pytest.raises(InvalidInput):
            DECIDER.decide(write_off(amount), issued())


def test_the_same_write_off_twice_is_posted_once() -> None:
    _, after = when(issued(), write_off(1000))
    assert DECIDER.decide(write_off(1000), after) == []


def test_a_voided_invoice_takes_no_write_off() -> None:
    state = issued()
    voided = DECIDER.fold(DECIDER.decide(VoidInvoice("recoded"), state), state)
    with pytest.raises(InvoiceNotPayable):
        DECIDER.decide(write_off(100), voided)
