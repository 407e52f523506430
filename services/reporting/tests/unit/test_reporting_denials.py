"""Denials: first adjudications only, rates by count and dollars, CARC reasons, rejections apart."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time

from reporting.domain.denials import denials
from reporting.domain.facts import (
    AdjudicatedLine,
    Adjudication,
    Adjustment,
    ClaimStep,
    Facts,
    Outcome,
    Stamp,
)

_ids = itertools.count()


def stamp(day: date) -> Stamp:
    return Stamp(datetime.combine(day, time(12), UTC), 0, f"event-{next(_ids)}", day)


def adjudication(
    claim_id: str,
    recorded: date,
    outcome: Outcome,
    lines: tuple[AdjudicatedLine, ...],
    payer: str = "acme",
    claim_adjustments: tuple[Adjustment, ...] = (),
) -> Adjudication:
    return Adjudication(
        claim_id=claim_id,
        invoice_id=f"inv-{claim_id}",
        payer_id=payer,
        outcome=outcome,
        total_charge_cents=sum(line.charge_cents for line in lines),
        paid_cents=sum(line.paid_cents for line in lines),
        patient_responsibility_cents=0,
        adjudicated_on=recorded,
        claim_adjustments=claim_adjustments,
        lines=lines,
        stamp=stamp(recorded),
    )


def line(
    number: int, code: str, charge: int, paid: int, *adjustments: tuple[str, str, int]
) -> AdjudicatedLine:
    return AdjudicatedLine(number, code, charge, paid, tuple(Adjustment(g, r, a) for g, r, a in adjustments))


FEB = date(2025, 2, 20)
FACTS = Facts(
    adjudications=(
        adjudication("c1", date(2025, 2, 5), "paid", (line(1, "99213", 18000, 14000, ("CO", "45", 4000)),)),
        adjudication(
            "c3",
            FEB,
            "denied",
            (line(1, "99213", 15000, 0, ("CO", "50", 15000)),),
            payer="blue",
            claim_adjustments=(Adjustment("CO", "16", 0),),
        ),
        # Paid after the denial was worked: not a first adjudication, so it never counts again.
        adjudication(
            "c3", date(2025, 4, 2), "paid", (line(1, "99213", 15000, 9000, ("CO", "45", 6000)),), "blue"
        ),
        adjudication(
            "c4",
            date(2025, 3, 15),
            "partially_paid",
            (
                line(1, "99213", 15000, 10000, ("CO", "45", 3000), ("PR", "3", 2000)),
                line(2, "81002", 1000, 0, ("CO", "97", 1000)),
                # Nothing paid, but all of it is the patient's deductible: not a denial.
                line(3, "85025", 1200, 0, ("PR", "1", 1200)),
            ),
        ),
        adjudication(
            "c1", date(2025, 3, 3), "reversed", (line(1, "99213", -18000, -14000, ("CO", "45", -4000)),)
        ),
    ),
    claim_steps=(ClaimStep("c2", "rejected", stamp(date(2025, 1, 24))),),
    payer_names={"acme": "Acme Health", "blue": "Blue Plains"},
)


def test_denial_rate_counts_each_claim_once_at_its_first_adjudication() -> None:
    report = denials(FACTS, date(2025, 1, 1), date(2025, 4, 30))

    # First adjudications: c1 paid (18000), c3 denied (15000), c4 partially paid (17200).
    assert report.overall.adjudicated_claims == 3
    assert report.overall.denied_claims == 1
    assert str(report.overall.by_count.percent) == "33.33"  # 1 / 3
    assert report.overall.adjudicated_charge_cents == 18000 + 15000 + 17200
    assert report.overall.denied_charge_cents == 15000
    assert str(report.overall.by_dollars.percent) == "29.88"  # 15000 / 50200 = 0.298804...
    assert report.reversals == 1
    assert report.front_end_rejections == 1  # c2's rejection by the clearinghouse is not a denial


def test_denials_by_payer() -> None:
    report = denials(FACTS, date(2025, 1, 1), date(2025, 4, 30))
    by_payer = {c.key: c for c in report.by_payer}

    assert [c.label for c in report.by_payer] == ["Acme Health", "Blue Plains"]
    assert (by_payer["acme"].adjudicated_claims, by_payer["acme"].denied_claims) == (2, 0)
    assert str(by_payer["acme"].by_count.percent) == "0.00"
    assert (by_payer["blue"].adjudicated_claims, by_payer["blue"].denied_claims) == (1, 1)
    assert str(by_payer["blue"].by_dollars.percent) == "100.00"  # 15000 / 15000


def test_reasons_come_from_denied_claims_and_denied_lines_but_not_the_patient_share() -> None:
    report = denials(FACTS, date(2025, 1, 1), date(2025, 4, 30))

    assert [(r.key, r.claims, r.amount_cents) for r in report.reasons] == [
        ("CO-50", 1, 15000),  # c3, denied
        ("CO-97", 1, 1000),  # c4's bundled urinalysis line
        ("CO-16", 1, 0),  # c3's claim-level remark adjustment
    ]
    # c4's line 3 paid nothing, but only because of the deductible.
    assert (report.denied_lines, report.denied_line_cents) == (1, 1000)


def test_the_range_selects_first_adjudications_recorded_in_it() -> None:
    february = denials(FACTS, date(2025, 2, 1), date(2025, 2, 28))
    # c1 (Feb 5, paid) and c3 (Feb 20, denied); c3's paid re-adjudication in April is not in range.
    assert (february.overall.adjudicated_claims, february.overall.denied_claims) == (2, 1)
    assert february.reversals == 0

    april = denials(FACTS, date(2025, 4, 1), date(2025, 4, 30))
    assert april.overall.adjudicated_claims == 0
    assert april.overall.by_count.percent is None
    assert april.reasons == ()
