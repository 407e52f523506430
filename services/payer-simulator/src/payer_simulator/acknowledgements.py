"""The clearinghouse's first answer to an 837 file: a 999 per functional group, accepting each
transaction set or rejecting it with the envelope or syntax error found; and the claims of the
accepted sets, for the payers to acknowledge (277CA) and adjudicate (835)."""

from __future__ import annotations

from dataclasses import dataclass

from billing_x12 import (
    ElementError,
    ElementNote,
    FunctionalGroup,
    GroupResponse,
    Interchange,
    SegmentError,
    SegmentNote,
    TransactionSet,
    TransactionSetResponse,
    WrongTransactionError,
    envelope_ref,
    is_837i,
    read_institutional_claims,
    read_professional_claims,
)
from billing_x12.implementation_ack import SEGMENTS_IN_ERROR, TRANSACTION_SET_NOT_SUPPORTED

from payer_simulator.adjudication import AnyClaim

# IK502 I6: implementation convention not supported (an 837 neither 005010X222A1 nor 005010X223A2).
_IMPLEMENTATION_NOT_SUPPORTED = "I6"


@dataclass(frozen=True)
class ReviewedSet:
    """A transaction set as the clearinghouse saw it: its 999 answer and, when accepted, its claims."""

    interchange: Interchange
    group: FunctionalGroup
    transaction_set: TransactionSet
    response: TransactionSetResponse
    claims: tuple[AnyClaim, ...]
    payer_ids: frozenset[str]


@dataclass(frozen=True)
class ReviewedInterchange:
    interchange: Interchange
    groups: tuple[GroupResponse, ...]
    sets: tuple[ReviewedSet, ...]

    @property
    def payer_ids(self) -> frozenset[str]:
        return frozenset(payer for s in self.sets for payer in s.payer_ids)


def payer_ids_in(transaction_set: TransactionSet) -> frozenset[str]:
    """The 2010BB payer ids (NM1*PR under a subscriber HL, before its claims), read without trusting
    the rest of the set, so that even a rejected set can be routed to its payer."""
    found: set[str] = set()
    level = ""
    in_claim = False
    for segment in transaction_set.segments:
        if segment.id == "HL":
            level, in_claim = segment.get(3), False
        elif segment.id == "CLM":
            in_claim = True
        elif (
            segment.id == "NM1"
            and segment.get(1) == "PR"
            and level == "22"
            and not in_claim
            and segment.get(9)
        ):
            found.add(segment.get(9))
    return frozenset(found)


def _note(error: ElementError | SegmentError, transaction_set: TransactionSet) -> SegmentNote:
    position = 1
    if error.position is not None:
        position = error.position - transaction_set.header.position + 1
    segment_id = error.segment_id or transaction_set.header.id
    if isinstance(error, ElementError):
        element = error.element_position or 1
        return SegmentNote(segment_id, position, "8", elements=(ElementNote(element, error.ack_code),))
    return SegmentNote(segment_id, position, error.ack_code)


def _review_set(
    interchange: Interchange, group: FunctionalGroup, transaction_set: TransactionSet, envelope_broken: bool
) -> ReviewedSet:
    codes = [f.fault.value for f in transaction_set.faults if f.fault is not None]
    notes: list[SegmentNote] = []
    claims: tuple[AnyClaim, ...] = ()
    if not codes and not envelope_broken:
        envelope = envelope_ref(interchange, group, transaction_set)
        try:
            if is_837i(transaction_set, group.version):
                claims = read_institutional_claims(transaction_set, envelope, group_version=group.version)
            else:
                claims = read_professional_claims(transaction_set, envelope, group_version=group.version)
        except WrongTransactionError:
            codes.append(
                TRANSACTION_SET_NOT_SUPPORTED
                if transaction_set.id != "837"
                else _IMPLEMENTATION_NOT_SUPPORTED
            )
        except (ElementError, SegmentError) as error:
            notes.append(_note(error, transaction_set))
            codes.append(SEGMENTS_IN_ERROR)
    rejected = bool(codes) or envelope_broken
    response = TransactionSetResponse(
        transaction_set_id=transaction_set.id,
        control_number=transaction_set.control_number,
        implementation=transaction_set.implementation or None,
        status="R" if rejected else "A",
        error_codes=tuple(codes),
        segment_notes=tuple(notes),
    )
    payers = frozenset(c.payer_id for c in claims) if claims else payer_ids_in(transaction_set)
    return ReviewedSet(interchange, group, transaction_set, response, () if rejected else claims, payers)


def review_interchange(interchange: Interchange) -> ReviewedInterchange:
    """The 999 answers for every functional group of the interchange.

    A broken group envelope (GE count or control number, missing GE) rejects every set of the group
    with the AK905 code; a broken interchange envelope (IEA) rejects every group, since a 999 has
    no code for it (that would be a TA1's job)."""
    interchange_broken = bool(interchange.faults)
    groups: list[GroupResponse] = []
    reviewed: list[ReviewedSet] = []
    for group in interchange.groups:
        group_codes = tuple(f.fault.value for f in group.faults if f.fault is not None)
        broken = interchange_broken or bool(group_codes)
        sets = [_review_set(interchange, group, ts, broken) for ts in group.transaction_sets]
        reviewed.extend(sets)
        accepted = sum(1 for s in sets if s.response.accepted)
        included = group.trailer.get(1) if group.trailer is not None else ""
        if broken:
            status = "R"
        elif accepted == len(sets):
            status = "A"
        elif accepted == 0:
            status = "R"
        else:
            status = "P"
        groups.append(
            GroupResponse(
                functional_id=group.functional_id,
                group_control_number=group.control_number,
                version=group.version or None,
                status=status,
                included_count=int(included) if included.isdigit() else len(sets),
                received_count=len(sets),
                accepted_count=accepted,
                transaction_sets=tuple(s.response for s in sets),
                error_codes=group_codes,
            )
        )
    return ReviewedInterchange(interchange, tuple(groups), tuple(reviewed))
