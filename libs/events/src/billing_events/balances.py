"""Rules about balances that more than one service applies (invoicing keeps the ledger, reporting
ages it): written once here so the two can never disagree by a cent."""

from __future__ import annotations


def patient_share_of_balance(balance_cents: int, assigned_cents: int, patient_paid_cents: int) -> int:
    """What the patient owes now on an insured invoice.

    Payers assign patient responsibility (CAS group PR: deductible, coinsurance, copay); what the
    patient already paid counts against it. The share is never below zero (a copay paid before
    adjudication pays down what the payer is expected to cover) and never more than the open balance
    (a PR amount above the balance, as after a partial write-off, leaves nothing for the payer). The
    rest of the balance is the payer's: `balance_cents - patient_share_of_balance(...)`.
    """
    return min(max(assigned_cents - patient_paid_cents, 0), max(balance_cents, 0))
