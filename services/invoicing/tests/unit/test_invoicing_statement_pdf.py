"""The printable statement: the text read back out of the PDF carries the right amounts."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from invoicing.adapters.statement_pdf import (
    DEFAULT_FINANCIAL_ASSISTANCE_NOTICE,
    PayerPart,
    PlanSummary,
    PrintedStatement,
    StatementItem,
    WriteOffPart,
    money,
    render,
)


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


ITEM = StatementItem(
    invoice_id="inv-1",
    service_date=date(2026, 3, 2),
    # 1,250.00 charged = 800.00 paid by Acme + 250.00 CO + 100.00 charity write-off + 40.00 paid by
    # the patient + 60.00 still owed by them.
    charge_cents=125000,
    payers=(PayerPart("Acme Health", "primary", 80000, 25000),),
    adjustment_cents=35000,  # 250.00 contractual + 100.00 written off
    write_offs=(WriteOffPart("charity", 10000),),
    patient_paid_cents=4000,
    insurance_pending_cents=0,
    owed_cents=6000,
)


def test_money_is_dollars_and_cents_with_thousands_never_through_floats() -> None:
    assert [money(c) for c in (0, 5, 125000, -1999, 123456789)] == [
        "$0.00",
        "$0.05",
        "$1,250.00",
        "-$19.99",
        "$1,234,567.89",
    ]


def test_the_pdf_shows_what_was_billed_paid_adjusted_and_owed() -> None:
    second = StatementItem(
        invoice_id="inv-2",
        service_date=date(2026, 4, 7),
        charge_cents=15000,  # self-pay 150.00, nothing paid yet
        payers=(),
        adjustment_cents=0,
        write_offs=(),
        patient_paid_cents=0,
        insurance_pending_cents=0,
        owed_cents=15000,
    )
    statement = PrintedStatement(
        patient_id="patient-42",
        statement_date=date(2026, 5, 1),
        due_date=date(2026, 5, 31),
        items=(ITEM, second),
        amount_due_cents=21000,  # 60.00 + 150.00
        credit_cents=1000,
        patient_name="Ana Lopez",
        address_lines=("1 Main St", "Springfield, IL 62701"),
    )
    text = text_of(render(statement))
    for expected in (
        "Ana Lopez",
        "Springfield, IL 62701",
        "Account number: patient-42",
        "2026-03-02",
        "$1,250.00",  # charges
        "$800.00",  # Acme paid
        "$350.00",  # adjustments on the invoice
        "$40.00",  # the patient paid
        "$60.00",  # the patient owes on the first invoice
        "Acme Health (primary) paid $800.00, adjusted $250.00",
        "Written off (charity): $100.00",
        "$150.00",
        "Total you owe $210.00",
        "Credit on your account -$10.00",
        "Amount due: $200.00",  # 210.00 - 10.00 credit
        "How to pay",
        "Financial assistance",
    ):
        assert expected in text, expected


def test_a_plan_and_a_tenants_own_notice_are_printed_and_no_notice_when_none() -> None:
    statement = PrintedStatement(
        patient_id="p",
        statement_date=date(2026, 5, 1),
        due_date=date(2026, 5, 31),
        items=(ITEM,),
        amount_due_cents=6000,
        credit_cents=0,
        plan=PlanSummary(2500, date(2026, 6, 1), 2500, 1),
        financial_assistance_notice="Ask about our charity care policy at window 3.",
    )
    text = text_of(render(statement))
    assert "Payment plan: $25.00 a month." in text
    assert "due 2026-06-01" in text and "1 installment(s) missed" in text
    assert "window 3" in text and DEFAULT_FINANCIAL_ASSISTANCE_NOTICE[:30] not in text
    bare = PrintedStatement(
        "p", date(2026, 5, 1), date(2026, 5, 31), (), 0, 0, financial_assistance_notice=None
    )
    assert "Financial assistance" not in text_of(render(bare))
