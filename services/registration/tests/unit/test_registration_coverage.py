"""Coverage decider: known payer, subscriber rules, dates, one coverage per priority, termination."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from billing_events.contracts.base import Sealed
from billing_events.contracts.registration import CoverageAdded, CoverageTerminated
from registration.domain.coverage import AddCoverage, CoverageSpan, TerminateCoverage, coverage
from registration.domain.errors import (
    AlreadyExists,
    CoverageAlreadyTerminated,
    CoverageOverlap,
    InvalidInput,
    NotRegistered,
)
from registration.domain.values import AddressInput, NameInput, SubscriberInput

TODAY = date(2025, 6, 15)


def seal(field: str, value: Any) -> Sealed:
    return Sealed(key_id="pat-1", nonce=field, ciphertext=json.dumps(value, sort_keys=True))


SELF = AddCoverage(
    coverage_id="cov-1",
    patient_id="pat-1",
    payer_id="payer-1",
    member_id="XYZ123456",
    group_number="GRP-77",
    priority="primary",
    relationship_to_subscriber="self",
    subscriber=None,
    effective_from="2025-01-01",
    effective_to=None,
    today=TODAY,
    seal=seal,
)
SUBSCRIBER = SubscriberInput(
    name=NameInput(given="Pat", family="Smith"),
    birth_date="1975-04-01",
    sex="M",
    address=AddressInput(line1="1 Main St", city="Springfield", state="IL", postal_code="62701"),
)
SPOUSE = replace(
    SELF,
    coverage_id="cov-2",
    relationship_to_subscriber="spouse",
    subscriber=SUBSCRIBER,
    priority="secondary",
)


def added(command: AddCoverage = SELF) -> list[Any]:
    return list(coverage.decide(command, coverage.initial))


def refused_fields(command: Any, given: list[Any] | None = None) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        coverage.decide(command, coverage.fold(given or []))
    return {i.field: i.message for i in refused.value.issues}


def test_a_self_coverage_is_added_with_the_member_id_sealed() -> None:
    (event,) = added()
    assert isinstance(event, CoverageAdded)
    assert (event.coverage_id, event.patient_id, event.payer_id) == ("cov-1", "pat-1", "payer-1")
    assert json.loads(event.member_id.ciphertext) == "XYZ123456"
    assert event.member_id.key_id == "pat-1"
    assert event.group_number == "GRP-77"
    assert (event.priority, event.relationship_to_subscriber, event.subscriber) == ("primary", "self", None)
    assert (event.effective_from, event.effective_to) == (date(2025, 1, 1), None)


def test_a_dependents_coverage_carries_the_subscriber_sealed() -> None:
    (event,) = added(SPOUSE)
    assert isinstance(event, CoverageAdded)
    assert event.subscriber is not None
    assert json.loads(event.subscriber.ciphertext) == {
        "name": {"given": "Pat", "family": "Smith"},
        "birth_date": "1975-04-01",
        "sex": "M",
        "address": {
            "line1": "1 Main St",
            "line2": None,
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
        },
    }


def test_the_subscriber_is_required_unless_the_patient_is_the_subscriber() -> None:
    assert refused_fields(replace(SPOUSE, subscriber=None)) == {
        "subscriber": "is required unless relationship_to_subscriber is self"
    }
    assert refused_fields(replace(SELF, subscriber=SUBSCRIBER)) == {
        "subscriber": "must be left out when the patient is the subscriber"
    }


def test_the_subscribers_details_are_checked_field_by_field() -> None:
    subscriber = SubscriberInput(name=NameInput(given="Pat"), birth_date="2030-01-01", sex="Z", address=None)
    assert refused_fields(replace(SPOUSE, subscriber=subscriber)) == {
        "subscriber.name.family": "is required",
        "subscriber.birth_date": "must not be in the future",
        "subscriber.sex": "must be one of F, M, U",
        "subscriber.address": "is required",
    }


def test_a_payer_unknown_in_the_tenant_is_refused() -> None:
    assert refused_fields(replace(SELF, payer_known=False)) == {"payer_id": "no such payer in this tenant"}


def test_coverage_for_an_unknown_patient_is_refused() -> None:
    with pytest.raises(NotRegistered) as refused:
        coverage.decide(replace(SELF, patient_known=False), coverage.initial)
    assert refused.value.what == "patient"


def test_effective_from_must_not_be_after_effective_to() -> None:
    assert refused_fields(replace(SELF, effective_from="2025-02-01", effective_to="2025-01-31")) == {
        "effective_to": "must not be before effective_from"
    }
    (event,) = added(replace(SELF, effective_from="2025-02-01", effective_to="2025-02-01"))
    assert isinstance(event, CoverageAdded)


def test_every_invalid_field_is_listed_at_once() -> None:
    command = replace(
        SELF,
        payer_id=None,
        member_id="has space",
        group_number="G" * 51,
        priority="quaternary",
        relationship_to_subscriber="cousin",
        effective_from="2025/01/01",
        effective_to="soon",
    )
    assert refused_fields(command) == {
        "payer_id": "is required",
        "member_id": "must be letters, digits and . - _ / only",
        "group_number": "must be at most 50 characters",
        "priority": "must be one of primary, secondary, tertiary",
        "relationship_to_subscriber": "must be one of child, other, self, spouse",
        "effective_from": "must be a date as YYYY-MM-DD",
        "effective_to": "must be a date as YYYY-MM-DD",
    }


@pytest.mark.parametrize(
    ("existing", "start", "end"),
    [
        (CoverageSpan("old", date(2024, 1, 1), None), "2025-01-01", None),
        (CoverageSpan("old", date(2024, 1, 1), date(2025, 1, 1)), "2025-01-01", None),
        (CoverageSpan("old", date(2026, 1, 1), None), "2025-01-01", "2026-01-01"),
        (CoverageSpan("old", date(2025, 3, 1), date(2025, 3, 31)), "2025-01-01", None),
    ],
)
def test_a_second_coverage_at_the_same_priority_for_overlapping_dates_is_refused(
    existing: CoverageSpan, start: str, end: str | None
) -> None:
    with pytest.raises(CoverageOverlap):
        coverage.decide(
            replace(SELF, effective_from=start, effective_to=end, same_priority=(existing,)), coverage.initial
        )


@pytest.mark.parametrize(
    ("existing", "start", "end"),
    [
        (CoverageSpan("old", date(2024, 1, 1), date(2024, 12, 31)), "2025-01-01", None),
        (CoverageSpan("old", date(2026, 1, 1), None), "2025-01-01", "2025-12-31"),
    ],
)
def test_coverages_at_the_same_priority_for_separate_periods_are_accepted(
    existing: CoverageSpan, start: str, end: str | None
) -> None:
    command = replace(SELF, effective_from=start, effective_to=end, same_priority=(existing,))
    assert len(coverage.decide(command, coverage.initial)) == 1


def test_a_coverage_is_added_once() -> None:
    with pytest.raises(AlreadyExists):
        coverage.decide(SELF, coverage.fold(added()))


def test_termination_ends_the_coverage_on_a_date() -> None:
    given = added()
    events = coverage.decide(TerminateCoverage("cov-1", "2025-03-31"), coverage.fold(given))
    assert events == [
        CoverageTerminated(coverage_id="cov-1", patient_id="pat-1", effective_to=date(2025, 3, 31))
    ]
    state = coverage.fold([*given, *events])
    assert state.terminated and state.effective_to == date(2025, 3, 31)


def test_a_coverage_is_terminated_once() -> None:
    given = added()
    given += coverage.decide(TerminateCoverage("cov-1", "2025-03-31"), coverage.fold(given))
    with pytest.raises(CoverageAlreadyTerminated):
        coverage.decide(TerminateCoverage("cov-1", "2025-02-28"), coverage.fold(given))


def test_termination_cannot_end_before_the_start_or_after_the_current_end() -> None:
    assert refused_fields(TerminateCoverage("cov-1", "2024-12-31"), added()) == {
        "effective_to": "must not be before the coverage's effective_from"
    }
    bounded = added(replace(SELF, effective_to="2025-06-30"))
    assert refused_fields(TerminateCoverage("cov-1", "2025-07-01"), bounded) == {
        "effective_to": "must not be after the coverage's current effective_to"
    }
    assert refused_fields(TerminateCoverage("cov-1", None), added()) == {"effective_to": "is required"}


def test_a_coverage_never_added_cannot_be_terminated() -> None:
    with pytest.raises(NotRegistered):
        coverage.decide(TerminateCoverage("cov-9", "2025-03-31"), coverage.initial)
