"""Revenue-cycle KPIs at the end of a day, over a trailing window of days (the day included).

The formulas, and which follow an HFMA MAP Key, are documented in services/reporting/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from reporting.domain.aging import BUCKETS, ar_aging
from reporting.domain.denials import denials, initial_adjudications
from reporting.domain.facts import Facts, Stamp
from reporting.domain.measures import Ratio, tenths
from reporting.domain.revenue import revenue

# HFMA's "aged" A/R is older than 90 days: the buckets from 91-120 on.
AGED_FROM_BUCKET = next(i for i, bucket in enumerate(BUCKETS) if bucket.first_day > 90)


@dataclass(frozen=True)
class Kpis:
    as_of: date
    window_start: date
    window_days: int
    ar_cents: int
    net_revenue_cents: int
    days_in_ar: Decimal | None
    clean_claim_rate: Ratio
    first_pass_resolution_rate: Ratio
    denial_rate: Ratio
    denial_rate_dollars: Ratio
    net_collection_rate: Ratio
    average_days_to_payment: Decimal | None
    days_to_payment_total: int
    paid_invoices: int
    aged_over_90: Ratio


def window_start(as_of: date, window_days: int) -> date:
    return as_of - timedelta(days=window_days - 1)


def clean_claim_rate(facts: Facts, start: date, end: date) -> Ratio:
    """Claims created in the window that no scrubber edit stopped (HFMA MAP Key: Clean Claim Rate).
    A claim voided before it was ever sent (its invoice was recoded) is no claim at all."""
    never_sent = {s.claim_id for s in facts.claim_steps if s.kind == "voided"}
    created = {c.claim_id for c in facts.claims if start <= c.stamp.on <= end} - never_sent
    stopped = {s.claim_id for s in facts.claim_steps if s.kind == "scrub_failed"}
    return Ratio(len(created - stopped), len(created))


def first_pass_resolution_rate(facts: Facts, start: date, end: date) -> Ratio:
    """Claims first adjudicated in the window that the payer paid (in full or in part) on their first
    submission: no front-end rejection and no resubmission before that adjudication."""
    reworked: dict[str, Stamp] = {}
    for step in facts.claim_steps:
        if step.kind in ("rejected", "resubmitted"):
            reworked[step.claim_id] = min(step.stamp, reworked.get(step.claim_id, step.stamp))
    initial = initial_adjudications(facts, start, end)
    resolved = [
        a
        for a in initial
        if a.outcome in ("paid", "partially_paid")
        and (a.claim_id not in reworked or reworked[a.claim_id] > a.stamp)
    ]
    return Ratio(len(resolved), len(initial))


def days_to_payment(facts: Facts, start: date, end: date) -> tuple[int, int]:
    """(sum of days, invoices) from the date of service to the first money received on each invoice
    whose first payment, from the payer or the patient, was recorded in the window."""
    first_paid: dict[str, date] = {}
    payments = [
        (p.stamp, p.invoice_id) for p in facts.insurance_postings if p.paid_cents > 0 and not p.reversal
    ]
    payments += [(p.stamp, p.invoice_id) for p in facts.patient_payments if p.applied_cents > 0]
    for stamp, invoice_id in sorted(payments):
        first_paid.setdefault(invoice_id, stamp.on)
    service = {invoice.invoice_id: invoice.service_date for invoice in facts.invoices}
    days = [
        (paid_on - service[invoice_id]).days
        for invoice_id, paid_on in first_paid.items()
        if start <= paid_on <= end and invoice_id in service
    ]
    return sum(days), len(days)


def kpis(facts: Facts, as_of: date, window_days: int) -> Kpis:
    known = facts.known_on(as_of)
    start = window_start(as_of, window_days)
    aging = ar_aging(known, as_of)
    money = revenue(known, start, as_of, "payer", "month").totals
    # Net patient service revenue: charges net of voids and of contractual allowances.
    net_revenue = money.net_charges_cents - money.contractual_adjustments_cents
    denied = denials(known, start, as_of).overall
    total_days, paid_invoices = days_to_payment(known, start, as_of)
    aged = sum(aging.totals.buckets_cents[AGED_FROM_BUCKET:])
    return Kpis(
        as_of=as_of,
        window_start=start,
        window_days=window_days,
        ar_cents=aging.total_cents,
        net_revenue_cents=net_revenue,
        # A/R over the average day's net revenue in the window.
        days_in_ar=tenths(aging.total_cents * window_days, net_revenue),
        clean_claim_rate=clean_claim_rate(known, start, as_of),
        first_pass_resolution_rate=first_pass_resolution_rate(known, start, as_of),
        denial_rate=denied.by_count,
        denial_rate_dollars=denied.by_dollars,
        net_collection_rate=Ratio(money.payments_cents, net_revenue),
        average_days_to_payment=tenths(total_days, paid_invoices),
        days_to_payment_total=total_days,
        paid_invoices=paid_invoices,
        aged_over_90=Ratio(aged, aging.total_cents),
    )
