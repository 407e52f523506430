"""Remittances: matching an 835's claims and lines to ours, the outcome of each claim, and the
Remittance aggregate (one stream per payer and trace number, so the same payment twice is nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from billing_events.contracts.base import Event
from billing_events.contracts.claims import (
    AdjudicatedLine,
    CasAdjustment,
    ClaimLine,
    HeldClaimPayment,
    HeldLinePayment,
    RemittanceClaimMatched,
    RemittanceClaimsListed,
    RemittanceReceived,
)
from billing_events.decider import Decider
from claims.domain.claim import Adjudicate
from claims.domain.coordination import CoverageInForce
from claims.domain.errors import AlreadyMatched, HeldPaymentNotFound
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


# Held claim payments: a CLP that matches no claim waits, whole, on its remittance --------------------


def held(advice: ClaimPaymentAdvice) -> HeldClaimPayment:
    return HeldClaimPayment(
        patient_control_number=advice.patient_control_number,
        claim_status_code=advice.status_code,
        charge_cents=advice.charge_cents,
        paid_cents=advice.paid_cents,
        patient_responsibility_cents=advice.patient_responsibility_cents,
        payer_claim_control_number=advice.payer_claim_control_number,
        claim_adjustments=cas(advice.adjustments),
        remark_codes=advice.remark_codes,
        lines=tuple(
            HeldLinePayment(
                code=line.code,
                modifiers=line.modifiers,
                charge_cents=line.charge_cents,
                paid_cents=line.paid_cents,
                service_date=line.service_date,
                line_control_number=line.line_control_number,
                adjustments=cas(line.adjustments),
                remark_codes=line.remark_codes,
            )
            for line in advice.lines
        ),
    )


def _adjustments(items: tuple[CasAdjustment, ...]) -> tuple[Adjustment, ...]:
    return tuple(Adjustment(a.group, a.reason_code, a.amount_cents) for a in items)


def released(payment: HeldClaimPayment) -> ClaimPaymentAdvice:
    """The held payment as the 835 said it: posting it later is posting it as it came."""
    return ClaimPaymentAdvice(
        patient_control_number=payment.patient_control_number,
        status_code=payment.claim_status_code,
        charge_cents=payment.charge_cents,
        paid_cents=payment.paid_cents,
        patient_responsibility_cents=payment.patient_responsibility_cents,
        payer_claim_control_number=payment.payer_claim_control_number,
        adjustments=_adjustments(payment.claim_adjustments),
        remark_codes=payment.remark_codes,
        lines=tuple(
            LinePayment(
                code=line.code,
                modifiers=line.modifiers,
                charge_cents=line.charge_cents,
                paid_cents=line.paid_cents,
                service_date=line.service_date,
                line_control_number=line.line_control_number,
                adjustments=_adjustments(line.adjustments),
                remark_codes=line.remark_codes,
            )
            for line in payment.lines
        ),
    )


# The Remittance aggregate --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiveRemittance:
    event: RemittanceReceived


@dataclass(frozen=True)
class MatchClaimPayment:
    """A biller says which claim a held claim payment (by CLP01) answers."""

    patient_control_number: str
    claim_id: str


@dataclass(frozen=True)
class PostRemittancePart:
    """A part of a payer's large file was posted (its claims adjudicated or held, in the same
    transaction): `listed` says which claims, and through which of the file's claims."""

    listed: RemittanceClaimsListed


RemittanceCommand = ReceiveRemittance | MatchClaimPayment | PostRemittancePart


@dataclass(frozen=True)
class RemittanceState:
    received: bool = False
    remittance_id: str = ""
    payer_id: str | None = None
    payment_date: date | None = None
    # CLP01 -> the held payments under it (a reversal and its correction share one CLP01).
    held: Mapping[str, tuple[HeldClaimPayment, ...]] = field(default_factory=dict)
    matched: Mapping[str, str] = field(default_factory=dict)
    # A large file posted in parts: how many of its claims are posted, in how many listed events.
    claims_posted: int = 0
    listed: int = 0

    @property
    def held_count(self) -> int:
        return sum(len(payments) for payments in self.held.values())

    def waiting(self, patient_control_number: str) -> tuple[HeldClaimPayment, ...]:
        return self.held.get(patient_control_number, ())


# Claim ids and patient control numbers per event: 2,000 of them is about 80 KiB, far under the
# store's 512 KiB event limit, whatever the size of the payer's file.
LISTED_PER_EVENT = 2_000


# Held claim payments per event, by size: one may carry dozens of lines, so they are packed to about
# 256 KiB of JSON each, half the store's limit.
HELD_BYTES_PER_EVENT = 256 * 1024


def _held_parts(held_claims: tuple[HeldClaimPayment, ...]) -> list[tuple[HeldClaimPayment, ...]]:
    parts: list[tuple[HeldClaimPayment, ...]] = []
    part: list[HeldClaimPayment] = []
    size = 0
    for payment in held_claims:
        payment_size = len(payment.model_dump_json())
        if part and size + payment_size > HELD_BYTES_PER_EVENT:
            parts.append(tuple(part))
            part, size = [], 0
        part.append(payment)
        size += payment_size
    if part:
        parts.append(tuple(part))
    return parts


def _in_parts(received: RemittanceReceived) -> list[Event]:
    """The remittance as one event, or, for a payer's file answering thousands of claims (or holding
    thousands it could not match), its claim lists and held payments in RemittanceClaimsListed parts
    followed by the summary."""
    listed = [("matched", i) for i in received.matched_claim_ids] + [
        ("unmatched", n) for n in received.unmatched_patient_control_numbers
    ]
    held = _held_parts(received.held_claims)
    if len(listed) <= LISTED_PER_EVENT and len(held) <= 1:
        return [received]
    chunks = [listed[start : start + LISTED_PER_EVENT] for start in range(0, len(listed), LISTED_PER_EVENT)]
    count = len(chunks) + len(held)
    parts: list[RemittanceClaimsListed] = [
        RemittanceClaimsListed(
            remittance_id=received.remittance_id,
            part=number,
            parts=count,
            matched_claim_ids=tuple(value for kind, value in chunk if kind == "matched"),
            unmatched_patient_control_numbers=tuple(value for kind, value in chunk if kind == "unmatched"),
        )
        for number, chunk in enumerate(chunks, start=1)
    ] + [
        RemittanceClaimsListed(
            remittance_id=received.remittance_id, part=number, parts=count, held_claims=payments
        )
        for number, payments in enumerate(held, start=len(chunks) + 1)
    ]
    summary = received.model_copy(
        update={
            "matched_claim_ids": (),
            "unmatched_patient_control_numbers": (),
            "held_claims": (),
            "listed_in_parts": count,
        }
    )
    return [*parts, summary]


def _part_listed(command: PostRemittancePart, state: RemittanceState) -> list[Event]:
    """The part's lists as events, its held payments split by size like _in_parts does."""
    listed = command.listed
    if state.received or (listed.claims_through or 0) <= state.claims_posted:
        return []  # posted already: a restart that read the file again goes on after it
    held = _held_parts(listed.held_claims) or [()]
    return [
        listed.model_copy(update={"part": state.listed + number, "parts": 0, "held_claims": payments})
        if number == 1
        else RemittanceClaimsListed(
            remittance_id=listed.remittance_id,
            part=state.listed + number,
            parts=0,
            held_claims=payments,
            claims_through=listed.claims_through,
        )
        for number, payments in enumerate(held, start=1)
    ]


def decide(command: RemittanceCommand, state: RemittanceState) -> list[Event]:
    if isinstance(command, PostRemittancePart):
        return _part_listed(command, state)
    if isinstance(command, ReceiveRemittance):
        if state.received:
            return []  # the same payer and trace number again: already applied, nothing changes
        return _in_parts(command.event)
    if not state.received or command.patient_control_number not in state.held:
        raise HeldPaymentNotFound()
    earlier = state.matched.get(command.patient_control_number)
    if earlier == command.claim_id:
        return []  # matched to this claim already: posted once, nothing more
    if earlier is not None:
        raise AlreadyMatched()
    return [
        RemittanceClaimMatched(
            remittance_id=state.remittance_id,
            patient_control_number=command.patient_control_number,
            claim_id=command.claim_id,
        )
    ]


def _holding(
    held: Mapping[str, tuple[HeldClaimPayment, ...]], payments: tuple[HeldClaimPayment, ...]
) -> dict[str, tuple[HeldClaimPayment, ...]]:
    by_number = dict(held)
    for payment in payments:
        number = payment.patient_control_number
        by_number[number] = (*by_number.get(number, ()), payment)
    return by_number


def evolve(state: RemittanceState, event: Event) -> RemittanceState:
    if isinstance(event, RemittanceClaimsListed):
        return replace(
            state,
            held=_holding(state.held, event.held_claims),
            claims_posted=max(state.claims_posted, event.claims_through or 0),
            listed=state.listed + 1,
        )
    if isinstance(event, RemittanceReceived):
        return RemittanceState(
            received=True,
            payer_id=event.payer_id,
            payment_date=event.payment_date,
            held=_holding(state.held, event.held_claims),
            remittance_id=event.remittance_id,
            claims_posted=state.claims_posted,
            listed=state.listed,
        )
    if isinstance(event, RemittanceClaimMatched):
        return replace(state, matched={**state.matched, event.patient_control_number: event.claim_id})
    return state


remittance_decider: Decider[RemittanceCommand, RemittanceState] = Decider(
    initial=RemittanceState(), decide=decide, evolve=evolve, stream_type="remittance"
)
