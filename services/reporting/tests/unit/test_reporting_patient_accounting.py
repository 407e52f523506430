"""Write-offs and the patient's credit in reporting: other adjustments in revenue, less A/R, and the
revenue report still reconciling opening A/R to closing A/R to the cent."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time

from reporting.domain.facts import (
    SELF_PAY,
    Adjustment,
    ChargeLine,
    Facts,
    InsurancePosting,
    IssuedInvoice,
    PatientCredit,
    PatientPayment,
    PostedLine,
    Stamp,
    WriteOff,
)
from reporting.domain.ledger import balances, total_ar_cents
from reporting.domain.revenue import revenue

_ids = itertools.count()
JAN, FEB, MAR = date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10)


def stamp(day: date) -> Stamp:
    return Stamp(datetime.combine(day, time(12), UTC), 0, f"event-{next(_ids)}", day)


def invoice(invoice_id: str, charge: int, payer: str | None = None) -> IssuedInvoice:
    return IssuedInvoice(
        invoice_id=invoice_id,
        encounter_id=f"enc-{invoice_id}",
        coding_version=1,
        service_date=JAN,
        responsibility="insurance" if payer else "self_pay",
        payer_id=payer,
        billing_provider_id="clinic",
        rendering_provider_id="dr",
        total_charge_cents=charge,
        lines=(ChargeLine(1, "99213", charge),),
        stamp=stamp(JAN),
    )


def adjudicated(invoice_id: str, paid: int, co: int, pr: int) -> InsurancePosting:
    adjustments = (Adjustment("CO", "45", co), Adjustment("PR", "1", pr))
    return InsurancePosting(
        invoice_id=invoice_id,
        claim_id=f"claim-{invoice_id}",
        payer_id="acme",
        reversal=False,
        denied=False,
        paid_cents=paid,
        contractual_adjustment_cents=co,
        other_adjustment_cents=0,
        patient_responsibility_cents=pr,
        posted_on=FEB,
        lines=(PostedLine(1, paid, adjustments),),
        stamp=stamp(FEB),
    )


def write_off(invoice_id: str, amount: int, party: str = "patient", reason: str = "bad_debt") -> WriteOff:
    return WriteOff(invoice_id, party, reason, amount, stamp(MAR))


def test_a_patient_write_off_is_an_other_adjustment_under_self_pay_and_lowers_ar() -> None:
    # Insured 200.00: payer paid 120.00, CO 50.00, PR 30.00; the patient's 30.00 is written off.
    facts = Facts(
        invoices=(invoice("a", 20000, "acme"),),
        insurance_postings=(adjudicated("a", 12000, 5000, 3000),),
        write_offs=(write_off("a", 3000),),
    )
    assert total_ar_cents(facts, FEB) == 3000  # 200 - 120 - 50
    assert total_ar_cents(facts, MAR) == 0
    report = revenue(facts, MAR, MAR, "payer", "month")
    (row,) = report.rows
    assert (row.group_key, row.figures.other_adjustments_cents) == (SELF_PAY, 3000)
    assert report.reconciled and (report.opening_ar_cents, report.closing_ar_cents) == (3000, 0)


def test_a_patient_write_off_leaves_the_payers_part_with_the_payer() -> None:
    # Payer paid 100.00, CO 50.00, PR 30.00: 50.00 open, 30.00 the patient's and 20.00 the payer's.
    facts = Facts(
        invoices=(invoice("a", 20000, "acme"),),
        insurance_postings=(adjudicated("a", 10000, 5000, 3000),),
        write_offs=(write_off("a", 1000, reason="small_balance"),),
    )
    (balance,) = balances(facts, MAR)
    assert (balance.self_pay_cents, balance.insurance_cents) == (2000, 2000)  # 30 - 10 and 20


def test_an_administrative_write_off_of_the_payers_part_counts_under_the_payer() -> None:
    facts = Facts(
        invoices=(invoice("a", 20000, "acme"),),
        insurance_postings=(adjudicated("a", 10000, 5000, 3000),),
        write_offs=(write_off("a", 2000, "insurance", "administrative"),),
    )
    (balance,) = balances(facts, MAR)
    assert (balance.self_pay_cents, balance.insurance_cents) == (3000, 0)
    (row,) = revenue(facts, MAR, MAR, "payer", "month").rows
    assert (row.group_key, row.figures.other_adjustments_cents) == ("acme", 2000)


def test_credit_moved_between_invoices_changes_which_owes_not_the_total_paid() -> None:
    # Self-pay a (100.00) holds 130.00 of the patient's money (30.00 too much, say after a
    # correction); the 30.00 is released from a and applied to b (50.00).
    facts = Facts(
        invoices=(invoice("a", 10000), invoice("b", 5000)),
        patient_payments=(PatientPayment("p1", "a", 13000, 13000, FEB, stamp(FEB)),),
        patient_credits=(PatientCredit("a", -3000, stamp(MAR)), PatientCredit("b", 3000, stamp(MAR))),
    )
    by_invoice = {b.invoice.invoice_id: b.total_cents for b in balances(facts, MAR)}
    assert by_invoice == {"a": 0, "b": 2000}  # a: 100 - 130 + 30; b: 50 - 30
    report = revenue(facts, MAR, MAR, "payer", "month")
    assert report.totals.patient_payments_cents == 0  # -30 + 30: no new money
    assert report.reconciled
