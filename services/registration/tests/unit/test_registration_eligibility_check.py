"""The EligibilityCheck decider: given events / when command / then events or the refusal."""

from __future__ import annotations

from datetime import date

import pytest

from billing_events.contracts.registration import (
    EligibilityCheckAnswered,
    EligibilityCheckRequested,
    EligibilityReason,
)
from registration.domain.eligibility_check import (
    CoverageFacts,
    RecordAnswer,
    RequestCheck,
    eligibility_check,
)
from registration.domain.errors import AlreadyExists, InvalidInput, NotRegistered

TODAY = date(2026, 3, 2)


def request(**changes: object) -> RequestCheck:
    values: dict[str, object] = {
        "check_id": "check-1",
        "coverage_id": "cov-1",
        "service_date": None,
        "provider_id": None,
        "today": TODAY,
        "coverage": CoverageFacts("pat-1", "payer-1"),
        "provider_known": False,
        "default_provider_id": "prov-billing",
    }
    values.update(changes)
    return RequestCheck(**values)  # type: ignore[arg-type]


def issues(command: RequestCheck) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        eligibility_check.decide(command, eligibility_check.initial)
    return {issue.field: issue.message for issue in refused.value.issues}


def test_a_check_asks_for_today_and_the_first_billing_provider_by_default() -> None:
    (event,) = eligibility_check.decide(request(), eligibility_check.initial)
    assert event == EligibilityCheckRequested(
        check_id="check-1",
        coverage_id="cov-1",
        patient_id="pat-1",
        payer_id="payer-1",
        service_date=TODAY,
        provider_id="prov-billing",
    )


def test_a_check_takes_the_date_and_provider_given() -> None:
    command = request(service_date="2026-04-15", provider_id="prov-2", provider_known=True)
    (event,) = eligibility_check.decide(command, eligibility_check.initial)
    assert isinstance(event, EligibilityCheckRequested)
    assert (event.service_date, event.provider_id) == (date(2026, 4, 15), "prov-2")


def test_a_check_of_no_coverage_is_not_found() -> None:
    with pytest.raises(NotRegistered) as missing:
        eligibility_check.decide(request(coverage=None), eligibility_check.initial)
    assert missing.value.what == "coverage"


def test_every_bad_field_is_named_at_once() -> None:
    assert issues(request(service_date="02/03/2026", provider_id="nobody")) == {
        "service_date": "must be a date as YYYY-MM-DD",
        "provider_id": "no such provider in this tenant",
    }
    # 2026-03-02 + 365 days = 2027-03-02 is the last date a check may ask about.
    assert eligibility_check.decide(request(service_date="2027-03-02"), eligibility_check.initial)
    assert issues(request(service_date="2027-03-03")) == {
        "service_date": "must not be more than 365 days ahead"
    }
    assert issues(request(service_date="1899-12-31")) == {"service_date": "must not be before 1900-01-01"}
    assert issues(request(default_provider_id=None)) == {
        "provider_id": "is required: no billing provider is enrolled to ask for"
    }


def test_a_check_is_asked_once() -> None:
    state = eligibility_check.fold(eligibility_check.decide(request(), eligibility_check.initial))
    with pytest.raises(AlreadyExists):
        eligibility_check.decide(request(), state)


def test_the_answer_is_recorded_once_on_the_check() -> None:
    state = eligibility_check.fold(eligibility_check.decide(request(), eligibility_check.initial))
    answer = RecordAnswer(
        status="active",
        plan_begin_on=date(2026, 1, 1),
        plan_end_on=date(2026, 12, 31),
        deductible_remaining_cents=15000,
        copay_cents=3000,
        coinsurance_basis_points=2000,
        out_of_pocket_remaining_cents=250000,
    )
    (event,) = eligibility_check.decide(answer, state)
    assert event == EligibilityCheckAnswered(
        check_id="check-1",
        coverage_id="cov-1",
        patient_id="pat-1",
        status="active",
        plan_begin_on=date(2026, 1, 1),
        plan_end_on=date(2026, 12, 31),
        deductible_remaining_cents=15000,
        copay_cents=3000,
        coinsurance_basis_points=2000,
        out_of_pocket_remaining_cents=250000,
    )
    answered = eligibility_check.fold([event], state)
    late = RecordAnswer(status="error", reasons=(EligibilityReason(code="AAA:42", description="later"),))
    assert eligibility_check.decide(late, answered) == []


def test_an_answer_to_no_check_is_refused() -> None:
    with pytest.raises(NotRegistered):
        eligibility_check.decide(RecordAnswer(status="active"), eligibility_check.initial)
