"""ACA preventive services (PHS Act 2713): which lines are preventive, modifier 33, and the payer's PR on
in-network preventive lines withheld from the patient."""

from __future__ import annotations

from datetime import date

from billing_events.contracts.invoicing import (
    CodedInvoiceLine,
    FeeScheduleRow,
    InsurancePaymentPosted,
    InvoiceIssued,
    PostedLine,
)
from billing_testing import builders
from invoicing.domain import preventive
from invoicing.domain.invoice import (
    DECIDER,
    Coding,
    InvoiceState,
    IssueInvoice,
    PostAdjudication,
    PrimaryCoverage,
)
from invoicing.domain.pricing import PriceList

ON = date(2026, 3, 2)
PRICES = PriceList.of(
    "standard",
    date(2026, 1, 1),
    [
        FeeScheduleRow(code="99396", amount_cents=20000),
        FeeScheduleRow(code="99213", amount_cents=12500),
        FeeScheduleRow(code="45378", amount_cents=150000),
    ],
)
IN_NETWORK = PrimaryCoverage("cov-1", "payer-1", in_network=True)


def line(
    number: int, code: str, *, modifiers: tuple[str, ...] = (), pointers: tuple[int, ...] = (1,)
) -> CodedInvoiceLine:
    return CodedInvoiceLine(
        line_number=number, code=code, modifiers=modifiers, units=1, diagnosis_pointers=pointers
    )


def coding(*lines: CodedInvoiceLine, diagnoses: tuple[str, ...] = ("Z00.00",)) -> Coding:
    return Coding("enc-1", "pat-1", 1, ON, "prov-b", "prov-r", "11", diagnoses, lines)


def issued(
    coverage: PrimaryCoverage | None, *lines: CodedInvoiceLine, diagnoses: tuple[str, ...] = ("Z00.00",)
) -> InvoiceState:
    events = DECIDER.decide(
        IssueInvoice("inv-1", coding(*lines, diagnoses=diagnoses), PRICES, coverage), DECIDER.initial
    )
    return DECIDER.fold(events)


def test_a_preventive_visit_is_preventive_by_its_code_and_a_problem_visit_is_not() -> None:
    assert preventive.is_preventive("99396", (), ())
    assert preventive.is_preventive("G0439", (), ())
    assert not preventive.is_preventive("99213", (), ("Z00.00",))


def test_a_colonoscopy_is_preventive_only_with_a_screening_diagnosis() -> None:
    assert preventive.is_preventive("45378", (), ("Z12.11",))
    assert not preventive.is_preventive("45378", (), ("K92.1",))  # rectal bleeding: diagnostic


def test_modifier_33_makes_any_line_preventive() -> None:
    assert preventive.is_preventive("99213", ("33",), ())


def test_the_line_is_judged_by_the_diagnoses_it_points_at() -> None:
    lines = (line(1, "45378", pointers=(2,)), line(2, "45378", pointers=(1,)))
    assert preventive.preventive_line_numbers(lines, ("K92.1", "Z12.11")) == (1,)


def test_the_invoice_names_its_preventive_lines_and_whether_the_payer_is_in_network() -> None:
    state = issued(IN_NETWORK, line(1, "99396"), line(2, "99213", modifiers=("25",)))
    assert state.preventive_line_numbers == (1,)
    assert state.in_network


def test_a_payer_that_asks_for_modifier_33_gets_it_on_preventive_lines_only() -> None:
    coverage = PrimaryCoverage("cov-1", "payer-1", in_network=True, requires_modifier_33=True)
    events = DECIDER.decide(
        IssueInvoice(
            "inv-1", coding(line(1, "99396"), line(2, "99213", modifiers=("25",))), PRICES, coverage
        ),
        DECIDER.initial,
    )
    invoice = events[0]
    assert isinstance(invoice, InvoiceIssued)
    assert [ln.modifiers for ln in invoice.lines] == [("33",), ("25",)]
    # Modifier 33 does not change the price: 99396 is 20000 with or without it.
    assert invoice.lines[0].charge_cents == 20000


def adjudicate(state: InvoiceState, *lines: PostedLine) -> InsurancePaymentPosted:
    command = PostAdjudication(
        invoice_id="inv-1",
        claim_id="claim-1",
        payer_id="payer-1",
        adjudication_id="adj-1",
        reversal=False,
        denied=False,
        lines=lines,
        patient_responsibility_cents=0,
        remark_codes=(),
        posted_on=ON,
    )
    posted = DECIDER.decide(command, state)[0]
    assert isinstance(posted, InsurancePaymentPosted)
    return posted


def test_pr_on_an_in_network_preventive_line_is_withheld_from_the_patient() -> None:
    state = issued(IN_NETWORK, line(1, "99396"), line(2, "99213", modifiers=("25",)))
    # Preventive 99396: charge 20000, allowed 16000 (CO-45 4000), the payer applied the deductible
    # anyway: PR-1 16000, paid 0. Problem visit 99213: charge 12500, allowed 10000, PR-3 copay 3000,
    # paid 7000.
    posted = adjudicate(
        state,
        builders.posted_line(1, 0, ("CO", "45", 4000), ("PR", "1", 16000)),
        builders.posted_line(2, 7000, ("CO", "45", 2500), ("PR", "3", 3000)),
    )
    assert posted.preventive_cost_sharing_cents == 16000
    assert posted.patient_responsibility_cents == 3000  # only the problem visit's copay
    after = DECIDER.evolve(state, posted)
    # Balance 32500 - 7000 paid - 6500 CO = 19000: 3000 the patient's, 16000 still the payer's.
    assert after.balance_cents == 19000
    assert after.patient_responsibility_cents == 3000
    assert after.insurance_balance_cents == 16000
    assert after.preventive_cost_sharing_cents == 16000


def test_a_payer_that_honours_the_rule_leaves_the_patient_nothing_on_a_preventive_visit() -> None:
    state = issued(IN_NETWORK, line(1, "99396"))
    posted = adjudicate(state, builders.posted_line(1, 16000, ("CO", "45", 4000)))
    after = DECIDER.evolve(state, posted)
    assert after.patient_responsibility_cents == 0
    assert after.preventive_cost_sharing_cents == 0
    assert after.balance_cents == 0  # 20000 - 16000 - 4000


def test_out_of_network_the_payers_pr_on_a_preventive_line_is_the_patients() -> None:
    state = issued(PrimaryCoverage("cov-1", "payer-1"), line(1, "99396"))
    posted = adjudicate(state, builders.posted_line(1, 0, ("CO", "45", 4000), ("PR", "1", 16000)))
    assert posted.preventive_cost_sharing_cents == 0
    assert DECIDER.evolve(state, posted).patient_responsibility_cents == 16000


def test_a_reversal_takes_the_withheld_amount_back_too() -> None:
    state = issued(IN_NETWORK, line(1, "99396"))
    posted = adjudicate(state, builders.posted_line(1, 0, ("CO", "45", 4000), ("PR", "1", 16000)))
    state = DECIDER.evolve(state, posted)
    reversal = PostAdjudication(
        invoice_id="inv-1",
        claim_id="claim-1",
        payer_id="payer-1",
        adjudication_id="adj-2",
        reversal=True,
        denied=False,
        lines=(),
        patient_responsibility_cents=0,
        remark_codes=(),
        posted_on=ON,
    )
    undone = DECIDER.decide(reversal, state)[0]
    assert isinstance(undone, InsurancePaymentPosted)
    assert undone.preventive_cost_sharing_cents == -16000
    assert DECIDER.evolve(state, undone).preventive_cost_sharing_cents == 0
