"""The patient's side of invoicing's API: payer contracts, estimates, the ACA preventive cost-sharing
work queue and report, and financial assistance (IRC 501(r)). Beside entrypoints/api.py so that the
invoice and payment routes stay readable on their own."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, field_validator
from pydantic_core import PydanticCustomError

from billing_events.contracts.invoicing import CollectionAction, EstimateIssued, FplRow
from billing_events.store import Session
from billing_service.auth import Principal, Role, require
from billing_service.commands import idempotent, metadata_from
from billing_service.pages import PageRequest
from billing_service.problems import FieldError, invalid, not_found
from billing_service.runtime import runtime_of
from invoicing.adapters import patient_side_queries as queries
from invoicing.adapters.patient_side import Projection, patient_side_unit
from invoicing.adapters.payer_contracts import contract_document
from invoicing.application import patient_side
from invoicing.domain import estimates, financial_assistance, preventive
from invoicing.domain.estimates import RequestedLine
from invoicing.domain.fee_schedule import CODE, MODIFIER
from invoicing.domain.financial_assistance import AssistancePolicy, tiers_of
from invoicing.domain.payer_contract import contract_rows
from invoicing.entrypoints.api import parse_day, read_rate_file
from invoicing.entrypoints.errors import domain_errors

router = APIRouter()

ADMIN = Depends(require(Role.ADMIN))
CONTRACT_READERS = Depends(require(Role.ADMIN, Role.BILLER, Role.AUDITOR))
ESTIMATORS = Depends(require(Role.FRONT_DESK, Role.BILLER))
ESTIMATE_READERS = Depends(require(Role.FRONT_DESK, Role.BILLER, Role.AUDITOR))
BILLING_READERS = Depends(require(Role.BILLER, Role.AUDITOR))
ASSISTANCE_TAKERS = Depends(require(Role.FRONT_DESK, Role.BILLER))
COLLECTORS = Depends(require(Role.BILLER, Role.ADMIN))
ASSISTANCE_READERS = Depends(require(Role.FRONT_DESK, Role.BILLER, Role.AUDITOR, Role.ADMIN))
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _id(value: str, field: str) -> None:
    if not _UUID.match(value):
        raise invalid([FieldError(field, "must be a UUID")])


def _iso_text(value: object) -> object:
    if not isinstance(value, str | date):
        raise PydanticCustomError("date_type", "must be a date as YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_text)]


def _basis_points(value: Decimal, field: str) -> int:
    # Range first: quantizing an absurd exponent (1e100000) raises instead of answering.
    if not value.is_finite() or not 0 <= value <= 100 or value != value.quantize(Decimal("0.01")):
        raise invalid([FieldError(field, "must be a percentage from 0 to 100 with at most 2 decimals")])
    return int(value * 100)


# Payer contracts.


@router.put("/contracts/{payer_id}", tags=["payer contracts"])
async def import_contract(
    payer_id: str,
    request: Request,
    principal: Annotated[Principal, ADMIN],
    effective_from: str | None = None,
    requires_modifier_33: bool = False,
) -> JSONResponse:
    """Import a version of a payer's contracted allowed amounts: JSON {effective_from, rows: [{code,
    modifier?, allowed_cents}], requires_modifier_33?} or text/csv (header code,modifier,allowed_cents)
    with ?effective_from=YYYY-MM-DD. Checked and chunked like a fee schedule; all rows or none. A payer
    with a contract in effect on a date of service is in network for it."""
    _id(payer_id, "payer_id")
    errors: list[FieldError] = []
    parsed, effective, rows = await read_rate_file(
        request, effective_from, errors, "allowed_cents", ("requires_modifier_33",)
    )
    modifier_33 = parsed.extra.get("requires_modifier_33", requires_modifier_33)
    if not isinstance(modifier_33, bool):
        errors.append(FieldError("requires_modifier_33", "must be true or false"))
    if errors or effective is None or not isinstance(modifier_33, bool):
        raise invalid(errors, "The contract was not imported: fix the listed lines and send it again.")
    async with runtime_of(request).store.session() as session:
        with domain_errors():
            result = await patient_side.import_payer_contract(
                patient_side_unit(session),
                Projection(session.connection),
                metadata_from(request, principal),
                payer_id,
                effective,
                contract_rows(rows),
                modifier_33,
            )
    return JSONResponse(
        {
            "payer_contract_id": result.payer_contract_id,
            "payer_id": result.payer_id,
            "effective_from": result.effective_from.isoformat(),
            "row_count": result.row_count,
            "versions": result.versions,
            "changed": result.created,
        },
        status_code=201 if result.created else 200,
    )


@router.get("/contracts/{payer_id}", tags=["payer contracts"])
async def get_contract(
    payer_id: str,
    request: Request,
    principal: Annotated[Principal, CONTRACT_READERS],
    effective_on: str | None = None,
) -> Any:
    errors: list[FieldError] = []
    on = parse_day(effective_on, "effective_on", errors, required=False)
    if errors:
        raise invalid(errors)
    async with runtime_of(request).pool.acquire() as connection:
        found = await contract_document(connection, principal.tenant, payer_id, on)
    if found is None:
        raise not_found("contract")
    return found


# Estimates.


class EstimateLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=5)
    units: StrictInt = Field(ge=1, le=estimates.MAX_UNITS)
    modifiers: list[str] = Field(default_factory=list, max_length=4)

    @field_validator("code")
    @classmethod
    def known_format(cls, value: str) -> str:
        code = value.strip().upper()
        if not CODE.match(code):
            raise PydanticCustomError("code", "must be a CPT or HCPCS Level II code")
        return code

    @field_validator("modifiers")
    @classmethod
    def two_characters(cls, value: list[str]) -> list[str]:
        if any(not MODIFIER.match(m) for m in value):
            raise PydanticCustomError("modifier", "each modifier is 2 letters or digits")
        return value


class EstimateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: str = Field(pattern=_UUID.pattern)
    coverage_id: str | None = Field(default=None, pattern=_UUID.pattern)
    service_date: Day
    lines: list[EstimateLineIn] = Field(min_length=1, max_length=estimates.MAX_LINES)
    billing_provider_id: str | None = Field(default=None, pattern=_UUID.pattern)
    # Expected diagnoses (ICD-10-CM): a screening code is preventive only with its Z-diagnosis.
    diagnoses: list[Annotated[str, Field(pattern=r"^[A-Za-z][0-9][0-9A-Za-z](\.?[0-9A-Za-z]{1,4})?$")]] = (
        Field(default_factory=list, max_length=12)
    )


def estimate_json(issued: EstimateIssued, provider: dict[str, Any] | None = None) -> dict[str, Any]:
    body = issued.model_dump(mode="json")
    body["benefits"] = (
        None
        if issued.benefits_source == "none"
        else {
            "source": issued.benefits_source,
            "deductible_remaining_cents": issued.deductible_remaining_cents,
            "copay_cents": issued.copay_cents,
            "coinsurance_percent": (issued.coinsurance_basis_points or 0) / 100,
            "out_of_pocket_remaining_cents": issued.out_of_pocket_remaining_cents,
        }
    )
    if issued.kind == "good_faith":
        # 45 CFR 149.610(c): what a good-faith estimate must show besides the itemised charges.
        body["good_faith_estimate"] = {
            "expected_service_date": issued.service_date.isoformat(),
            "convening_provider": provider,
            "items": [
                {"service_code": line.code, "units": line.units, "expected_charge_cents": line.charge_cents}
                for line in issued.lines
            ],
            "disclaimers": list(estimates.GOOD_FAITH_DISCLAIMERS),
            "dispute_threshold_cents": estimates.DISPUTE_THRESHOLD_CENTS,
            "dispute_resolution": "https://www.cms.gov/nosurprises",
            "not_a_contract": True,
        }
    return body


def _provider_json(found: Any) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "provider_id": found.provider_id,
        "name": found.name,
        "npi": found.npi,
        "tax_id": found.tax_id,
        "address": found.address,
    }


@router.post("/estimates", status_code=201, tags=["estimates"])
async def post_estimate(
    body: EstimateIn, request: Request, principal: Annotated[Principal, ESTIMATORS]
) -> JSONResponse:
    """A cost estimate before a service: charges from the fee schedule in effect on the service date,
    allowed amounts from the payer's contract, the patient's share from the coverage's latest
    eligibility answer; without coverage, a good-faith estimate (No Surprises Act) with its
    disclaimers. Recorded as an EstimateIssued event. Accepts Idempotency-Key."""
    request_lines = tuple(RequestedLine(line.code, line.units, tuple(line.modifiers)) for line in body.lines)

    async def action(session: Session) -> tuple[int, dict[str, Any]]:
        unit = patient_side_unit(session)
        command = patient_side.EstimateRequest(
            estimate_id=str(uuid.uuid4()),
            patient_id=body.patient_id,
            service_date=body.service_date,
            lines=request_lines,
            coverage_id=body.coverage_id,
            billing_provider_id=body.billing_provider_id,
            diagnoses=tuple(d.upper() for d in body.diagnoses),
        )
        with domain_errors():
            issued = await patient_side.issue_estimate(
                unit, Projection(session.connection), metadata_from(request, principal), command
            )
        provider = None
        if body.billing_provider_id:
            provider = _provider_json(await unit.views.provider(principal.tenant, body.billing_provider_id))
        return 201, estimate_json(issued, provider)

    return await idempotent(request, principal, action)


@router.get("/estimates/accuracy", tags=["estimates"])
async def estimates_accuracy(
    request: Request,
    principal: Annotated[Principal, BILLING_READERS],
    start: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
) -> Any:
    """Estimates of service dates in [from, to] beside what each patient was finally billed."""
    window_from, window_to = _window(start, to)
    async with runtime_of(request).pool.acquire() as connection:
        return await queries.estimates_accuracy(connection, principal.tenant, window_from, window_to)


@router.get("/estimates/{estimate_id}", tags=["estimates"])
async def get_estimate(
    estimate_id: str, request: Request, principal: Annotated[Principal, ESTIMATE_READERS]
) -> Any:
    async with runtime_of(request).pool.acquire() as connection:
        found = await queries.estimate(connection, principal.tenant, estimate_id)
    if found is None:
        raise not_found("estimate")
    return estimate_json(EstimateIssued.model_validate(found))


def _window(start: str | None, end: str | None) -> tuple[date, date]:
    errors: list[FieldError] = []
    first = parse_day(start, "from", errors)
    last = parse_day(end, "to", errors)
    if first and last and first > last:
        errors.append(FieldError("to", "must not be before from"))
    if first and not 1900 <= first.year <= 9998:
        errors.append(FieldError("from", "must be within the years 1900-9998"))
    if last and not 1900 <= last.year <= 9998:
        errors.append(FieldError("to", "must be within the years 1900-9998"))
    if errors or first is None or last is None:
        raise invalid(errors)
    return first, last


# ACA preventive services.


@router.get("/work-queues/preventive-cost-sharing", tags=["preventive services"])
async def preventive_cost_sharing_queue(
    request: Request,
    principal: Annotated[Principal, BILLING_READERS],
    *,
    page: Annotated[PageRequest, Depends(queries.PREVENTIVE_COST_SHARING.request)],
) -> Any:
    """Invoices whose payer assigned patient responsibility (PR) to in-network preventive services,
    which PHS Act 2713 forbids: likely appeals. The PR is withheld from the patient meanwhile."""
    async with runtime_of(request).pool.acquire() as connection:
        found = await queries.preventive_cost_sharing_queue(connection, principal.tenant, page)
    return found.as_json()


@router.get("/preventive-services/report", tags=["preventive services"])
async def preventive_services_report(
    request: Request,
    principal: Annotated[Principal, BILLING_READERS],
    start: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
) -> Any:
    """Preventive services billed with a date of service in [from, to], by code, and the cost sharing
    payers assigned on them (withheld in network) or patients were left with (out of network)."""
    window_from, window_to = _window(start, to)
    async with runtime_of(request).pool.acquire() as connection:
        report = await queries.preventive_services_report(
            connection, principal.tenant, window_from, window_to
        )
    report["table"] = {"source": preventive.TABLE_SOURCE, "as_of": preventive.TABLE_AS_OF}
    return report


# Financial assistance (IRC 501(r)).


class TierIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_fpl_percent: StrictInt
    discount_percent: Decimal


class FplIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: StrictInt
    source: str = Field(min_length=1, max_length=300)
    rows: list[FplRow] = Field(min_length=1, max_length=50)
    per_additional_person_cents: StrictInt


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    effective_from: Day
    agb_percent: Decimal
    agb_method: Literal["look-back", "prospective"] = "look-back"
    tiers: list[TierIn] = Field(min_length=1, max_length=financial_assistance.MAX_TIERS)
    fpl: FplIn


@router.put("/financial-assistance-policy", tags=["financial assistance"])
async def put_assistance_policy(
    body: PolicyIn, request: Request, principal: Annotated[Principal, ADMIN]
) -> JSONResponse:
    """The tenant's financial-assistance policy from `effective_from` on: discount tiers by household
    income as a % of the federal poverty guideline, the AGB percentage, and the guideline table (with
    its year and source)."""
    policy = AssistancePolicy(
        effective_from=body.effective_from,
        agb_basis_points=_basis_points(body.agb_percent, "agb_percent"),
        tiers=tiers_of(
            [
                (tier.max_fpl_percent, _basis_points(tier.discount_percent, f"tiers.{i}.discount_percent"))
                for i, tier in enumerate(body.tiers)
            ]
        ),
        fpl_year=body.fpl.year,
        fpl_source=body.fpl.source,
        fpl=tuple(body.fpl.rows),
        fpl_per_additional_person_cents=body.fpl.per_additional_person_cents,
        agb_method=body.agb_method,
    )
    async with runtime_of(request).store.session() as session:
        with domain_errors():
            policy_id, changed = await patient_side.set_assistance_policy(
                patient_side_unit(session),
                Projection(session.connection),
                metadata_from(request, principal),
                policy,
            )
    return JSONResponse(
        {"policy_id": policy_id, "effective_from": policy.effective_from.isoformat(), "changed": changed},
        status_code=201 if changed else 200,
    )


@router.get("/financial-assistance-policy", tags=["financial assistance"])
async def get_assistance_policy(
    request: Request, principal: Annotated[Principal, ASSISTANCE_READERS], effective_on: str | None = None
) -> Any:
    errors: list[FieldError] = []
    on = parse_day(effective_on, "effective_on", errors, required=False)
    if errors:
        raise invalid(errors)
    async with runtime_of(request).pool.acquire() as connection:
        found = await queries.assistance_policy(connection, principal.tenant, on)
    if found is None:
        raise not_found("financial-assistance policy")
    return found


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    household_size: StrictInt
    household_income_cents: StrictInt
    received_on: Day | None = None


@router.post(
    "/patients/{patient_id}/financial-assistance-applications", status_code=201, tags=["financial assistance"]
)
async def post_assistance_application(
    patient_id: str, body: ApplicationIn, request: Request, principal: Annotated[Principal, ASSISTANCE_TAKERS]
) -> JSONResponse:
    """A financial-assistance application decided under the policy in effect when it was received. The
    household's size and income are sealed under the patient's key (PHI); the answer gives only the
    outcome, and the charity write-offs it calls for on the patient's open invoices. Accepts
    Idempotency-Key (the stored answer holds no household data)."""
    _id(patient_id, "patient_id")
    errors = financial_assistance.validate_household(body.household_size, body.household_income_cents)
    if errors:
        raise invalid(errors)
    today = datetime.now(UTC).date()
    received_on = body.received_on or today
    if received_on > today + timedelta(days=1):
        raise invalid([FieldError("received_on", "must not be in the future")])

    async def action(session: Session) -> tuple[int, dict[str, Any]]:
        unit = patient_side_unit(session)
        metadata = metadata_from(request, principal)
        with domain_errors():
            determined = await patient_side.determine_assistance(
                unit,
                Projection(session.connection),
                runtime_of(request).vault,
                metadata,
                str(uuid.uuid4()),
                patient_id,
                body.household_size,
                body.household_income_cents,
                received_on,
            )
            written_off = await patient_side.apply_charity(
                unit, metadata, patient_id, max(today, received_on)
            )
        return 201, {
            "application_id": determined.application_id,
            "patient_id": patient_id,
            "eligible": determined.eligible,
            "discount_percent": determined.discount_basis_points / 100,
            "agb_percent": determined.agb_basis_points / 100,
            "valid_from": determined.valid_from.isoformat(),
            "valid_until": determined.valid_until.isoformat(),
            "charity_write_offs": [_write_off_json(w) for w in written_off],
        }

    return await idempotent(request, principal, action)


def _write_off_json(write_off: patient_side.CharityWriteOff) -> dict[str, Any]:
    return {
        "invoice_id": write_off.invoice_id,
        "write_off_id": write_off.write_off_id,
        "reason": "charity",
        "amount_cents": write_off.amount_cents,
    }


@router.get("/patients/{patient_id}/financial-assistance", tags=["financial assistance"])
async def get_patient_assistance(
    patient_id: str, request: Request, principal: Annotated[Principal, ASSISTANCE_READERS]
) -> Any:
    """The patient's determinations (outcomes only), the charity write-offs still due on their open
    invoices under the one in force today, and the first day an extraordinary collection action is
    allowed (120 days after the first statement, 501(r)-6)."""
    _id(patient_id, "patient_id")
    today = datetime.now(UTC).date()
    async with runtime_of(request).store.session() as session:
        connection = session.connection
        found = await queries.determinations(connection, principal.tenant, patient_id)
        views = patient_side_unit(session).views
        determination = await views.assistance_on(principal.tenant, patient_id, today)
        balances = await views.patient_balances(principal.tenant, patient_id)
        first_statement = await queries.first_statement_on(connection, principal.tenant, patient_id)
    free_care = bool(
        determination and determination.eligible and determination.discount_basis_points == 10_000
    )
    return {
        "patient_id": patient_id,
        "determinations": [
            {
                "application_id": d["application_id"],
                "eligible": d["eligible"],
                "discount_percent": d["discount_basis_points"] / 100,
                "agb_percent": d["agb_basis_points"] / 100,
                "received_on": d["received_on"].isoformat(),
                "valid_from": d["valid_from"].isoformat(),
                "valid_until": d["valid_until"].isoformat(),
            }
            for d in found
        ],
        # Applied when the application is decided and as new balances arrive; what is listed here is
        # what those policies have not caught up with yet.
        "charity_write_offs_due": [
            _write_off_json(w)
            for w in (patient_side.charity_due(determination, balances) if determination else [])
        ],
        "first_statement_on": first_statement.isoformat() if first_statement else None,
        "extraordinary_collection_allowed_from": (
            financial_assistance.earliest_extraordinary_collection(first_statement).isoformat()
            if first_statement and not free_care
            else None
        ),
        "extraordinary_collection_allowed": financial_assistance.extraordinary_collection_allowed(
            first_statement, today, eligible_for_free_care=free_care
        ),
    }


class CollectionActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: CollectionAction
    notice_sent_on: Day | None = None


@router.post(
    "/patients/{patient_id}/extraordinary-collection-actions", status_code=201, tags=["financial assistance"]
)
async def post_collection_action(
    patient_id: str, body: CollectionActionIn, request: Request, principal: Annotated[Principal, COLLECTORS]
) -> JSONResponse:
    """Record an extraordinary collection action (credit reporting, debt sale, legal action). Refused
    with 409 before 120 days after the patient's first statement (and 30 after the written notice),
    or for a patient eligible for free care (IRC 501(r)-6). Accepts Idempotency-Key."""
    _id(patient_id, "patient_id")
    today = datetime.now(UTC).date()

    async def action(session: Session) -> tuple[int, dict[str, Any]]:
        first_statement = await queries.first_statement_on(session.connection, principal.tenant, patient_id)
        with domain_errors():
            recorded = await patient_side.record_collection_action(
                patient_side_unit(session),
                metadata_from(request, principal),
                str(uuid.uuid4()),
                patient_id,
                body.action,
                today,
                first_statement,
                body.notice_sent_on,
            )
        return 201, recorded.model_dump(mode="json")

    return await idempotent(request, principal, action)
