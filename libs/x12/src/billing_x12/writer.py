"""Writing X12: segments from values, and ISA/GS/ST envelopes with counts computed and control
numbers given by the caller (who owns their uniqueness)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from billing_x12.errors import X12WriteError
from billing_x12.segments import DEFAULT_DELIMITERS, Delimiters

# A value, a composite (its components in order) or nothing.
Element = str | Sequence[str] | None


@dataclass(frozen=True)
class SegmentOut:
    id: str
    elements: tuple[Element, ...] = field(repr=False)


def seg(segment_id: str, *elements: Element) -> SegmentOut:
    """A segment to write: `seg('CLP', 'PCN1', '1', '150', '120')`; a tuple is a composite."""
    return SegmentOut(segment_id, tuple(elements))


def render_segment(segment: SegmentOut, delimiters: Delimiters = DEFAULT_DELIMITERS) -> str:
    """The segment's text with its terminator; trailing empty elements and components are dropped."""
    values: list[str] = []
    for index, element in enumerate(segment.elements, start=1):
        where = f"{segment.id}{index:02d}"
        if element is None:
            values.append("")
        elif isinstance(element, str):
            values.append(_checked(element, where, delimiters))
        else:
            parts = [_checked(part or "", where, delimiters) for part in element]
            while parts and not parts[-1]:
                parts.pop()
            values.append(delimiters.component.join(parts))
    while values and not values[-1]:
        values.pop()
    return delimiters.element.join([segment.id, *values]) + delimiters.segment


def _checked(value: str, where: str, delimiters: Delimiters) -> str:
    if any(d in value for d in delimiters.all()):
        # Never echo the value: it may be a patient's name.
        raise X12WriteError(f"{where} contains a delimiter character", element=where)
    return value


@dataclass(frozen=True)
class TransactionSetOut:
    """ST ... SE: the body without ST and SE; SE01 is counted when rendering."""

    transaction_set_id: str
    control_number: int | str
    body: Sequence[SegmentOut]
    implementation: str | None = None


@dataclass(frozen=True)
class FunctionalGroupOut:
    functional_id: str
    sender_id: str
    receiver_id: str
    control_number: int
    version: str
    transaction_sets: Sequence[TransactionSetOut]


@dataclass(frozen=True)
class InterchangeOut:
    sender_id: str
    receiver_id: str
    control_number: int
    groups: Sequence[FunctionalGroupOut]
    created: dt.datetime
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    usage_indicator: str = "P"
    acknowledgment_requested: bool = False
    delimiters: Delimiters = DEFAULT_DELIMITERS


def transaction_set_number(control_number: int | str) -> str:
    """ST02/SE02: 4 to 9 characters; integers are zero-padded to 4."""
    if isinstance(control_number, int):
        if not 0 < control_number <= 999_999_999:
            raise X12WriteError("ST02 must be between 1 and 999999999", element="ST02")
        return f"{control_number:04d}"
    if not 4 <= len(control_number) <= 9:
        raise X12WriteError("ST02 must have 4 to 9 characters", element="ST02")
    return control_number


def render_transaction_set(transaction_set: TransactionSetOut, delimiters: Delimiters, newline: str) -> str:
    number = transaction_set_number(transaction_set.control_number)
    segments = [
        seg("ST", transaction_set.transaction_set_id, number, transaction_set.implementation),
        *transaction_set.body,
        seg("SE", str(len(transaction_set.body) + 2), number),
    ]
    return "".join(render_segment(s, delimiters) + newline for s in segments)


def render_interchange(interchange: InterchangeOut, *, newline: str = "\n") -> str:
    """The whole interchange as text. `newline` follows each segment terminator ('' for none)."""
    d = interchange.delimiters
    if not 0 < interchange.control_number <= 999_999_999:
        raise X12WriteError("ISA13 must be between 1 and 999999999", element="ISA13")
    for label, value, width in (
        ("ISA06", interchange.sender_id, 15),
        ("ISA08", interchange.receiver_id, 15),
    ):
        if not value or len(value) > width:
            raise X12WriteError(f"{label} must have 1 to {width} characters", element=label)
    control = f"{interchange.control_number:09d}"
    created = interchange.created
    isa_values = [
        "00",
        " " * 10,
        "00",
        " " * 10,
        _checked(interchange.sender_qualifier, "ISA05", d).ljust(2),
        _checked(interchange.sender_id, "ISA06", d).ljust(15),
        _checked(interchange.receiver_qualifier, "ISA07", d).ljust(2),
        _checked(interchange.receiver_id, "ISA08", d).ljust(15),
        created.strftime("%y%m%d"),
        created.strftime("%H%M"),
        # ISA11 and ISA16 are the repetition and component separators themselves.
        d.repetition or "U",
        "00501",
        control,
        "1" if interchange.acknowledgment_requested else "0",
        _checked(interchange.usage_indicator, "ISA15", d),
        d.component,
    ]
    isa_text = d.element.join(["ISA", *isa_values]) + d.segment
    parts = [isa_text + newline]
    for group in interchange.groups:
        if not 0 < group.control_number <= 999_999_999:
            raise X12WriteError("GS06 must be between 1 and 999999999", element="GS06")
        gs = seg(
            "GS",
            group.functional_id,
            group.sender_id,
            group.receiver_id,
            created.strftime("%Y%m%d"),
            created.strftime("%H%M"),
            str(group.control_number),
            "X",
            group.version,
        )
        parts.append(render_segment(gs, d) + newline)
        parts.extend(render_transaction_set(ts, d, newline) for ts in group.transaction_sets)
        ge = seg("GE", str(len(group.transaction_sets)), str(group.control_number))
        parts.append(render_segment(ge, d) + newline)
    parts.append(render_segment(seg("IEA", str(len(interchange.groups)), control), d) + newline)
    return "".join(parts)


def render_single_group(
    *,
    functional_id: str,
    version: str,
    transaction_sets: Sequence[TransactionSetOut],
    sender_id: str,
    receiver_id: str,
    interchange_control_number: int,
    group_control_number: int,
    created: dt.datetime,
    usage_indicator: str = "P",
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    newline: str = "\n",
) -> str:
    """An interchange with one functional group: the usual shape of a file between two partners."""
    group = FunctionalGroupOut(
        functional_id=functional_id,
        sender_id=sender_id,
        receiver_id=receiver_id,
        control_number=group_control_number,
        version=version,
        transaction_sets=transaction_sets,
    )
    return render_interchange(
        InterchangeOut(
            sender_id=sender_id,
            receiver_id=receiver_id,
            control_number=interchange_control_number,
            groups=(group,),
            created=created,
            sender_qualifier=sender_qualifier,
            receiver_qualifier=receiver_qualifier,
            usage_indicator=usage_indicator,
        ),
        newline=newline,
    )
