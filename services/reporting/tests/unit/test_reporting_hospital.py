"""Hospital reports: revenue by revenue code and by facility, the case-mix index, A/R by facility."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, time
from decimal import Decimal

from reporting.domain.facts import (
    UNASSIGNED,
    Adjustment,
    ChargeLine,
    Facts,
    HospitalBill,
    InsurancePosting,
    IssuedInvoice,
    PostedLine,
    Stamp,
    VoidedInvoice,
)
from reporting.domain.hospital import ar_by_facility, case_mix
from reporting.domain.revenue import revenue

_ids = itertools.count()
MAR, APR = date(2026, 3, 10), date(2026, 4, 5)


def stamp(day: date) -> Stamp:
    return Stamp(datetime.combine(day, time(12), UTC), 0, f"event-{next(_ids)}", day)


def stay(
    invoice_id: str,
    facility: str,
    lines: list[tuple[str, int]],
    *,
    weight: int | None,
    discharged: date = MAR,
    setting: str = "inpatient",
    frequency: str = "1",
    encounter: str | None = None,
    recorded: date = MAR,
) -> IssuedInvoice:
    return IssuedInvoice(
        invoice_id=invoice_id,
        encounter_id=encounter or f"enc-{invoice_id}",
        coding_version=1,
        service_date=discharged,
        responsibility="insurance",
        payer_id="medicare",
        billing_provider_id=facility,
        rendering_provider_id="dr-lopez",
        total_charge_cents=sum(cents for _, cents in lines),
        lines=tuple(ChargeLine(n, "X", cents) for n, (_, cents) in enumerate(lines, start=1)),
        stamp=stamp(recorded),
        hospital=HospitalBill(
            facility_id=facility,
            setting=setting,
            frequency_code=frequency,
            discharged_on=discharged,
            drg_code="470" if weight else None,
            drg_weight_ten_thousandths=weight,
            revenue_codes={n: code for n, (code, _) in enumerate(lines, start=1)},
        ),
    )


CLINIC_VISIT = IssuedInvoice(
    invoice_id="pro-1",
    encounter_id="enc-pro",
    coding_version=1,
    service_date=MAR,
    responsibility="insurance",
    payer_id="medicare",
    billing_provider_id="group",
    rendering_provider_id="dr-lopez",
    total_charge_cents=12500,
    lines=(ChargeLine(1, "99223", 12500),),
    stamp=stamp(MAR),
)
NORTH = stay("s1", "north", [("0120", 600000), ("0360", 850050)], weight=19000)
SOUTH = stay("s2", "south", [("0120", 400000), ("0250", 12250)], weight=12345)
FACTS = Facts(
    invoices=(NORTH, SOUTH, CLINIC_VISIT),
    insurance_postings=(
        InsurancePosting(
            invoice_id="s1",
            claim_id="c1",
            payer_id="medicare",
            reversal=False,
            denied=False,
            paid_cents=1140000,
            contractual_adjustment_cents=310050,
            other_adjustment_cents=0,
            patient_responsibility_cents=0,
            posted_on=APR,
            lines=(
                PostedLine(1, 467756, (Adjustment("CO", "45", 132244),)),
                PostedLine(2, 672244, (Adjustment("CO", "45", 177806),)),
            ),
            stamp=stamp(APR),
        ),
    ),
    provider_names={"north": "North Campus", "south": "South Campus"},
)


def test_revenue_by_revenue_code_splits_charges_and_payments_by_line() -> None:
    report = revenue(FACTS, date(2026, 3, 1), date(2026, 4, 30), "revenue_code", "month")
    charges = {(r.period, r.group_key): r.figures.gross_charges_cents for r in report.rows}
    # Room and board 0120: 6,000.00 (north) + 4,000.00 (south); the professional line is unassigned.
    assert charges[("2026-03", "0120")] == 1000000
    assert charges[("2026-03", "0360")] == 850050
    assert charges[("2026-03", "0250")] == 12250
    assert charges[("2026-03", UNASSIGNED)] == 12500
    paid = {r.group_key: r.figures.insurance_payments_cents for r in report.rows if r.period == "2026-04"}
    assert paid == {"0120": 467756, "0360": 672244}
    assert report.reconciled


def test_revenue_by_facility_names_the_facility() -> None:
    report = revenue(FACTS, date(2026, 3, 1), date(2026, 3, 31), "facility", "month")
    rows = {r.group_label: r.figures.gross_charges_cents for r in report.rows}
    # North 6,000.00 + 8,500.50; south 4,000.00 + 122.50; the clinic visit unassigned.
    assert rows == {"North Campus": 1450050, "South Campus": 412250, "Unassigned": 12500}


def test_the_case_mix_index_is_the_mean_drg_weight_of_the_discharges() -> None:
    report = case_mix(FACTS, date(2026, 3, 1), date(2026, 3, 31))
    # (1.9000 + 1.2345) / 2 = 3.1345 / 2 = 1.56725, rounded half up to 1.5673.
    assert (report.discharges, report.total_weight, report.case_mix_index) == (
        2,
        Decimal("3.1345"),
        Decimal("1.5673"),
    )


def test_a_stay_counts_once_under_its_latest_bill_and_late_charges_or_outpatients_not_at_all() -> None:
    replaced = VoidedInvoice("s1", stamp(APR))
    replacement = stay("s1b", "north", [("0120", 600000)], weight=21000, encounter="enc-s1", recorded=APR)
    late = stay(
        "s1c", "north", [("0250", 100)], weight=21000, encounter="enc-s1", frequency="5", recorded=APR
    )
    visit = stay("o1", "north", [("0450", 95000)], weight=None, setting="outpatient")
    facts = replace(FACTS, invoices=(*FACTS.invoices, replacement, late, visit), voids=(replaced,))
    report = case_mix(facts, date(2026, 3, 1), date(2026, 4, 30))
    # s1's replacement (2.1000) and s2 (1.2345): 3.3345 / 2 = 1.66725 -> 1.6673.
    assert (report.discharges, report.case_mix_index) == (2, Decimal("1.6673"))
    assert case_mix(facts, date(2026, 5, 1), date(2026, 5, 31)).case_mix_index is None


def test_ar_by_facility_adds_up_to_the_whole_ar() -> None:
    rows = {row.label: row.total_cents for row in ar_by_facility(FACTS, APR)}
    # North: 14,500.50 charged - 11,400.00 paid - 3,100.50 written off = 0, so no row;
    # south 4,122.50 and the clinic visit 125.00 still owed.
    assert rows == {"South Campus": 412250, "Unassigned": 12500}
