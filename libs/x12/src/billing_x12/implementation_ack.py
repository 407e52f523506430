"""999 Implementation Acknowledgment (005010X231A1): which transaction sets of a functional group
were accepted or rejected, and why. Model, reader and writer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from billing_x12.amounts import parse_whole
from billing_x12.errors import SegmentError, WrongTransactionError
from billing_x12.reader import (
    EnvelopeRef,
    TransactionSet,
    envelope_ref,
    iter_transaction_sets,
    read_interchanges,
)
from billing_x12.segments import Segment
from billing_x12.writer import SegmentOut, TransactionSetOut, render_single_group, seg

TRANSACTION_SET_ID = "999"
IMPLEMENTATION = "005010X231A1"

# IK501 / AK901: A accepted, E accepted with errors noted; P (AK901 only) partially accepted;
# M, R, W, X rejected.
ACCEPTED_CODES = frozenset({"A", "E"})
_ACK_CODES = frozenset({"A", "E", "M", "P", "R", "W", "X"})

# IK502 codes this library's envelope checks produce.
TRANSACTION_SET_NOT_SUPPORTED = "1"
TRAILER_MISSING = "2"
CONTROL_NUMBER_MISMATCH = "3"
SEGMENT_COUNT_MISMATCH = "4"
SEGMENTS_IN_ERROR = "5"
CONTROL_NUMBER_NOT_UNIQUE = "23"


@dataclass(frozen=True)
class ElementNote:
    """IK4: an element in error: its position in the segment, reference number, error code."""

    element_position: int
    error_code: str
    component_position: int | None = None
    element_reference: str | None = None
    # IK404 copies the bad value: it may be a patient's name, so it stays out of repr.
    bad_value: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SegmentNote:
    """IK3: a segment in error: id, position in the transaction set (ST = 1), loop, error code."""

    segment_id: str
    segment_position: int
    error_code: str | None = None
    loop_id: str | None = None
    elements: tuple[ElementNote, ...] = ()


@dataclass(frozen=True)
class TransactionSetResponse:
    """AK2 ... IK5: the answer for one transaction set, identified by its ST02."""

    transaction_set_id: str
    control_number: str
    status: str
    implementation: str | None = None
    error_codes: tuple[str, ...] = ()
    segment_notes: tuple[SegmentNote, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.status in ACCEPTED_CODES


@dataclass(frozen=True)
class GroupResponse:
    """AK1 ... AK9: the answer for one functional group, identified by its GS06."""

    functional_id: str
    group_control_number: str
    status: str
    included_count: int
    received_count: int
    accepted_count: int
    version: str | None = None
    transaction_sets: tuple[TransactionSetResponse, ...] = ()
    error_codes: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        """The whole group accepted; a partly accepted group (P) is not."""
        return self.status in ACCEPTED_CODES


@dataclass(frozen=True)
class ImplementationAck:
    """One 999 transaction set: the answer to one functional group."""

    envelope: EnvelopeRef
    group: GroupResponse

    @property
    def transaction_sets(self) -> tuple[TransactionSetResponse, ...]:
        return self.group.transaction_sets


def parse_999(data: str | bytes) -> tuple[ImplementationAck, ...]:
    """Every 999 of the file; refused with a named X12Error when it is not a valid 999."""
    acks = [
        read_implementation_ack(ts, envelope_ref(ic, group, ts), group_version=group.version)
        for ic, group, ts in iter_transaction_sets(read_interchanges(data))
    ]
    if not acks:
        raise WrongTransactionError("the file holds no transaction set")
    return tuple(acks)


def read_implementation_ack(
    transaction_set: TransactionSet, envelope: EnvelopeRef, *, group_version: str = ""
) -> ImplementationAck:
    st = transaction_set.header
    if transaction_set.id != TRANSACTION_SET_ID:
        raise WrongTransactionError("ST01 is not 999", position=st.position, segment_id="ST", element="ST01")
    version = transaction_set.implementation or group_version
    if not version.startswith("005010X231"):
        raise WrongTransactionError(
            "the implementation is not 005010X231A1", position=st.position, segment_id="ST", element="ST03"
        )
    ak1: Segment | None = None
    ak9: Segment | None = None
    responses: list[TransactionSetResponse] = []
    ak2: Segment | None = None
    notes: list[SegmentNote] = []
    # The IK3 being read and its IK4 elements, gathered in a list and frozen once the IK3 loop ends:
    # rebuilding the note's tuple at every IK4 made a file of many IK4s quadratic.
    ik3: Segment | None = None
    elements: list[ElementNote] = []

    def close_ik3() -> None:
        nonlocal ik3, elements
        if ik3 is not None:
            notes.append(
                SegmentNote(
                    segment_id=ik3.required(1),
                    segment_position=ik3.integer(2),
                    loop_id=ik3.optional(3),
                    error_code=ik3.optional(4),
                    elements=tuple(elements),
                )
            )
        ik3, elements = None, []

    for segment in transaction_set.segments:
        sid = segment.id
        if sid != "IK4":
            close_ik3()
        if sid == "AK1":
            ak1 = segment
            segment.required(1)
            if len(segment.required(2)) > 9:
                raise segment.error(2, "is longer than 9 digits")
            segment.integer(2)  # AK102, the group control number, is numeric (N0): ASCII digits
        elif sid == "AK2":
            ak2 = segment
            notes = []
        elif sid == "IK3":
            if ak2 is None:
                raise SegmentError("IK3 outside an AK2 loop", position=segment.position, segment_id=sid)
            segment.required(1)
            segment.integer(2)
            ik3 = segment
        elif sid == "IK4":
            if ik3 is None:
                raise SegmentError("IK4 outside an IK3 loop", position=segment.position, segment_id=sid)
            position = segment.components(1)
            element_position = parse_whole(position[0]) if position else None
            if element_position is None:
                raise segment.error(1, "is not an element position", ack_code="1")
            component = parse_whole(position[1]) if len(position) > 1 else None
            elements.append(
                ElementNote(
                    element_position=element_position,
                    component_position=component,
                    element_reference=segment.optional(2),
                    error_code=segment.required(3),
                    bad_value=segment.optional(4),
                )
            )
        elif sid == "IK5":
            if ak2 is None:
                raise SegmentError("IK5 without an AK2", position=segment.position, segment_id=sid)
            responses.append(
                TransactionSetResponse(
                    transaction_set_id=ak2.required(1),
                    control_number=ak2.required(2),
                    implementation=ak2.optional(3),
                    status=segment.code(1, _ACK_CODES),
                    error_codes=tuple(code for code in (segment.get(i) for i in range(2, 7)) if code),
                    segment_notes=tuple(notes),
                )
            )
            ak2 = None
            notes = []
        elif sid == "AK9":
            ak9 = segment
    close_ik3()
    if ak1 is None or ak9 is None:
        raise SegmentError("a 999 needs AK1 and AK9", position=st.position, segment_id="ST")
    if ak2 is not None:
        raise SegmentError("AK2 without IK5", position=ak2.position, segment_id="AK2")
    return ImplementationAck(
        envelope=envelope,
        group=GroupResponse(
            functional_id=ak1.required(1),
            group_control_number=ak1.required(2),
            version=ak1.optional(3),
            status=ak9.code(1, _ACK_CODES),
            included_count=ak9.integer(2),
            received_count=ak9.integer(3),
            accepted_count=ak9.integer(4),
            error_codes=tuple(code for code in (ak9.get(i) for i in range(5, 10)) if code),
            transaction_sets=tuple(responses),
        ),
    )


# ------------------------------------------------------------------------------------------ writing


def implementation_ack_body(group: GroupResponse) -> list[SegmentOut]:
    out = [seg("AK1", group.functional_id, group.group_control_number, group.version)]
    for response in group.transaction_sets:
        out.append(seg("AK2", response.transaction_set_id, response.control_number, response.implementation))
        for note in response.segment_notes:
            out.append(seg("IK3", note.segment_id, str(note.segment_position), note.loop_id, note.error_code))
            for element in note.elements:
                position: tuple[str, ...] = (str(element.element_position),)
                if element.component_position is not None:
                    position = (*position, str(element.component_position))
                out.append(
                    seg("IK4", position, element.element_reference, element.error_code, element.bad_value)
                )
        out.append(seg("IK5", response.status, *response.error_codes[:5]))
    out.append(
        seg(
            "AK9",
            group.status,
            str(group.included_count),
            str(group.received_count),
            str(group.accepted_count),
            *group.error_codes[:5],
        )
    )
    return out


def write_999(
    groups: Sequence[GroupResponse],
    *,
    sender_id: str,
    receiver_id: str,
    interchange_control_number: int,
    group_control_number: int,
    first_transaction_set_control_number: int,
    created: dt.datetime,
    usage_indicator: str = "P",
) -> str:
    """A file with one FA group holding one 999 per acknowledged functional group."""
    transaction_sets = [
        TransactionSetOut(
            TRANSACTION_SET_ID,
            first_transaction_set_control_number + index,
            implementation_ack_body(group),
            IMPLEMENTATION,
        )
        for index, group in enumerate(groups)
    ]
    return render_single_group(
        functional_id="FA",
        version=IMPLEMENTATION,
        transaction_sets=transaction_sets,
        sender_id=sender_id,
        receiver_id=receiver_id,
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        created=created,
        usage_indicator=usage_indicator,
    )
