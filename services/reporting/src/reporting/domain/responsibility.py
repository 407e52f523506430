"""Who owes the insurance part of an invoice's balance now: its current responsible payer.

The balance moves between buckets as each payer adjudicates. The primary owes it until it answers.
An answer that names a next payer (a secondary claim billed, or a crossover the payer made itself)
hands it to that payer, in the next sequence; the last answer that names none leaves what the payers
did not settle with that payer. A reversal takes the reversed answer back: the payer before it (or
the primary again) owes it. What the payers assigned to the patient is the patient's (ledger.py),
after the last expected payer, by the same rule invoicing applies (billing_events.balances).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise

from billing_events.balances import SEQUENCES
from reporting.domain.facts import Adjudication, InsurancePosting, IssuedInvoice

PATIENT = "patient"
# The parties an A/R balance can be owed by, in the order a claim meets them.
PARTIES = (*SEQUENCES, PATIENT)
NEXT_SEQUENCE = dict(pairwise(SEQUENCES))


@dataclass(frozen=True)
class Responsible:
    sequence: str  # primary | secondary | tertiary
    payer_key: str


def next_payers(adjudications: Iterable[Adjudication]) -> dict[str, str | None]:
    """Each claim's next payer as its latest standing answer names it (a reversal names none)."""
    named: dict[str, str | None] = {}
    for answer in sorted(adjudications, key=lambda a: a.stamp):
        if answer.outcome != "reversed":
            named[answer.claim_id] = answer.next_payer_id
    return named


def responsible_payer(
    invoice: IssuedInvoice, postings: Iterable[InsurancePosting], next_payer_of: Mapping[str, str | None]
) -> Responsible:
    answered: dict[str, int] = {}
    latest: dict[str, InsurancePosting] = {}
    for posting in sorted(postings, key=lambda p: p.stamp):
        sequence = posting.sequence if posting.sequence in SEQUENCES else SEQUENCES[0]
        answered[sequence] = answered.get(sequence, 0) + (-1 if posting.reversal else 1)
        if not posting.reversal:
            latest[sequence] = posting
    standing = [s for s in SEQUENCES if answered.get(s, 0) > 0]
    if not standing:
        return Responsible(SEQUENCES[0], invoice.payer_key)
    last = latest[standing[-1]]
    sequence = standing[-1]
    following = next_payer_of.get(last.claim_id)
    if last.awaiting_next_payer and following and sequence in NEXT_SEQUENCE:
        return Responsible(NEXT_SEQUENCE[sequence], following)
    return Responsible(sequence, last.payer_id)
