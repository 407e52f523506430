"""The Claim aggregate: decide(command, state) -> events, evolve(state, event) -> state.

    created -> scrub_failed <-> ready -> submitted -> accepted | rejected -> paid | partially_paid | denied
    adjudicated -> resubmitted (frequency 7) -> ...;  any sent claim -> voided (frequency 8);  -> closed

A claim waiting to leave carries `pending_frequency` (1 original, 7 replacement, 8 void); the
submission worker takes every claim that has one and no findings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from billing_events.contracts.base import Event
from billing_events.contracts.claims import (
    AdjudicatedLine,
    CasAdjustment,
    ClaimAcknowledged,
    ClaimAdjudicated,
    ClaimClosed,
    ClaimCreated,
    ClaimPriorPayersRevised,
    ClaimReady,
    ClaimRejected,
    ClaimResubmitted,
    ClaimScrubFailed,
    ClaimSubmitted,
    ClaimVoided,
    Finding,
    PriorAdjudication,
    RejectionReason,
)
from billing_events.decider import Decider
from claims.domain.coordination import CoverageInForce, balance_left, crossed_over, prior_adjudication
from claims.domain.errors import ClaimNotFound, InvalidTransition, ScrubFailed
from claims.domain.model import ClaimContent, Frequency, ScrubContext, Status
from claims.domain.scrubber import scrub

# States in which the payer may hold the claim: a void or a replacement must tell it.
AT_PAYER: frozenset[str] = frozenset(
    {"submitted", "accepted", "paid", "partially_paid", "denied", "resubmitted"}
)
ADJUDICATED: frozenset[str] = frozenset({"paid", "partially_paid", "denied"})
REPLACEABLE: frozenset[str] = frozenset({"accepted", *ADJUDICATED})


@dataclass(frozen=True)
class SubmissionRecord:
    batch_id: str
    frequency_code: str
    interchange_control_number: str
    file_name: str


@dataclass(frozen=True)
class ClaimState:
    content: ClaimContent | None = None
    status: Status = "created"
    findings: tuple[Finding, ...] = ()
    pending_frequency: Frequency | None = None
    submissions: tuple[SubmissionRecord, ...] = ()
    payer_claim_control_number: str | None = None
    paid_cents: int = 0
    patient_responsibility_cents: int = 0
    # The payer's latest answer (a reversal included), for the denials list and the API.
    adjudication: ClaimAdjudicated | None = None

    @property
    def exists(self) -> bool:
        return self.content is not None

    @property
    def awaiting_submission(self) -> bool:
        return self.pending_frequency is not None and self.status != "scrub_failed"

    @property
    def original_reference(self) -> str:
        """REF*F8 of a replacement or void: the payer's number, else our CLM01 it was filed under."""
        assert self.content is not None
        return self.payer_claim_control_number or self.content.patient_control_number


# Commands -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateClaim:
    content: ClaimContent
    context: ScrubContext
    today: date


@dataclass(frozen=True)
class RecordCrossover:
    """The next payer answers a claim the earlier payer forwarded to it: the claim it answers is
    recorded, not sent (no scrub, no submission), so that its answer posts like any other."""

    content: ClaimContent


@dataclass(frozen=True)
class Rescrub:
    """Reference data changed upstream: a waiting claim is checked again."""

    context: ScrubContext
    today: date


@dataclass(frozen=True)
class FailScrub:
    """Findings that only the decrypted patient data reveals, found while writing the 837."""

    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class Submit:
    batch_id: str
    interchange_control_number: str
    group_control_number: str
    transaction_set_control_number: str
    file_name: str


@dataclass(frozen=True)
class Resubmit:
    reason: str
    corrections: tuple[str, ...]
    context: ScrubContext
    today: date


@dataclass(frozen=True)
class Void:
    reason: str


@dataclass(frozen=True)
class ReviseForPriorPayer:
    """An earlier payer's answer changed (a reversal and a corrected answer): this later payer's claim
    carries it as it now stands; a claim the payer holds is replaced (frequency 7, REF*F8)."""

    answer: PriorAdjudication
    reason: str


@dataclass(frozen=True)
class Close:
    reason: str


@dataclass(frozen=True)
class Acknowledge:
    acknowledgement: str
    control_number: str
    payer_claim_control_number: str | None
    file_name: str | None
    batch_id: str | None


@dataclass(frozen=True)
class Reject:
    acknowledgement: str
    control_number: str
    reasons: tuple[RejectionReason, ...]
    file_name: str | None
    batch_id: str | None


@dataclass(frozen=True)
class Adjudicate:
    remittance_id: str
    payer_claim_control_number: str
    claim_status_code: str
    outcome: str
    total_charge_cents: int
    paid_cents: int
    patient_responsibility_cents: int
    claim_adjustments: tuple[CasAdjustment, ...]
    lines: tuple[AdjudicatedLine, ...]
    remark_codes: tuple[str, ...]
    adjudicated_on: date
    # The patient's coverage that pays after this claim's, in force on the date of service.
    next_coverage: CoverageInForce | None = None


Command = (
    CreateClaim
    | RecordCrossover
    | Rescrub
    | FailScrub
    | Submit
    | Resubmit
    | Void
    | ReviseForPriorPayer
    | Close
    | Acknowledge
    | Reject
    | Adjudicate
)


# Decide ---------------------------------------------------------------------------------------------


def decide(command: Command, state: ClaimState) -> list[Event]:
    if isinstance(command, CreateClaim):
        return _create(command, state)
    if isinstance(command, RecordCrossover):
        if state.exists:
            return []
        return [replace(command.content, crossover=True).created_event()]
    if state.content is None:
        raise ClaimNotFound()
    claim_id = state.content.claim_id
    match command:
        case Rescrub(context=context, today=today):
            if state.status != "scrub_failed":
                return []
            findings = scrub(state.content, context, today)
            if not findings:
                return [ClaimReady(claim_id=claim_id)]
            if findings == state.findings:
                return []  # nothing new to say: the work queue already shows these reasons
            return [ClaimScrubFailed(claim_id=claim_id, failures=findings)]
        case FailScrub(findings=findings):
            if not state.awaiting_submission or not findings:
                return []
            return [ClaimScrubFailed(claim_id=claim_id, failures=findings)]
        case Submit():
            if not state.awaiting_submission or state.pending_frequency is None:
                raise InvalidTransition(state.status, "submitted")
            return [
                ClaimSubmitted(
                    claim_id=claim_id,
                    batch_id=command.batch_id,
                    frequency_code=state.pending_frequency,
                    interchange_control_number=command.interchange_control_number,
                    group_control_number=command.group_control_number,
                    transaction_set_control_number=command.transaction_set_control_number,
                    file_name=command.file_name,
                )
            ]
        case Resubmit():
            return _resubmit(command, state)
        case Void(reason=reason):
            return _void(reason, state)
        case ReviseForPriorPayer():
            return _revise(command, state)
        case Close(reason=reason):
            if state.status not in ADJUDICATED:
                return []
            return [ClaimClosed(claim_id=claim_id, reason=reason)]
        case Acknowledge():
            if not state.submissions or state.status == "closed":
                return []
            return [
                ClaimAcknowledged(
                    claim_id=claim_id,
                    acknowledgement=command.acknowledgement,
                    control_number=command.control_number,
                    payer_claim_control_number=command.payer_claim_control_number,
                    file_name=command.file_name,
                    batch_id=command.batch_id,
                )
            ]
        case Reject():
            if not state.submissions or state.status == "closed":
                return []
            return [
                ClaimRejected(
                    claim_id=claim_id,
                    acknowledgement=command.acknowledgement,
                    control_number=command.control_number,
                    reasons=command.reasons,
                    file_name=command.file_name,
                    batch_id=command.batch_id,
                )
            ]
        case Adjudicate():
            next_payer_id, crossover = _next_payer(command, state.content)
            return [
                ClaimAdjudicated(
                    claim_id=claim_id,
                    invoice_id=state.content.invoice_id,
                    remittance_id=command.remittance_id,
                    payer_id=state.content.payer_id,
                    payer_claim_control_number=command.payer_claim_control_number,
                    claim_status_code=command.claim_status_code,
                    outcome=command.outcome,
                    total_charge_cents=command.total_charge_cents,
                    paid_cents=command.paid_cents,
                    patient_responsibility_cents=command.patient_responsibility_cents,
                    claim_adjustments=command.claim_adjustments,
                    lines=command.lines,
                    remark_codes=command.remark_codes,
                    adjudicated_on=command.adjudicated_on,
                    sequence=state.content.sequence,
                    next_payer_id=next_payer_id,
                    crossover=crossover,
                )
            ]
    raise TypeError(f"unknown command {type(command).__name__}")


def _next_payer(command: Adjudicate, content: ClaimContent) -> tuple[str | None, bool]:
    """Who answers next for the invoice, and whether this payer forwarded the claim to it itself."""
    if command.outcome == "reversed":
        return None, False
    remarks = [*command.remark_codes, *(code for line in command.lines for code in line.remark_codes)]
    crossover = crossed_over(command.claim_status_code, remarks)
    following = command.next_coverage
    if crossover:
        return (following.payer_id if following else None), True
    answer = prior_adjudication(
        content,
        payer_claim_control_number=command.payer_claim_control_number,
        paid_cents=command.paid_cents,
        patient_responsibility_cents=command.patient_responsibility_cents,
        claim_adjustments=command.claim_adjustments,
        lines=command.lines,
        adjudicated_on=command.adjudicated_on,
    )
    left = balance_left(content.total_charge_cents, (*content.prior_adjudications, answer))
    if following is None or left <= 0:
        return None, False
    return following.payer_id, False


def _create(command: CreateClaim, state: ClaimState) -> list[Event]:
    if state.exists:
        return []  # the same invoice again (a replay): one invoice, one claim
    content = command.content
    findings = scrub(content, command.context, command.today)
    created = content.created_event()
    if findings:
        return [created, ClaimScrubFailed(claim_id=content.claim_id, failures=findings)]
    return [created, ClaimReady(claim_id=content.claim_id)]


def _resubmit(command: Resubmit, state: ClaimState) -> list[Event]:
    assert state.content is not None
    claim_id = state.content.claim_id
    if state.status == "rejected":
        # The payer never took the claim in: it goes again as an original, not as a replacement.
        findings = scrub(state.content, command.context, command.today)
        if findings:
            raise ScrubFailed(findings)
        return [ClaimReady(claim_id=claim_id, reason=command.reason)]
    if state.status not in REPLACEABLE:
        raise InvalidTransition(state.status, "resubmitted")
    findings = scrub(state.content, command.context, command.today)
    # A replacement is not a new claim: the filing limit ran for the original, which it replaces.
    findings = tuple(f for f in findings if f.edit_id not in ("SCRUB-TIMELY-FILING", "SCRUB-DUPLICATE"))
    if findings:
        raise ScrubFailed(findings)
    return [
        ClaimResubmitted(
            claim_id=claim_id,
            frequency_code="7",
            reason=command.reason,
            payer_claim_control_number=state.original_reference,
            corrections=command.corrections,
        )
    ]


def _void(reason: str, state: ClaimState) -> list[Event]:
    assert state.content is not None
    claim_id = state.content.claim_id
    if state.status in ("voided", "closed"):
        return []
    if state.status in AT_PAYER or state.pending_frequency == "7":
        return [
            ClaimResubmitted(
                claim_id=claim_id,
                frequency_code="8",
                reason=reason,
                payer_claim_control_number=state.original_reference,
            )
        ]
    return [ClaimVoided(claim_id=claim_id, invoice_id=state.content.invoice_id, reason=reason)]


def _revise(command: ReviseForPriorPayer, state: ClaimState) -> list[Event]:
    assert state.content is not None
    claim_id = state.content.claim_id
    if state.status == "closed":
        return []
    answers = state.content.prior_adjudications
    standing = tuple(
        command.answer if answer.claim_id == command.answer.claim_id else answer for answer in answers
    )
    if standing == answers and state.status != "voided":
        return []  # the claim already carries this answer
    revised = ClaimPriorPayersRevised(claim_id=claim_id, prior_adjudications=standing, reason=command.reason)
    replacement = ClaimResubmitted(
        claim_id=claim_id,
        frequency_code="7",
        reason=command.reason,
        payer_claim_control_number=state.original_reference,
    )
    if state.status == "voided":
        if state.pending_frequency == "8":
            # The void has not left yet: the payer still holds the claim, so it is replaced instead.
            return [revised, replacement]
        # Voided at the payer (or never sent): the corrected answer bills this payer afresh.
        return [revised, ClaimReady(claim_id=claim_id, reason=command.reason)]
    if state.pending_frequency is not None or state.status not in AT_PAYER:
        # Not yet at the payer, or its replacement still waiting: what leaves will carry the answer.
        return [revised]
    return [revised, replacement]


# Evolve ---------------------------------------------------------------------------------------------

_QUEUED_STATUS: dict[str, Status] = {"1": "ready", "7": "resubmitted", "8": "voided"}
_SENT_STATUS: dict[str, Status] = {"1": "submitted", "7": "resubmitted", "8": "voided"}
_OUTCOME_STATUS: dict[str, Status] = {
    "paid": "paid",
    "partially_paid": "partially_paid",
    "denied": "denied",
    "reversed": "accepted",
}


def evolve(state: ClaimState, event: Event) -> ClaimState:
    match event:
        case ClaimCreated():
            return ClaimState(content=ClaimContent.from_event(event), status="created")
        case ClaimScrubFailed(failures=failures):
            return replace(state, status="scrub_failed", findings=failures)
        case ClaimReady():
            pending: Frequency = state.pending_frequency or "1"
            return replace(state, status=_QUEUED_STATUS[pending], findings=(), pending_frequency=pending)
        case ClaimSubmitted():
            record = SubmissionRecord(
                event.batch_id, event.frequency_code, event.interchange_control_number, event.file_name
            )
            return replace(
                state,
                status=_SENT_STATUS[event.frequency_code],
                pending_frequency=None,
                submissions=(*state.submissions, record),
            )
        case ClaimAcknowledged():
            number = event.payer_claim_control_number or state.payer_claim_control_number
            # The 999 accepts the file; only the payer's 277CA accepts the claim.
            accepted = event.acknowledgement == "277CA" and state.status in (
                "submitted",
                "resubmitted",
                "rejected",
            )
            return replace(
                state, status="accepted" if accepted else state.status, payer_claim_control_number=number
            )
        case ClaimRejected():
            if state.status == "voided":
                return state
            return replace(state, status="rejected")
        case ClaimAdjudicated():
            # A reversal (CLP02 22) undoes the earlier answer: the claim waits for the payer again.
            outcome: Status = _OUTCOME_STATUS[event.outcome]
            return replace(
                state,
                status=state.status if state.status == "voided" else outcome,
                adjudication=event,
                payer_claim_control_number=event.payer_claim_control_number
                or state.payer_claim_control_number,
                # Reversals carry negated amounts, so the sums stay what the payer currently pays.
                paid_cents=state.paid_cents + event.paid_cents,
                patient_responsibility_cents=state.patient_responsibility_cents
                + event.patient_responsibility_cents,
            )
        case ClaimResubmitted(frequency_code=frequency):
            return replace(
                state,
                status="resubmitted" if frequency == "7" else "voided",
                pending_frequency=frequency,
                findings=(),
            )
        case ClaimVoided():
            return replace(state, status="voided", pending_frequency=None)
        case ClaimPriorPayersRevised(prior_adjudications=answers):
            assert state.content is not None
            return replace(state, content=replace(state.content, prior_adjudications=answers))
        case ClaimClosed():
            return replace(state, status="closed")
    return state


claim_decider: Decider[Command, ClaimState] = Decider(
    initial=ClaimState(), decide=decide, evolve=evolve, stream_type="claim"
)
