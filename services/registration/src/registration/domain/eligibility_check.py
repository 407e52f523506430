"""The EligibilityCheck aggregate: the front desk asks whether a coverage is in force on a date, and
the payer's answer (a 271, read by claims) is recorded on the check.

Asking needs the coverage (404 otherwise) and a provider to ask for (the information receiver of
the 270): the one given, else the tenant's first enrolled billing provider. The service date
defaults to today and may lie up to a year ahead (payers answer for planned visits) but not before
1900. The answer is recorded once: a second answer to the same check changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from billing_events.contracts.base import Event
from billing_events.contracts.registration import (
    EligibilityCheckAnswered,
    EligibilityCheckRequested,
    EligibilityReason,
)
from billing_events.decider import Decider
from registration.domain.errors import AlreadyExists, NotRegistered
from registration.domain.validation import Issues

Status = Literal["active", "inactive", "error"]
# How far ahead a check may ask: payers answer 270s for planned visits, not for any date.
MAX_DAYS_AHEAD = 365


@dataclass(frozen=True)
class CoverageFacts:
    patient_id: str
    payer_id: str


@dataclass(frozen=True)
class RequestCheck:
    check_id: str
    coverage_id: str
    service_date: str | None
    provider_id: str | None
    today: date
    # What the application read from the tenant's views.
    coverage: CoverageFacts | None
    provider_known: bool
    default_provider_id: str | None


@dataclass(frozen=True)
class RecordAnswer:
    """The payer's answer as claims read it (EligibilityResponseReceived or EligibilityInquiryFailed)."""

    status: Status
    plan_begin_on: date | None = None
    plan_end_on: date | None = None
    deductible_remaining_cents: int | None = None
    copay_cents: int | None = None
    coinsurance_basis_points: int | None = None
    out_of_pocket_remaining_cents: int | None = None
    reasons: tuple[EligibilityReason, ...] = ()


CheckCommand = RequestCheck | RecordAnswer


@dataclass(frozen=True)
class CheckState:
    requested: bool = False
    check_id: str | None = None
    coverage_id: str | None = None
    patient_id: str | None = None
    answered: bool = False


def _request(command: RequestCheck, state: CheckState) -> list[Event]:
    if state.requested:
        raise AlreadyExists("eligibility check")
    coverage = command.coverage
    if coverage is None:
        raise NotRegistered("coverage")
    issues = Issues()
    service_date = command.today
    if command.service_date is not None:
        given = issues.date("service_date", command.service_date)
        if given is not None and given < date(1900, 1, 1):
            issues.add("service_date", "must not be before 1900-01-01")
        elif given is not None and given > command.today + timedelta(days=MAX_DAYS_AHEAD):
            issues.add("service_date", f"must not be more than {MAX_DAYS_AHEAD} days ahead")
        elif given is not None:
            service_date = given
    provider_id = command.provider_id
    if provider_id is not None and not command.provider_known:
        issues.add("provider_id", "no such provider in this tenant")
    elif provider_id is None:
        provider_id = command.default_provider_id
        if provider_id is None:
            issues.add("provider_id", "is required: no billing provider is enrolled to ask for")
    issues.raise_if_any()
    return [
        EligibilityCheckRequested(
            check_id=command.check_id,
            coverage_id=command.coverage_id,
            patient_id=coverage.patient_id,
            payer_id=coverage.payer_id,
            service_date=service_date,
            provider_id=provider_id,
        )
    ]


def _answer(command: RecordAnswer, state: CheckState) -> list[Event]:
    if not state.requested:
        raise NotRegistered("eligibility check")
    if state.answered:
        return []
    assert state.check_id and state.coverage_id and state.patient_id
    return [
        EligibilityCheckAnswered(
            check_id=state.check_id,
            coverage_id=state.coverage_id,
            patient_id=state.patient_id,
            status=command.status,
            plan_begin_on=command.plan_begin_on,
            plan_end_on=command.plan_end_on,
            deductible_remaining_cents=command.deductible_remaining_cents,
            copay_cents=command.copay_cents,
            coinsurance_basis_points=command.coinsurance_basis_points,
            out_of_pocket_remaining_cents=command.out_of_pocket_remaining_cents,
            reasons=command.reasons,
        )
    ]


def decide(command: CheckCommand, state: CheckState) -> Sequence[Event]:
    if isinstance(command, RequestCheck):
        return _request(command, state)
    return _answer(command, state)


def evolve(state: CheckState, event: Event) -> CheckState:
    if isinstance(event, EligibilityCheckRequested):
        return CheckState(True, event.check_id, event.coverage_id, event.patient_id)
    if isinstance(event, EligibilityCheckAnswered):
        return CheckState(True, state.check_id, state.coverage_id, state.patient_id, answered=True)
    return state


eligibility_check = Decider[CheckCommand, CheckState](CheckState(), decide, evolve, "eligibility-check")
