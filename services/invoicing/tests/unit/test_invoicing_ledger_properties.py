"""Properties of the ledger: whatever is posted, reversed or paid, in any order, every cent reconciles.

The invoice decider is driven by random command sequences and compared, after every step, with a
small reference model that keeps payer postings as a list and undoes a reversal by dropping what it
reverses (where the decider appends a negated posting instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from billing_events.contracts.base import Event
from billing_events.contracts.invoicing import (
    Adjustment,
    CodedInvoiceLine,
    FeeScheduleRow,
    InvoiceSettled,
    PostedLine,
)
from invoicing.adapters.projections import invoice_document
from invoicing.domain.errors import InvoiceNotPayable, NothingToReverse
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

ON = date(2026, 3, 2)


@dataclass
class PayerPosting:
    claim: str
    paid: int
    contractual: int
    other: int
    pr: int
    reversed: bool = False


@dataclass
class Model:
    charge: int
    self_pay: bool
    payer: list[PayerPosting] = field(default_factory=list)
    patient_paid: int = 0
    voided: bool = False

    def effective(self) -> list[PayerPosting]:
        return [p for p in self.payer if not p.reversed]

    @property
    def paid(self) -> int:
        return sum(p.paid for p in self.effective()) + self.patient_paid

    @property
    def adjustments(self) -> int:
        return sum(p.contractual + p.other for p in self.effective())

    @property
    def balance(self) -> int:
        return self.charge - self.paid - self.adjustments

    @property
    def patient_owes(self) -> int:
        if self.voided:
            return 0
        if self.self_pay:
            return max(self.balance, 0)
        assigned = sum(p.pr for p in self.effective())
        return min(max(assigned - self.patient_paid, 0), max(self.balance, 0))


claims = st.sampled_from(["claim-1", "claim-2"])
cents = st.integers(0, 40_000)
operations = st.one_of(
    st.tuples(
        st.just("adjudicate"), claims, st.integers(-5_000, 40_000), cents, cents, st.integers(0, 5_000)
    ),
    st.tuples(st.just("deny"), claims),
    st.tuples(st.just("reverse"), claims),
    st.tuples(st.just("pay"), st.integers(1, 60_000)),
    st.tuples(st.just("void")),
)
priced_lines = st.lists(st.tuples(st.integers(1, 50_000), st.integers(1, 4)), min_size=1, max_size=5)


def issue(lines: list[tuple[int, int]], self_pay: bool) -> tuple[list[Event], InvoiceState]:
    rows = [FeeScheduleRow(code=f"9{n:04}", amount_cents=price) for n, (price, _) in enumerate(lines)]
    coding = Coding(
        encounter_id="enc-1",
        patient_id="pat-1",
        coding_version=1,
        service_date=ON,
        billing_provider_id="b",
        rendering_provider_id="r",
        place_of_service="11",
        diagnoses=("E11.9",),
        lines=tuple(
            CodedInvoiceLine(line_number=n + 1, code=f"9{n:04}", units=units)
            for n, (_, units) in enumerate(lines)
        ),
    )
    coverage = None if self_pay else PrimaryCoverage("cov-1", "payer-1")
    events = list(
        DECIDER.decide(IssueInvoice("inv-1", coding, PriceList.of("s", ON, rows), coverage), DECIDER.initial)
    )
    return events, DECIDER.fold(events)


def command(step: int, operation: tuple[object, ...]) -> object:
    kind = operation[0]
    if kind == "void":
        return VoidInvoice("recoded")
    if kind == "pay":
        return ApplyPatientPayment("inv-1", f"pay-{step}", int(operation[1]), "cash", ON)  # type: ignore[call-overload]
    claim = str(operation[1])
    paid, contractual, pr, other = (int(x) for x in operation[2:]) if kind == "adjudicate" else (0, 0, 0, 0)  # type: ignore[call-overload]
    adjustments = (
        Adjustment(group="CO", reason_code="45", amount_cents=contractual),
        Adjustment(group="PR", reason_code="2", amount_cents=pr),
        Adjustment(group="PI", reason_code="94", amount_cents=other),
    )
    return PostAdjudication(
        invoice_id="inv-1",
        claim_id=claim,
        payer_id="payer-1",
        adjudication_id=f"adj-{step}",
        reversal=kind == "reverse",
        denied=kind == "deny",
        lines=(PostedLine(line_number=1, paid_cents=paid, adjustments=adjustments),),
        patient_responsibility_cents=0,
        remark_codes=(),
        posted_on=ON,
    )


def apply_to_model(model: Model, operation: tuple[object, ...]) -> None:
    kind = operation[0]
    if kind == "adjudicate":
        _, claim, paid, contractual, pr, other = operation
        model.payer.append(PayerPosting(str(claim), int(paid), int(contractual), int(other), int(pr)))  # type: ignore[call-overload]
    elif kind == "deny":
        model.payer.append(PayerPosting(str(operation[1]), 0, 0, 0, 0))
    elif kind == "reverse":
        [p for p in model.payer if p.claim == operation[1] and not p.reversed][-1].reversed = True
    elif kind == "pay":
        model.patient_paid += min(int(operation[1]), max(model.balance, 0))  # type: ignore[call-overload]
    elif not model.voided:
        model.charge -= max(model.balance, 0)
        model.voided = True


@settings(max_examples=200, deadline=None)
@given(lines=priced_lines, self_pay=st.booleans(), ops=st.lists(operations, max_size=15))
def test_any_sequence_of_postings_reversals_and_payments_reconciles_to_the_cent(
    lines: list[tuple[int, int]], self_pay: bool, ops: list[tuple[object, ...]]
) -> None:
    history, state = issue(lines, self_pay)
    model = Model(charge=sum(price * units for price, units in lines), self_pay=self_pay)

    for step, operation in enumerate(ops):
        before = state
        try:
            events = list(DECIDER.decide(command(step, operation), state))  # type: ignore[arg-type]
        except NothingToReverse:
            assert operation[0] == "reverse"
            assert not [p for p in model.payer if p.claim == operation[1] and not p.reversed]
            continue
        except InvoiceNotPayable:
            assert operation[0] == "pay" and model.voided
            continue
        state = DECIDER.fold(events, state)
        history += events
        apply_to_model(model, operation)

        assert state.total_charge_cents == state.paid_cents + state.adjustment_cents + state.balance_cents
        assert (state.total_charge_cents, state.paid_cents, state.adjustment_cents, state.balance_cents) == (
            model.charge,
            model.paid,
            model.adjustments,
            model.balance,
        )
        assert state.patient_responsibility_cents == model.patient_owes
        assert 0 <= state.patient_responsibility_cents <= max(state.balance_cents, 0)
        if operation[0] == "pay" and before.balance_cents >= 0:
            assert state.balance_cents >= 0  # a patient's money never pushes an invoice below zero
        settles = any(isinstance(e, InvoiceSettled) for e in events)
        assert settles == (not model.voided and state.balance_cents == 0 and before.balance_cents != 0)
        assert (state.status == "settled") == (not model.voided and state.balance_cents == 0)

    # Event sourcing: the stored events alone rebuild the same invoice, and the API shows its ledger.
    assert DECIDER.fold(history) == state
    document = invoice_document(state)
    assert document["postings"][-1]["balance_after_cents"] == document["balance_cents"] == model.balance
    assert document["total_charge_cents"] == (
        document["paid_cents"] + document["adjustment_cents"] + document["balance_cents"]
    )
