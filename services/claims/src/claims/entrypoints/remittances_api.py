"""HTTP routes of remittance completeness: matching a held claim payment, a paper EOB, a payment's
reconciliation and the provider-level ledger (835 PLB). Billers act; auditors read."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from billing_events.store import Session
from billing_service.auth import Principal, Role, require
from billing_service.commands import idempotent, metadata_from
from billing_service.pages import PageRequest
from billing_service.problems import FieldError, invalid, not_found
from billing_service.runtime import runtime_of
from claims.adapters import queries
from claims.adapters.projections import postgres_unit
from claims.application.posting import match_held_payment, post_paper_eob
from claims.domain.errors import DomainError
from claims.domain.inbound import Adjustment
from claims.domain.paper_eob import EobLine, PaperEob
from claims.entrypoints.errors import problem_of

router = APIRouter(tags=["remittances"])

Reader = Annotated[Principal, Depends(require(Role.BILLER, Role.AUDITOR))]
Biller = Annotated[Principal, Depends(require(Role.BILLER))]
LedgerPage = Annotated[PageRequest, Depends(queries.PROVIDER_ADJUSTMENTS.request)]
Code = Annotated[str, Field(min_length=1, max_length=5, pattern=r"^[A-Z0-9]+$")]
Cents = Annotated[int, Field(ge=-99_999_999_999, le=99_999_999_999)]


class MatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    claim_id: str = Field(min_length=1, max_length=64)


@router.post("/remittances/{remittance_id}/claims/{clp01}/match", status_code=200)
async def match_claim_payment(
    remittance_id: str, clp01: str, body: MatchBody, request: Request, principal: Biller
) -> JSONResponse:
    """A claim payment (CLP01) that matched no claim posts to the claim a biller names, exactly as a
    matched one would have. The same match again posts nothing; another claim is 409."""
    metadata = metadata_from(request, principal)

    async def action(session: Session) -> tuple[int, dict[str, Any]]:
        try:
            posted = await match_held_payment(
                postgres_unit(session), principal.tenant, remittance_id, clp01, body.claim_id, metadata
            )
        except DomainError as error:
            raise problem_of(error) from None
        return 200, {
            "remittance_id": remittance_id,
            "patient_control_number": clp01,
            "claim_id": body.claim_id,
            "posted": posted,
        }

    return await idempotent(request, principal, action)


class AdjustmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group: Literal["CO", "OA", "PI", "PR", "CR"]
    reason_code: Code
    amount_cents: Cents


class EobLineBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_number: int = Field(ge=1, le=50)
    paid_cents: int = Field(ge=0, le=99_999_999_999)
    adjustments: list[AdjustmentBody] = Field(default_factory=list, max_length=99)
    remark_codes: list[Code] = Field(default_factory=list, max_length=20)
    patient_responsibility_cents: Cents | None = None


class PaperEobBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payer_id: str = Field(min_length=1, max_length=64)
    claim_id: str = Field(min_length=1, max_length=64)
    check_number: str = Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9-]+$")
    paid_on: date
    # A paper EOB answers a claim; a payer's reversal (CLP02 22) comes in its 835.
    claim_status_code: Literal["1", "2", "3", "4", "19", "20", "21"] | None = None
    payer_claim_control_number: str | None = Field(None, max_length=50, pattern=r"^[A-Za-z0-9-]+$")
    remark_codes: list[Code] = Field(default_factory=list, max_length=20)
    lines: list[EobLineBody] = Field(min_length=1, max_length=50)

    def eob(self) -> PaperEob:
        return PaperEob(
            payer_key="",  # the registered payer's EDI id and name, filled by the application
            payer_name="",
            trace_number=self.check_number,
            paid_on=self.paid_on,
            claim_status_code=self.claim_status_code,
            payer_claim_control_number=self.payer_claim_control_number,
            remark_codes=tuple(self.remark_codes),
            lines=tuple(
                EobLine(
                    line_number=line.line_number,
                    paid_cents=line.paid_cents,
                    adjustments=tuple(
                        Adjustment(a.group, a.reason_code, a.amount_cents) for a in line.adjustments
                    ),
                    remark_codes=tuple(line.remark_codes),
                    patient_responsibility_cents=line.patient_responsibility_cents,
                )
                for line in self.lines
            ),
        )


@router.post("/remittances/paper-eobs", status_code=202)
async def post_eob(body: PaperEobBody, request: Request, principal: Biller) -> JSONResponse:
    """A payer's paper EOB, keyed in: it posts through the same path as an 835 (the same events, the
    same ledger, the next payer billed). The payer, the check number and the claim make it one payment,
    posted once (a check that pays several claims is keyed one EOB, one claim, at a time)."""
    if not date(1900, 1, 1) <= body.paid_on <= date(9998, 12, 31):
        raise invalid([FieldError("paid_on", "must be within 1900-9998")])
    metadata = metadata_from(request, principal)

    async def action(session: Session) -> tuple[int, dict[str, Any]]:
        try:
            posted = await post_paper_eob(
                postgres_unit(session), principal.tenant, body.claim_id, body.payer_id, body.eob(), metadata
            )
        except DomainError as error:
            raise problem_of(error) from None
        return 202, {
            "remittance_id": posted.remittance_id,
            "duplicate": posted.duplicate,
            "matched_claim_ids": list(posted.matched_claim_ids),
        }

    return await idempotent(request, principal, action)


@router.get("/remittances/{remittance_id}")
async def get_remittance(remittance_id: str, request: Request, principal: Reader) -> dict[str, Any]:
    """A payment and its reconciliation: BPR02 = the claims' payments (CLP04) - provider-level
    adjustments (PLB); held claim payments and the matches made since."""
    async with runtime_of(request).pool.acquire() as db:
        found = await queries.remittance(db, principal.tenant, remittance_id)
    if found is None:
        raise not_found("remittance")
    claim_paid = found.get("claim_paid_cents")
    plb = int(found.get("provider_adjustment_cents", 0))
    return {
        "remittance_id": remittance_id,
        "source": found.get("source", "835"),
        "payer_id": found.get("payer_id"),
        "trace_number": found["trace_number"],
        "payment_date": found["payment_date"],
        "payment_cents": found["payment_cents"],
        "claim_paid_cents": claim_paid,
        "provider_adjustment_cents": plb,
        "balanced": None if claim_paid is None else found["payment_cents"] == claim_paid - plb,
        "provider_adjustments": found.get("provider_adjustments", []),
        "matched_claim_ids": found["matched_claim_ids"],
        "held_claims": [
            {
                "patient_control_number": held["patient_control_number"],
                "claim_status_code": held["claim_status_code"],
                "charge_cents": held["charge_cents"],
                "paid_cents": held["paid_cents"],
            }
            for held in found.get("held_claims", [])
        ],
        "matches": [
            {"patient_control_number": m["patient_control_number"], "claim_id": m["claim_id"]}
            for m in found["matches"]
        ],
    }


@router.get("/provider-adjustments")
async def provider_ledger(
    request: Request, principal: Reader, page: LedgerPage, start: date | None = None, end: date | None = None
) -> dict[str, Any]:
    """The provider-level ledger: each 835 PLB reason (WO recoupment, L6 interest, FB forwarding
    balance, 72 authorized return ...) by payment date, never posted to a claim. A positive amount
    was taken from the payment; a negative one added to it. `totals` by reason over the window."""
    low = start or date(1900, 1, 1)
    high = end or date(9998, 12, 31)
    if low > high:
        raise invalid([FieldError("start", "must not be after end")])
    async with runtime_of(request).pool.acquire() as db:
        rows = await queries.provider_adjustments(db, principal.tenant, low, high, page)
        totals = await queries.provider_adjustment_totals(db, principal.tenant, low, high)
    body = rows.map(
        lambda r: {
            "remittance_id": r["remittance_id"],
            "payer_id": r["payer_id"],
            "trace_number": r["trace_number"],
            "payment_date": r["payment_date"].isoformat(),
            "provider_identifier": r["provider_identifier"],
            "fiscal_period_end": r["fiscal_period_end"].isoformat(),
            "reason_code": r["reason_code"],
            "reference": r["reference"],
            "amount_cents": r["amount_cents"],
        }
    ).as_json()
    body["totals"] = {
        "by_reason": {r["reason_code"]: int(r["amount_cents"]) for r in totals},
        "amount_cents": sum(int(r["amount_cents"]) for r in totals),
    }
    return body
