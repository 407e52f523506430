"""The KPIs over a trailing window, each against a figure worked out by hand."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time
from decimal import Decimal

from reporting.domain.facts import (
    AdjudicatedLine,
    Adjudication,
    ClaimStep,
    ClaimStepKind,
    CreatedClaim,
    Facts,
    InsurancePosting,
    IssuedInvoice,
    Outcome,
    PatientPayment,
    Stamp,
)
from reporting.domain.kpis import kpis

_ids = itertools.count()


def stamp(day: date) -> Stamp:
    return Stamp(datetime.combine(day, time(12), UTC), 0, f"event-{next(_ids)}", day)


def invoice(
    invoice_id: str, service: date, recorded: date, charge: int, self_pay: bool = False
) -> IssuedInvoice:
    return IssuedInvoice(
        invoice_id=invoice_id,
        encounter_id=f"enc-{invoice_id}",
        coding_version=1,
        service_date=service,
        responsibility="self_pay" if self_pay else "insurance",
        payer_id=None if self_pay else "acme",
        billing_provider_id="clinic",
        rendering_provider_id="dr-a",
        total_charge_cents=charge,
        lines=(),
        stamp=stamp(recorded),
    )


def claim(claim_id: str, invoice_id: str, recorded: date, charge: int) -> CreatedClaim:
    return CreatedClaim(claim_id, invoice_id, "acme", recorded, charge, stamp(recorded))


def step(claim_id: str, kind: ClaimStepKind, recorded: date) -> ClaimStep:
    return ClaimStep(claim_id, kind, stamp(recorded))


def adjudicated(claim_id: str, recorded: date, outcome: Outcome, charge: int, paid: int) -> Adjudication:
    return Adjudication(
        claim_id=claim_id,
        invoice_id=f"i{claim_id[1:]}",
        payer_id="acme",
        outcome=outcome,
        total_charge_cents=charge,
        paid_cents=paid,
        patient_responsibility_cents=0,
        adjudicated_on=recorded,
        claim_adjustments=(),
        lines=(AdjudicatedLine(1, "99213", charge, paid),),
        stamp=stamp(recorded),
    )


def posted(
    invoice_id: str, recorded: date, paid: int, contractual: int, patient: int = 0
) -> InsurancePosting:
    return InsurancePosting(
        invoice_id=invoice_id,
        claim_id=f"c{invoice_id[1:]}",
        payer_id="acme",
        reversal=False,
        denied=paid == 0,
        paid_cents=paid,
        contractual_adjustment_cents=contractual,
        other_adjustment_cents=0,
        patient_responsibility_cents=patient,
        posted_on=recorded,
        lines=(),
        stamp=stamp(recorded),
    )


def d(month: int, day: int, year: int = 2025) -> date:
    return date(year, month, day)


FACTS = Facts(
    invoices=(
        invoice("i1", d(2, 20), d(3, 1), 10000),
        invoice("i2", d(3, 5), d(3, 5), 20000),
        invoice("i3", d(3, 10), d(3, 10), 5000),
        invoice("i4", d(2, 1), d(2, 2), 8000, self_pay=True),
        invoice("i5", d(11, 15, 2024), d(11, 16, 2024), 4000),
    ),
    claims=(
        claim("c1", "i1", d(3, 1), 10000),
        claim("c2", "i2", d(3, 5), 20000),
        claim("c3", "i3", d(3, 10), 5000),
    ),
    claim_steps=(
        step("c1", "submitted", d(3, 1)),
        step("c2", "scrub_failed", d(3, 5)),
        step("c2", "submitted", d(3, 6)),
        step("c2", "rejected", d(3, 8)),
        step("c2", "resubmitted", d(3, 10)),
        step("c3", "submitted", d(3, 10)),
    ),
    adjudications=(
        adjudicated("c1", d(3, 20), "paid", 10000, 7000),
        adjudicated("c2", d(3, 25), "paid", 20000, 12000),
        adjudicated("c3", d(3, 28), "denied", 5000, 0),
    ),
    insurance_postings=(
        posted("i1", d(3, 20), 7000, 3000),
        posted("i2", d(3, 25), 12000, 5000, patient=3000),
        posted("i3", d(3, 28), 0, 0),
    ),
    patient_payments=(PatientPayment("p1", "i4", 3000, 3000, d(3, 15), stamp(d(3, 15))),),
)


def test_kpis_over_a_31_day_window() -> None:
    k = kpis(FACTS, d(3, 31), 31)

    assert k.window_start == d(3, 1)
    # A/R: i2 20000 - 12000 - 5000 = 3000, i3 5000, i4 8000 - 3000 = 5000, i5 4000 (i1 is settled).
    assert k.ar_cents == 17000
    # Net patient service revenue: charges 10000 + 20000 + 5000 in March - contractual 3000 + 5000.
    assert k.net_revenue_cents == 27000
    assert k.days_in_ar == Decimal("19.5")  # 17000 / (27000 / 31) = 19.518...
    # c1, c2, c3 created in March; the scrubber stopped c2.
    assert (k.clean_claim_rate.numerator, k.clean_claim_rate.denominator) == (2, 3)
    assert k.clean_claim_rate.percent == Decimal("66.67")
    # c1 paid first time; c2 was paid only after a rejection and a resubmission; c3 was denied.
    assert (k.first_pass_resolution_rate.numerator, k.first_pass_resolution_rate.denominator) == (1, 3)
    assert k.denial_rate.percent == Decimal("33.33")
    assert k.denial_rate_dollars.percent == Decimal("14.29")  # 5000 / 35000
    # Payments 7000 + 12000 + 3000 = 22000 over 27000.
    assert (k.net_collection_rate.numerator, k.net_collection_rate.denominator) == (22000, 27000)
    assert k.net_collection_rate.percent == Decimal("81.48")
    # First payments: i1 Mar 20 - Feb 20 = 28 days, i2 Mar 25 - Mar 5 = 20, i4 Mar 15 - Feb 1 = 42.
    assert (k.days_to_payment_total, k.paid_invoices) == (90, 3)
    assert k.average_days_to_payment == Decimal("30.0")
    # i5 is 136 days past service: 4000 of 17000.
    assert k.aged_over_90.percent == Decimal("23.53")


def test_a_kpi_without_a_denominator_has_no_value() -> None:
    k = kpis(FACTS, d(6, 30), 7)  # a quiet week: nothing created, adjudicated, charged or paid
    assert k.days_in_ar is None
    assert k.clean_claim_rate.percent is None
    assert k.first_pass_resolution_rate.percent is None
    assert k.denial_rate.percent is None
    assert k.net_collection_rate.percent is None
    assert k.average_days_to_payment is None
    assert k.ar_cents == 17000  # the balances are still there


def test_a_claim_voided_before_it_was_sent_does_not_count_toward_the_clean_claim_rate() -> None:
    from dataclasses import replace

    # c6 was created in March and voided the same day (its invoice was recoded): c1, c2, c3 remain,
    # and the scrubber stopped c2, so the rate stays 2 of 3.
    facts = replace(
        FACTS,
        claims=(*FACTS.claims, claim("c6", "i6", d(3, 10), 9000)),
        claim_steps=(*FACTS.claim_steps, step("c6", "voided", d(3, 10))),
    )
    k = kpis(facts, d(3, 31), 31)
    assert (k.clean_claim_rate.numerator, k.clean_claim_rate.denominator) == (2, 3)
    unvoided = replace(FACTS, claims=(*FACTS.claims, claim("c6", "i6", d(3, 10), 9000)))
    assert (kpis(unvoided, d(3, 31), 31).clean_claim_rate.denominator) == 4
