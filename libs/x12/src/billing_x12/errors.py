"""Named errors for X12 files.

Every error names where the problem is (segment position in the file, segment id, element reference)
and what kind of problem it is, never the value that was found: X12 health care files carry patient
names and member ids, and an error message ends up in logs and HTTP answers.
"""

from __future__ import annotations

from enum import Enum


class X12Error(Exception):
    """Base of every refusal. `position` is the 1-based position of the segment in the file."""

    def __init__(
        self,
        reason: str,
        *,
        position: int | None = None,
        segment_id: str | None = None,
        element: str | None = None,
    ) -> None:
        self.reason = reason
        self.position = position
        self.segment_id = segment_id
        self.element = element
        super().__init__(self._message())

    def _message(self) -> str:
        where: list[str] = []
        if self.position is not None:
            where.append(f"segment {self.position}")
        if self.segment_id:
            where.append(self.segment_id)
        if not where:
            return self.reason
        return f"{' '.join(where)}: {self.reason}"


class NotX12Error(X12Error):
    """The data does not start with a readable ISA interchange header."""


class EnvelopeFault(Enum):
    """What is wrong with an envelope; the value is the 999 code that reports it, when one exists."""

    INTERCHANGE_TRAILER_MISSING = "interchange"
    INTERCHANGE_CONTROL_NUMBER_MISMATCH = "interchange-control"
    INTERCHANGE_GROUP_COUNT = "interchange-count"
    GROUP_TRAILER_MISSING = "3"
    GROUP_CONTROL_NUMBER_MISMATCH = "4"
    GROUP_TRANSACTION_COUNT = "5"
    TRANSACTION_TRAILER_MISSING = "2"
    TRANSACTION_CONTROL_NUMBER_MISMATCH = "3"
    TRANSACTION_SEGMENT_COUNT = "4"
    TRANSACTION_CONTROL_NUMBER_DUPLICATE = "23"

    @property
    def level(self) -> str:
        """`interchange`, `group` or `transaction`: the envelope that the fault breaks."""
        return self.name.split("_", 1)[0].lower()


class EnvelopeError(X12Error):
    """An ISA/IEA, GS/GE or ST/SE envelope is broken (counts, control numbers, missing trailer)."""

    def __init__(
        self,
        reason: str,
        *,
        fault: EnvelopeFault | None = None,
        position: int | None = None,
        segment_id: str | None = None,
        element: str | None = None,
    ) -> None:
        self.fault = fault
        super().__init__(reason, position=position, segment_id=segment_id, element=element)


class ElementError(X12Error):
    """An element is missing or holds a value of the wrong kind (not an amount, not a date, bad code).

    `ack_code` is the 999 IK403 code for the problem: 1 missing, 6 invalid character, 7 invalid code
    value, 8 invalid date. `element_position` is the element's number in its segment (IK401).
    """

    def __init__(
        self,
        reason: str,
        *,
        position: int | None = None,
        segment_id: str | None = None,
        element: str | None = None,
        ack_code: str = "6",
        element_position: int | None = None,
    ) -> None:
        self.ack_code = ack_code
        self.element_position = element_position
        super().__init__(reason, position=position, segment_id=segment_id, element=element)


class SegmentError(X12Error):
    """A segment is missing where the implementation guide requires it, or appears out of place.

    `ack_code` is the 999 IK304 code: 2 unexpected segment, 3 required segment missing.
    """

    def __init__(
        self,
        reason: str,
        *,
        position: int | None = None,
        segment_id: str | None = None,
        element: str | None = None,
        ack_code: str = "2",
    ) -> None:
        self.ack_code = ack_code
        super().__init__(reason, position=position, segment_id=segment_id, element=element)


class WrongTransactionError(X12Error):
    """The transaction set is not the kind the caller asked for (e.g. not an 835 005010X221A1)."""


class UnbalancedError(X12Error):
    """A remittance's amounts do not add up (claim, service line or transaction balancing)."""


class X12WriteError(X12Error):
    """A value cannot be written: it contains a delimiter, or does not fit the element."""
