"""Revenue by period and group: voids, reversals, per-line postings, and the A/R reconciliation."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time

from reporting.domain.facts import (
    SELF_PAY,
    UNASSIGNED,
    AdjudicatedLine,
    Adjustment,
    ChargeLine,
    Facts,
    InsurancePosting,
    IssuedInvoice,
    PatientPayment,
    PostedLine,
    ProviderAdjustment,
    Stamp,
    VoidedInvoice,
)
from reporting.domain.revenue import RevenueFigures, RevenueRow, period_starts, revenue

_ids = itertools.count()


def stamp(day: date) -> Stamp:
    return Stamp(datetime.combine(day, time(12), UTC), 0, f"event-{next(_ids)}", day)


def invoice(
    invoice_id: str, recorded: date, lines: dict[str, int], payer: str | None, provider: str
) -> IssuedInvoice:
    return IssuedInvoice(
        invoice_id=invoice_id,
        encounter_id=f"enc-{invoice_id}",
        coding_version=1,
        service_date=recorded,
        responsibility="insurance" if payer else "self_pay",
        payer_id=payer,
        billing_provider_id="clinic",
        rendering_provider_id=provider,
        total_charge_cents=sum(lines.values()),
        lines=tuple(ChargeLine(n, code, cents) for n, (code, cents) in enumerate(lines.items(), start=1)),
        stamp=stamp(recorded),
    )


def posting(
    invoice_id: str, recorded: date, lines: tuple[PostedLine, ...], payer: str = "acme"
) -> InsurancePosting:
    adjustments = [a for line in lines for a in line.adjustments]
    return InsurancePosting(
        invoice_id=invoice_id,
        claim_id=f"claim-{invoice_id}",
        payer_id=payer,
        reversal=False,
        denied=False,
        paid_cents=sum(line.paid_cents for line in lines),
        contractual_adjustment_cents=sum(a.amount_cents for a in adjustments if a.group == "CO"),
        other_adjustment_cents=sum(a.amount_cents for a in adjustments if a.group in ("OI", "PI", "CR")),
        patient_responsibility_cents=sum(a.amount_cents for a in adjustments if a.group == "PR"),
        posted_on=recorded,
        lines=lines,
        stamp=stamp(recorded),
    )


def line(number: int, paid: int, *adjustments: tuple[str, str, int]) -> PostedLine:
    return PostedLine(number, paid, tuple(Adjustment(g, r, a) for g, r, a in adjustments))


def payment(invoice_id: str, recorded: date, applied: int) -> PatientPayment:
    return PatientPayment(f"pay-{next(_ids)}", invoice_id, applied, applied, recorded, stamp(recorded))


JAN, FEB, MAR = date(2025, 1, 15), date(2025, 2, 10), date(2025, 3, 20)
FACTS = Facts(
    invoices=(
        invoice("i1", JAN, {"99213": 15000, "36415": 3000}, "acme", "dr-osler"),
        invoice("i2", JAN, {"99214": 22000}, "blue", "dr-lister"),
        invoice("i3", FEB, {"99203": 20000}, None, "dr-lister"),
    ),
    voids=(VoidedInvoice("i2", stamp(FEB)),),
    insurance_postings=(
        posting(
            "i1",
            FEB,
            (line(1, 10000, ("CO", "45", 3000), ("PR", "2", 2000)), line(2, 2000, ("CO", "45", 1000))),
        ),
        # A claim-level adjustment arrives as line 0, which no invoice line carries.
        posting("i1", MAR, (line(0, 0, ("PI", "94", 500)),)),
    ),
    patient_payments=(payment("i1", MAR, 1500),),
    payer_names={"acme": "Acme Health", "blue": "Blue Plains"},
    provider_names={"dr-osler": "Ada Osler", "dr-lister": "Ben Lister"},
)


def by_group(report_rows: Sequence[RevenueRow]) -> dict[str, RevenueFigures]:
    totals: dict[str, RevenueFigures] = {}
    for row in report_rows:
        totals[row.group_key] = totals.get(row.group_key, RevenueFigures()) + row.figures
    return totals


def test_revenue_by_payer_and_month_counts_voids_and_puts_patient_money_under_self_pay() -> None:
    report = revenue(FACTS, date(2025, 1, 1), date(2025, 3, 31), "payer", "month")

    table = {(r.period, r.group_key): r.figures for r in report.rows}
    assert table == {
        ("2025-01", "acme"): RevenueFigures(gross_charges_cents=18000),
        ("2025-01", "blue"): RevenueFigures(gross_charges_cents=22000),
        # The void of i2 counts on the day of the void, in February.
        ("2025-02", "blue"): RevenueFigures(voided_charges_cents=22000),
        ("2025-02", "acme"): RevenueFigures(
            insurance_payments_cents=12000, contractual_adjustments_cents=4000
        ),
        ("2025-02", SELF_PAY): RevenueFigures(gross_charges_cents=20000),
        ("2025-03", "acme"): RevenueFigures(other_adjustments_cents=500),
        ("2025-03", SELF_PAY): RevenueFigures(patient_payments_cents=1500),
    }
    assert [r.group_label for r in report.rows if r.period == "2025-01"] == ["Acme Health", "Blue Plains"]
    # Net charges 18000 + 22000 - 22000 + 20000 = 38000; payments 12000 + 1500; adjustments 4000 + 500.
    assert report.totals.net_charges_cents == 38000
    assert report.totals.payments_cents == 13500
    assert report.totals.adjustments_cents == 4500


def test_revenue_reconciles_opening_and_closing_ar() -> None:
    report = revenue(FACTS, date(2025, 2, 1), date(2025, 3, 31), "payer", "day")
    # Opening (Jan 31): i1 18000 + i2 22000 = 40000. Closing (Mar 31): i1 18000 - 12000 - 4000 - 500 - 1500
    # = 0, i2 voided, i3 20000. Range: net charges 20000 - 22000, payments 13500, adjustments 4500.
    assert report.opening_ar_cents == 40000
    assert report.closing_ar_cents == 20000
    assert report.expected_closing_ar_cents == 40000 + (20000 - 22000) - 13500 - 4500
    assert report.reconciled
    assert {r.period for r in report.rows} == {"2025-02-10", "2025-03-20"}


def test_revenue_by_code_follows_posted_lines_and_keeps_the_rest_unassigned() -> None:
    report = revenue(FACTS, date(2025, 1, 1), date(2025, 3, 31), "code", "month")
    groups = by_group(report.rows)

    assert groups["99213"] == RevenueFigures(
        gross_charges_cents=15000, insurance_payments_cents=10000, contractual_adjustments_cents=3000
    )
    assert groups["36415"] == RevenueFigures(
        gross_charges_cents=3000, insurance_payments_cents=2000, contractual_adjustments_cents=1000
    )
    assert groups["99214"] == RevenueFigures(gross_charges_cents=22000, voided_charges_cents=22000)
    # The claim-level PI adjustment and the patient's payment name no line.
    assert groups[UNASSIGNED] == RevenueFigures(other_adjustments_cents=500, patient_payments_cents=1500)
    payer_view = revenue(FACTS, date(2025, 1, 1), date(2025, 3, 31), "payer", "month")
    assert report.totals == payer_view.totals


def test_revenue_by_provider_follows_the_invoice_rendering_provider() -> None:
    groups = by_group(revenue(FACTS, date(2025, 1, 1), date(2025, 3, 31), "provider", "month").rows)
    assert groups["dr-osler"] == RevenueFigures(
        gross_charges_cents=18000,
        insurance_payments_cents=12000,
        patient_payments_cents=1500,
        contractual_adjustments_cents=4000,
        other_adjustments_cents=500,
    )
    assert groups["dr-lister"] == RevenueFigures(gross_charges_cents=42000, voided_charges_cents=22000)


def test_period_starts_cover_every_month_including_empty_ones() -> None:
    assert period_starts(date(2024, 11, 30), date(2025, 2, 1), "month") == [
        date(2024, 11, 1),
        date(2024, 12, 1),
        date(2025, 1, 1),
        date(2025, 2, 1),
    ]
    assert len(period_starts(date(2024, 2, 27), date(2024, 3, 1), "day")) == 4  # leap day included


def test_a_secondary_payers_report_of_the_primarys_part_is_no_adjustment_by_code() -> None:
    # 150.00 of 99213: Acme pays 100.00, CO-45 30.00, PR-2 20.00; Globex pays the 20.00 and reports
    # Acme's 130.00 under OA-23, which adjusts nothing (invoicing posts it as 0).
    facts = Facts(
        invoices=(invoice("i1", JAN, {"99213": 15000}, "acme", "dr-osler"),),
        insurance_postings=(
            posting("i1", FEB, (line(1, 10000, ("CO", "45", 3000), ("PR", "2", 2000)),)),
            replace(
                posting("i1", MAR, (line(1, 2000, ("OA", "23", 13000)),), payer="globex"),
                sequence="secondary",
            ),
        ),
    )
    groups = by_group(revenue(facts, date(2025, 1, 1), date(2025, 3, 31), "code", "month").rows)
    assert groups["99213"] == RevenueFigures(
        gross_charges_cents=15000, insurance_payments_cents=12000, contractual_adjustments_cents=3000
    )
    assert UNASSIGNED not in groups


def test_a_secondary_line_that_pays_nothing_because_nothing_was_left_is_no_denial() -> None:
    nothing_left = AdjudicatedLine(1, "99213", 15000, 0, (Adjustment("OA", "23", 15000),))
    refused = AdjudicatedLine(
        1, "99213", 15000, 0, (Adjustment("OA", "23", 13000), Adjustment("CO", "96", 2000))
    )
    assert (nothing_left.denied, refused.denied) == (False, True)


def test_provider_level_adjustments_reduce_the_payers_deposits_and_move_no_ar() -> None:
    # Acme's March 835: claim payments 120.00 (the FEB posting of FACTS counts in February), a WO
    # recoupment of 30.00 from an earlier claim and 1.25 of L6 interest (negative: added).
    plb = (
        ProviderAdjustment("r-1", "acme", "WO", 3000, MAR, stamp(MAR)),
        ProviderAdjustment("r-1", "acme", "L6", -125, MAR, stamp(MAR)),
        # Outside the window: not counted.
        ProviderAdjustment("r-0", "acme", "FB", 999, date(2024, 12, 1), stamp(date(2024, 12, 1))),
    )
    facts = replace(FACTS, provider_adjustments=plb)
    plain = revenue(FACTS, date(2025, 1, 1), date(2025, 3, 31), "payer", "month")
    report = revenue(facts, date(2025, 1, 1), date(2025, 3, 31), "payer", "month")

    assert [(p.group_key, p.reason_code, p.amount_cents) for p in report.provider_adjustments] == [
        ("acme", "L6", -125),
        ("acme", "WO", 3000),
    ]
    assert report.provider_adjustment_cents == 2875  # 30.00 - 1.25
    # Deposited by the payers: 120.00 - 28.75 = 91.25; with the patient's 15.00: 106.25.
    assert report.insurance_deposits_cents == 9125
    assert report.cash_received_cents == 10625
    # Revenue's rows and the A/R reconciliation are what they were: a PLB sits on no invoice.
    assert report.rows == plain.rows and report.totals == plain.totals
    assert (report.closing_ar_cents, report.reconciled) == (plain.closing_ar_cents, True)
    by_code = revenue(facts, date(2025, 1, 1), date(2025, 3, 31), "code", "month")
    assert {p.group_key for p in by_code.provider_adjustments} == {UNASSIGNED}
