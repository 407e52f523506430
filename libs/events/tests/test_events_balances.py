"""The balance split rule invoicing and reporting share: what the patient owes, after all payers."""

from __future__ import annotations

from billing_events.balances import PayerAnswer, patient_assigned_cents, patient_share_of_balance


def test_with_one_payer_the_patient_owes_its_patient_responsibility() -> None:
    assert patient_assigned_cents([PayerAnswer("primary", 2500)]) == 2500
    # A reversal nets out; the payer's new answer stands.
    answers = [PayerAnswer("primary", 2500), PayerAnswer("primary", -2500, reversal=True)]
    assert patient_assigned_cents(answers) == 0
    assert patient_assigned_cents([*answers, PayerAnswer("primary", 1000)]) == 1000


def test_the_patient_owes_nothing_while_a_next_payer_is_expected() -> None:
    assert patient_assigned_cents([PayerAnswer("primary", 2500, awaiting_next_payer=True)]) == 0


def test_only_the_last_payers_patient_responsibility_counts() -> None:
    # Acme leaves 25.00 (PR) to Globex; Globex pays 20.00 and leaves 5.00 to the patient.
    answers = [PayerAnswer("primary", 2500, awaiting_next_payer=True), PayerAnswer("secondary", 500)]
    assert patient_assigned_cents(answers) == 500
    # Globex's answer reversed: back to waiting for Globex.
    reversed_ = [*answers, PayerAnswer("secondary", -500, reversal=True)]
    assert patient_assigned_cents(reversed_) == 0
    tertiary = [
        PayerAnswer("primary", 2500, awaiting_next_payer=True),
        PayerAnswer("secondary", 1000, awaiting_next_payer=True),
        PayerAnswer("tertiary", 0),
    ]
    assert patient_assigned_cents(tertiary) == 0


def test_the_share_stays_within_the_balance() -> None:
    assert patient_share_of_balance(500, 2500, 0) == 500
    assert patient_share_of_balance(2500, 2500, 1000) == 1500
