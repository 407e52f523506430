"""Registration's HTTP API (port 8001): translate the request, call the application, answer.

Roles (see the service's README): admin registers payers and providers; front_desk registers
patients, coverages and encounters; front_desk, biller and auditor read patient data; coder reads
encounters (sex and age, no identifiers); auditor lists the audit of patient reads.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from billing_events.store import Session
from billing_service.auth import Principal, Role, require
from billing_service.commands import idempotent
from billing_service.pages import PageRequest
from billing_service.problems import FieldError, Problem, invalid
from billing_service.runtime import runtime_of
from registration.adapters.queries import (
    COVERAGES,
    ENCOUNTERS,
    PATIENT_READS,
    PATIENTS,
    PAYERS,
    PROVIDERS,
    PostgresViews,
)
from registration.application import handlers, queries
from registration.application.handlers import CommandContext
from registration.application.queries import QueryContext, Reader
from registration.entrypoints.context import command_context
from registration.entrypoints.errors import domain_errors
from registration.entrypoints.intake import add_coverage_from, open_encounter_from, register_patient_from
from registration.entrypoints.schemas import (
    CoverageIn,
    EligibilityCheckIn,
    EncounterIn,
    ForgetIn,
    PatientIn,
    PatientPatch,
    PatientSearchIn,
    PayerIn,
    ProviderIn,
    TerminationIn,
    address_input,
    name_input,
)
from registration.settings import registration_settings

router = APIRouter()
T = TypeVar("T")

Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
FrontDesk = Annotated[Principal, Depends(require(Role.FRONT_DESK))]
PatientReader = Annotated[Principal, Depends(require(Role.FRONT_DESK, Role.BILLER, Role.AUDITOR))]
EncounterReader = Annotated[
    Principal, Depends(require(Role.FRONT_DESK, Role.CODER, Role.BILLER, Role.AUDITOR))
]
Anyone = Annotated[
    Principal, Depends(require(Role.FRONT_DESK, Role.CODER, Role.BILLER, Role.AUDITOR, Role.ADMIN))
]
Auditor = Annotated[Principal, Depends(require(Role.AUDITOR))]
# Checking eligibility writes no patient data: the front desk at check-in, the biller before a claim.
EligibilityAsker = Annotated[Principal, Depends(require(Role.FRONT_DESK, Role.BILLER))]
PayersPage = Annotated[PageRequest, Depends(PAYERS.request)]
ProvidersPage = Annotated[PageRequest, Depends(PROVIDERS.request)]
PatientsPage = Annotated[PageRequest, Depends(PATIENTS.request)]
CoveragesPage = Annotated[PageRequest, Depends(COVERAGES.request)]
EncountersPage = Annotated[PageRequest, Depends(ENCOUNTERS.request)]
ReadsPage = Annotated[PageRequest, Depends(PATIENT_READS.request)]
Action = Callable[[CommandContext], Awaitable[tuple[int, dict[str, Any]]]]


async def _create(request: Request, principal: Principal, action: Action) -> JSONResponse:
    """Run a command in one transaction with its Idempotency-Key record."""

    async def run(session: Session) -> tuple[int, dict[str, Any]]:
        with domain_errors():
            return await action(command_context(request, principal, session))

    return await idempotent(request, principal, run)


async def _read(request: Request, principal: Principal, query: Callable[[QueryContext], Awaitable[T]]) -> T:
    """Run a read in one transaction with the audit rows it writes."""
    runtime = runtime_of(request)
    reader = Reader(
        tenant=principal.tenant,
        actor=principal.subject,
        roles=sorted(principal.roles),
        correlation_id=(request.headers.get("x-correlation-id") or "")[:128] or None,
    )
    async with runtime.store.session() as session:
        ctx = QueryContext(PostgresViews(session.connection), runtime.vault, runtime.blind_index, reader)
        with domain_errors():
            return await query(ctx)


def _etag(version: int) -> str:
    return f'"{version}"'


_IF_MATCH = re.compile(r'\s*(?:W/)?"?([0-9]+)"?\s*')


def _expected_version(if_match: str | None) -> int | None:
    """If-Match holds the ETag of GET /patients/{id} (the patient stream's version); `*` takes any."""
    if if_match is None:
        raise Problem(
            428,
            "Precondition Required",
            "Send If-Match with the ETag of the patient record you are changing.",
            "/problems/precondition-required",
        )
    if if_match.strip() == "*":
        return None
    match = _IF_MATCH.fullmatch(if_match)
    if match is None:
        raise invalid([FieldError("If-Match", 'must be the ETag of the patient record, e.g. "3"')])
    return int(match.group(1))


# payers and providers (admin writes; everyone reads)


@router.post("/payers", status_code=201, tags=["payers"])
async def register_payer(request: Request, body: PayerIn, principal: Admin) -> JSONResponse:
    async def action(ctx: CommandContext) -> tuple[int, dict[str, Any]]:
        payer_id = await handlers.register_payer(
            ctx,
            name=body.name,
            edi_payer_id=body.edi_payer_id,
            claim_filing_indicator=body.claim_filing_indicator,
            address=address_input(body.address),
            timely_filing_days=body.timely_filing_days,
        )
        return 201, {"payer_id": payer_id}

    return await _create(request, principal, action)


@router.get("/payers", tags=["payers"])
async def list_payers(request: Request, principal: Anyone, page: PayersPage) -> Any:
    listing = await _read(request, principal, lambda ctx: queries.list_payers(ctx, page))
    return listing.as_json()


@router.get("/payers/{payer_id}", tags=["payers"])
async def get_payer(request: Request, payer_id: str, principal: Anyone) -> Any:
    return await _read(request, principal, lambda ctx: queries.get_payer(ctx, payer_id))


@router.post("/providers", status_code=201, tags=["providers"])
async def enroll_provider(request: Request, body: ProviderIn, principal: Admin) -> JSONResponse:
    async def action(ctx: CommandContext) -> tuple[int, dict[str, Any]]:
        provider_id = await handlers.enroll_provider(
            ctx,
            npi=body.npi,
            name=body.domain_name(),
            taxonomy_code=body.taxonomy_code,
            role=body.role,
            address=address_input(body.address),
            tax_id=body.tax_id,
        )
        return 201, {"provider_id": provider_id}

    return await _create(request, principal, action)


@router.get("/providers", tags=["providers"])
async def list_providers(
    request: Request,
    principal: Anyone,
    role: str | None = None,
    npi: str | None = None,
    *,
    page: ProvidersPage,
) -> Any:
    listing = await _read(
        request, principal, lambda ctx: queries.list_providers(ctx, page, role=role, npi=npi)
    )
    return listing.as_json()


@router.get("/providers/{provider_id}", tags=["providers"])
async def get_provider(request: Request, provider_id: str, principal: Anyone) -> Any:
    return await _read(request, principal, lambda ctx: queries.get_provider(ctx, provider_id))


# patients (front desk writes; reads are audited)


@router.post("/patients", status_code=201, tags=["patients"])
async def register_patient(request: Request, body: PatientIn, principal: FrontDesk) -> JSONResponse:
    async def action(ctx: CommandContext) -> tuple[int, dict[str, Any]]:
        patient_id = await register_patient_from(ctx, body)
        return 201, {"patient_id": patient_id}

    return await _create(request, principal, action)


@router.get("/patients", tags=["patients"])
async def find_patients(
    request: Request,
    principal: PatientReader,
    mrn: str | None = None,
    *,
    page: PatientsPage,
) -> Any:
    listing = await _read(request, principal, lambda ctx: queries.find_patients(ctx, mrn=mrn, page=page))
    return listing.as_json()


@router.post("/patients/search", tags=["patients"])
async def search_patients(request: Request, body: PatientSearchIn, principal: PatientReader) -> Any:
    """Find a patient by MRN without the MRN in the URL (URLs end up in proxy and access logs); the
    answer is that of `GET /patients?mrn=`, and the read is audited the same way."""
    first_page = PATIENTS.request(limit=1)
    listing = await _read(
        request, principal, lambda ctx: queries.find_patients(ctx, mrn=body.mrn, page=first_page)
    )
    return listing.as_json()


@router.get("/patients/{patient_id}", tags=["patients"])
async def get_patient(request: Request, patient_id: str, principal: PatientReader) -> JSONResponse:
    record = await _read(request, principal, lambda ctx: queries.get_patient(ctx, patient_id))
    return JSONResponse(record, headers={"ETag": _etag(record["version"])})


@router.patch("/patients/{patient_id}", tags=["patients"])
async def update_demographics(
    request: Request,
    patient_id: str,
    body: PatientPatch,
    principal: FrontDesk,
    if_match: Annotated[str | None, Header(description="the ETag of GET /patients/{patient_id}")] = None,
) -> JSONResponse:
    expected = _expected_version(if_match)
    async with runtime_of(request).store.session() as session:
        with domain_errors():
            version = await handlers.update_demographics(
                command_context(request, principal, session),
                patient_id,
                expected_version=expected,
                name=name_input(body.name),
                birth_date=body.birth_date,
                sex=body.sex,
                address=address_input(body.address),
                phone=body.phone,
            )
    return JSONResponse({"patient_id": patient_id, "version": version}, headers={"ETag": _etag(version)})


@router.post("/patients/{patient_id}/forget", tags=["patients"])
async def forget_patient(request: Request, patient_id: str, body: ForgetIn, principal: Admin) -> JSONResponse:
    """Crypto-shred the patient (admin): records PatientForgotten and destroys the patient's data key,
    so every sealed value of the patient, in every service, is unreadable; reads then answer 410.
    Refused with 409 within the retention period after the last service date unless `legal_order`.
    Asking again answers 200 with `forgotten_now: false`."""
    async with runtime_of(request).store.session() as session:
        with domain_errors():
            forgotten_now = await handlers.forget_patient(
                command_context(request, principal, session),
                patient_id,
                reason=body.reason,
                legal_order=body.legal_order,
                retention_days=registration_settings().patient_retention_days,
            )
    return JSONResponse({"patient_id": patient_id, "forgotten": True, "forgotten_now": forgotten_now})


# coverages


@router.post("/patients/{patient_id}/coverages", status_code=201, tags=["coverages"])
async def add_coverage(
    request: Request, patient_id: str, body: CoverageIn, principal: FrontDesk
) -> JSONResponse:
    async def action(ctx: CommandContext) -> tuple[int, dict[str, Any]]:
        coverage_id = await add_coverage_from(ctx, patient_id, body)
        return 201, {"coverage_id": coverage_id}

    return await _create(request, principal, action)


@router.get("/patients/{patient_id}/coverages", tags=["coverages"])
async def coverages_of(
    request: Request, patient_id: str, principal: PatientReader, page: CoveragesPage
) -> Any:
    listing = await _read(request, principal, lambda ctx: queries.coverages_of(ctx, patient_id, page))
    return listing.as_json()


@router.get("/coverages/{coverage_id}", tags=["coverages"])
async def get_coverage(request: Request, coverage_id: str, principal: PatientReader) -> Any:
    return await _read(request, principal, lambda ctx: queries.get_coverage(ctx, coverage_id))


@router.post("/coverages/{coverage_id}/terminate", tags=["coverages"])
async def terminate_coverage(
    request: Request, coverage_id: str, body: TerminationIn, principal: FrontDesk
) -> JSONResponse:
    async def action(ctx: CommandContext) -> tuple[int, dict[str, Any]]:
        end = await handlers.terminate_coverage(ctx, coverage_id, effective_to=body.effective_to)
        return 200, {"coverage_id": coverage_id, "effective_to": end.isoformat(), "status": "terminated"}

    return await _create(request, principal, action)


# eligibility checks (answered by the payer's 271 through claims' clearinghouse exchange)


@router.post("/coverages/{coverage_id}/eligibility-checks", status_code=202, tags=["eligibility"])
async def request_eligibility_check(
    request: Request, coverage_id: str, principal: EligibilityAsker, body: EligibilityCheckIn | None = None
) -> JSONResponse:
    """202 {check_id}: the question is recorded and goes to the payer as a 270; read the answer with
    `GET /eligibility-checks/{check_id}` (status pending until the 271 arrives) or on the coverage."""
    given = body or EligibilityCheckIn()

    async def action(ctx: CommandContext) -> tuple[int, dict[str, Any]]:
        check_id = await handlers.request_eligibility_check(
            ctx, coverage_id, provider_id=given.provider_id, service_date=given.service_date
        )
        return 202, {"check_id": check_id, "status": "pending"}

    return await _create(request, principal, action)


@router.get("/eligibility-checks/{check_id}", tags=["eligibility"])
async def get_eligibility_check(request: Request, check_id: str, principal: PatientReader) -> Any:
    return await _read(request, principal, lambda ctx: queries.get_eligibility_check(ctx, check_id))


# encounters


@router.post("/encounters", status_code=201, tags=["encounters"])
async def open_encounter(request: Request, body: EncounterIn, principal: FrontDesk) -> JSONResponse:
    async def action(ctx: CommandContext) -> tuple[int, dict[str, Any]]:
        encounter_id = await open_encounter_from(ctx, body)
        return 201, {"encounter_id": encounter_id}

    return await _create(request, principal, action)


@router.get("/encounters", tags=["encounters"])
async def list_encounters(
    request: Request,
    principal: EncounterReader,
    patient_id: str | None = None,
    *,
    page: EncountersPage,
) -> Any:
    listing = await _read(
        request, principal, lambda ctx: queries.list_encounters(ctx, patient_id=patient_id, page=page)
    )
    return listing.as_json()


@router.get("/encounters/{encounter_id}", tags=["encounters"])
async def get_encounter(request: Request, encounter_id: str, principal: EncounterReader) -> Any:
    return await _read(request, principal, lambda ctx: queries.get_encounter(ctx, encounter_id))


# the audit of patient reads


@router.get("/audit/patient-reads", tags=["audit"])
async def patient_reads(
    request: Request,
    principal: Auditor,
    patient_id: str | None = None,
    actor: str | None = None,
    *,
    page: ReadsPage,
) -> Any:
    listing = await _read(
        request,
        principal,
        lambda ctx: queries.patient_reads(ctx, patient_id=patient_id, actor=actor, page=page),
    )
    return listing.as_json()
