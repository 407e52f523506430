"""Rules about balances that more than one service applies (invoicing keeps the ledger, reporting
ages it): written once here so the two can never disagree by a cent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def patient_share_of_balance(balance_cents: int, assigned_cents: int, patient_paid_cents: int) -> int:
    """What the patient owes now on an insured invoice.

    Payers assign patient responsibility (CAS group PR: deductible, coinsurance, copay); what the
    patient already paid counts against it. The share is never below zero (a copay paid before
    adjudication pays down what the payer is expected to cover) and never more than the open balance
    (a PR amount above the balance, as after a partial write-off, leaves nothing for the payer). The
    rest of the balance is the payer's: `balance_cents - patient_share_of_balance(...)`.
    """
    return min(max(assigned_cents - patient_paid_cents, 0), max(balance_cents, 0))


SEQUENCES = ("primary", "secondary", "tertiary")


@dataclass(frozen=True)
class PayerAnswer:
    """One payer posting on an insured invoice, as far as the patient's share is concerned."""

    sequence: str  # primary | secondary | tertiary
    patient_responsibility_cents: int
    # The payer's answer names a payer after it (a secondary claim billed, or a crossover).
    awaiting_next_payer: bool = False
    # A reversal carries the negated amounts of the answer it undoes.
    reversal: bool = False


def patient_assigned_cents(answers: Sequence[PayerAnswer]) -> int:
    """What the payers leave to the patient after all of them (coordination of benefits).

    Each payer's patient responsibility (PR) is what it did not pay of what reached it; a payer after
    it is billed that amount, so only the last payer that answered says what the patient owes: its PR
    (reversals included, as they net out). While that payer's latest answer awaits a next payer, the
    patient owes nothing yet: statements wait for the last expected payer. With one payer this is
    the sum of its PR, as it always was. Feed the result to `patient_share_of_balance`.
    """
    answered: dict[str, int] = {}
    assigned: dict[str, int] = {}
    awaiting: dict[str, bool] = {}
    for answer in answers:
        sequence = answer.sequence if answer.sequence in SEQUENCES else "primary"
        assigned[sequence] = assigned.get(sequence, 0) + answer.patient_responsibility_cents
        answered[sequence] = answered.get(sequence, 0) + (-1 if answer.reversal else 1)
        if not answer.reversal:
            awaiting[sequence] = answer.awaiting_next_payer
    standing = [s for s in SEQUENCES if answered.get(s, 0) > 0]
    if not standing:
        return sum(assigned.values())
    last = standing[-1]
    return 0 if awaiting.get(last, False) else assigned[last]
