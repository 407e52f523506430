"""The eligibility pair, 005010X279A1: the 270 inquiry and the 271 response, read and written from
one model each, so that what is written reads back equal.

One inquiry per transaction set, about one patient: the subscriber (2000C/2100C), and the
dependent (2000D/2100D) when the patient is not the subscriber. The inquirer's trace (TRN01 1 in
the 270) comes back as TRN01 2 in the 271, and BHT03 is echoed too, so an answer can be matched
even when the payer rejects the request before the subscriber loop (AAA in 2100A or 2100B).

Names, member ids and birth dates are PHI: they stay out of reprs (see `Party`), and errors name
segments and elements, never values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from billing_x12.amounts import format_cents, format_decimal
from billing_x12.common import Party, nm1_segment, read_nm1
from billing_x12.errors import SegmentError, WrongTransactionError
from billing_x12.reader import (
    EnvelopeRef,
    TransactionSet,
    envelope_ref,
    iter_transaction_sets,
    read_interchanges,
)
from billing_x12.segments import Segment, parse_date, parse_period
from billing_x12.writer import SegmentOut, TransactionSetOut, render_single_group, seg

IMPLEMENTATION = "005010X279A1"
INQUIRY_ID = "270"
RESPONSE_ID = "271"
# GS01: HS for 270, HB for 271.
INQUIRY_GROUP = "HS"
RESPONSE_GROUP = "HB"
# HL03 levels.
SOURCE, RECEIVER, SUBSCRIBER, DEPENDENT = "20", "21", "22", "23"
# The envelope of a model built to be written (a read one carries where it was read from).
NOT_READ = EnvelopeRef("", "", "0001")


@dataclass(frozen=True)
class Member:
    """The subscriber (NM1*IL, with the member id as NM109 MI) or a dependent (NM1*03)."""

    party: Party
    birth_date: dt.date | None = field(default=None, repr=False)
    sex: str = ""
    # INS02 of a dependent: 01 spouse, 19 child, 34 other adult, ...
    relationship_code: str = ""


@dataclass(frozen=True)
class EligibilityInquiry:
    """One 270 transaction set: who asks (2100B) whom (2100A) about whom (2100C, 2100D)."""

    reference_id: str
    created: dt.datetime
    payer: Party
    receiver: Party
    subscriber: Member
    trace_number: str
    trace_originator: str
    dependent: Member | None = None
    service_date: dt.date | None = None
    service_types: tuple[str, ...] = ("30",)
    envelope: EnvelopeRef = NOT_READ


@dataclass(frozen=True)
class Benefit:
    """An EB segment (loop 2110C/2110D): EB01 what it is, EB02 for whom, EB03 which services,
    EB06 for which period, EB07 an amount, EB08 a percentage as a decimal (0.2 is 20%), EB12
    in network (Y), out of network (N), either (W) or unknown (U)."""

    code: str
    coverage_level: str = ""
    service_types: tuple[str, ...] = ()
    insurance_type: str = ""
    plan_description: str = ""
    time_period: str = ""
    amount_cents: int | None = None
    percent: Decimal | None = None
    in_network: str = ""


@dataclass(frozen=True)
class Rejection:
    """An AAA: the request could not be answered. `loop` says where (2100A payer, 2100B receiver,
    2100C subscriber, 2100D dependent, 2110C/2110D a service type); AAA03 why, AAA04 what next."""

    loop: str
    valid_request: bool
    reason_code: str
    follow_up: str = ""


@dataclass(frozen=True)
class EligibilityResponse:
    """One 271 transaction set, about the patient of one 270."""

    reference_id: str
    created: dt.datetime
    payer: Party
    receiver: Party | None = None
    subscriber: Member | None = None
    dependent: Member | None = None
    # TRN02 of every TRN*2 (our traces echoed); the payer's own TRN*1 are left out.
    trace_numbers: tuple[str, ...] = ()
    trace_originator: str = ""
    rejections: tuple[Rejection, ...] = ()
    benefits: tuple[Benefit, ...] = ()
    plan_begin: dt.date | None = None
    plan_end: dt.date | None = None
    eligibility_begin: dt.date | None = None
    eligibility_end: dt.date | None = None
    envelope: EnvelopeRef = NOT_READ


# --------------------------------------------------------------------------------------- writing


def _d8(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def _member_segments(member: Member, entity: str, *, dependent: bool) -> list[SegmentOut]:
    out = [nm1_segment(member.party if member.party.entity_code == entity else _as(member.party, entity))]
    if member.birth_date is not None:
        # DMG03 of the 270/271 is F or M; an unknown sex is left out.
        out.append(seg("DMG", "D8", _d8(member.birth_date), member.sex or None))
    if dependent and member.relationship_code:
        out.append(seg("INS", "N", member.relationship_code))
    return out


def _as(party: Party, entity: str) -> Party:
    return Party(
        entity,
        party.entity_type or "1",
        party.last_name,
        party.first_name,
        party.middle_name,
        party.suffix,
        party.id_qualifier,
        party.identifier,
    )


def _hl(number: int, parent: int | None, level: str, has_children: bool) -> SegmentOut:
    return seg(
        "HL", str(number), None if parent is None else str(parent), level, "1" if has_children else "0"
    )


def inquiry_body(inquiry: EligibilityInquiry) -> list[SegmentOut]:
    """The segments between ST and SE of a 270."""
    created = inquiry.created
    trace = seg("TRN", "1", inquiry.trace_number, inquiry.trace_originator)
    patient_tail: list[SegmentOut] = []
    if inquiry.service_date is not None:
        patient_tail.append(seg("DTP", "291", "D8", _d8(inquiry.service_date)))
    patient_tail.extend(seg("EQ", code) for code in inquiry.service_types)
    out = [
        seg("BHT", "0022", "13", inquiry.reference_id, created.strftime("%Y%m%d"), created.strftime("%H%M")),
        _hl(1, None, SOURCE, True),
        nm1_segment(_as(inquiry.payer, "PR")),
        _hl(2, 1, RECEIVER, True),
        nm1_segment(_as(inquiry.receiver, "1P")),
        _hl(3, 2, SUBSCRIBER, inquiry.dependent is not None),
    ]
    if inquiry.dependent is None:
        out.append(trace)
        out.extend(_member_segments(inquiry.subscriber, "IL", dependent=False))
        out.extend(patient_tail)
    else:
        out.extend(_member_segments(inquiry.subscriber, "IL", dependent=False))
        out.append(_hl(4, 3, DEPENDENT, False))
        out.append(trace)
        out.extend(_member_segments(inquiry.dependent, "03", dependent=True))
        out.extend(patient_tail)
    return out


def _benefit_segment(benefit: Benefit, repetition: str) -> SegmentOut:
    return seg(
        "EB",
        benefit.code,
        benefit.coverage_level or None,
        repetition.join(benefit.service_types) or None,
        benefit.insurance_type or None,
        benefit.plan_description or None,
        benefit.time_period or None,
        None if benefit.amount_cents is None else format_cents(benefit.amount_cents),
        None if benefit.percent is None else format_decimal(benefit.percent),
        None,
        None,
        None,
        benefit.in_network or None,
    )


def _aaa(rejection: Rejection) -> SegmentOut:
    return seg(
        "AAA",
        "Y" if rejection.valid_request else "N",
        None,
        rejection.reason_code,
        rejection.follow_up or None,
    )


def response_body(response: EligibilityResponse, repetition: str = "^") -> list[SegmentOut]:
    """The segments between ST and SE of a 271. Rejections are written in the loop they name."""
    created = response.created
    by_loop: dict[str, list[Rejection]] = {}
    for rejection in response.rejections:
        by_loop.setdefault(rejection.loop, []).append(rejection)
    out = [
        seg("BHT", "0022", "11", response.reference_id, created.strftime("%Y%m%d"), created.strftime("%H%M")),
        _hl(1, None, SOURCE, response.receiver is not None),
        nm1_segment(_as(response.payer, "PR")),
        *(_aaa(r) for r in by_loop.get("2100A", ())),
    ]
    if response.receiver is None:
        return out
    out.extend(
        [_hl(2, 1, RECEIVER, response.subscriber is not None), nm1_segment(_as(response.receiver, "1P"))]
    )
    out.extend(_aaa(r) for r in by_loop.get("2100B", ()))
    if response.subscriber is None:
        return out
    traces = [seg("TRN", "2", number, response.trace_originator or None) for number in response.trace_numbers]
    dates: list[SegmentOut] = []
    for qualifier, value in (
        ("346", response.plan_begin),
        ("347", response.plan_end),
        ("356", response.eligibility_begin),
        ("357", response.eligibility_end),
    ):
        if value is not None:
            dates.append(seg("DTP", qualifier, "D8", _d8(value)))
    benefits = [_benefit_segment(b, repetition) for b in response.benefits]
    out.append(_hl(3, 2, SUBSCRIBER, response.dependent is not None))
    patient_is_subscriber = response.dependent is None
    if patient_is_subscriber:
        out.extend(traces)
    subscriber = _member_segments(response.subscriber, "IL", dependent=False)
    # 2100C: NM1, (REF, N3, N4), AAA, (PRV), DMG, INS, DTP; then 2110C: EB ...
    out.append(subscriber[0])
    out.extend(_aaa(r) for r in by_loop.get("2100C", ()))
    out.extend(subscriber[1:])
    if patient_is_subscriber:
        out.extend(dates)
        out.extend(benefits)
        out.extend(_aaa(r) for r in by_loop.get("2110C", ()))
        return out
    assert response.dependent is not None
    out.append(_hl(4, 3, DEPENDENT, False))
    out.extend(traces)
    dependent = _member_segments(response.dependent, "03", dependent=True)
    out.append(dependent[0])
    out.extend(_aaa(r) for r in by_loop.get("2100D", ()))
    out.extend(dependent[1:])
    out.extend(dates)
    out.extend(benefits)
    out.extend(_aaa(r) for r in by_loop.get("2110D", ()))
    return out


def _write(
    functional_id: str,
    transaction_sets: Sequence[TransactionSetOut],
    *,
    sender_id: str,
    receiver_id: str,
    interchange_control_number: int,
    group_control_number: int,
    created: dt.datetime,
    usage_indicator: str,
) -> str:
    return render_single_group(
        functional_id=functional_id,
        version=IMPLEMENTATION,
        transaction_sets=transaction_sets,
        sender_id=sender_id,
        receiver_id=receiver_id,
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        created=created,
        usage_indicator=usage_indicator,
    )


def write_270(
    inquiries: Sequence[EligibilityInquiry],
    *,
    sender_id: str,
    receiver_id: str,
    interchange_control_number: int,
    group_control_number: int,
    created: dt.datetime,
    usage_indicator: str = "P",
) -> str:
    """One interchange, one HS group, one 270 per inquiry (ST02 0001, 0002, ...)."""
    sets = [
        TransactionSetOut(INQUIRY_ID, index, inquiry_body(inquiry), IMPLEMENTATION)
        for index, inquiry in enumerate(inquiries, start=1)
    ]
    return _write(
        INQUIRY_GROUP,
        sets,
        sender_id=sender_id,
        receiver_id=receiver_id,
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        created=created,
        usage_indicator=usage_indicator,
    )


def write_271(
    responses: Sequence[EligibilityResponse],
    *,
    sender_id: str,
    receiver_id: str,
    interchange_control_number: int,
    group_control_number: int,
    created: dt.datetime,
    usage_indicator: str = "P",
) -> str:
    """One interchange, one HB group, one 271 per response."""
    sets = [
        TransactionSetOut(RESPONSE_ID, index, response_body(response), IMPLEMENTATION)
        for index, response in enumerate(responses, start=1)
    ]
    return _write(
        RESPONSE_GROUP,
        sets,
        sender_id=sender_id,
        receiver_id=receiver_id,
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        created=created,
        usage_indicator=usage_indicator,
    )


# --------------------------------------------------------------------------------------- reading


def _check_set(transaction_set: TransactionSet, expected_id: str, group_version: str) -> None:
    st = transaction_set.header
    if transaction_set.id != expected_id:
        raise WrongTransactionError(
            f"ST01 is not {expected_id}", position=st.position, segment_id="ST", element="ST01"
        )
    version = transaction_set.implementation or group_version
    if not version.startswith("005010X279"):
        raise WrongTransactionError(
            "the implementation is not 005010X279A1", position=st.position, segment_id="ST", element="ST03"
        )


def _bht(transaction_set: TransactionSet) -> tuple[str, dt.datetime]:
    segments = transaction_set.segments
    if not segments or segments[0].id != "BHT":
        position = segments[0].position if segments else transaction_set.header.position
        raise SegmentError("BHT is required first", position=position, segment_id="BHT")
    bht = segments[0]
    day = bht.date(4)
    time_text = bht.get(5)
    hour, minute = 0, 0
    if len(time_text) >= 4 and time_text[:4].isascii() and time_text[:4].isdigit():
        hour, minute = int(time_text[:2]), int(time_text[2:4])
    if hour > 23 or minute > 59:
        raise bht.error(5, "is not a time", ack_code="9")
    return bht.required(3), dt.datetime(day.year, day.month, day.day, hour, minute)


class _Loops:
    """Walks the HL hierarchy: which level the current segment belongs to, and whether it is inside
    a benefit loop (2110) or a benefit's related entity (LS ... LE, 2120)."""

    def __init__(self) -> None:
        self.level = ""
        self.in_benefit = False
        self.in_entity = False

    def see(self, segment: Segment) -> None:
        if segment.id == "HL":
            self.level = segment.required(3)
            self.in_benefit = self.in_entity = False
        elif segment.id in ("EB", "EQ"):
            self.in_benefit = True
        elif segment.id == "LS":
            self.in_entity = True
        elif segment.id == "LE":
            self.in_entity = False

    @property
    def loop(self) -> str:
        suffix = {SOURCE: "A", RECEIVER: "B", SUBSCRIBER: "C", DEPENDENT: "D"}.get(self.level, "")
        return f"{'2110' if self.in_benefit else '2100'}{suffix}"


def _dmg(segment: Segment) -> tuple[dt.date | None, str]:
    born = None
    if segment.get(1) == "D8" and segment.get(2):
        born = parse_date(segment, 2, segment.get(2))
    return born, segment.get(3)


class _MemberBuilder:
    def __init__(self, nm1: Segment) -> None:
        self.party = read_nm1(nm1)
        self.birth_date: dt.date | None = None
        self.sex = ""
        self.relationship = ""

    def build(self) -> Member:
        return Member(self.party, self.birth_date, self.sex, self.relationship)


def read_eligibility_inquiry(
    transaction_set: TransactionSet, envelope: EnvelopeRef, *, group_version: str = ""
) -> EligibilityInquiry:
    _check_set(transaction_set, INQUIRY_ID, group_version)
    reference_id, created = _bht(transaction_set)
    loops = _Loops()
    payer = receiver = None
    members: dict[str, _MemberBuilder] = {}
    trace: Segment | None = None
    service_date = None
    service_types: list[str] = []
    for segment in transaction_set.segments[1:]:
        loops.see(segment)
        level = loops.level
        if segment.id == "NM1" and not loops.in_benefit:
            if level == SOURCE:
                payer = read_nm1(segment)
            elif level == RECEIVER:
                receiver = read_nm1(segment)
            elif level in (SUBSCRIBER, DEPENDENT):
                members[level] = _MemberBuilder(segment)
        elif segment.id == "TRN" and segment.get(1) == "1":
            trace = segment
        elif segment.id == "DMG" and level in members:
            members[level].birth_date, members[level].sex = _dmg(segment)
        elif segment.id == "INS" and level in members:
            members[level].relationship = segment.get(2)
        elif segment.id == "DTP" and segment.get(1) in ("291", "472") and level in members:
            service_date = parse_period(segment, 2)[0]
        elif segment.id == "EQ":
            service_types.extend(segment.repeats(1))
    st = transaction_set.header
    if payer is None or receiver is None or SUBSCRIBER not in members:
        raise SegmentError(
            "the 270 lacks its payer, receiver or subscriber loop", position=st.position, segment_id="NM1"
        )
    if trace is None:
        raise SegmentError("the 270 lacks the patient's TRN", position=st.position, segment_id="TRN")
    dependent = members.get(DEPENDENT)
    return EligibilityInquiry(
        reference_id=reference_id,
        created=created,
        payer=payer,
        receiver=receiver,
        subscriber=members[SUBSCRIBER].build(),
        dependent=None if dependent is None else dependent.build(),
        trace_number=trace.required(2),
        trace_originator=trace.get(3),
        service_date=service_date,
        service_types=tuple(service_types),
        envelope=envelope,
    )


def _benefit(segment: Segment) -> Benefit:
    percent = segment.optional_decimal(8)
    if percent is not None and not Decimal(0) <= percent <= Decimal(1):
        raise segment.error(8, "is not a percentage between 0 and 1")
    return Benefit(
        code=segment.required(1),
        coverage_level=segment.get(2),
        service_types=segment.repeats(3),
        insurance_type=segment.get(4),
        plan_description=segment.get(5),
        time_period=segment.get(6),
        amount_cents=segment.optional_cents(7),
        percent=percent,
        in_network=segment.get(12),
    )


def read_eligibility_response(
    transaction_set: TransactionSet, envelope: EnvelopeRef, *, group_version: str = ""
) -> EligibilityResponse:
    _check_set(transaction_set, RESPONSE_ID, group_version)
    reference_id, created = _bht(transaction_set)
    loops = _Loops()
    payer = receiver = None
    members: dict[str, _MemberBuilder] = {}
    traces: list[str] = []
    originator = ""
    rejections: list[Rejection] = []
    benefits: list[Benefit] = []
    dates: dict[str, tuple[dt.date, dt.date]] = {}
    for segment in transaction_set.segments[1:]:
        loops.see(segment)
        level = loops.level
        if loops.in_entity and segment.id not in ("LS", "LE"):
            continue  # 2120: a benefit's related entity (another payer, a provider), not the patient
        if segment.id == "NM1" and not loops.in_benefit:
            if level == SOURCE:
                payer = read_nm1(segment)
            elif level == RECEIVER:
                receiver = read_nm1(segment)
            elif level in (SUBSCRIBER, DEPENDENT):
                members[level] = _MemberBuilder(segment)
        elif segment.id == "TRN" and segment.get(1) == "2":
            traces.append(segment.required(2))
            originator = originator or segment.get(3)
        elif segment.id == "AAA":
            rejections.append(
                Rejection(loops.loop, segment.required(1) == "Y", segment.required(3), segment.get(4))
            )
        elif segment.id == "DMG" and level in members and not loops.in_benefit:
            members[level].birth_date, members[level].sex = _dmg(segment)
        elif segment.id == "INS" and level in members and not loops.in_benefit:
            members[level].relationship = segment.get(2)
        elif segment.id == "DTP" and level in members and not loops.in_benefit:
            dates[segment.required(1)] = parse_period(segment, 2)
        elif segment.id == "EB":
            benefits.append(_benefit(segment))
    if payer is None:
        raise SegmentError(
            "the 271 lacks its payer loop (2100A)",
            position=transaction_set.header.position,
            segment_id="NM1",
        )
    plan = dates.get("291")
    eligibility = dates.get("307")
    subscriber, dependent = members.get(SUBSCRIBER), members.get(DEPENDENT)
    return EligibilityResponse(
        reference_id=reference_id,
        created=created,
        payer=payer,
        receiver=receiver,
        subscriber=None if subscriber is None else subscriber.build(),
        dependent=None if dependent is None else dependent.build(),
        trace_numbers=tuple(traces),
        trace_originator=originator,
        rejections=tuple(rejections),
        benefits=tuple(benefits),
        plan_begin=dates["346"][0] if "346" in dates else (plan[0] if plan else None),
        plan_end=dates["347"][0] if "347" in dates else (plan[1] if plan else None),
        eligibility_begin=dates["356"][0] if "356" in dates else (eligibility[0] if eligibility else None),
        eligibility_end=dates["357"][0] if "357" in dates else (eligibility[1] if eligibility else None),
        envelope=envelope,
    )


def parse_270(data: str | bytes) -> tuple[EligibilityInquiry, ...]:
    """Every 270 of the file, or a named X12Error for the whole file."""
    found = [
        read_eligibility_inquiry(ts, envelope_ref(ic, group, ts), group_version=group.version)
        for ic, group, ts in iter_transaction_sets(read_interchanges(data))
    ]
    if not found:
        raise WrongTransactionError("the file holds no transaction set")
    return tuple(found)


def parse_271(data: str | bytes) -> tuple[EligibilityResponse, ...]:
    """Every 271 of the file, or a named X12Error for the whole file."""
    found = [
        read_eligibility_response(ts, envelope_ref(ic, group, ts), group_version=group.version)
        for ic, group, ts in iter_transaction_sets(read_interchanges(data))
    ]
    if not found:
        raise WrongTransactionError("the file holds no transaction set")
    return tuple(found)
