"""Denials: how many claims payers refused on first adjudication, for how much, and why.

Following HFMA's initial denial rate (the Claim Integrity Task Force's standard denial metrics; the MAP
Key "Remittance Denial Rate" is the same ratio over remitted claims):

    denial rate (count)   = claims whose first adjudication denied them / claims first adjudicated
    denial rate (dollars) = charges of those denied claims              / charges of those claims

A claim counts in the range when its first adjudication (a reversal is never one) was recorded in it;
a later re-adjudication of the same claim never counts again. Front-end rejections (999/277CA) are not
denials: the payer never adjudicated the claim; they are counted apart, as are reversals.

Reasons are the CARC adjustments (group-code, e.g. CO-50) of denied claims, and of denied lines on
claims that were otherwise paid: a line with nothing paid for a reason other than the patient's share.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from reporting.domain.facts import Adjudication, Adjustment, Facts
from reporting.domain.measures import Ratio


@dataclass(frozen=True)
class DenialReason:
    group: str
    reason_code: str
    claims: int
    amount_cents: int

    @property
    def key(self) -> str:
        return f"{self.group}-{self.reason_code}"


@dataclass(frozen=True)
class DenialCounts:
    key: str
    label: str
    adjudicated_claims: int
    denied_claims: int
    adjudicated_charge_cents: int
    denied_charge_cents: int

    @property
    def by_count(self) -> Ratio:
        return Ratio(self.denied_claims, self.adjudicated_claims)

    @property
    def by_dollars(self) -> Ratio:
        return Ratio(self.denied_charge_cents, self.adjudicated_charge_cents)


@dataclass(frozen=True)
class DenialsReport:
    start: date
    end: date
    overall: DenialCounts
    by_payer: tuple[DenialCounts, ...]
    reasons: tuple[DenialReason, ...]  # largest amount first
    denied_lines: int
    denied_line_cents: int
    front_end_rejections: int
    reversals: int


def first_adjudications(facts: Facts) -> dict[str, Adjudication]:
    """Each claim's first adjudication that was not a reversal, by claim id."""
    first: dict[str, Adjudication] = {}
    for adjudication in sorted(facts.adjudications, key=lambda a: a.stamp):
        if adjudication.outcome != "reversed":
            first.setdefault(adjudication.claim_id, adjudication)
    return first


def initial_adjudications(facts: Facts, start: date, end: date) -> list[Adjudication]:
    return [a for a in first_adjudications(facts.known_on(end)).values() if start <= a.stamp.on <= end]


def _denial_adjustments(adjudication: Adjudication) -> list[Adjustment]:
    """The adjustments that explain a refusal: all of a denied claim's, a denied line's but the
    patient's share."""
    if adjudication.outcome == "denied":
        return [
            *adjudication.claim_adjustments,
            *(a for line in adjudication.lines for a in line.adjustments),
        ]
    return [a for line in adjudication.lines if line.denied for a in line.adjustments if a.group != "PR"]


def _counts(key: str, label: str, adjudications: list[Adjudication]) -> DenialCounts:
    denied = [a for a in adjudications if a.outcome == "denied"]
    return DenialCounts(
        key=key,
        label=label,
        adjudicated_claims=len(adjudications),
        denied_claims=len(denied),
        adjudicated_charge_cents=sum(a.total_charge_cents for a in adjudications),
        denied_charge_cents=sum(a.total_charge_cents for a in denied),
    )


def denials(facts: Facts, start: date, end: date) -> DenialsReport:
    known = facts.known_on(end)
    initial = initial_adjudications(known, start, end)

    by_payer: dict[str, list[Adjudication]] = defaultdict(list)
    for adjudication in initial:
        by_payer[adjudication.payer_id].append(adjudication)
    payers = sorted(
        (_counts(payer, facts.payer_label(payer), items) for payer, items in by_payer.items()),
        key=lambda c: (c.label.lower(), c.key),
    )

    reason_claims: dict[tuple[str, str], set[str]] = defaultdict(set)
    reason_cents: dict[tuple[str, str], int] = defaultdict(int)
    denied_lines = denied_line_cents = 0
    for adjudication in initial:
        for adjustment in _denial_adjustments(adjudication):
            reason = (adjustment.group, adjustment.reason_code)
            reason_claims[reason].add(adjudication.claim_id)
            reason_cents[reason] += adjustment.amount_cents
        if adjudication.outcome != "denied":
            refused = [line for line in adjudication.lines if line.denied]
            denied_lines += len(refused)
            denied_line_cents += sum(line.charge_cents for line in refused)
    reasons = sorted(
        (
            DenialReason(group, code, len(reason_claims[(group, code)]), cents)
            for (group, code), cents in reason_cents.items()
        ),
        key=lambda r: (-r.amount_cents, -r.claims, r.key),
    )

    in_range = [step for step in known.claim_steps if start <= step.stamp.on <= end]
    return DenialsReport(
        start=start,
        end=end,
        overall=_counts("all", "All payers", initial),
        by_payer=tuple(payers),
        reasons=tuple(reasons),
        denied_lines=denied_lines,
        denied_line_cents=denied_line_cents,
        front_end_rejections=sum(1 for step in in_range if step.kind == "rejected"),
        reversals=sum(
            1 for a in known.adjudications if a.outcome == "reversed" and start <= a.stamp.on <= end
        ),
    )
