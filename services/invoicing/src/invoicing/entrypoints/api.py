"""Invoicing's HTTP API: fee schedules, invoices and their ledgers, patient payments and statements."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, field_validator
from pydantic_core import PydanticCustomError

from billing_events.contracts.invoicing import FeeScheduleRow
from billing_events.store import Session
from billing_service.auth import Principal, Role, require
from billing_service.commands import idempotent, metadata_from
from billing_service.http import read_body
from billing_service.pages import Page, PageRequest
from billing_service.problems import FieldError, Problem, invalid, not_found
from billing_service.runtime import runtime_of
from invoicing.adapters import accounting_queries, queries
from invoicing.adapters.fee_schedule_files import (
    Columns,
    ParsedFile,
    read_csv,
    read_csv_records,
    read_json,
    read_json_records,
)
from invoicing.adapters.projections import postgres_unit
from invoicing.application import handlers
from invoicing.domain import chargemaster
from invoicing.domain.encounter_charges import MAX_LINES as MAX_CHARGE_LINES
from invoicing.domain.encounter_charges import MAX_UNITS, RequestedCharge
from invoicing.domain.fee_schedule import validate_name, validate_rows
from invoicing.domain.invoice import STATUSES, ApplyPatientPayment
from invoicing.entrypoints import statements
from invoicing.entrypoints.errors import domain_errors
from invoicing.settings import invoicing_settings

router = APIRouter()

ADMIN = Depends(require(Role.ADMIN))
FEE_SCHEDULE_READERS = Depends(require(Role.ADMIN, Role.BILLER, Role.AUDITOR))
INVOICE_READERS = Depends(require(Role.BILLER, Role.AUDITOR))
PAYMENT_TAKERS = Depends(require(Role.BILLER, Role.FRONT_DESK))
STATEMENT_READERS = Depends(require(Role.FRONT_DESK, Role.BILLER, Role.AUDITOR))

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_PAYMENT_CENTS = 100_000_000
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(value: object, field: str, errors: list[FieldError], *, required: bool = True) -> date | None:
    if value is None or value == "":
        if required:
            errors.append(FieldError(field, "is required (YYYY-MM-DD)"))
        return None
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors.append(FieldError(field, "must be a date as YYYY-MM-DD"))
    return None


def _iso_text(value: object) -> object:
    # JSON has no date type; refusing numbers here keeps pydantic from reading them as timestamps.
    if not isinstance(value, str | date):
        raise PydanticCustomError("date_type", "must be a date as YYYY-MM-DD")
    return value


async def read_rate_file(
    request: Request,
    effective_from: str | None,
    errors: list[FieldError],
    amount_column: str = "amount_cents",
    extra_fields: tuple[str, ...] = (),
) -> tuple[ParsedFile, date | None, tuple[FeeScheduleRow, ...]]:
    """A price file (fee schedule or payer contract) as text/csv with ?effective_from or as JSON
    {effective_from, rows}: every row checked by the fee-schedule rules, every problem added to
    `errors` with its line, so the caller refuses the whole file."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await read_body(request, MAX_FILE_BYTES)  # refused while streaming past 5 MB
    parsed: ParsedFile
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid([*errors, FieldError("body", "must be UTF-8 text")]) from None
    if media in ("text/csv", "application/csv"):
        parsed = read_csv(text, amount_column)
        effective = parse_day(effective_from, "effective_from", errors)
    elif media == "application/json" or media.endswith("+json"):
        parsed = read_json(text, amount_column, extra_fields)
        given = parsed.effective_from if parsed.effective_from is not None else effective_from
        effective = parse_day(given, "effective_from", errors)
    else:
        raise Problem(
            415,
            "Unsupported Media Type",
            "Send the file as text/csv or application/json.",
            "/problems/unsupported-media-type",
        )
    errors += list(parsed.errors)
    rows, row_errors = validate_rows(parsed.rows)
    if parsed.rows or not parsed.errors:
        errors += list(row_errors)
    return parsed, effective, rows


# Fee schedules.


@router.put("/fee-schedules/{name}", tags=["fee schedules"])
async def import_fee_schedule(
    name: str,
    request: Request,
    principal: Annotated[Principal, ADMIN],
    effective_from: str | None = None,
) -> JSONResponse:
    """Import a version of a fee schedule: JSON {effective_from, rows: [{code, modifier?, amount_cents}]}
    or text/csv (header code,modifier,amount_cents) with ?effective_from=YYYY-MM-DD. Every row is
    checked; any bad row refuses the whole file with its line, and nothing is imported."""
    errors = list(validate_name(name))
    _, effective, rows = await read_rate_file(request, effective_from, errors)
    if errors or effective is None:
        raise invalid(errors, "The fee schedule was not imported: fix the listed lines and send it again.")
    runtime = runtime_of(request)
    async with runtime.store.session() as session:
        with domain_errors():
            result = await handlers.import_fee_schedule(
                postgres_unit(session),
                metadata_from(request, principal),
                name,
                effective,
                rows,
            )
    return JSONResponse(
        {
            "fee_schedule_id": result.fee_schedule_id,
            "name": result.name,
            "effective_from": result.effective_from.isoformat(),
            "row_count": result.row_count,
            "versions": result.versions,
            "changed": result.created,
        },
        status_code=201 if result.created else 200,
    )


@router.get("/fee-schedules", tags=["fee schedules"])
async def list_fee_schedules(request: Request, principal: Annotated[Principal, FEE_SCHEDULE_READERS]) -> Any:
    async with runtime_of(request).pool.acquire() as connection:
        items = await queries.fee_schedules(connection, principal.tenant)
    return Page(items).as_json()


@router.get("/fee-schedules/{name}", tags=["fee schedules"])
async def get_fee_schedule(
    name: str,
    request: Request,
    principal: Annotated[Principal, FEE_SCHEDULE_READERS],
    effective_on: str | None = None,
) -> Any:
    """The version of the schedule in effect on `effective_on` (the latest when not given), with its rows."""
    errors: list[FieldError] = []
    on = parse_day(effective_on, "effective_on", errors, required=False)
    if errors:
        raise invalid(errors)
    async with runtime_of(request).pool.acquire() as connection:
        found = await queries.fee_schedule(connection, principal.tenant, name, on)
    if found is None:
        raise not_found("fee schedule")
    return found


# The chargemaster and charge capture.

# A 60,000-row chargemaster is about 9 MB of JSON; a bigger body is refused while it streams.
MAX_CHARGEMASTER_BYTES = 32 * 1024 * 1024
CHARGEMASTER_COLUMNS = Columns(chargemaster.COLUMNS, chargemaster.REQUIRED)
CHARGE_TAKERS = Depends(require(Role.BILLER, Role.FRONT_DESK, Role.CODER))


@router.put("/chargemaster", tags=["chargemaster"])
async def import_chargemaster(
    request: Request, principal: Annotated[Principal, ADMIN], effective_from: str | None = None
) -> JSONResponse:
    """Import a version of the chargemaster: JSON {effective_from, rows: [{charge_code, description,
    revenue_code, hcpcs?, amount_cents}]} or text/csv (header charge_code,description,revenue_code,
    hcpcs,amount_cents) with ?effective_from=YYYY-MM-DD. The version replaces the whole price list from
    its date on. Any bad row refuses the whole file with its line, and nothing is imported."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await read_body(request, MAX_CHARGEMASTER_BYTES)
    errors: list[FieldError] = []
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid([FieldError("body", "must be UTF-8 text")]) from None
    if media in ("text/csv", "application/csv"):
        parsed = read_csv_records(text, CHARGEMASTER_COLUMNS)
        effective = parse_day(effective_from, "effective_from", errors)
    elif media == "application/json" or media.endswith("+json"):
        parsed = read_json_records(text, CHARGEMASTER_COLUMNS)
        given = parsed.effective_from if parsed.effective_from is not None else effective_from
        effective = parse_day(given, "effective_from", errors)
    else:
        raise Problem(
            415,
            "Unsupported Media Type",
            "Send the chargemaster as text/csv or application/json.",
            "/problems/unsupported-media-type",
        )
    errors += parsed.errors
    raw_rows = [
        chargemaster.RawChargeRow(record.field_prefix, record.where, record.cells, record.from_text)
        for record in parsed.rows
    ]
    rows, row_errors = chargemaster.validate_rows(raw_rows)
    if parsed.rows or not parsed.errors:
        errors += row_errors
    if errors or effective is None:
        raise invalid(errors, "The chargemaster was not imported: fix the listed lines and send it again.")
    async with runtime_of(request).store.session() as session:
        with domain_errors():
            result = await handlers.import_chargemaster(
                postgres_unit(session), metadata_from(request, principal), effective, rows
            )
    return JSONResponse(
        {
            "chargemaster_id": result.chargemaster_id,
            "effective_from": result.effective_from.isoformat(),
            "row_count": result.row_count,
            "created": result.created,
        }
    )


class ChargeLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    charge_code: str = Field(min_length=1, max_length=20)
    units: StrictInt = Field(ge=1, le=MAX_UNITS)
    service_date: Annotated[date, BeforeValidator(_iso_text)]


class ChargesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[ChargeLineIn] = Field(min_length=1, max_length=MAX_CHARGE_LINES)


@router.post("/encounters/{encounter_id}/charges", status_code=201, tags=["chargemaster"])
async def capture_charges(
    encounter_id: str, body: ChargesIn, request: Request, principal: Annotated[Principal, CHARGE_TAKERS]
) -> JSONResponse:
    """Charges on an institutional encounter, during or after the stay, each line priced from the
    chargemaster in effect on its service date (a code it lacks refuses the capture with the line
    named). Accepts an Idempotency-Key: the same key and body capture once."""
    try:
        uuid.UUID(encounter_id)
    except ValueError:
        raise invalid([FieldError("encounter_id", "must be a UUID")]) from None
    capture_id = str(uuid.uuid4())
    settings = invoicing_settings()
    requested = tuple(
        RequestedCharge(line.charge_code.strip().upper(), line.units, line.service_date)
        for line in body.lines
    )

    async def action(session: Session) -> tuple[int, dict[str, Any]]:
        with domain_errors():
            captured = await handlers.capture_and_bill(
                postgres_unit(session),
                metadata_from(request, principal),
                encounter_id,
                capture_id,
                requested,
                today=datetime.now(UTC).date(),
                hold_days=settings.bill_hold_days,
                claim_for=settings.late_charge_claim_for,
            )
        return 201, {
            "encounter_id": encounter_id,
            "capture_id": capture_id,
            "lines": [line.model_dump(mode="json") for line in captured.lines],
            "total_charge_cents": sum(line.charge_cents for line in captured.lines),
            "late": captured.late,
            "encounter_total_charge_cents": captured.encounter_total_charge_cents,
        }

    return await idempotent(request, principal, action)


# Invoices.


@router.get("/invoices", tags=["invoices"])
async def list_invoices(
    request: Request,
    principal: Annotated[Principal, INVOICE_READERS],
    encounter_id: str | None = None,
    patient_id: str | None = None,
    status: str | None = None,
    *,
    page: Annotated[PageRequest, Depends(queries.INVOICES.request)],
) -> Any:
    """Invoices in issue order, filtered by encounter, patient or status (e.g. status=held shows the
    invoices waiting for a price, with their pricing errors)."""
    errors: list[FieldError] = []
    if status is not None and status not in STATUSES:
        errors.append(FieldError("status", f"must be one of {', '.join(STATUSES)}"))
    if errors:
        raise invalid(errors)
    async with runtime_of(request).pool.acquire() as connection:
        invoices = await queries.invoices(
            connection,
            principal.tenant,
            encounter_id=encounter_id,
            patient_id=patient_id,
            status=status,
            page=page,
        )
    return invoices.as_json()


@router.get("/invoices/{invoice_id}", tags=["invoices"])
async def get_invoice(
    invoice_id: str, request: Request, principal: Annotated[Principal, INVOICE_READERS]
) -> Any:
    async with runtime_of(request).pool.acquire() as connection:
        found = await queries.invoice(connection, principal.tenant, invoice_id)
    if found is None:
        raise not_found("invoice")
    return found


class PatientPayment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_cents: StrictInt = Field(gt=0, le=MAX_PAYMENT_CENTS, description="Integer cents, above zero.")
    method: Literal["cash", "check", "card", "ach", "other"]
    received_on: Annotated[date, BeforeValidator(_iso_text)]

    @field_validator("received_on")
    @classmethod
    def not_in_the_future(cls, value: date) -> date:
        # A day of slack: the clinic's local date may be ahead of UTC.
        if value > datetime.now(UTC).date() + timedelta(days=1):
            raise PydanticCustomError("date_future", "must not be in the future")
        return value


@router.post("/invoices/{invoice_id}/payments", status_code=201, tags=["payments"])
async def post_patient_payment(
    invoice_id: str,
    body: PatientPayment,
    request: Request,
    principal: Annotated[Principal, PAYMENT_TAKERS],
) -> JSONResponse:
    """A patient's payment on an invoice, partial or full. What exceeds the invoice's balance becomes
    credit on the patient's account. Requires an Idempotency-Key (428 without): money never moves twice."""
    payment_id = str(uuid.uuid4())
    command = ApplyPatientPayment(
        invoice_id=invoice_id,
        payment_id=payment_id,
        amount_cents=body.amount_cents,
        method=body.method,
        received_on=body.received_on,
    )

    async def action(session: Session) -> tuple[int, dict[str, Any]]:
        with domain_errors():
            receipt = await handlers.receive_patient_payment(
                postgres_unit(session), metadata_from(request, principal), command
            )
        return 201, {
            "payment_id": receipt.payment_id,
            "invoice_id": receipt.invoice_id,
            "patient_id": receipt.patient_id,
            "amount_cents": receipt.amount_cents,
            "applied_cents": receipt.applied_cents,
            "credit_cents": receipt.credit_cents,
            "invoice_status": receipt.invoice.status,
            "balance_cents": receipt.invoice.balance_cents,
            "patient_responsibility_cents": receipt.invoice.patient_responsibility_cents,
        }

    return await idempotent(request, principal, action, key_required=True)


# Patients.


@router.get("/patients/{patient_id}/statement", tags=["patients"])
async def get_statement(
    patient_id: str, request: Request, principal: Annotated[Principal, STATEMENT_READERS]
) -> Any:
    """What the patient owes now: open items, credit, and the statements and payments so far.
    With `Accept: application/pdf`, the printable statement."""
    if statements.wants_pdf(request):
        return await statements.pdf_response(request, principal, patient_id)
    async with runtime_of(request).pool.acquire() as connection:
        found = await queries.statement(connection, principal.tenant, patient_id)
        if found is not None:
            found["payment_plan"] = await accounting_queries.active_plan(
                connection, principal.tenant, patient_id, datetime.now(UTC).date()
            )
    if found is None:
        raise not_found("patient account")
    return found
