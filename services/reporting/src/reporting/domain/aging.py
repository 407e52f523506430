"""A/R aging as of a day: open balances by payer and self-pay, in buckets of days since service."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from reporting.domain.facts import SELF_PAY, Facts
from reporting.domain.ledger import balances
from reporting.domain.responsibility import PARTIES, PATIENT


@dataclass(frozen=True)
class Bucket:
    label: str
    first_day: int
    last_day: int | None  # None: open-ended

    def holds(self, age_days: int) -> bool:
        return age_days >= self.first_day and (self.last_day is None or age_days <= self.last_day)


BUCKETS: tuple[Bucket, ...] = (
    Bucket("0-30", 0, 30),
    Bucket("31-60", 31, 60),
    Bucket("61-90", 61, 90),
    Bucket("91-120", 91, 120),
    Bucket("120+", 121, None),
)


def bucket_index(age_days: int) -> int:
    return next(i for i, bucket in enumerate(BUCKETS) if bucket.holds(max(age_days, 0)))


@dataclass(frozen=True)
class AgingRow:
    key: str  # a payer id, or "self_pay"
    label: str
    buckets_cents: tuple[int, ...]

    @property
    def total_cents(self) -> int:
        return sum(self.buckets_cents)


@dataclass(frozen=True)
class AgingReport:
    as_of: date
    rows: tuple[AgingRow, ...]
    totals: AgingRow
    # The same balances by the party that owes them now: primary, secondary, tertiary payer, patient.
    by_responsibility: tuple[AgingRow, ...] = ()

    @property
    def total_cents(self) -> int:
        return self.totals.total_cents


def ar_aging(facts: Facts, as_of: date) -> AgingReport:
    """Rows for every payer owed something now (credits show as negative amounts), self-pay last.

    A payer's row holds what it owes as the current responsible party: after the primary's answer
    names a secondary payer, the rest of the balance ages under the secondary (see responsibility.py).
    """
    amounts: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
    parties: dict[str, list[int]] = {party: [0] * len(BUCKETS) for party in PARTIES}
    touched: set[str] = set()
    for balance in balances(facts, as_of):
        index = bucket_index(balance.age_days(as_of))
        if balance.insurance_cents:
            owed_by = balance.insurance_owed_by
            payer = owed_by.payer_key if owed_by else balance.invoice.payer_key
            amounts[payer][index] += balance.insurance_cents
            parties[owed_by.sequence if owed_by else PARTIES[0]][index] += balance.insurance_cents
            touched.add(payer)
        if balance.self_pay_cents:
            amounts[SELF_PAY][index] += balance.self_pay_cents
            parties[PATIENT][index] += balance.self_pay_cents
            touched.add(SELF_PAY)
    rows = [
        AgingRow(key, facts.payer_label(key), tuple(amounts[key]))
        for key in touched
        if any(amounts[key])  # credits and debits that cancel out leave no row
    ]
    rows.sort(key=lambda row: (row.key == SELF_PAY, row.label.lower(), row.key))
    totals = tuple(sum(row.buckets_cents[i] for row in rows) for i in range(len(BUCKETS)))
    by_party = tuple(AgingRow(party, party.capitalize(), tuple(parties[party])) for party in PARTIES)
    return AgingReport(as_of, tuple(rows), AgingRow("total", "Total", totals), by_party)
