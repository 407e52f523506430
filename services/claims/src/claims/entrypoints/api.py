"""HTTP routes of the claims service (port 8004). Billers act; auditors read."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from billing_events.decider import load_state
from billing_events.store import Session
from billing_service.auth import Principal, Role, require
from billing_service.commands import idempotent, metadata_from
from billing_service.http import read_body
from billing_service.pages import PageRequest
from billing_service.problems import FieldError, Problem, invalid, not_found
from billing_service.runtime import runtime_of
from claims.adapters import queries
from claims.adapters.clearinghouse import MAX_INBOUND_FILE_BYTES
from claims.adapters.projections import postgres_unit
from claims.application.handlers import resubmit_claim
from claims.application.ingestion import Ingestion, IngestResult, posts_in_parts
from claims.application.ports import FileRefused
from claims.domain.claim import ClaimState, claim_decider
from claims.domain.errors import DomainError
from claims.domain.inbound import InboundKind
from claims.entrypoints.errors import problem_of
from claims.entrypoints.workers import settings_of, x12_reader

router = APIRouter(tags=["claims"])

Reader = Annotated[Principal, Depends(require(Role.BILLER, Role.AUDITOR))]
Biller = Annotated[Principal, Depends(require(Role.BILLER))]
ClaimsPage = Annotated[PageRequest, Depends(queries.CLAIMS.request)]
DenialsPage = Annotated[PageRequest, Depends(queries.DENIALS.request)]
CrossoversPage = Annotated[PageRequest, Depends(queries.CROSSOVERS_OVERDUE.request)]
UnmatchedPage = Annotated[PageRequest, Depends(queries.UNMATCHED.request)]
STATUSES = frozenset(
    {"created", "scrub_failed", "ready", "submitted", "accepted", "rejected", "paid", "partially_paid"}
    | {"denied", "resubmitted", "voided", "closed"}
)


@router.get("/claims")
async def list_claims(
    request: Request,
    principal: Reader,
    invoice_id: str | None = None,
    encounter_id: str | None = None,
    patient_id: str | None = None,
    payer_id: str | None = None,
    status: str | None = None,
    *,
    page: ClaimsPage,
) -> dict[str, Any]:
    """Claims of the tenant; `status=scrub_failed` is the work queue, each claim with its findings."""
    if status is not None and status not in STATUSES:
        raise invalid([FieldError("status", f"is not one of {', '.join(sorted(STATUSES))}")])
    filters = {
        k: v
        for k, v in {
            "invoice_id": invoice_id,
            "encounter_id": encounter_id,
            "patient_id": patient_id,
            "payer_id": payer_id,
            "status": status,
        }.items()
        if v
    }
    async with runtime_of(request).pool.acquire() as db:
        rows = await queries.list_claims(db, principal.tenant, filters, page)
    return rows.map(queries.claim_summary).as_json()


async def _load(session: Session, tenant: str, claim_id: str) -> tuple[Any, ClaimState]:
    row = await queries.get_claim(session.connection, tenant, claim_id)
    if row is None:
        raise not_found("claim")
    state, _ = await load_state(session, claim_decider, claim_id)
    return row, state


@router.get("/claims/{claim_id}")
async def get_claim(claim_id: str, request: Request, principal: Reader) -> dict[str, Any]:
    async with runtime_of(request).store.session() as session:
        row, state = await _load(session, principal.tenant, claim_id)
    assert state.content is not None
    return {
        **queries.claim_summary(row),
        "place_of_service": state.content.place_of_service,
        "diagnoses": list(state.content.diagnoses),
        "lines": [line.model_dump(mode="json") for line in state.content.lines],
        "submissions": [
            {
                "batch_id": s.batch_id,
                "frequency_code": s.frequency_code,
                "interchange_control_number": s.interchange_control_number,
                "file_name": s.file_name,
            }
            for s in state.submissions
        ],
        "adjudication": row["adjudication"],
    }


_FILE_EVENTS = {
    "ClaimSubmitted": ("outbound", "837P"),
    "ClaimAcknowledged": ("inbound", None),
    "ClaimRejected": ("inbound", None),
    "ClaimAdjudicated": ("inbound", "835"),
}


@router.get("/claims/{claim_id}/history")
async def claim_history(claim_id: str, request: Request, principal: Reader) -> dict[str, Any]:
    """Every transition of the claim, and every file that carried it, linked by control numbers."""
    async with runtime_of(request).pool.acquire() as db:
        if await queries.get_claim(db, principal.tenant, claim_id) is None:
            raise not_found("claim")
        rows = await queries.history(db, principal.tenant, claim_id)
        remittance_ids = [
            r["payload"]["remittance_id"] for r in rows if r["event_type"] == "ClaimAdjudicated"
        ]
        remittances = await queries.remittance_files(db, principal.tenant, remittance_ids)
    items, files = [], []
    for row in rows:
        payload = row["payload"]
        items.append(
            {
                "version": row["stream_version"],
                "event_id": str(row["event_id"]),
                "event_type": row["event_type"],
                "occurred_at": row["occurred_at"].isoformat(),
                "actor": row["metadata"].get("actor"),
                "data": payload,
            }
        )
        kind = _FILE_EVENTS.get(row["event_type"])
        if kind is None:
            continue
        direction, file_type = kind
        entry: dict[str, Any] = {
            "direction": direction,
            "type": file_type or payload.get("acknowledgement"),
            "event_type": row["event_type"],
            "at": row["occurred_at"].isoformat(),
        }
        if row["event_type"] == "ClaimSubmitted":
            entry |= {
                k: payload.get(k)
                for k in (
                    "file_name",
                    "batch_id",
                    "frequency_code",
                    "interchange_control_number",
                    "group_control_number",
                    "transaction_set_control_number",
                )
            }
        elif row["event_type"] == "ClaimAdjudicated":
            remittance = remittances.get(payload["remittance_id"], {})
            entry |= {
                "remittance_id": payload["remittance_id"],
                "file_name": remittance.get("file_name"),
                "interchange_control_number": remittance.get("interchange_control_number"),
                "trace_number": remittance.get("trace_number"),
                "payer_claim_control_number": payload.get("payer_claim_control_number"),
            }
        else:
            entry |= {k: payload.get(k) for k in ("file_name", "control_number", "batch_id")}
        files.append(entry)
    return {"claim_id": claim_id, "items": items, "files": files}


@router.get("/claims/{claim_id}/837", response_class=PlainTextResponse)
async def claim_837(claim_id: str, request: Request, principal: Reader) -> PlainTextResponse:
    """The X12 837P of the claim's latest submission (the claim alone, in its batch's envelope)."""
    runtime = runtime_of(request)
    async with runtime.pool.acquire() as db, db.transaction():
        claim = await queries.get_claim(db, principal.tenant, claim_id)
        if claim is None:
            raise not_found("claim")
        sealed = await queries.latest_claim_file(db, principal.tenant, claim_id)
        if sealed is None:
            raise Problem(
                404, "Not Found", "The claim has not been submitted yet.", "/problems/not-submitted"
            )
        # The file holds the patient's identifiers: audited like registration's patient reads, in the
        # read's transaction (no audit row, no answer).
        await queries.record_phi_read(
            db,
            principal.tenant,
            claim_id,
            claim["patient_id"],
            actor=principal.subject,
            roles=sorted(principal.roles),
            access="claim_837",
            correlation_id=metadata_from(request, principal).correlation_id,
        )
        text = await runtime.vault.open(sealed, "x12_837")
    return PlainTextResponse(str(text), media_type="text/plain")


@router.get("/audit/phi-reads", tags=["audit"])
async def phi_reads(
    request: Request,
    principal: Annotated[Principal, Depends(require(Role.AUDITOR))],
    page: Annotated[PageRequest, Depends(queries.PHI_READS.request)],
) -> dict[str, Any]:
    """Who read claims' patient data (the 837 files), oldest first."""
    async with runtime_of(request).pool.acquire() as db:
        found = await queries.phi_reads(db, principal.tenant, page)
    return found.map(
        lambda row: {
            "claim_id": row["claim_id"],
            "patient_id": row["patient_id"],
            "actor": row["actor"],
            "roles": list(row["roles"]),
            "access": row["access"],
            "correlation_id": row["correlation_id"],
            "read_at": row["read_at"].isoformat(),
        }
    ).as_json()


class ResubmitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)
    corrections: list[str] = Field(default_factory=list, max_length=50)


@router.post("/claims/{claim_id}/resubmit", status_code=202)
async def resubmit(claim_id: str, body: ResubmitBody, request: Request, principal: Biller) -> JSONResponse:
    """Send the claim again: a corrected claim (frequency 7, REF*F8) after an answer from the payer,
    or the original again after a front-end rejection. It leaves with the next batch."""
    metadata = metadata_from(request, principal)

    async def action(session: Session) -> tuple[int, dict[str, Any]]:
        try:
            state = await resubmit_claim(
                postgres_unit(session),
                principal.tenant,
                claim_id,
                body.reason,
                tuple(body.corrections),
                metadata,
                datetime.now(UTC).date(),
                vault=runtime_of(request).vault,  # the biller's words sealed under the patient's key
            )
        except DomainError as error:
            raise problem_of(error) from None
        return 202, {
            "claim_id": claim_id,
            "status": state.status,
            "frequency_code": state.pending_frequency,
            "payer_claim_control_number": state.original_reference if state.content else None,
        }

    return await idempotent(request, principal, action)


def _at_stake(adjudication: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Denied lines (nothing paid, nothing left to the patient) and what they would have brought."""
    lines = []
    for line in adjudication.get("lines", []):
        patient_share = sum(a["amount_cents"] for a in line.get("adjustments", []) if a["group"] == "PR")
        if line["paid_cents"] == 0 and patient_share == 0 and line["charge_cents"] > 0:
            lines.append({**line, "at_stake_cents": line["charge_cents"]})
    if not adjudication.get("lines") and adjudication.get("outcome") == "denied":
        return [], int(adjudication["total_charge_cents"])
    return lines, sum(line["at_stake_cents"] for line in lines)


@router.get("/denials")
async def denials(request: Request, principal: Reader, page: DenialsPage) -> dict[str, Any]:
    """Claims the payer denied in whole or in part, with CARC/RARC codes and the amounts at stake."""
    async with runtime_of(request).pool.acquire() as db:
        rows = await queries.denied_claims(db, principal.tenant, page)
    items = []
    for row in rows.items:
        adjudication = row["adjudication"]
        lines, at_stake = _at_stake(adjudication)
        if adjudication["outcome"] != "denied" and not lines:
            continue
        items.append(
            {
                "claim_id": row["claim_id"],
                "patient_control_number": row["patient_control_number"],
                "payer_id": row["payer_id"],
                "status": row["status"],
                "outcome": adjudication["outcome"],
                "remittance_id": adjudication["remittance_id"],
                "payer_claim_control_number": adjudication["payer_claim_control_number"],
                "adjudicated_on": adjudication["adjudicated_on"],
                "claim_adjustments": adjudication["claim_adjustments"],
                "remark_codes": adjudication["remark_codes"],
                "denied_lines": lines,
                "at_stake_cents": at_stake,
            }
        )
    return rows.replace(items).as_json()


def _unmatched_json(r: Any) -> dict[str, Any]:
    return {
        "remittance_id": r["remittance_id"],
        "patient_control_number": r["patient_control_number"],
        "payer_claim_control_number": r["payer_claim_control_number"],
        "claim_status_code": r["claim_status_code"],
        "charge_cents": r["charge_cents"],
        "paid_cents": r["paid_cents"],
        "payer_name": r["payer_name"],
        "received_at": r["received_at"].isoformat(),
    }


@router.get("/crossovers/overdue")
async def overdue_crossovers(
    request: Request, principal: Reader, page: CrossoversPage, days: int | None = None
) -> dict[str, Any]:
    """The work queue of crossovers: claims the payer forwarded to the next payer itself, whose next
    payer has not answered within `days` (default: the service's crossover_wait_days)."""
    wait = settings_of(runtime_of(request)).crossover_wait_days if days is None else days
    if wait < 0:
        raise invalid([FieldError("days", "must be zero or more")])
    forwarded_by = datetime.now(UTC).date() - timedelta(days=wait)
    async with runtime_of(request).pool.acquire() as db:
        rows = await queries.overdue_crossovers(db, principal.tenant, forwarded_by, page)

    def render(row: Any) -> dict[str, Any]:
        adjudication = row["adjudication"]
        return {
            **queries.claim_summary(row),
            "awaiting_payer_id": adjudication.get("next_payer_id"),
            "forwarded_on": adjudication["adjudicated_on"],
        }

    return rows.map(render).as_json()


@router.get("/remittances/unmatched")
async def unmatched_remittances(request: Request, principal: Reader, page: UnmatchedPage) -> dict[str, Any]:
    """Claims in remittances that match no claim of the tenant, waiting for a person."""
    async with runtime_of(request).pool.acquire() as db:
        rows = await queries.unmatched(db, principal.tenant, page)
    return rows.map(_unmatched_json).as_json()


@router.get("/submission-batches/{batch_id}")
async def get_batch(batch_id: str, request: Request, principal: Reader) -> dict[str, Any]:
    async with runtime_of(request).pool.acquire() as db:
        row = await queries.batch(db, principal.tenant, batch_id)
    if row is None:
        raise not_found("submission batch")
    return {
        "batch_id": row["batch_id"],
        "payer_id": row["payer_id"],
        "interchange_control_number": f"{row['control_number']:09d}",
        "file_name": row["file_name"],
        "claim_ids": list(row["claim_ids"]),
        "frequency_codes": list(row["frequencies"]),
        "sender_id": row["sender_id"],
        "receiver_id": row["receiver_id"],
        "created_at": row["created_at"].isoformat(),
        "file_written": row["file_written_at"] is not None,
    }


MAX_FILE_BYTES = MAX_INBOUND_FILE_BYTES  # the folder's limit too
X12_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"text/plain": {"schema": {"type": "string"}}}}
}


async def _ingest_posted(
    request: Request, principal: Principal, kinds: tuple[InboundKind, ...], what: str
) -> Callable[[Session], Awaitable[IngestResult]]:
    """Read the posted file whole before anything changes; a bad file is a 422 naming the rule.
    Returns the step that applies it, to run in the request's (idempotent) transaction."""
    data = await read_body(request, MAX_FILE_BYTES)  # refused while streaming past 50 MB
    runtime = runtime_of(request)
    try:
        document = await x12_reader(runtime)(data)  # in a worker process, within its time budget
    except FileRefused as refused:
        raise invalid([FieldError("body", refused.reason)], f"The file is not a valid {what}.") from None
    if document.kind not in kinds:
        raise invalid(
            [FieldError("body", f"is a {document.kind}, not a {what}")], f"The file is not a {what}."
        )
    metadata = metadata_from(request, principal)
    ingestion = Ingestion(runtime.store, postgres_unit)
    name = request.headers.get("x-file-name") or f"posted-{hashlib.sha256(data).hexdigest()[:16]}.x12"

    async def apply(session: Session) -> IngestResult:
        try:
            if posts_in_parts(document):
                # A payer's large 835 posts in a transaction per part, not in the request's: the
                # request's transaction only keeps its Idempotency-Key with the answer.
                return await ingestion.ingest(
                    document,
                    sha256=hashlib.sha256(data).hexdigest(),
                    file_name=name[:200],
                    tenant=principal.tenant,
                    metadata_for=lambda _tenant: metadata,
                )
            return await ingestion.apply(
                postgres_unit(session),
                document,
                sha256=hashlib.sha256(data).hexdigest(),
                file_name=name[:200],
                tenant=principal.tenant,
                metadata_for=lambda _tenant: metadata,
            )
        except FileRefused as refused:
            raise invalid([FieldError("body", refused.reason)], f"The file is not a valid {what}.") from None

    return apply


@router.post("/remittances", status_code=202, openapi_extra=X12_BODY)
async def post_remittance(request: Request, principal: Biller) -> JSONResponse:
    """An X12 835 file. Each payment lands on its claims and lines exactly once; a file that is not a
    valid, balanced 835 is refused whole with 422 and changes nothing."""
    apply = await _ingest_posted(request, principal, ("835",), "835")

    async def action(session: Session) -> tuple[int, dict[str, Any]]:
        result = await apply(session)
        return 202, {
            "remittance_id": result.remittance_ids[0] if result.remittance_ids else None,
            "remittance_ids": result.remittance_ids,
            "duplicate_file": result.outcome == "duplicate",
            "matched_claims": result.matched_claims,
            "unmatched_claims": result.unmatched_claims,
        }

    return await idempotent(request, principal, action)


@router.post("/acknowledgements", status_code=202, openapi_extra=X12_BODY)
async def post_acknowledgement(request: Request, principal: Biller) -> JSONResponse:
    """An X12 999 or 277CA file: claims accepted or rejected, with the payer's reasons."""
    apply = await _ingest_posted(request, principal, ("999", "277CA"), "999 or 277CA")

    async def action(session: Session) -> tuple[int, dict[str, Any]]:
        result = await apply(session)
        return 202, {
            "kind": result.kind,
            "duplicate_file": result.outcome == "duplicate",
            "acknowledged": result.acknowledged,
            "rejected": result.rejected,
            "unmatched_claims": result.unmatched_claims,
        }

    return await idempotent(request, principal, action)
