"""Coding's HTTP API (port 8002): code an encounter, read its coding, search ICD-10-CM, manage the
tenant's licensed CPT list. Routes translate and answer; the rules are in the domain."""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from billing_events.contracts.coding import InstitutionalEncounterCoded
from billing_events.unit_of_work import UnitOfWork
from billing_service.auth import Principal, Role, require
from billing_service.commands import metadata_from
from billing_service.http import read_body
from billing_service.pages import Page
from billing_service.problems import FieldError, invalid
from billing_service.runtime import runtime_of
from coding.adapters import projections
from coding.adapters.msdrg_editor import cms_editor, weight_tables
from coding.adapters.projections import PostgresViews
from coding.adapters.reference import ReferenceProvider
from coding.application import handlers
from coding.domain.edits import CATALOGUE
from coding.domain.encounter_coding import EncounterCoding
from coding.domain.errors import CodingRejected, DomainError, NotCoded
from coding.domain.institutional import ProposedDiagnosis, ProposedInstitutionalCoding, ProposedProcedure
from coding.domain.values import ProposedCoding, ProposedLine
from coding.entrypoints.errors import problem_of, rejected, rejection
from coding.metrics import CODINGS, EDIT_FINDINGS

log = logging.getLogger(__name__)

READERS = (Role.CODER, Role.BILLER, Role.AUDITOR)
MAX_CPT_LIST = 50_000
MAX_CPT_LIST_BYTES = 2 * 1024 * 1024  # 50,000 codes as JSON or one per line fit in well under 1 MB


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=16)
    modifiers: list[Annotated[str, Field(max_length=8)]] = Field(default_factory=list, max_length=20)
    units: int = 1
    diagnosis_pointers: list[int] = Field(default_factory=list, max_length=20)


class CodingIn(BaseModel):
    """Counts and ranges (1-12 diagnoses, 1-50 lines, ...) are edits, reported all at once; the
    limits here only stop absurd payloads."""

    model_config = ConfigDict(extra="forbid")

    diagnoses: list[Annotated[str, Field(max_length=16)]] = Field(max_length=100)
    lines: list[LineIn] = Field(max_length=200)
    # Why the coding changed (kept on EncounterRecoded). Describe the correction, not the patient.
    reason: str | None = Field(default=None, max_length=500)


MAX_BATCH = 500


class EncounterCodingIn(CodingIn):
    encounter_id: str = Field(max_length=64)


class CodingBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codings: list[EncounterCodingIn] = Field(min_length=1, max_length=MAX_BATCH)


class DiagnosisIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=16)
    poa: str | None = Field(default=None, max_length=2, description="Y, N, U, W or 1 (exempt)")


class ProcedureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=16, description="ICD-10-PCS, 7 characters")
    date: date


class InstitutionalCodingIn(BaseModel):
    """An admission's coding. `principal_diagnosis` is a code or {code, poa}; given as a code, its POA
    is taken from the same code in `diagnoses`. Counts and POA rules are edits, reported all at once."""

    model_config = ConfigDict(extra="forbid")

    principal_diagnosis: Annotated[str, Field(max_length=16)] | DiagnosisIn | None
    admitting_diagnosis: str | None = Field(default=None, max_length=16)
    diagnoses: list[DiagnosisIn] = Field(default_factory=list, max_length=100)
    procedures: list[ProcedureIn] = Field(default_factory=list, max_length=100)
    reason: str | None = Field(default=None, max_length=500)

    def proposed(self) -> ProposedInstitutionalCoding:
        pdx = self.principal_diagnosis
        principal = (
            None
            if pdx is None
            else ProposedDiagnosis(pdx, None)
            if isinstance(pdx, str)
            else ProposedDiagnosis(pdx.code, pdx.poa)
        )
        return ProposedInstitutionalCoding.normalized(
            principal,
            self.admitting_diagnosis,
            [ProposedDiagnosis(d.code, d.poa) for d in self.diagnoses],
            [ProposedProcedure(p.code, p.date) for p in self.procedures],
            self.reason,
        )


def _validated(model: type[BaseModel], payload: Any) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        # pydantic's `input` is left out: it would echo what was typed back and into logs.
        raise invalid(
            [FieldError(".".join(str(p) for p in e["loc"]) or "body", str(e["msg"])) for e in error.errors()]
        ) from None


def _institutional_json(event: InstitutionalEncounterCoded) -> dict[str, Any]:
    body = event.model_dump(mode="json", exclude={"patient_id", "sealed_reason"})
    return {**body, "kind": "institutional"}


class CptListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codes: list[Annotated[str, Field(max_length=16)]] = Field(max_length=MAX_CPT_LIST)


def _coding_json(encounter_id: str, state: EncounterCoding) -> dict[str, Any]:
    return {
        "encounter_id": encounter_id,
        "coding_version": state.version,
        "service_date": state.service_date.isoformat() if state.service_date else None,
        "diagnoses": list(state.diagnoses),
        "lines": [line.model_dump(mode="json") for line in state.lines],
        "warnings": [w.model_dump(mode="json") for w in state.warnings],
        "reason": state.reason,
    }


def _proposed(body: CodingIn) -> ProposedCoding:
    return ProposedCoding.normalized(
        body.diagnoses,
        [
            ProposedLine(line.code, tuple(line.modifiers), line.units, tuple(line.diagnosis_pointers))
            for line in body.lines
        ],
        body.reason,
    )


def _count(outcome_changed: bool, state: EncounterCoding) -> None:
    if outcome_changed:
        CODINGS.labels("EncounterCoded" if state.version == 1 else "EncounterRecoded").inc()
        for warning in state.warnings:
            EDIT_FINDINGS.labels(warning.edit_id, warning.severity, "stored").inc()


def _expected_version(if_match: str | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise invalid([FieldError("If-Match", "must be a coding version, as in the ETag of GET")])
    return int(value)


def router_for(provider: ReferenceProvider) -> APIRouter:
    router = APIRouter(tags=["coding"])

    async def _put_institutional(
        encounter_id: str,
        payload: dict[str, Any],
        request: Request,
        principal: Principal,
        expected: int | None,
    ) -> JSONResponse:
        body: InstitutionalCodingIn = _validated(InstitutionalCodingIn, payload)
        reference = await provider.get()
        runtime = runtime_of(request)
        try:
            async with runtime.store.session() as session:
                outcome = await handlers.code_admission(
                    UnitOfWork(session, PostgresViews(session.connection)),
                    runtime.vault,
                    reference,
                    cms_editor(),
                    weight_tables(),
                    principal.tenant,
                    encounter_id,
                    body.proposed(),
                    metadata_from(request, principal),
                    today=datetime.now(UTC).date(),
                    expected_version=expected,
                )
        except CodingRejected as error:
            log.info(
                "institutional coding refused",
                extra={"encounter_id": encounter_id, "edits": sorted({f.edit_id for f in error.errors})},
            )
            return rejected(error)
        except DomainError as error:
            raise problem_of(error) from None
        coded = outcome.coding
        assert coded is not None
        log.info(
            "admission coded" if outcome.changed else "coding unchanged",
            extra={
                "encounter_id": encounter_id,
                "coding_version": coded.coding_version,
                "drg": coded.drg.code if coded.drg else None,
                "warnings": [w.edit_id for w in coded.warnings],
            },
        )
        if outcome.changed:
            CODINGS.labels("InstitutionalEncounterCoded").inc()
            for warning in coded.warnings:
                EDIT_FINDINGS.labels(warning.edit_id, warning.severity, "stored").inc()
        return JSONResponse(
            {**_institutional_json(coded), "changed": outcome.changed},
            headers={"ETag": f'"{coded.coding_version}"'},
        )

    @router.put("/encounters/{encounter_id}/coding")
    async def put_coding(
        encounter_id: str,
        payload: Annotated[
            dict[str, Any],
            Body(
                description="CodingIn, or InstitutionalCodingIn (with principal_diagnosis) for an admission"
            ),
        ],
        request: Request,
        principal: Annotated[Principal, Depends(require(Role.CODER))],
        if_match: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        """Code (or recode) an encounter. 200 {coding_version, ...} with the warnings kept; 422 with
        every failed edit and nothing stored; 404 while coding has not received the encounter.
        A body with `principal_diagnosis` is the institutional coding of an admission (POA,
        ICD-10-PCS procedures, and `drg` {code, weight} for an inpatient stay)."""
        expected = _expected_version(if_match)
        if "principal_diagnosis" in payload:
            return await _put_institutional(encounter_id, payload, request, principal, expected)
        body: CodingIn = _validated(CodingIn, payload)
        coding = _proposed(body)
        reference = await provider.get()
        runtime = runtime_of(request)
        try:
            async with runtime.store.session() as session:
                outcome = await handlers.code_encounter(
                    UnitOfWork(session, PostgresViews(session.connection)),
                    runtime.vault,
                    reference,
                    principal.tenant,
                    encounter_id,
                    coding,
                    metadata_from(request, principal),
                    expected_version=expected,
                )
        except CodingRejected as error:
            # Ids and edit ids only: the findings' messages stay out of logs.
            log.info(
                "coding refused",
                extra={"encounter_id": encounter_id, "edits": sorted({f.edit_id for f in error.errors})},
            )
            return rejected(error)
        except DomainError as error:
            raise problem_of(error) from None
        state = outcome.state
        log.info(
            "encounter coded" if outcome.changed else "coding unchanged",
            extra={
                "encounter_id": encounter_id,
                "coding_version": state.version,
                "warnings": [w.edit_id for w in state.warnings],
            },
        )
        _count(outcome.changed, state)
        return JSONResponse(
            {**_coding_json(encounter_id, state), "changed": outcome.changed},
            headers={"ETag": f'"{state.version}"'},
        )

    @router.post("/codings")
    async def code_many(
        body: CodingBatchIn,
        request: Request,
        principal: Annotated[Principal, Depends(require(Role.CODER))],
    ) -> JSONResponse:
        """Code up to 500 encounters in one request and one transaction (an interface engine's batch).
        Each encounter is answered on its own, in the order sent, with the status its own
        `PUT /encounters/{id}/coding` would have: 200 with the coding, 404 while coding has not
        received the encounter (send it again later), 422 with its failed edits; a refused one
        stores nothing and does not hold back the others."""
        reference = await provider.get()
        runtime = runtime_of(request)
        metadata = metadata_from(request, principal)
        results: list[dict[str, Any]] = []
        async with runtime.store.session() as session:
            for item in body.codings:
                try:
                    # Domain errors are decided before anything is written, so the transaction
                    # goes on for the next encounter.
                    outcome = await handlers.code_encounter(
                        UnitOfWork(session, PostgresViews(session.connection)),
                        runtime.vault,
                        reference,
                        principal.tenant,
                        item.encounter_id,
                        _proposed(item),
                        metadata,
                    )
                except CodingRejected as error:
                    results.append({"encounter_id": item.encounter_id, **rejection(error)})
                    continue
                except DomainError as error:
                    problem = problem_of(error)
                    results.append(
                        {
                            "encounter_id": item.encounter_id,
                            "status": problem.status,
                            "detail": problem.detail,
                        }
                    )
                    continue
                _count(outcome.changed, outcome.state)
                results.append(
                    {
                        "status": 200,
                        **_coding_json(item.encounter_id, outcome.state),
                        "changed": outcome.changed,
                    }
                )
        log.info(
            "codings batch", extra={"count": len(results), "coded": sum(r["status"] == 200 for r in results)}
        )
        return JSONResponse({"results": results})

    @router.get("/encounters/{encounter_id}/coding")
    async def get_coding(
        encounter_id: str, request: Request, principal: Annotated[Principal, Depends(require(*READERS))]
    ) -> JSONResponse:
        runtime = runtime_of(request)
        async with runtime.store.session() as session:
            view = await handlers.coding_of(session, runtime.vault, principal.tenant, encounter_id)
        if view is None:
            raise problem_of(NotCoded())
        if view.institutional is not None:
            coded = view.institutional
            return JSONResponse(
                {
                    **_institutional_json(coded),
                    "coded_by": view.coded_by,
                    "coded_at": view.coded_at.isoformat(),
                },
                headers={"ETag": f'"{coded.coding_version}"'},
            )
        body = {
            **_coding_json(encounter_id, view.state),
            "coded_by": view.coded_by,
            "coded_at": view.coded_at.isoformat(),
        }
        return JSONResponse(body, headers={"ETag": f'"{view.state.version}"'})

    @router.get("/codes/icd10cm")
    async def search_icd10cm(
        _: Annotated[Principal, Depends(require(*READERS, Role.ADMIN))],
        q: Annotated[str, Query(min_length=1, max_length=100, description="code prefix or words")],
        date_: Annotated[date | None, Query(alias="date", description="service date; default today")] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Query(pattern=r"^\d{1,6}$")] = None,
        billable: Annotated[bool, Query(description="only billable codes")] = False,
    ) -> JSONResponse:
        """Search the ICD-10-CM release in force on `date`: by code prefix ("E11", "S72.0") or by words
        of the description ("type 2 diab"). Best matches first; code prefixes in code order."""
        reference = await provider.get()
        day = date_ or datetime.now(UTC).date()
        choice = reference.icd10cm.for_date(day)
        if choice is None:
            return JSONResponse({**Page([]).as_json(), "total": 0, "release": None})
        index = await provider.index(choice.release)
        offset = int(cursor or 0)
        found = handlers.search_icd10cm(index, q, limit=limit, offset=offset, billable_only=billable)
        after = offset + len(found.items)
        # A ranked search, not a keyset list: its cursor stays the offset into the ranking.
        hits = Page(
            [{"code": h.code, "description": h.description, "billable": h.billable} for h in found.items],
            str(after) if after < found.total else None,
        )
        return JSONResponse(
            {
                **hits.as_json(),
                "total": found.total,
                "release": choice.release.effective.isoformat(),
                "release_covers_date": choice.covers,
            }
        )

    @router.get("/edits")
    async def list_edits(_: Annotated[Principal, Depends(require(*READERS, Role.ADMIN))]) -> dict[str, Any]:
        """The catalogue of edits: stable id, severity and what each checks."""
        items = [
            {"edit_id": s.edit_id, "severity": s.severity, "checks": s.summary} for s in CATALOGUE.values()
        ]
        return Page(items).as_json()

    @router.put("/code-lists/cpt")
    async def put_cpt_list(
        request: Request, principal: Annotated[Principal, Depends(require(Role.ADMIN))]
    ) -> JSONResponse:
        """Import the tenant's licensed CPT codes (replacing any earlier list): JSON {"codes": [...]}, or
        text/plain or text/csv with one code per line (first column). Codes only: no descriptors."""
        codes, field_name = await _read_cpt_list(request)
        clean, problems = handlers.check_cpt_list(codes, field_name)
        if problems:
            raise invalid(
                [FieldError(p.field, p.message) for p in problems[:200]], "The list has invalid codes."
            )
        if not clean:
            raise invalid([FieldError(field_name, "the list is empty")])
        async with runtime_of(request).store.session() as session:
            count = await projections.replace_cpt_list(
                session.connection, principal.tenant, clean, principal.subject
            )
            status = await projections.cpt_list_status(session.connection, principal.tenant)
        return JSONResponse({"imported": True, **(status or {}), "codes": count})

    @router.get("/code-lists/cpt")
    async def get_cpt_list(
        request: Request, principal: Annotated[Principal, Depends(require(*READERS, Role.ADMIN))]
    ) -> dict[str, Any]:
        async with runtime_of(request).store.session() as session:
            status = await projections.cpt_list_status(session.connection, principal.tenant)
        return {"imported": status is not None, **(status or {"codes": 0})}

    @router.delete("/code-lists/cpt", status_code=204)
    async def delete_cpt_list(
        request: Request, principal: Annotated[Principal, Depends(require(Role.ADMIN))]
    ) -> Response:
        """Forget the tenant's CPT list: CPT codes are then checked by format only."""
        async with runtime_of(request).store.session() as session:
            await projections.delete_cpt_list(session.connection, principal.tenant)
        return Response(status_code=204)

    return router


async def _read_cpt_list(request: Request) -> tuple[list[str], str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await read_body(request, MAX_CPT_LIST_BYTES)  # refused while streaming, never buffered whole
    if content_type in ("text/plain", "text/csv"):
        text = raw.decode("utf-8", errors="replace")
        reader = csv.reader(io.StringIO(text))
        try:
            rows = [row for row in reader if row and row[0].strip()]
        except csv.Error as error:  # e.g. a field over the csv module's size limit
            raise invalid([FieldError("body", f"line {reader.line_num}: not valid CSV ({error})")]) from None
        codes = [row[0] for row in rows]
        if codes and codes[0].strip().lower() in ("code", "cpt", "cpt code"):
            codes = codes[1:]  # a header row
        if len(codes) > MAX_CPT_LIST:
            raise invalid([FieldError("body", f"at most {MAX_CPT_LIST} codes")])
        return codes, "lines"
    try:
        body = CptListIn.model_validate_json(raw)
    except ValueError:
        raise invalid(
            [FieldError("codes", 'send JSON {"codes": [...]} or one code per line as text/plain')]
        ) from None
    return body.codes, "codes"
