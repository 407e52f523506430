"""Properties of the patient's side of the ledger under random sequences: adjudications, patient
payments, write-offs of either party, credit released and applied, voids. After every step the
invoice reconciles to the cent, the patient's share stays within the balance, a write-off is accepted
exactly when it is within what its party owes and lowers that party's part by its amount, and a
release never leaves the patient owing on an invoice they overpaid."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from billing_events.contracts.invoicing import Adjustment, CodedInvoiceLine, FeeScheduleRow, PostedLine
from invoicing.domain.credits import ApplyPatientCredit, ReleasePatientCredit, releasable_cents
from invoicing.domain.errors import InvalidInput, InvoiceNotPayable
from invoicing.domain.invoice import (
    DECIDER,
    ApplyPatientPayment,
    Coding,
    InvoiceState,
    IssueInvoice,
    PostAdjudication,
    PrimaryCoverage,
    VoidInvoice,
)
from invoicing.domain.pricing import PriceList
from invoicing.domain.write_offs import PostWriteOff, outstanding_of

ON = date(2026, 3, 2)
cents = st.integers(0, 30_000)
operations = st.one_of(
    st.tuples(st.just("adjudicate"), cents, cents, cents),
    st.tuples(st.just("pay"), st.integers(1, 40_000)),
    st.tuples(st.just("write_off"), st.sampled_from(["patient", "insurance"]), st.integers(1, 30_000)),
    st.tuples(st.just("release")),
    st.tuples(st.just("credit"), st.integers(1, 30_000)),
    st.tuples(st.just("void")),
)


def issued(charge: int, self_pay: bool) -> InvoiceState:
    coding = Coding(
        encounter_id="enc-1",
        patient_id="pat-1",
        coding_version=1,
        service_date=ON,
        billing_provider_id="b",
        rendering_provider_id="r",
        place_of_service="11",
        diagnoses=("E11.9",),
        lines=(CodedInvoiceLine(line_number=1, code="99213", units=1),),
    )
    prices = PriceList.of("s", ON, [FeeScheduleRow(code="99213", amount_cents=charge)])
    coverage = None if self_pay else PrimaryCoverage("cov-1", "payer-1")
    return DECIDER.fold(DECIDER.decide(IssueInvoice("inv-1", coding, prices, coverage), DECIDER.initial))


def command(step: int, operation: tuple[object, ...]) -> object:
    kind, args = operation[0], [int(a) if isinstance(a, int) else a for a in operation[1:]]
    if kind == "adjudicate":
        paid, contractual, pr = (int(a) for a in args)  # type: ignore[call-overload]
        return PostAdjudication(
            invoice_id="inv-1",
            claim_id="claim-1",
            payer_id="payer-1",
            adjudication_id=f"adj-{step}",
            reversal=False,
            denied=False,
            lines=(
                PostedLine(
                    line_number=1,
                    paid_cents=paid,
                    adjustments=(
                        Adjustment(group="CO", reason_code="45", amount_cents=contractual),
                        Adjustment(group="PR", reason_code="2", amount_cents=pr),
                    ),
                ),
            ),
            patient_responsibility_cents=pr,
            remark_codes=(),
            posted_on=ON,
        )
    if kind == "pay":
        return ApplyPatientPayment("inv-1", f"pay-{step}", int(args[0]), "cash", ON)  # type: ignore[call-overload]
    if kind == "write_off":
        return PostWriteOff("inv-1", f"wo-{step}", "administrative", args[0], int(args[1]), ON)  # type: ignore[arg-type, call-overload]
    if kind == "release":
        return ReleasePatientCredit("inv-1", ON)
    if kind == "credit":
        return ApplyPatientCredit("inv-1", f"cr-{step}", int(args[0]), ON)  # type: ignore[call-overload]
    return VoidInvoice("recoded")


@settings(max_examples=300, deadline=None)
@given(charge=st.integers(1, 50_000), self_pay=st.booleans(), ops=st.lists(operations, max_size=12))
def test_the_patients_side_keeps_every_ledger_reconciled(
    charge: int, self_pay: bool, ops: list[tuple[object, ...]]
) -> None:
    state = issued(charge, self_pay)
    for step, operation in enumerate(ops):
        before = state
        order = command(step, operation)
        try:
            events = list(DECIDER.decide(order, state))  # type: ignore[arg-type]
        except InvalidInput:
            if isinstance(order, PostWriteOff):
                # Refused exactly when it is more than that party owes.
                assert order.amount_cents > outstanding_of(before, order.party)
            continue
        except InvoiceNotPayable:
            assert before.lifecycle == "voided"
            continue
        state = DECIDER.fold(events, state)
        assert state.total_charge_cents == state.paid_cents + state.adjustment_cents + state.balance_cents
        assert 0 <= state.patient_responsibility_cents <= max(state.balance_cents, 0)
        if isinstance(order, PostWriteOff):
            assert order.amount_cents <= outstanding_of(before, order.party)
            assert state.balance_cents == before.balance_cents - order.amount_cents
            assert (
                outstanding_of(state, order.party) == outstanding_of(before, order.party) - order.amount_cents
            )
        if isinstance(order, ReleasePatientCredit):
            assert state.patient_paid_cents == before.patient_paid_cents - releasable_cents(before)
            assert releasable_cents(state) == 0
            if state.lifecycle == "issued":
                assert state.balance_cents <= 0 or before.balance_cents >= 0
        if isinstance(order, ApplyPatientCredit):
            assert (
                state.patient_responsibility_cents == before.patient_responsibility_cents - order.amount_cents
            )
