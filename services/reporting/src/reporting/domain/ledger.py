"""Each invoice's open balance at the end of a day, split between its payer and the patient.

    balance = charge - voided charge - insurance paid - contractual and other adjustments
              - write-offs - patient payments applied (credit moved onto the invoice included,
              credit released from it deducted)

Patient responsibility (deductible, coinsurance, copay) moves part of the balance from the payer to
the patient; it does not reduce the balance. A reversal posts negated amounts, so it simply adds back.
A voided invoice owes nothing: its charge is reversed, and whatever had been posted to it before the
void stays as a credit balance of its payer (the invoicing service moves or refunds it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from billing_events.balances import PayerAnswer, patient_assigned_cents, patient_share_of_balance
from reporting.domain.facts import SELF_PAY, Facts, IssuedInvoice


@dataclass(frozen=True)
class InvoiceBalance:
    invoice: IssuedInvoice
    insurance_cents: int
    self_pay_cents: int

    @property
    def total_cents(self) -> int:
        return self.insurance_cents + self.self_pay_cents

    def age_days(self, as_of: date) -> int:
        """Aged from the date of service, the usual basis of a practice's A/R aging."""
        return max(0, (as_of - self.invoice.service_date).days)


def balances(facts: Facts, as_of: date) -> list[InvoiceBalance]:
    """Every invoice known at the end of `as_of` with what it still owed then (zero balances included)."""
    known = facts.known_on(as_of)
    voided = {void.invoice_id for void in known.voids}
    posted: dict[str, int] = defaultdict(int)
    answers: dict[str, list[PayerAnswer]] = defaultdict(list)
    for posting in known.insurance_postings:
        posted[posting.invoice_id] += (
            posting.paid_cents + posting.contractual_adjustment_cents + posting.other_adjustment_cents
        )
        answers[posting.invoice_id].append(
            PayerAnswer(
                posting.sequence,
                posting.patient_responsibility_cents,
                posting.awaiting_next_payer,
                posting.reversal,
            )
        )
    applied: dict[str, int] = defaultdict(int)
    for payment in known.patient_payments:
        applied[payment.invoice_id] += payment.applied_cents
    for credit in known.patient_credits:
        applied[credit.invoice_id] += credit.amount_cents
    # A write-off lowers the balance; one of the patient's part counts against what the payers
    # assigned them, as their payments do.
    patient_written_off: dict[str, int] = defaultdict(int)
    for write_off in known.write_offs:
        posted[write_off.invoice_id] += write_off.amount_cents
        if write_off.party == "patient":
            patient_written_off[write_off.invoice_id] += write_off.amount_cents

    result = []
    for invoice in sorted(known.invoices, key=lambda i: i.invoice_id):
        key = invoice.invoice_id
        charge = 0 if key in voided else invoice.total_charge_cents
        total = charge - posted[key] - applied[key]
        if invoice.payer_key == SELF_PAY:
            insurance, self_pay = 0, total
        elif key in voided:
            insurance, self_pay = total, 0
        else:
            # The one rule invoicing's ledger applies too (billing_events.balances).
            assigned = patient_assigned_cents(answers[key])
            settled = applied[key] + patient_written_off[key]
            self_pay = patient_share_of_balance(total, assigned, settled)
            insurance = total - self_pay
        result.append(InvoiceBalance(invoice, insurance, self_pay))
    return result


def total_ar_cents(facts: Facts, as_of: date) -> int:
    return sum(balance.total_cents for balance in balances(facts, as_of))
