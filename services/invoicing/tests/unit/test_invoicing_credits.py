"""The patient's credit: released from an invoice that does not need it, applied oldest first."""

from __future__ import annotations

from datetime import date

import pytest

from billing_events.contracts.invoicing import (
    Adjustment,
    CodedInvoiceLine,
    FeeScheduleRow,
    PatientCreditApplied,
    PatientCreditReleased,
    PostedLine,
)
from invoicing.domain import credits
from invoicing.domain.credits import ApplyPatientCredit, ReleasePatientCredit
from invoicing.domain.errors import InvalidInput
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
from invoicing.domain.patient_account import DECIDER as ACCOUNT
from invoicing.domain.patient_account import AddCredit, IssueRefund, OpenItem, RecordPayment, UseCredit
from invoicing.domain.pricing import PriceList

SCHEDULE = PriceList.of("standard", date(2026, 1, 1), [FeeScheduleRow(code="99213", amount_cents=10000)])


def issued(invoice_id: str = "inv-1", coverage: PrimaryCoverage | None = None) -> InvoiceState:
    coding = Coding(
        encounter_id="enc-1",
        patient_id="pat-1",
        coding_version=1,
        service_date=date(2026, 3, 2),
        billing_provider_id="prov-b",
        rendering_provider_id="prov-r",
        place_of_service="11",
        diagnoses=("E11.9",),
        lines=(CodedInvoiceLine(line_number=1, code="99213", units=1, diagnosis_pointers=(1,)),),
    )
    return DECIDER.fold(DECIDER.decide(IssueInvoice(invoice_id, coding, SCHEDULE, coverage), DECIDER.initial))


def run(state: InvoiceState, command: object) -> InvoiceState:
    return DECIDER.fold(DECIDER.decide(command, state), state)  # type: ignore[arg-type]


def test_allocation_pays_the_oldest_date_of_service_first_each_up_to_what_it_owes() -> None:
    items = [
        OpenItem("march", 4000, date(2026, 3, 1)),
        OpenItem("january", 2500, date(2026, 1, 15)),
        OpenItem("february", 3000, date(2026, 2, 1)),
    ]
    # 60.00 of credit: January's 25.00, February's 30.00, then 5.00 of March's 40.00.
    assert credits.allocate(6000, items) == [("january", 2500), ("february", 3000), ("march", 500)]


def test_allocation_keeps_what_no_open_item_needs_and_skips_items_owing_nothing() -> None:
    items = [OpenItem("a", 0, date(2026, 1, 1)), OpenItem("b", 1000, date(2026, 2, 1))]
    assert credits.allocate(5000, items) == [("b", 1000)]
    assert credits.allocate(0, items) == []


def test_a_copay_above_the_patients_share_is_released_from_the_invoice() -> None:
    # Charge 100.00; the patient paid a 30.00 copay; the payer paid 70.00, CO 10.00, PR 20.00:
    # balance 100 - 30 - 70 - 10 = -10.00, the patient paid 10.00 more than their 20.00.
    state = run(
        issued(coverage=PrimaryCoverage("cov-1", "payer-1")),
        ApplyPatientPayment("inv-1", "pay-1", 3000, "card", date(2026, 3, 2)),
    )
    state = run(
        state,
        PostAdjudication(
            invoice_id="inv-1",
            claim_id="claim-1",
            payer_id="payer-1",
            adjudication_id="adj-1",
            reversal=False,
            denied=False,
            lines=(
                PostedLine(
                    line_number=1,
                    paid_cents=7000,
                    adjustments=(
                        Adjustment(group="CO", reason_code="45", amount_cents=1000),
                        Adjustment(group="PR", reason_code="3", amount_cents=2000),
                    ),
                ),
            ),
            patient_responsibility_cents=2000,
            remark_codes=(),
            posted_on=date(2026, 4, 1),
        ),
    )
    assert (state.status, state.balance_cents) == ("overpaid", -1000)
    events = DECIDER.decide(ReleasePatientCredit("inv-1", date(2026, 4, 1)), state)
    assert isinstance(events[0], PatientCreditReleased) and events[0].amount_cents == 1000
    after = DECIDER.fold(events, state)
    # 30.00 paid - 10.00 released = the 20.00 PR: 10000 = (7000 + 2000) paid + 1000 CO + 0 balance.
    assert (after.balance_cents, after.patient_paid_cents, after.status) == (0, 2000, "settled")
    assert after.total_charge_cents == after.paid_cents + after.adjustment_cents + after.balance_cents
    assert DECIDER.decide(ReleasePatientCredit("inv-1", date(2026, 4, 2)), after) == []


def test_a_voided_invoice_releases_all_the_patient_paid_and_still_owes_nothing() -> None:
    paid = run(issued(), ApplyPatientPayment("inv-1", "pay-1", 4000, "cash", date(2026, 3, 2)))
    voided = run(paid, VoidInvoice("recoded"))
    (event,) = DECIDER.decide(ReleasePatientCredit("inv-1", date(2026, 3, 5)), voided)
    assert isinstance(event, PatientCreditReleased) and event.amount_cents == 4000
    after = DECIDER.fold([event], voided)
    # Charge 100.00, paid 40.00, void took back 60.00; the release takes back the other 40.00 with the
    # money: 0 charged = 0 paid + 0 adjusted + 0 balance.
    assert (after.total_charge_cents, after.paid_cents, after.balance_cents) == (0, 0, 0)


def test_credit_applied_counts_as_the_patients_payment_and_never_above_what_they_owe() -> None:
    state = issued()
    (event,) = DECIDER.decide(ApplyPatientCredit("inv-1", "cr-1", 2500, date(2026, 4, 1)), state)
    assert isinstance(event, PatientCreditApplied)
    after = DECIDER.fold([event], state)
    assert (after.patient_paid_cents, after.balance_cents) == (2500, 7500)
    with pytest.raises(InvalidInput):
        DECIDER.decide(ApplyPatientCredit("inv-1", "cr-2", 7501, date(2026, 4, 1)), after)


def test_the_account_uses_its_credit_oldest_first_and_refunds_only_what_is_left() -> None:
    # A 150.00 payment on a 100.00 invoice leaves 50.00 credit; 10.00 more is released from another.
    account = ACCOUNT.fold(
        [
            *ACCOUNT.decide(
                RecordPayment("pay-1", "pat-1", "inv-1", 15000, 10000, "card", date(2026, 3, 2)),
                ACCOUNT.initial,
            )
        ]
    )
    account = ACCOUNT.fold(
        ACCOUNT.decide(AddCredit("pat-1", "cr-r", "inv-9", 1000, date(2026, 3, 3)), account), account
    )
    assert account.credit_cents == 6000
    items = (OpenItem("new", 2000, date(2026, 3, 1)), OpenItem("old", 1500, date(2026, 2, 1)))
    used = ACCOUNT.decide(UseCredit("pat-1", items, date(2026, 3, 4)), account)
    assert [(e.invoice_id, e.amount_cents) for e in used] == [("old", 1500), ("new", 2000)]  # type: ignore[attr-defined]
    account = ACCOUNT.fold(used, account)
    assert account.credit_cents == 2500  # 60.00 - 15.00 - 20.00
    with pytest.raises(InvalidInput) as refused:
        ACCOUNT.decide(IssueRefund("pat-1", "ref-1", 2501, "check", "overpayment", date(2026, 3, 5)), account)
    assert [e.field for e in refused.value.errors] == ["amount_cents"]
    refunded = ACCOUNT.fold(
        ACCOUNT.decide(
            IssueRefund("pat-1", "ref-1", 2500, "check", "overpayment", date(2026, 3, 5)), account
        ),
        account,
    )
    assert (refunded.credit_cents, refunded.refunded_cents) == (0, 2500)
