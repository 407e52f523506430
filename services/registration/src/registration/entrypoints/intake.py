"""Batched intake: many visits (patient, coverages, encounter) in one request and one transaction.

A hospital's interface engine sends visits in batches; four HTTP calls and three commits per visit
cost more than the commands themselves. `POST /intake` runs the same handlers as `POST /patients`,
`POST /patients/{id}/coverages` and `POST /encounters`, in one transaction: every visit is stored
or none is, and a refusal names the visit and the field (`visits[3].patient.birth_date`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from billing_events.store import Session
from billing_service.auth import Principal, Role, require
from billing_service.commands import idempotent
from billing_service.problems import FieldError, Problem
from registration.application import handlers
from registration.application.handlers import CommandContext
from registration.entrypoints.context import command_context
from registration.entrypoints.errors import domain_errors
from registration.entrypoints.schemas import (
    Body,
    CoverageIn,
    EncounterIn,
    PatientIn,
    address_input,
    name_input,
)
from registration.settings import registration_settings

MAX_VISITS = 500
MAX_COVERAGES = 3

router = APIRouter(tags=["intake"])
FrontDesk = Annotated[Principal, Depends(require(Role.FRONT_DESK))]


async def register_patient_from(ctx: CommandContext, body: PatientIn) -> str:
    return await handlers.register_patient(
        ctx,
        mrn=body.mrn,
        name=name_input(body.name),
        birth_date=body.birth_date,
        sex=body.sex,
        address=address_input(body.address),
        phone=body.phone,
    )


async def add_coverage_from(ctx: CommandContext, patient_id: str, body: CoverageIn) -> str:
    return await handlers.add_coverage(
        ctx,
        patient_id,
        payer_id=body.payer_id,
        member_id=body.member_id,
        group_number=body.group_number,
        priority=body.priority,
        relationship_to_subscriber=body.relationship_to_subscriber,
        subscriber=body.subscriber.domain() if body.subscriber is not None else None,
        effective_from=body.effective_from,
        effective_to=body.effective_to,
    )


async def open_encounter_from(ctx: CommandContext, body: EncounterIn) -> str:
    return await handlers.open_encounter(
        ctx,
        patient_id=body.patient_id,
        billing_provider_id=body.billing_provider_id,
        rendering_provider_id=body.rendering_provider_id,
        service_date=body.service_date,
        place_of_service=body.place_of_service,
        check_eligibility_after_days=registration_settings().eligibility_check_on_encounter_days,
    )


class VisitEncounterIn(Body):
    """The encounter of a visit; its patient is the visit's patient."""

    billing_provider_id: str | None = None
    rendering_provider_id: str | None = None
    service_date: str | None = None
    place_of_service: str | None = None

    def with_patient(self, patient_id: str) -> EncounterIn:
        return EncounterIn(patient_id=patient_id, **self.model_dump())


class VisitIn(Body):
    patient: PatientIn
    coverages: list[CoverageIn] = Field(default_factory=list, max_length=MAX_COVERAGES)
    encounter: VisitEncounterIn


class IntakeIn(Body):
    visits: list[VisitIn] = Field(min_length=1, max_length=MAX_VISITS)


def _located(problem: Problem, where: str) -> Problem:
    """The same problem, naming the part of the batch it is about (never its values)."""
    if problem.errors:
        return replace(problem, errors=[FieldError(f"{where}.{e.field}", e.message) for e in problem.errors])
    return replace(problem, detail=f"{where}: {problem.detail}")


async def take_visits(ctx: CommandContext, visits: list[VisitIn]) -> list[dict[str, Any]]:
    """Run every visit's commands in `ctx`'s transaction; the first refusal refuses the batch."""
    taken: list[dict[str, Any]] = []
    for n, visit in enumerate(visits):
        where = f"visits[{n}]"
        step = f"{where}.patient"
        try:
            with domain_errors():
                patient_id = await register_patient_from(ctx, visit.patient)
                coverage_ids = []
                for c, coverage in enumerate(visit.coverages):
                    step = f"{where}.coverages[{c}]"
                    coverage_ids.append(await add_coverage_from(ctx, patient_id, coverage))
                step = f"{where}.encounter"
                encounter_id = await open_encounter_from(ctx, visit.encounter.with_patient(patient_id))
        except Problem as problem:
            raise _located(problem, step) from None
        taken.append({"patient_id": patient_id, "coverage_ids": coverage_ids, "encounter_id": encounter_id})
    return taken


@router.post("/intake", status_code=201)
async def intake(request: Request, body: IntakeIn, principal: FrontDesk) -> JSONResponse:
    """Register up to 500 visits at once: 201 {visits: [{patient_id, coverage_ids, encounter_id}]} in
    the order sent, or a refusal naming the visit and field, with nothing stored."""

    async def run(session: Session) -> tuple[int, dict[str, Any]]:
        return 201, {"visits": await take_visits(command_context(request, principal, session), body.visits)}

    return await idempotent(request, principal, run)
