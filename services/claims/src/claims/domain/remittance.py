"""Remittances: matching an 835's claims and lines to ours, the outcome of each claim, and the
Remittance aggregate (one stream per payer and trace number, so the same payment twice is nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from billing_events.contracts.base import Event
from billing_events.contracts.claims import (
    AdjudicatedLine,
    CasAdjustment,
    ClaimLine,
    RemittanceClaimsListed,
    RemittanceReceived,
)
from billing_events.decider import Decider
from claims.domain.claim import Adjudicate
from claims.domain.coordination import CoverageInForce
from claims.domain.inbound import Adjustment, ClaimPaymentAdvice, LinePayment
from claims.domain.model import ClaimContent

REVERSAL = "22"
DENIED = "4"
PATIENT_RESPONSIBILITY = "PR"


def cas(adjustments: tuple[Adjustment, ...]) -> tuple[CasAdjustment, ...]:
    return tuple(
        CasAdjustment(group=a.group, reason_code=a.reason_code, amount_cents=a.amount_cents)
        for a in adjustments
    )


def match_lines(content: ClaimContent, payments: tuple[LinePayment, ...]) -> tuple[AdjudicatedLine, ...]:
    """Each paid line to its service line: by REF*6R first, else by code, date and charge.

    A service line is matched at most once. A paid line that matches none keeps its amounts with
    line number 0, so that the claim's totals still reconcile."""
    by_control = {line.line_control_number: line for line in content.lines}
    taken: set[int] = set()
    matched: list[tuple[ClaimLine | None, LinePayment]] = []
    pending: list[LinePayment] = []
    for payment in payments:
        line = by_control.get(payment.line_control_number or "")
        if line is not None and line.line_number not in taken:
            taken.add(line.line_number)
            matched.append((line, payment))
        else:
            pending.append(payment)
    for payment in pending:
        candidate = next(
            (
                line
                for line in content.lines
                if line.line_number not in taken
                and line.code == payment.code
                and abs(line.charge_cents) == abs(payment.charge_cents)
                and payment.service_date in (None, content.service_date)
            ),
            None,
        )
        if candidate is not None:
            taken.add(candidate.line_number)
        matched.append((candidate, payment))
    return tuple(
        AdjudicatedLine(
            line_number=line.line_number if line else 0,
            line_control_number=line.line_control_number if line else payment.line_control_number,
            code=payment.code,
            charge_cents=payment.charge_cents,
            paid_cents=payment.paid_cents,
            adjustments=cas(payment.adjustments),
            remark_codes=payment.remark_codes,
        )
        for line, payment in matched
    )


def _patient_share(adjustments: tuple[CasAdjustment, ...]) -> int:
    return sum(a.amount_cents for a in adjustments if a.group == PATIENT_RESPONSIBILITY)


def line_denied(line: AdjudicatedLine) -> bool:
    """Nothing paid and nothing left to the patient: the payer refused the line."""
    return line.paid_cents == 0 and _patient_share(line.adjustments) == 0 and line.charge_cents != 0


def outcome_of(advice: ClaimPaymentAdvice, lines: tuple[AdjudicatedLine, ...]) -> str:
    if advice.status_code == REVERSAL:
        return "reversed"
    if advice.status_code == DENIED:
        return "denied"
    if lines:
        denied = [line for line in lines if line_denied(line)]
        if len(denied) == len(lines):
            return "denied"
        return "partially_paid" if denied else "paid"
    nothing = advice.paid_cents == 0 and advice.patient_responsibility_cents == 0
    return "denied" if nothing else "paid"


def adjudication(
    advice: ClaimPaymentAdvice,
    content: ClaimContent,
    remittance_id: str,
    adjudicated_on: date,
    next_coverage: CoverageInForce | None = None,
) -> Adjudicate:
    lines = match_lines(content, advice.lines)
    claim_adjustments = cas(advice.adjustments)
    patient = advice.patient_responsibility_cents or (
        _patient_share(claim_adjustments) + sum(_patient_share(line.adjustments) for line in lines)
    )
    return Adjudicate(
        remittance_id=remittance_id,
        payer_claim_control_number=advice.payer_claim_control_number or "",
        claim_status_code=advice.status_code,
        outcome=outcome_of(advice, lines),
        total_charge_cents=advice.charge_cents,
        paid_cents=advice.paid_cents,
        patient_responsibility_cents=patient,
        claim_adjustments=claim_adjustments,
        lines=lines,
        remark_codes=advice.remark_codes,
        adjudicated_on=adjudicated_on,
        next_coverage=next_coverage,
    )


# The Remittance aggregate --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiveRemittance:
    event: RemittanceReceived


@dataclass(frozen=True)
class RemittanceState:
    received: bool = False


# Claim ids and patient control numbers per event: 2,000 of them is about 80 KiB, far under the
# store's 512 KiB event limit, whatever the size of the payer's file.
LISTED_PER_EVENT = 2_000


def decide(command: ReceiveRemittance, state: RemittanceState) -> list[Event]:
    if state.received:
        return []  # the same payer and trace number again: already applied, nothing changes
    received = command.event
    listed = [("matched", i) for i in received.matched_claim_ids] + [
        ("unmatched", n) for n in received.unmatched_patient_control_numbers
    ]
    if len(listed) <= LISTED_PER_EVENT:
        return [received]
    chunks = [listed[start : start + LISTED_PER_EVENT] for start in range(0, len(listed), LISTED_PER_EVENT)]
    parts: list[Event] = [
        RemittanceClaimsListed(
            remittance_id=received.remittance_id,
            part=number,
            parts=len(chunks),
            matched_claim_ids=tuple(value for kind, value in chunk if kind == "matched"),
            unmatched_patient_control_numbers=tuple(value for kind, value in chunk if kind == "unmatched"),
        )
        for number, chunk in enumerate(chunks, start=1)
    ]
    summary = received.model_copy(
        update={
            "matched_claim_ids": (),
            "unmatched_patient_control_numbers": (),
            "listed_in_parts": len(chunks),
        }
    )
    return [*parts, summary]


def evolve(state: RemittanceState, event: Event) -> RemittanceState:
    return RemittanceState(received=True) if isinstance(event, RemittanceReceived) else state


remittance_decider: Decider[ReceiveRemittance, RemittanceState] = Decider(
    initial=RemittanceState(), decide=decide, evolve=evolve, stream_type="remittance"
)
