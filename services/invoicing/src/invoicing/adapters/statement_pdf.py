"""The printable patient statement: a PDF (fpdf2, core fonts) of what was billed, what each payer paid
and adjusted, what the patient paid and owes, how to pay, and the financial-assistance notice.

Pure rendering: `render(statement) -> bytes`. The statement's facts come from invoicing's read models
(adapters/accounting_queries.py); the patient's name and address, when given, were opened from the
sealed registration copy for this one response and are never stored or logged here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from fpdf import FPDF

DEFAULT_HOW_TO_PAY = (
    "Pay by card or ACH at the front desk or by phone, or mail a check with the remittance stub.",
    "Write your account number on your check. Questions about this bill: call the billing office.",
)
# Shown on every statement unless the tenant's financial-assistance policy gives its own wording.
DEFAULT_FINANCIAL_ASSISTANCE_NOTICE = (
    "Financial assistance is available. If you cannot pay this bill in full, you may qualify for a "
    "discount or free care under our financial assistance policy, or for a payment plan. Ask the "
    "billing office for the policy and an application; applying is free."
)


@dataclass(frozen=True)
class PayerPart:
    payer_name: str
    sequence: str
    paid_cents: int
    adjustment_cents: int


@dataclass(frozen=True)
class WriteOffPart:
    reason: str
    amount_cents: int


@dataclass(frozen=True)
class StatementItem:
    invoice_id: str
    service_date: date
    charge_cents: int
    payers: tuple[PayerPart, ...]
    adjustment_cents: int  # every adjustment on the invoice, write-offs included
    write_offs: tuple[WriteOffPart, ...]
    patient_paid_cents: int
    insurance_pending_cents: int
    owed_cents: int


@dataclass(frozen=True)
class PlanSummary:
    monthly_amount_cents: int
    next_due_on: date | None
    next_amount_cents: int
    missed_installments: int


@dataclass(frozen=True)
class PrintedStatement:
    patient_id: str
    statement_date: date
    due_date: date
    items: tuple[StatementItem, ...]
    amount_due_cents: int
    credit_cents: int
    patient_name: str | None = None
    address_lines: tuple[str, ...] = ()
    plan: PlanSummary | None = None
    how_to_pay: tuple[str, ...] = DEFAULT_HOW_TO_PAY
    financial_assistance_notice: str | None = DEFAULT_FINANCIAL_ASSISTANCE_NOTICE

    @property
    def net_due_cents(self) -> int:
        return max(self.amount_due_cents - self.credit_cents, 0)


def money(cents: int) -> str:
    """$1,234.56 from integer cents, never through a float."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rest:02d}"


def _text(value: str) -> str:
    # The core fonts cover Latin-1 only; anything else is shown as "?" rather than failing the page.
    return value.encode("latin-1", "replace").decode("latin-1")


_COLUMNS: tuple[tuple[str, int], ...] = (
    ("Date of service", 34),
    ("Charges", 28),
    ("Insurance paid", 30),
    ("Adjustments", 28),
    ("You paid", 28),
    ("You owe", 28),
)


def render(statement: PrintedStatement) -> bytes:
    pdf = FPDF(format="Letter")
    pdf.set_creation_date(datetime.combine(statement.statement_date, datetime.min.time(), tzinfo=UTC))
    pdf.set_title("Patient statement")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Patient statement", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    if statement.patient_name:
        pdf.cell(0, 5, _text(statement.patient_name), new_x="LMARGIN", new_y="NEXT")
    for line in statement.address_lines:
        pdf.cell(0, 5, _text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, f"Account number: {_text(statement.patient_id)}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, f"Statement date: {statement.statement_date.isoformat()}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, f"Please pay by: {statement.due_date.isoformat()}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, f"Amount due: {money(statement.net_due_cents)}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    pdf.set_font("Helvetica", "B", 9)
    for title, width in _COLUMNS:
        pdf.cell(width, 6, title, border="B")
    pdf.ln()
    for item in statement.items:
        pdf.set_font("Helvetica", size=9)
        values = (
            item.service_date.isoformat(),
            money(item.charge_cents),
            money(sum(p.paid_cents for p in item.payers)),
            money(item.adjustment_cents),
            money(item.patient_paid_cents),
            money(item.owed_cents),
        )
        for (_, width), value in zip(_COLUMNS, values, strict=True):
            pdf.cell(width, 6, value)
        pdf.ln()
        pdf.set_font("Helvetica", size=8)
        for payer in item.payers:
            detail = (
                f"    {_text(payer.payer_name)} ({payer.sequence}) paid {money(payer.paid_cents)}, "
                f"adjusted {money(payer.adjustment_cents)}"
            )
            pdf.cell(0, 4, detail, new_x="LMARGIN", new_y="NEXT")
        for write_off in item.write_offs:
            reason = write_off.reason.replace("_", " ")
            pdf.cell(
                0,
                4,
                f"    Written off ({reason}): {money(write_off.amount_cents)}",
                new_x="LMARGIN",
                new_y="NEXT",
            )
        if item.insurance_pending_cents > 0:
            pending = f"    Awaiting insurance: {money(item.insurance_pending_cents)} (not owed by you yet)"
            pdf.cell(0, 4, pending, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", size=10)
    totals = [("Total you owe", statement.amount_due_cents)]
    if statement.credit_cents:
        totals.append(("Credit on your account", -statement.credit_cents))
    totals.append(("Amount due", statement.net_due_cents))
    for label, cents in totals:
        pdf.cell(60, 6, label)
        pdf.cell(30, 6, money(cents), new_x="LMARGIN", new_y="NEXT")

    if statement.plan is not None:
        pdf.ln(2)
        plan = statement.plan
        text = f"Payment plan: {money(plan.monthly_amount_cents)} a month."
        if plan.next_due_on is not None:
            text += f" Next installment {money(plan.next_amount_cents)} due {plan.next_due_on.isoformat()}."
        if plan.missed_installments:
            text += f" {plan.missed_installments} installment(s) missed: please call us."
        pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")

    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "How to pay", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    for line in statement.how_to_pay:
        pdf.multi_cell(0, 5, _text(line), new_x="LMARGIN", new_y="NEXT")
    if statement.financial_assistance_notice:
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 6, "Financial assistance", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=9)
        pdf.multi_cell(0, 5, _text(statement.financial_assistance_notice), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
