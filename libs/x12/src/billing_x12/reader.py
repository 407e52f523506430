"""Reading X12 files: delimiters from the ISA, segments, and the ISA/GS/ST envelopes around them.

A file may hold several interchanges, each with its own delimiters. `read_interchanges` checks the
envelopes: with `strict=True` (the default) the first broken envelope raises `EnvelopeError`; with
`strict=False` envelope faults are recorded on the interchange, group or transaction set they break
so that an acknowledgement (999) can report them, and only a file that cannot be read at all raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from billing_x12.amounts import is_digits, parse_whole
from billing_x12.errors import ElementError, EnvelopeError, EnvelopeFault, NotX12Error, SegmentError
from billing_x12.segments import DEFAULT_DELIMITERS, Delimiters, Segment

_SEGMENT_ID = re.compile(r"[A-Z0-9]{2,3}\Z")
# C0 controls and DEL are in no X12 character set; NUL would not even fit in PostgreSQL text. Tab, CR
# and LF pass (line-wrapped files), and so does a control the interchange declared as a delimiter.
_CONTROLS = frozenset(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))


def _control_pattern(delimiters: Delimiters) -> re.Pattern[str]:
    refused = sorted(_CONTROLS - set(delimiters.all()))
    return re.compile("[" + "".join(re.escape(c) for c in refused) + "]")


_ISA_ELEMENTS = 16


@dataclass(frozen=True)
class _Span:
    """Where a transaction set's body lies in the file's text: read again, segment by segment, so
    that a payer's 835 of 250,000 claims is never held as 1.5 million segment objects at once."""

    text: str
    start: int
    end: int
    position: int  # the position of the segment before the body (ST)
    delimiters: Delimiters

    def segments(self) -> Iterator[Segment]:
        scanner = _Scanner(self.text, self.start, self.end, self.position)
        scanner.use(self.delimiters)
        while (segment := scanner.next()) is not None:
            yield segment


@dataclass(frozen=True)
class TransactionSet:
    """ST ... SE. `segments` are the segments between ST and SE."""

    header: Segment
    trailer: Segment | None
    segments: tuple[Segment, ...]
    faults: tuple[EnvelopeError, ...] = ()
    # Read with lazy_bodies: `segments` is empty and the body is read again from the file's text,
    # one segment at a time, by body().
    span: _Span | None = field(default=None, repr=False, compare=False)

    def body(self) -> Iterator[Segment]:
        """The segments between ST and SE, in order (from the text again when read lazily)."""
        if self.span is None:
            return iter(self.segments)
        return self.span.segments()

    @property
    def id(self) -> str:
        return self.header.get(1)

    @property
    def control_number(self) -> str:
        return self.header.get(2)

    @property
    def implementation(self) -> str:
        """ST03, the implementation convention reference (e.g. 005010X221A1); '' when absent."""
        return self.header.get(3)

    def position_in_set(self, segment: Segment) -> int:
        """The segment's position counted from ST = 1, as a 999 IK302 reports it."""
        return segment.position - self.header.position + 1


@dataclass(frozen=True)
class FunctionalGroup:
    """GS ... GE."""

    header: Segment
    trailer: Segment | None
    transaction_sets: tuple[TransactionSet, ...]
    faults: tuple[EnvelopeError, ...] = ()

    @property
    def functional_id(self) -> str:
        return self.header.get(1)

    @property
    def sender_id(self) -> str:
        return self.header.get(2)

    @property
    def receiver_id(self) -> str:
        return self.header.get(3)

    @property
    def control_number(self) -> str:
        return self.header.get(6)

    @property
    def version(self) -> str:
        return self.header.get(8)


@dataclass(frozen=True)
class Interchange:
    """ISA ... IEA, with the delimiters its ISA declared."""

    header: Segment
    trailer: Segment | None
    groups: tuple[FunctionalGroup, ...]
    delimiters: Delimiters = field(repr=False)
    faults: tuple[EnvelopeError, ...] = ()

    @property
    def sender_qualifier(self) -> str:
        return self.header.get(5).strip()

    @property
    def sender_id(self) -> str:
        return self.header.get(6).strip()

    @property
    def receiver_qualifier(self) -> str:
        return self.header.get(7).strip()

    @property
    def receiver_id(self) -> str:
        return self.header.get(8).strip()

    @property
    def control_number(self) -> str:
        return self.header.get(13)

    @property
    def usage_indicator(self) -> str:
        """P production, T test."""
        return self.header.get(15)

    def all_faults(self) -> tuple[EnvelopeError, ...]:
        """Every envelope fault in the interchange, in file order."""
        found = list(self.faults)
        for group in self.groups:
            found.extend(group.faults)
            for transaction_set in group.transaction_sets:
                found.extend(transaction_set.faults)
        return tuple(sorted(found, key=lambda e: e.position or 0))


@dataclass(frozen=True)
class EnvelopeRef:
    """The control numbers that identify a transaction set in the exchange with a partner."""

    interchange_control_number: str
    group_control_number: str
    transaction_set_control_number: str
    sender_id: str = ""
    receiver_id: str = ""


def envelope_ref(
    interchange: Interchange, group: FunctionalGroup, transaction_set: TransactionSet
) -> EnvelopeRef:
    return EnvelopeRef(
        interchange_control_number=interchange.control_number,
        group_control_number=group.control_number,
        transaction_set_control_number=transaction_set.control_number,
        sender_id=interchange.sender_id,
        receiver_id=interchange.receiver_id,
    )


def decode(data: str | bytes) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # X12's extended character set is a subset of Latin-1; no byte sequence fails there.
        return data.decode("latin-1")


def detect_delimiters(text: str, start: int = 0) -> Delimiters:
    """The delimiters declared by the ISA beginning at `start`.

    The element separator is the character after 'ISA'; the component separator is ISA16 and the
    segment terminator the character right after it. They are found by counting element separators
    rather than by fixed offsets, so an ISA whose padded fields are a character off still reads.
    """
    if text[start : start + 3] != "ISA" or len(text) < start + 4:
        raise NotX12Error("the data does not start with an ISA interchange header")
    element = text[start + 3]
    if element.isalnum() or element.isspace():
        raise NotX12Error("the ISA element separator is not a delimiter character")
    index = start + 3
    for _ in range(_ISA_ELEMENTS - 1):
        index = text.find(element, index + 1)
        if index < 0:
            raise NotX12Error("the ISA header is shorter than 16 elements")
    # `index` is now the separator before ISA16.
    if len(text) < index + 3:
        raise NotX12Error("the ISA header is cut short")
    component = text[index + 1]
    segment = text[index + 2]
    if segment.isalnum() or segment == element or component == element:
        raise NotX12Error("the ISA header does not declare usable delimiters")
    isa = text[start : index + 2].split(element)
    repetition = isa[11] if len(isa) > 11 and len(isa[11]) == 1 and not isa[11].isalnum() else ""
    return Delimiters(element=element, component=component, repetition=repetition, segment=segment)


class _Scanner:
    """Reads the segments of `text[pos:end]` one at a time (see tokenize for the rules)."""

    def __init__(self, text: str, pos: int = 0, end: int | None = None, position: int = 0) -> None:
        self.text = text
        self.pos = _skip_space(text, pos)
        self.end = len(text) if end is None else end
        self.position = position  # of the last segment read, 1-based in the whole file
        self.start = self.pos  # where the last segment read begins
        self.delimiters = DEFAULT_DELIMITERS
        self.controls = _control_pattern(DEFAULT_DELIMITERS)

    def use(self, delimiters: Delimiters) -> None:
        self.delimiters = delimiters
        self.controls = _control_pattern(delimiters)

    def at_interchange(self) -> bool:
        return self.text.startswith("ISA", self.pos)

    def start_interchange(self) -> Delimiters:
        delimiters = detect_delimiters(self.text, self.pos)
        self.use(delimiters)
        return delimiters

    def next(self) -> Segment | None:
        """The next segment, or None at the end of the span."""
        text, delimiters = self.text, self.delimiters
        while self.pos < self.end:
            start = self.pos
            stop = text.find(delimiters.segment, start, self.end)
            raw = text[start : self.end] if stop < 0 else text[start:stop]
            self.pos = self.end if stop < 0 else stop + 1
            raw = raw.strip("\r\n\t ") if raw[:3] != "ISA" else raw.lstrip("\r\n\t ")
            if not raw:
                self.pos = _skip_space(text, self.pos)
                continue
            self.position += 1
            parts = raw.split(delimiters.element)
            segment_id = parts[0]
            if not _SEGMENT_ID.match(segment_id):
                raise NotX12Error(f"segment {self.position} does not begin with a segment identifier")
            if self.controls.search(raw):
                index = next(i for i, part in enumerate(parts) if self.controls.search(part))
                reference = f"{segment_id}{index:02d}"
                raise ElementError(
                    f"{reference} contains a control character",
                    position=self.position,
                    segment_id=segment_id,
                    element=reference,
                )
            self.start = start
            self.pos = _skip_space(text, self.pos)
            return Segment(segment_id, tuple(parts[1:]), self.position, delimiters)
        return None


def _interchanges(text: str) -> Iterator[tuple[_Scanner, Delimiters, Iterator[Segment]]]:
    """Each interchange of the file with its delimiters and its segments, read as they are asked for
    (an interchange's segments must be read to its end before the next interchange is asked for)."""
    scanner = _Scanner(text)
    if not scanner.at_interchange():
        raise NotX12Error("the data does not start with an ISA interchange header")

    def segments() -> Iterator[Segment]:
        while (segment := scanner.next()) is not None:
            yield segment
            if segment.id == "IEA" or scanner.at_interchange():
                break
        if scanner.pos < len(text) and not scanner.at_interchange():
            raise NotX12Error(f"the data after segment {scanner.position} is not an ISA interchange header")

    while scanner.pos < len(text):
        delimiters = scanner.start_interchange()
        yield scanner, delimiters, segments()


def tokenize(data: str | bytes) -> list[tuple[Delimiters, list[Segment]]]:
    """Split a file into interchanges' segment lists; each interchange keeps its own delimiters.

    Line breaks and spaces between segments are ignored. A segment that does not begin with a
    segment identifier makes the file unreadable.
    """
    # A byte order mark is what some Windows tools put first; it is not part of the interchange.
    text = decode(data).removeprefix("\ufeff")
    return [(delimiters, list(segments)) for _, delimiters, segments in _interchanges(text)]


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in "\r\n\t ":
        pos += 1
    return pos


def read_interchanges(
    data: str | bytes, *, strict: bool = True, lazy_bodies: bool = False
) -> tuple[Interchange, ...]:
    """Every interchange in the file, with envelope checks (see the module docstring).

    `lazy_bodies`: the transaction sets keep no segments; `TransactionSet.body()` reads them again
    from the text, one at a time. The envelopes are checked the same way. For the largest files
    (a payer's 835), whose segments would otherwise all be held at once."""
    text = decode(data).removeprefix("\ufeff")
    interchanges = tuple(
        _build_interchange(delims, segs, scanner if lazy_bodies else None)
        for scanner, delims, segs in _interchanges(text)
    )
    if strict:
        for interchange in interchanges:
            faults = interchange.all_faults()
            if faults:
                raise faults[0]
    return interchanges


def iter_transaction_sets(
    interchanges: tuple[Interchange, ...],
) -> Iterator[tuple[Interchange, FunctionalGroup, TransactionSet]]:
    for interchange in interchanges:
        for group in interchange.groups:
            for transaction_set in group.transaction_sets:
                yield interchange, group, transaction_set


class _Builder:
    """The envelope state machine of one interchange."""

    def __init__(self, isa: Segment) -> None:
        self.isa = isa
        self.groups: list[FunctionalGroup] = []
        self.faults: list[EnvelopeError] = []
        self.gs: Segment | None = None
        self.sets: list[TransactionSet] = []
        self.group_faults: list[EnvelopeError] = []
        self.st: Segment | None = None
        self.body: list[Segment] = []
        self.body_count = 0
        self.body_start: int | None = None
        self.set_faults: list[EnvelopeError] = []
        self.set_numbers: set[str] = set()
        # Lazy bodies: the scanner reading the file; the body is kept as a span of its text.
        self.scanner: _Scanner | None = None
        self.delimiters = DEFAULT_DELIMITERS

    def add_to_body(self, segment: Segment) -> None:
        self.body_count += 1
        if self.scanner is None:
            self.body.append(segment)
        elif self.body_start is None:
            self.body_start = self.scanner.start

    def open_set(self, st: Segment) -> None:
        if self.gs is None:
            raise SegmentError("ST outside a functional group (GS)", position=st.position, segment_id="ST")
        if self.st is not None:
            self.close_set(None, st)
        self.st = st
        self.body = []
        self.body_count = 0
        self.body_start = None
        self.set_faults = []
        if st.get(2) in self.set_numbers:
            self.set_faults.append(
                EnvelopeError(
                    "ST02 repeats the control number of an earlier transaction set in the group",
                    fault=EnvelopeFault.TRANSACTION_CONTROL_NUMBER_DUPLICATE,
                    position=st.position,
                    segment_id="ST",
                    element="ST02",
                )
            )
        self.set_numbers.add(st.get(2))

    def close_set(self, se: Segment | None, at: Segment) -> None:
        assert self.st is not None
        faults = self.set_faults
        if se is None:
            faults.append(
                EnvelopeError(
                    "transaction set has no SE trailer",
                    fault=EnvelopeFault.TRANSACTION_TRAILER_MISSING,
                    position=at.position,
                    segment_id=at.id,
                )
            )
        else:
            actual = self.body_count + 2
            if not _count_matches(se.get(1), actual):
                faults.append(
                    EnvelopeError(
                        f"SE01 does not match the {actual} segments of the transaction set",
                        fault=EnvelopeFault.TRANSACTION_SEGMENT_COUNT,
                        position=se.position,
                        segment_id="SE",
                        element="SE01",
                    )
                )
            if se.get(2) != self.st.get(2):
                faults.append(
                    EnvelopeError(
                        "SE02 does not match ST02",
                        fault=EnvelopeFault.TRANSACTION_CONTROL_NUMBER_MISMATCH,
                        position=se.position,
                        segment_id="SE",
                        element="SE02",
                    )
                )
        span = None
        if self.scanner is not None:
            # The body ends where the segment that closed it (SE, or whatever came instead) begins.
            start = self.scanner.start if self.body_start is None else self.body_start
            span = _Span(self.scanner.text, start, self.scanner.start, self.st.position, self.delimiters)
        self.sets.append(TransactionSet(self.st, se, tuple(self.body), tuple(faults), span))
        self.st = None
        self.body = []
        self.body_count = 0
        self.body_start = None
        self.set_faults = []

    def open_group(self, gs: Segment) -> None:
        if self.gs is not None:
            self.close_group(None, gs)
        self.gs = gs
        self.sets = []
        self.group_faults = []
        self.set_numbers = set()

    def close_group(self, ge: Segment | None, at: Segment) -> None:
        assert self.gs is not None
        if self.st is not None:
            self.close_set(None, at)
        if ge is None:
            self.group_faults.append(
                EnvelopeError(
                    "functional group has no GE trailer",
                    fault=EnvelopeFault.GROUP_TRAILER_MISSING,
                    position=at.position,
                    segment_id=at.id,
                )
            )
        else:
            if not _count_matches(ge.get(1), len(self.sets)):
                self.group_faults.append(
                    EnvelopeError(
                        f"GE01 does not match the {len(self.sets)} transaction sets of the group",
                        fault=EnvelopeFault.GROUP_TRANSACTION_COUNT,
                        position=ge.position,
                        segment_id="GE",
                        element="GE01",
                    )
                )
            if not _control_matches(ge.get(2), self.gs.get(6)):
                self.group_faults.append(
                    EnvelopeError(
                        "GE02 does not match GS06",
                        fault=EnvelopeFault.GROUP_CONTROL_NUMBER_MISMATCH,
                        position=ge.position,
                        segment_id="GE",
                        element="GE02",
                    )
                )
        self.groups.append(FunctionalGroup(self.gs, ge, tuple(self.sets), tuple(self.group_faults)))
        self.gs = None
        self.sets = []
        self.group_faults = []

    def close(self, iea: Segment | None, at: Segment) -> None:
        if self.gs is not None:
            self.close_group(None, at)
        if iea is None:
            self.faults.append(
                EnvelopeError(
                    "interchange has no IEA trailer",
                    fault=EnvelopeFault.INTERCHANGE_TRAILER_MISSING,
                    position=at.position,
                    segment_id=at.id,
                )
            )
            return
        if not _count_matches(iea.get(1), len(self.groups)):
            self.faults.append(
                EnvelopeError(
                    f"IEA01 does not match the {len(self.groups)} functional groups of the interchange",
                    fault=EnvelopeFault.INTERCHANGE_GROUP_COUNT,
                    position=iea.position,
                    segment_id="IEA",
                    element="IEA01",
                )
            )
        if iea.get(2) != self.isa.get(13):
            self.faults.append(
                EnvelopeError(
                    "IEA02 does not match ISA13",
                    fault=EnvelopeFault.INTERCHANGE_CONTROL_NUMBER_MISMATCH,
                    position=iea.position,
                    segment_id="IEA",
                    element="IEA02",
                )
            )


def _count_matches(text: str, actual: int) -> bool:
    return parse_whole(text) == actual


def _control_matches(trailer: str, header: str) -> bool:
    # GS06/GE02 are numeric (N0): 0012 and 12 are the same control number.
    trailer_number, header_number = parse_whole(trailer), parse_whole(header)
    if trailer_number is not None and header_number is not None:
        return trailer_number == header_number
    return trailer == header


def _build_interchange(
    delimiters: Delimiters, segments: Iterable[Segment], scanner: _Scanner | None = None
) -> Interchange:
    reading = iter(segments)
    isa = next(reading)
    if len(isa.elements) != _ISA_ELEMENTS:
        raise NotX12Error("the ISA header does not have 16 elements")
    if not is_digits(isa.get(13)) or len(isa.get(13)) != 9:
        raise EnvelopeError(
            "ISA13 is not a 9-digit control number", position=isa.position, segment_id="ISA", element="ISA13"
        )
    builder = _Builder(isa)
    builder.scanner, builder.delimiters = scanner, delimiters
    trailer: Segment | None = None
    last = isa
    for segment in reading:
        last = segment
        if segment.id == "GS":
            builder.open_group(segment)
        elif segment.id == "GE":
            if builder.gs is None:
                raise SegmentError("GE without a GS", position=segment.position, segment_id="GE")
            if builder.st is not None:
                builder.close_set(None, segment)
            builder.close_group(segment, segment)
        elif segment.id == "ST":
            builder.open_set(segment)
        elif segment.id == "SE":
            if builder.st is None:
                raise SegmentError("SE without an ST", position=segment.position, segment_id="SE")
            builder.close_set(segment, segment)
        elif segment.id == "IEA":
            trailer = segment
            builder.close(segment, segment)
        elif segment.id == "ISA":
            raise SegmentError("ISA inside an interchange", position=segment.position, segment_id="ISA")
        elif builder.st is None:
            raise SegmentError(
                "segment outside a transaction set", position=segment.position, segment_id=segment.id
            )
        else:
            builder.add_to_body(segment)
    if trailer is None:
        builder.close(None, last)
    return Interchange(isa, trailer, tuple(builder.groups), delimiters, tuple(builder.faults))
