"""Eligibility inquiries: registration's check, sent as a 270, answered by the payer's 271.

The EligibilityInquiry aggregate (stream id = registration's check id) is sent once, answered or
failed once; a second answer to the same inquiry changes nothing. `interpret` turns what a 271
says into the check's answer:

- an AAA in the payer, receiver, subscriber or dependent loop (2100A-D: the payer could not answer
  the request) is an error, with AAA03 as the reason code;
- else an EB01 of 1-5 (active coverage, in any of its capitation forms) is active; an AAA about a
  service type asked (2110C/D) then only adds its reason;
- else an AAA about a service type is an error;
- else an EB01 of 6-8 (inactive, pending update, pending investigation) is inactive, with the code;
- else the answer says nothing usable: an error.

Benefits are read for the individual (EB02 IND, else unstated), in network (EB12 Y, W or unstated;
an N is another benefit), for the health benefit plan (EB03 30) unless a copay names the office visit
(98): deductible and out-of-pocket remaining are EB01 C and G with EB06 29 (remaining); the copay
EB01 B with an amount; the coinsurance EB01 A with EB08 (a decimal fraction, 0.2 = 2000 basis points).
A benefit the payer did not state stays absent: never a guess from the calendar-year totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from billing_events.contracts.base import Event
from billing_events.contracts.claims import (
    EligibilityInquiryFailed,
    EligibilityInquirySent,
    EligibilityResponseReceived,
    RejectionReason,
)
from billing_events.decider import Decider
from claims.domain.errors import DomainError

Status = Literal["active", "inactive", "error"]

ACTIVE_CODES = frozenset({"1", "2", "3", "4", "5"})
INACTIVE = {
    "6": "inactive",
    "7": "inactive, pending eligibility update",
    "8": "inactive, pending investigation",
}
# AAA03, the reasons a payer gives for not answering (005010X279A1, loops 2100A-2110D).
REJECT_REASONS = {
    "04": "authorized quantity exceeded",
    "15": "required application data missing",
    "41": "authorization/access restrictions",
    "42": "unable to respond at current time",
    "43": "invalid/missing provider identification",
    "44": "invalid/missing provider name",
    "45": "invalid/missing provider specialty",
    "46": "invalid/missing provider phone number",
    "47": "invalid/missing provider state",
    "48": "invalid/missing referring provider identification number",
    "50": "provider ineligible for inquiries",
    "51": "provider not on file",
    "52": "service dates not within provider plan enrollment",
    "53": "inquired benefit inconsistent with provider type",
    "56": "inappropriate date",
    "57": "invalid/missing date(s) of service",
    "58": "invalid/missing date-of-birth",
    "60": "date of birth follows date(s) of service",
    "61": "date of death precedes date(s) of service",
    "62": "date of service not within allowable inquiry period",
    "63": "date of service in future",
    "64": "invalid/missing patient id",
    "65": "invalid/missing patient name",
    "66": "invalid/missing patient gender code",
    "67": "patient not found",
    "68": "duplicate patient id number",
    "69": "inconsistent with patient's age",
    "70": "inconsistent with patient's gender",
    "71": "patient birth date does not match that for the patient on the database",
    "72": "invalid/missing subscriber/insured id",
    "73": "invalid/missing subscriber/insured name",
    "74": "invalid/missing subscriber/insured gender code",
    "75": "subscriber/insured not found",
    "76": "duplicate subscriber/insured id number",
    "78": "subscriber/insured not in group/plan identified",
    "79": "invalid participant identification",
    "80": "no response received, transaction terminated",
    "97": "invalid or missing provider address",
    "T4": "payer name or identifier missing",
}
DEDUCTIBLE, OUT_OF_POCKET, COPAY, COINSURANCE = "C", "G", "B", "A"
REMAINING = "29"
HEALTH_PLAN, OFFICE_VISIT = "30", "98"


@dataclass(frozen=True)
class BenefitRead:
    """One EB of a 271, in the service's terms."""

    code: str
    coverage_level: str = ""
    service_types: tuple[str, ...] = ()
    time_period: str = ""
    amount_cents: int | None = None
    percent: Decimal | None = None
    in_network: str = ""


@dataclass(frozen=True)
class RejectionRead:
    """One AAA of a 271: where, why (AAA03) and what next (AAA04)."""

    loop: str
    reason_code: str
    follow_up: str = ""


@dataclass(frozen=True)
class EligibilityResponseRead:
    """One 271 transaction set: the inquiry it answers (our trace, else BHT03) and what it says.
    Names and member ids are not carried over: the service matches by its own trace."""

    check_id: str
    benefits: tuple[BenefitRead, ...] = ()
    rejections: tuple[RejectionRead, ...] = ()
    plan_begin: date | None = None
    plan_end: date | None = None
    interchange_control_number: str = ""


@dataclass(frozen=True)
class Answer:
    status: Status
    plan_begin: date | None = None
    plan_end: date | None = None
    deductible_remaining_cents: int | None = None
    copay_cents: int | None = None
    coinsurance_basis_points: int | None = None
    out_of_pocket_remaining_cents: int | None = None
    reasons: tuple[RejectionReason, ...] = ()


def _individual_in_network(benefit: BenefitRead) -> bool:
    return benefit.coverage_level in ("", "IND") and benefit.in_network in ("", "Y", "W")


def _first(
    benefits: Sequence[BenefitRead], code: str, service_types: Sequence[str], *, period: str | None = None
) -> BenefitRead | None:
    """The first matching benefit for the first service type that has one (an unstated EB03 counts
    as the plan's)."""
    candidates = [
        b
        for b in benefits
        if b.code == code and _individual_in_network(b) and (period is None or b.time_period == period)
    ]
    for service_type in service_types:
        for benefit in candidates:
            if service_type in benefit.service_types or (
                not benefit.service_types and service_type == HEALTH_PLAN
            ):
                return benefit
    return None


def _rejection_reasons(rejections: Sequence[RejectionRead]) -> tuple[RejectionReason, ...]:
    return tuple(
        RejectionReason(
            code=f"AAA:{r.reason_code}",
            description=f"{REJECT_REASONS.get(r.reason_code, 'request rejected')} ({r.loop})",
        )
        for r in rejections
    )


def interpret(response: EligibilityResponseRead) -> Answer:
    request_level = [r for r in response.rejections if r.loop.startswith("2100")]
    if request_level:
        return Answer("error", reasons=_rejection_reasons(request_level))
    service_level = _rejection_reasons(response.rejections)
    codes = [b.code for b in response.benefits]
    begin, end = response.plan_begin, response.plan_end
    if any(code in ACTIVE_CODES for code in codes):
        benefits = response.benefits
        deductible = _first(benefits, DEDUCTIBLE, (HEALTH_PLAN,), period=REMAINING)
        out_of_pocket = _first(benefits, OUT_OF_POCKET, (HEALTH_PLAN,), period=REMAINING)
        copay = _first(
            [b for b in benefits if b.amount_cents is not None], COPAY, (OFFICE_VISIT, HEALTH_PLAN)
        )
        coinsurance = _first([b for b in benefits if b.percent is not None], COINSURANCE, (HEALTH_PLAN,))
        return Answer(
            "active",
            begin,
            end,
            deductible_remaining_cents=None if deductible is None else deductible.amount_cents,
            out_of_pocket_remaining_cents=None if out_of_pocket is None else out_of_pocket.amount_cents,
            copay_cents=None if copay is None else copay.amount_cents,
            coinsurance_basis_points=(
                None
                if coinsurance is None or coinsurance.percent is None
                else int(coinsurance.percent * 10_000)
            ),
            reasons=service_level,
        )
    if service_level:
        return Answer("error", reasons=service_level)
    inactive = next((code for code in codes if code in INACTIVE), None)
    if inactive is not None:
        reason = RejectionReason(code=f"EB:{inactive}", description=INACTIVE[inactive])
        return Answer("inactive", begin, end, reasons=(reason,))
    return Answer(
        "error",
        reasons=(RejectionReason(code="EB:none", description="the answer states no eligibility"),),
    )


# The aggregate ---------------------------------------------------------------------------------


class UnknownInquiry(DomainError):
    """An answer to an inquiry this service never sent (or sent for another tenant)."""

    def __init__(self) -> None:
        super().__init__("no such eligibility inquiry")


@dataclass(frozen=True)
class Inquiry:
    """What registration asked: one coverage, for one patient, of one payer."""

    check_id: str
    coverage_id: str
    patient_id: str
    payer_id: str


@dataclass(frozen=True)
class SendInquiry:
    inquiry: Inquiry
    file_name: str
    interchange_control_number: str
    transaction_set_control_number: str


@dataclass(frozen=True)
class FailInquiry:
    inquiry: Inquiry
    reasons: tuple[RejectionReason, ...]


@dataclass(frozen=True)
class RecordResponse:
    response: EligibilityResponseRead
    file_name: str


InquiryCommand = SendInquiry | FailInquiry | RecordResponse


@dataclass(frozen=True)
class InquiryState:
    inquiry: Inquiry | None = None
    sent: bool = False
    closed: bool = False


def decide(command: InquiryCommand, state: InquiryState) -> list[Event]:
    if isinstance(command, SendInquiry):
        if state.sent or state.closed:
            return []
        asked = command.inquiry
        return [
            EligibilityInquirySent(
                check_id=asked.check_id,
                coverage_id=asked.coverage_id,
                patient_id=asked.patient_id,
                payer_id=asked.payer_id,
                file_name=command.file_name,
                interchange_control_number=command.interchange_control_number,
                transaction_set_control_number=command.transaction_set_control_number,
            )
        ]
    if isinstance(command, FailInquiry):
        if state.sent or state.closed:
            return []
        asked = command.inquiry
        return [
            EligibilityInquiryFailed(
                check_id=asked.check_id,
                coverage_id=asked.coverage_id,
                patient_id=asked.patient_id,
                payer_id=asked.payer_id,
                reasons=command.reasons,
            )
        ]
    if state.inquiry is None or not state.sent:
        raise UnknownInquiry()
    if state.closed:
        return []  # the payer answered twice (or we asked twice): the first answer stands
    asked = state.inquiry
    answer = interpret(command.response)
    return [
        EligibilityResponseReceived(
            check_id=asked.check_id,
            coverage_id=asked.coverage_id,
            patient_id=asked.patient_id,
            payer_id=asked.payer_id,
            status=answer.status,
            plan_begin_on=answer.plan_begin,
            plan_end_on=answer.plan_end,
            deductible_remaining_cents=answer.deductible_remaining_cents,
            copay_cents=answer.copay_cents,
            coinsurance_basis_points=answer.coinsurance_basis_points,
            out_of_pocket_remaining_cents=answer.out_of_pocket_remaining_cents,
            reasons=answer.reasons,
            file_name=command.file_name,
            interchange_control_number=command.response.interchange_control_number or None,
        )
    ]


def evolve(state: InquiryState, event: Event) -> InquiryState:
    if isinstance(event, EligibilityInquirySent):
        inquiry = Inquiry(event.check_id, event.coverage_id, event.patient_id, event.payer_id)
        return InquiryState(inquiry=inquiry, sent=True)
    if isinstance(event, EligibilityInquiryFailed):
        inquiry = Inquiry(event.check_id, event.coverage_id, event.patient_id, event.payer_id)
        return InquiryState(inquiry=inquiry, closed=True)
    if isinstance(event, EligibilityResponseReceived):
        return InquiryState(inquiry=state.inquiry, sent=True, closed=True)
    return state


inquiry_decider = Decider[InquiryCommand, InquiryState](InquiryState(), decide, evolve, "eligibility-inquiry")


# What a 270 carries (decrypted by the application, written by the X12 adapter) ----------------


@dataclass(frozen=True)
class Person270:
    """A subscriber or a dependent patient: PHI, kept out of repr."""

    family_name: str = field(repr=False)
    given_name: str | None = field(default=None, repr=False)
    birth_date: date | None = field(default=None, repr=False)
    sex: str = "U"


@dataclass(frozen=True)
class Receiver270:
    """The information receiver (2100B): the provider asking, by NPI."""

    npi: str
    organization_name: str | None = None
    family_name: str | None = None
    given_name: str | None = None


@dataclass(frozen=True)
class Inquiry270:
    check_id: str
    service_date: date
    payer_name: str
    payer_edi_id: str
    receiver: Receiver270
    member_id: str = field(repr=False)
    subscriber: Person270
    # The patient when not the subscriber, and how they are related (self, spouse, child, other).
    dependent: Person270 | None = None
    relationship: str = "self"


@dataclass(frozen=True)
class Interchange270:
    sender_id: str
    receiver_id: str
    control_number: int
    created_at: datetime
    inquiries: tuple[Inquiry270, ...]
    usage: str = "P"
