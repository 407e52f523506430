"""The Coverage aggregate: a patient's insurance with one payer, at one priority, for a period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from billing_events.contracts.base import Event
from billing_events.contracts.registration import CoverageAdded, CoverageTerminated
from billing_events.decider import Decider
from registration.domain.errors import (
    AlreadyExists,
    CoverageAlreadyTerminated,
    CoverageOverlap,
    NotRegistered,
)
from registration.domain.validation import IDENTIFIER, PRIORITIES, RELATIONSHIPS, Issues
from registration.domain.values import Sealer, SubscriberInput


@dataclass(frozen=True)
class CoverageSpan:
    """Another coverage of the same patient at the same priority, as the tenant's view knows it."""

    coverage_id: str
    effective_from: date
    effective_to: date | None

    def overlaps(self, start: date, end: date | None) -> bool:
        return start <= (self.effective_to or date.max) and self.effective_from <= (end or date.max)


@dataclass(frozen=True)
class AddCoverage:
    coverage_id: str
    patient_id: str
    payer_id: str | None
    member_id: str | None
    group_number: str | None
    priority: str | None
    relationship_to_subscriber: str | None
    subscriber: SubscriberInput | None
    effective_from: str | None
    effective_to: str | None
    today: date
    seal: Sealer
    # Facts the application read from the tenant's views (under a lock on the patient's coverages).
    patient_known: bool = True
    payer_known: bool = True
    same_priority: tuple[CoverageSpan, ...] = ()


@dataclass(frozen=True)
class TerminateCoverage:
    coverage_id: str
    effective_to: str | None


CoverageCommand = AddCoverage | TerminateCoverage


@dataclass(frozen=True)
class CoverageState:
    added: bool = False
    patient_id: str | None = None
    priority: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    terminated: bool = False


def _add(command: AddCoverage, state: CoverageState) -> list[Event]:
    if state.added:
        raise AlreadyExists("coverage")
    if not command.patient_known:
        raise NotRegistered("patient")
    issues = Issues()
    payer_id = issues.text("payer_id", command.payer_id, max_length=64)
    if payer_id and not command.payer_known:
        issues.add("payer_id", "no such payer in this tenant")
    member_id = issues.text(
        "member_id",
        command.member_id,
        max_length=80,
        pattern=IDENTIFIER,
        pattern_message="must be letters, digits and . - _ / only",
    )
    group_number = issues.text("group_number", command.group_number, required=False, max_length=50)
    priority = issues.code("priority", command.priority, PRIORITIES)
    relationship = issues.code(
        "relationship_to_subscriber", command.relationship_to_subscriber, RELATIONSHIPS
    )
    subscriber = None
    if relationship == "self" and command.subscriber is not None:
        issues.add("subscriber", "must be left out when the patient is the subscriber")
    elif relationship not in (None, "self"):
        given = command.subscriber
        if given is None:
            issues.add("subscriber", "is required unless relationship_to_subscriber is self")
        else:
            name = issues.name("subscriber.name", given.name)
            born = issues.birth_date("subscriber.birth_date", given.birth_date, today=command.today)
            sex = issues.sex("subscriber.sex", given.sex)
            address = issues.address("subscriber.address", given.address)
            if name and born and sex and address:
                subscriber = {
                    "name": name.as_json(),
                    "birth_date": born.isoformat(),
                    "sex": sex,
                    "address": address.as_json(),
                }
    start = issues.date("effective_from", command.effective_from)
    end = issues.date("effective_to", command.effective_to, required=False)
    if start and end and end < start:
        issues.add("effective_to", "must not be before effective_from")
    issues.raise_if_any()
    assert payer_id and member_id and priority and relationship and start
    if any(span.overlaps(start, end) for span in command.same_priority):
        raise CoverageOverlap(priority)
    seal = command.seal
    return [
        CoverageAdded(
            coverage_id=command.coverage_id,
            patient_id=command.patient_id,
            payer_id=payer_id,
            member_id=seal("member_id", member_id),
            group_number=group_number,
            priority=priority,
            relationship_to_subscriber=relationship,
            subscriber=seal("subscriber", subscriber) if subscriber else None,
            effective_from=start,
            effective_to=end,
        )
    ]


def _terminate(command: TerminateCoverage, state: CoverageState) -> list[Event]:
    if not state.added:
        raise NotRegistered("coverage")
    if state.terminated:
        raise CoverageAlreadyTerminated()
    assert state.patient_id and state.effective_from
    issues = Issues()
    end = issues.date("effective_to", command.effective_to)
    if end and end < state.effective_from:
        issues.add("effective_to", "must not be before the coverage's effective_from")
    elif end and state.effective_to and end > state.effective_to:
        issues.add("effective_to", "must not be after the coverage's current effective_to")
    issues.raise_if_any()
    assert end
    return [
        CoverageTerminated(coverage_id=command.coverage_id, patient_id=state.patient_id, effective_to=end)
    ]


def decide(command: CoverageCommand, state: CoverageState) -> Sequence[Event]:
    if isinstance(command, AddCoverage):
        return _add(command, state)
    return _terminate(command, state)


def evolve(state: CoverageState, event: Event) -> CoverageState:
    if isinstance(event, CoverageAdded):
        return CoverageState(
            added=True,
            patient_id=event.patient_id,
            priority=event.priority,
            effective_from=event.effective_from,
            effective_to=event.effective_to,
        )
    if isinstance(event, CoverageTerminated):
        return CoverageState(
            added=state.added,
            patient_id=state.patient_id,
            priority=state.priority,
            effective_from=state.effective_from,
            effective_to=event.effective_to,
            terminated=True,
        )
    return state


coverage = Decider[CoverageCommand, CoverageState](CoverageState(), decide, evolve, "coverage")
