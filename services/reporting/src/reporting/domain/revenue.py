"""Revenue by period and by payer, provider or procedure code: charges, payments, adjustments.

Each transaction counts on the day it was recorded (its event time in the reporting time zone), the
same calendar the A/R aging uses, so that over any range

    opening A/R + net charges - payments - adjustments = closing A/R

holds to the cent; the report carries both ends and says whether they reconcile.

- Charges: an issued invoice's charge; a void reverses it on the day of the void (`voided_charges`).
- Insurance payments and contractual/other adjustments: from the postings, reversals included (they
  carry negated amounts). Patient payments: what was applied to the invoice, and the patient's credit
  moved onto (+) or released from (-) an invoice. Write-offs are other adjustments, under self-pay
  when of the patient's part and under the invoice's payer when of the payers'.
- By payer: charges under the invoice's payer (self-pay when uninsured), insurance money under the
  payer that paid, patient money under self-pay. By provider: the rendering provider of the invoice.
  By code: each invoice line; payments and adjustments per posted line; what a posting or payment
  does not assign to a line goes to "unassigned", so the groups still add up to the totals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Literal

from reporting.domain.facts import PRIOR_PAYER_IMPACT, SELF_PAY, UNASSIGNED, Facts, IssuedInvoice
from reporting.domain.ledger import total_ar_cents

GroupBy = Literal["payer", "provider", "code"]
Period = Literal["day", "month"]


@dataclass(frozen=True)
class RevenueFigures:
    gross_charges_cents: int = 0
    voided_charges_cents: int = 0
    insurance_payments_cents: int = 0
    patient_payments_cents: int = 0
    contractual_adjustments_cents: int = 0
    other_adjustments_cents: int = 0

    @property
    def net_charges_cents(self) -> int:
        return self.gross_charges_cents - self.voided_charges_cents

    @property
    def payments_cents(self) -> int:
        return self.insurance_payments_cents + self.patient_payments_cents

    @property
    def adjustments_cents(self) -> int:
        return self.contractual_adjustments_cents + self.other_adjustments_cents

    def __add__(self, other: RevenueFigures) -> RevenueFigures:
        return RevenueFigures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def is_zero(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))


MEASURES = tuple(f.name for f in fields(RevenueFigures))


@dataclass(frozen=True)
class RevenueRow:
    period_start: date
    period: str
    group_key: str
    group_label: str
    figures: RevenueFigures


@dataclass(frozen=True)
class RevenueReport:
    start: date
    end: date
    group_by: GroupBy
    period: Period
    rows: tuple[RevenueRow, ...]
    totals: RevenueFigures
    opening_ar_cents: int  # at the end of the day before `start`
    closing_ar_cents: int  # at the end of `end`

    @property
    def expected_closing_ar_cents(self) -> int:
        t = self.totals
        return self.opening_ar_cents + t.net_charges_cents - t.payments_cents - t.adjustments_cents

    @property
    def reconciled(self) -> bool:
        return self.expected_closing_ar_cents == self.closing_ar_cents


def period_start(day: date, period: Period) -> date:
    return day if period == "day" else day.replace(day=1)


def period_label(start: date, period: Period) -> str:
    return start.isoformat() if period == "day" else start.strftime("%Y-%m")


def period_starts(start: date, end: date, period: Period) -> list[date]:
    """Every period touching [start, end], for charts that must show the empty ones too."""
    result, current = [], period_start(start, period)
    while current <= end:
        result.append(current)
        if period == "day":
            current += timedelta(days=1)
        else:
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return result


Entry = tuple[date, str, str, int]  # recorded on, group key, measure, cents


def _line_split(
    invoice: IssuedInvoice | None, per_line: dict[int, int], total: int
) -> Iterator[tuple[str, int]]:
    """Amounts by the code of the invoice line they belong to; the rest of `total` as unassigned."""
    codes = {line.line_number: line.code for line in invoice.lines} if invoice else {}
    assigned = 0
    for line_number, cents in sorted(per_line.items()):
        code = codes.get(line_number)
        if code is not None and cents:
            assigned += cents
            yield code, cents
    if total - assigned:
        yield UNASSIGNED, total - assigned


def _entries(facts: Facts, group_by: GroupBy) -> Iterator[Entry]:
    invoices = {invoice.invoice_id: invoice for invoice in facts.invoices}

    def owner(invoice: IssuedInvoice | None, payer_key: str) -> str:
        if group_by == "payer":
            return payer_key
        return invoice.rendering_provider_id if invoice else UNASSIGNED

    for invoice in facts.invoices:
        day = invoice.stamp.on
        if group_by == "code":
            lines = {line.line_number: line.charge_cents for line in invoice.lines}
            for code, cents in _line_split(invoice, lines, invoice.total_charge_cents):
                yield day, code, "gross_charges_cents", cents
        else:
            yield day, owner(invoice, invoice.payer_key), "gross_charges_cents", invoice.total_charge_cents

    for void in facts.voids:
        voided = invoices.get(void.invoice_id)
        if voided is None:
            continue
        day = void.stamp.on
        if group_by == "code":
            lines = {line.line_number: line.charge_cents for line in voided.lines}
            for code, cents in _line_split(voided, lines, voided.total_charge_cents):
                yield day, code, "voided_charges_cents", cents
        else:
            yield day, owner(voided, voided.payer_key), "voided_charges_cents", voided.total_charge_cents

    for posting in facts.insurance_postings:
        day, posted_to = posting.stamp.on, invoices.get(posting.invoice_id)
        totals = {
            "insurance_payments_cents": posting.paid_cents,
            "contractual_adjustments_cents": posting.contractual_adjustment_cents,
            "other_adjustments_cents": posting.other_adjustment_cents,
        }
        if group_by != "code":
            for measure, cents in totals.items():
                yield day, owner(posted_to, posting.payer_id), measure, cents
            continue
        per_line: dict[str, dict[int, int]] = {measure: defaultdict(int) for measure in totals}
        for line in posting.lines:
            per_line["insurance_payments_cents"][line.line_number] += line.paid_cents
            for adjustment in line.adjustments:
                if adjustment.group == "PR":
                    continue  # the patient's share is owed, not adjusted away
                if posting.sequence != "primary" and adjustment.reason_code == PRIOR_PAYER_IMPACT:
                    continue  # a later payer's report of the earlier payers' part, already counted
                measure = (
                    "contractual_adjustments_cents" if adjustment.group == "CO" else "other_adjustments_cents"
                )
                per_line[measure][line.line_number] += adjustment.amount_cents
        for measure, total in totals.items():
            for code, cents in _line_split(posted_to, per_line[measure], total):
                yield day, code, measure, cents

    for payment in facts.patient_payments:
        paid = invoices.get(payment.invoice_id)
        group = UNASSIGNED if group_by == "code" else owner(paid, SELF_PAY)
        yield payment.stamp.on, group, "patient_payments_cents", payment.applied_cents

    for credit in facts.patient_credits:
        credited = invoices.get(credit.invoice_id)
        group = UNASSIGNED if group_by == "code" else owner(credited, SELF_PAY)
        yield credit.stamp.on, group, "patient_payments_cents", credit.amount_cents

    for write_off in facts.write_offs:
        written = invoices.get(write_off.invoice_id)
        if group_by == "code":
            group = UNASSIGNED
        elif write_off.party == "patient":
            group = owner(written, SELF_PAY)
        else:
            group = owner(written, written.payer_key if written else UNASSIGNED)
        yield write_off.stamp.on, group, "other_adjustments_cents", write_off.amount_cents


def revenue(facts: Facts, start: date, end: date, group_by: GroupBy, period: Period) -> RevenueReport:
    known = facts.known_on(end)
    sums: dict[tuple[date, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))
    for day, group, measure, cents in _entries(known, group_by):
        if start <= day <= end:
            sums[(period_start(day, period), group)][measure] += cents

    def label(key: str) -> str:
        if group_by == "payer":
            return facts.payer_label(key)
        if group_by == "provider":
            return facts.provider_label(key)
        return "Unassigned" if key == UNASSIGNED else key

    rows = [
        RevenueRow(begins, period_label(begins, period), key, label(key), RevenueFigures(**values))
        for (begins, key), values in sums.items()
    ]
    rows = [row for row in rows if not row.figures.is_zero()]
    rows.sort(key=lambda row: (row.period_start, row.group_label.lower(), row.group_key))
    totals = sum((row.figures for row in rows), RevenueFigures())
    return RevenueReport(
        start=start,
        end=end,
        group_by=group_by,
        period=period,
        rows=tuple(rows),
        totals=totals,
        opening_ar_cents=total_ar_cents(facts, start - timedelta(days=1)),
        closing_ar_cents=total_ar_cents(facts, end),
    )
