"""Financial assistance (IRC 501(r)): tiers by % of the poverty guideline, the AGB limit, the charity
write-off and the 120-day wait before extraordinary collection actions."""

from __future__ import annotations

from datetime import date

import pytest

from billing_events.contracts.base import Sealed
from billing_events.contracts.invoicing import FinancialAssistanceDetermined, FplRow
from invoicing.domain.errors import InvalidInput
from invoicing.domain.financial_assistance import (
    APPLICATION,
    COLLECTION_ACTION,
    AssistancePolicy,
    CollectionActionTooEarly,
    DetermineAssistance,
    RecordCollectionAction,
    amount_to_charge_cents,
    charity_write_off_cents,
    decide_assistance,
    earliest_extraordinary_collection,
    extraordinary_collection_allowed,
    tiers_of,
    validate_policy,
)

# HHS 2025 guidelines for the 48 states: 15,650 for one person, 5,500 per additional person.
POLICY = AssistancePolicy(
    effective_from=date(2026, 1, 1),
    agb_basis_points=4500,  # AGB 45% of gross charges
    tiers=tiers_of([(200, 10000), (300, 7500), (400, 5000)]),
    fpl_year=2025,
    fpl_source="HHS poverty guidelines, 90 FR 5917 (2025)",
    fpl=(FplRow(household_size=1, amount_cents=1565000), FplRow(household_size=2, amount_cents=2115000)),
    fpl_per_additional_person_cents=550000,
)


def test_the_policy_is_valid() -> None:
    assert validate_policy(POLICY) == []


def test_income_at_the_tiers_limits() -> None:
    # Household of 4: 21,150 + 2 x 5,500 = 32,150. 200% = 64,300; 300% = 96,450; 400% = 128,600.
    assert decide_assistance(POLICY, 4, 6_430_000).discount_basis_points == 10000
    # 64,301 is 200.003%: rounded down to 200%, still free care; 64,622 (3,215,000 x 2.01 cents) is 201%.
    assert decide_assistance(POLICY, 4, 6_430_100).discount_basis_points == 10000
    assert decide_assistance(POLICY, 4, 6_462_150).discount_basis_points == 7500
    assert decide_assistance(POLICY, 4, 9_645_000).discount_basis_points == 7500
    assert decide_assistance(POLICY, 4, 12_860_000).discount_basis_points == 5000
    beyond = decide_assistance(POLICY, 4, 12_900_000)  # 401.2%
    assert not beyond.eligible and beyond.fpl_percent == 401


def test_an_eligible_self_pay_patient_pays_the_lower_of_agb_and_the_discounted_amount() -> None:
    # Gross 100000, owed all of it. AGB 45% = 45000. Discount 50%: 50000. Charged 45000 (AGB).
    assert amount_to_charge_cents(100000, 100000, 4500, 5000) == 45000
    # Discount 75%: 25000, under AGB: charged 25000.
    assert amount_to_charge_cents(100000, 100000, 4500, 7500) == 25000


def test_an_insured_patients_small_share_is_only_discounted() -> None:
    # Gross 100000, owed 20000 after the payer. AGB 45000 is no limit; 50% off 20000 = 10000.
    assert amount_to_charge_cents(100000, 20000, 4500, 5000) == 10000


def test_the_charity_write_off_counts_what_was_already_paid() -> None:
    # Self-pay gross 100000, paid 30000, owes 70000. Charged so far 100000; limit 45000 (AGB);
    # write-off 100000 - 45000 = 55000, leaving 15000 to pay.
    assert charity_write_off_cents(100000, 70000, 30000, 4500, 5000) == 55000
    # Paid 50000 already (above the limit): the write-off takes everything still open, 50000.
    assert charity_write_off_cents(100000, 50000, 50000, 4500, 5000) == 50000


def test_a_second_run_after_the_charity_write_off_takes_nothing_more() -> None:
    # Self-pay gross 12500, discount 40%, AGB 45%: charged min(12500 - 5000, 5625) = 5625, so 6875
    # was written off. Run again on what is left (5625 open, 6875 charity): nothing more.
    assert charity_write_off_cents(12500, 12500, 0, 4500, 4000) == 6875
    assert charity_write_off_cents(12500, 5625, 0, 4500, 4000, charity_written_off_cents=6875) == 0


def test_free_care_writes_off_everything() -> None:
    assert charity_write_off_cents(100000, 100000, 0, 4500, 10000) == 100000


def test_no_extraordinary_collection_before_120_days_after_the_first_statement() -> None:
    first = date(2026, 3, 1)
    assert earliest_extraordinary_collection(first) == date(2026, 6, 29)  # March 30 + April 30 + May 31 + 29
    assert not extraordinary_collection_allowed(first, date(2026, 6, 28))
    assert extraordinary_collection_allowed(first, date(2026, 6, 29))


def test_a_late_notice_pushes_the_earliest_date_30_days_after_it() -> None:
    first = date(2026, 3, 1)
    assert earliest_extraordinary_collection(first, notice_sent_on=date(2026, 6, 20)) == date(2026, 7, 20)


def test_no_extraordinary_collection_without_a_statement_or_while_an_application_is_pending() -> None:
    assert not extraordinary_collection_allowed(None, date(2027, 1, 1))
    assert not extraordinary_collection_allowed(date(2026, 1, 1), date(2027, 1, 1), application_pending=True)


PLACEHOLDER = Sealed(key_id="pat-1", nonce="", ciphertext="household", alg="pending")


def test_an_application_is_decided_once_with_the_household_sealed() -> None:
    command = DetermineAssistance(
        "app-1", "pat-1", "pol-1", POLICY, 2, 3_000_000, date(2026, 4, 1), PLACEHOLDER
    )
    events = APPLICATION.decide(command, APPLICATION.initial)
    decided = events[0]
    assert isinstance(decided, FinancialAssistanceDetermined)
    # 30,000 / 21,150 = 141.8%: the free-care tier.
    assert (decided.eligible, decided.discount_basis_points, decided.agb_basis_points) == (True, 10000, 4500)
    assert decided.household == PLACEHOLDER
    assert "3000000" not in decided.model_dump_json()
    assert APPLICATION.decide(command, APPLICATION.fold(events)) == []


def test_a_household_of_zero_is_refused() -> None:
    command = DetermineAssistance("app-1", "pat-1", "pol-1", POLICY, 0, 100, date(2026, 4, 1), PLACEHOLDER)
    with pytest.raises(InvalidInput) as refused:
        APPLICATION.decide(command, APPLICATION.initial)
    assert [e.field for e in refused.value.errors] == ["household_size"]


def test_tiers_out_of_order_are_refused() -> None:
    bad = AssistancePolicy(
        POLICY.effective_from, 4500, tiers_of([(300, 5000), (200, 10000)]), 2025, "HHS", POLICY.fpl, 550000
    )
    assert any(e.field == "tiers" for e in validate_policy(bad))


def collection(on: date, **changes: object) -> RecordCollectionAction:
    base: dict[str, object] = {
        "action_id": "eca-1",
        "patient_id": "pat-1",
        "action": "credit_reporting",
        "on": on,
        "first_statement_on": date(2026, 3, 1),
        "notice_sent_on": None,
        "amount_due_cents": 5000,
    }
    base.update(changes)
    return RecordCollectionAction(**base)  # type: ignore[arg-type]


def test_an_extraordinary_collection_action_is_refused_on_day_119_and_recorded_on_day_120() -> None:
    with pytest.raises(CollectionActionTooEarly) as early:
        COLLECTION_ACTION.decide(collection(date(2026, 6, 28)), COLLECTION_ACTION.initial)
    assert early.value.earliest == date(2026, 6, 29)
    (recorded,) = COLLECTION_ACTION.decide(collection(date(2026, 6, 29)), COLLECTION_ACTION.initial)
    assert recorded.event_type == "ExtraordinaryCollectionActionRecorded"


def test_no_extraordinary_collection_for_free_care_or_without_a_statement() -> None:
    with pytest.raises(CollectionActionTooEarly):
        COLLECTION_ACTION.decide(
            collection(date(2027, 1, 1), eligible_for_free_care=True), COLLECTION_ACTION.initial
        )
    with pytest.raises(CollectionActionTooEarly):
        COLLECTION_ACTION.decide(
            collection(date(2027, 1, 1), first_statement_on=None), COLLECTION_ACTION.initial
        )
