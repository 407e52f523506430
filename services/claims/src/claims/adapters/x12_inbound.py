"""Reading the payer's files (835, 999, 277CA) with billing_x12 into the claims service's own terms.

A file is read whole before anything is applied: a file that is not X12, mixes kinds, has broken
envelopes, or (an 835) does not balance is refused with a reason that names segments and rules,
never values (the library's errors are built that way, and this module adds none with data).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from sys import intern
from typing import overload

from billing_x12 import (
    REJECTED_CATEGORIES,
    ClaimAcknowledgement,
    ClaimPayment,
    EnvelopeRef,
    ImplementationAck,
    Remittance,
    TransactionSet,
    X12Error,
    envelope_ref,
    iter_transaction_sets,
    parse_277ca,
    parse_999,
    read_interchanges,
    read_remittance,
)

from claims.adapters.x12_eligibility import read_271
from claims.application.ports import FileRefused
from claims.domain.inbound import (
    Adjustment,
    ClaimPaymentAdvice,
    ClaimStatusAnswer,
    GroupAnswer,
    InboundDocument,
    InboundKind,
    LinePayment,
    ProviderAdjustmentLine,
    Reason,
    RemittanceAdvice,
    TransactionSetAnswer,
)

KINDS: dict[str, InboundKind] = {"835": "835", "999": "999", "277": "277CA", "271": "271"}

# IK502 / AK905: why a transaction set or group was rejected.
SET_ERRORS = {
    "1": "transaction set not supported",
    "2": "transaction set trailer missing",
    "3": "transaction set control number in header and trailer do not match",
    "4": "number of included segments does not match actual count",
    "5": "one or more segments in error",
    "6": "missing or invalid transaction set identifier",
    "7": "missing or invalid transaction set control number",
    "23": "transaction set control number not unique within the functional group",
}
# IK304: what is wrong with a segment.
SEGMENT_ERRORS = {
    "1": "unrecognized segment id",
    "2": "unexpected segment",
    "3": "required segment missing",
    "4": "loop occurs over maximum times",
    "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
    "I4": "implementation 'not used' segment present",
    "I6": "implementation dependent segment missing",
    "I7": "implementation loop occurs under minimum times",
    "I8": "implementation segment below minimum use",
    "I9": "implementation dependent 'not used' segment present",
}
# IK403: what is wrong with an element (IK404, the bad value itself, is never kept).
ELEMENT_ERRORS = {
    "1": "required data element missing",
    "2": "conditional required data element missing",
    "3": "too many data elements",
    "4": "data element too short",
    "5": "data element too long",
    "6": "invalid character in data element",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
    "I6": "code value not used in implementation",
    "I9": "implementation dependent data element missing",
    "I10": "implementation 'not used' data element present",
    "I12": "implementation pattern match failure",
}
# 277CA STC01-1 categories.
CATEGORIES = {
    "A0": "forwarded to another entity",
    "A1": "received",
    "A2": "accepted into adjudication",
    "A3": "returned as unprocessable",
    "A4": "not found",
    "A5": "split",
    "A6": "rejected for missing information",
    "A7": "rejected for invalid information",
    "A8": "rejected for relational field in error",
}


def read_inbound(data: bytes) -> InboundDocument:
    try:
        # Lazy bodies: an 835's claims are read from the text one by one below, never all held as
        # segments (a payer's 250,000-claim file would be 1.5 million of them).
        interchanges = read_interchanges(data, lazy_bodies=True)
    except X12Error as error:
        raise FileRefused(f"not a readable X12 file: {error}") from None
    sets = list(iter_transaction_sets(interchanges))
    if not sets:
        raise FileRefused("the file holds no transaction set")
    kinds = {KINDS.get(ts.id) for _, _, ts in sets}
    if None in kinds:
        raise FileRefused("the file holds a transaction set that is not an 835, 999, 277CA or 271")
    if len(kinds) > 1:
        raise FileRefused("the file mixes 835, 999, 277CA and 271 transaction sets")
    receivers = {interchange.receiver_id for interchange in interchanges}
    if len(receivers) > 1:
        raise FileRefused("the file's interchanges are addressed to different receivers")
    kind = kinds.pop()
    assert kind is not None
    first = interchanges[0]
    try:
        if kind == "835":
            # From the sets already read (parse_835 would tokenize the file a second time: twice the
            # time and the peak memory for a payer's 250,000-claim file).
            remittances = tuple(
                _read_835(ts, envelope_ref(ic, group, ts), group.version) for ic, group, ts in sets
            )
            return InboundDocument(kind, first.receiver_id, first.control_number, remittances=remittances)
        if kind == "999":
            groups = tuple(_group(a) for a in parse_999(data))
            return InboundDocument(kind, first.receiver_id, first.control_number, groups=groups)
        if kind == "271":
            responses = read_271(data)
            return InboundDocument(
                kind, first.receiver_id, first.control_number, eligibility_responses=responses
            )
        statuses = tuple(answer for ack in parse_277ca(data) for answer in _claim_statuses(ack))
        return InboundDocument(kind, first.receiver_id, first.control_number, claim_statuses=statuses)
    except X12Error as error:
        raise FileRefused(f"not a valid {kind}: {error}") from None


def _adjustments(items: tuple[object, ...]) -> tuple[Adjustment, ...]:
    return tuple(
        Adjustment(group=intern(a.group), reason_code=intern(a.reason_code), amount_cents=a.amount_cents)  # type: ignore[attr-defined]
        for a in items
    )


def _codes(codes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(intern(code) for code in codes)


def _read_835(transaction_set: TransactionSet, envelope: EnvelopeRef, group_version: str) -> RemittanceAdvice:
    """One 835 transaction set, each claim turned into the service's terms as soon as it is read and
    packed with its part (see PackedClaims)."""
    packing = _Packing()
    remittance = read_remittance(
        transaction_set,
        envelope,
        group_version=group_version,
        on_claim=lambda claim: packing.add(_claim_advice(claim)),
    )
    return _remittance(remittance, packing.done())


class PackedClaims(Sequence[ClaimPaymentAdvice]):
    """A remittance's claims, pickled a part (PART claims) at a time and unpacked only when asked for.

    A payer's 835 of 250,000 claims is about 37 MiB packed, against several hundred as objects: the
    reader's process never holds more than one part as objects, the file crosses to the service
    packed, and posting unpacks it part by part. Equal to any sequence of the same claims."""

    PART = 2_000

    def __init__(self, parts: tuple[bytes, ...], count: int) -> None:
        self._parts = parts
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[ClaimPaymentAdvice]:
        for part in self._parts:
            yield from self._unpack(part)

    @overload
    def __getitem__(self, index: int) -> ClaimPaymentAdvice: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[ClaimPaymentAdvice]: ...
    def __getitem__(self, index: int | slice) -> ClaimPaymentAdvice | Sequence[ClaimPaymentAdvice]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._count)
            if step != 1:
                return tuple(self)[index]
            found: list[ClaimPaymentAdvice] = []
            for number in range(start // self.PART, (stop - 1) // self.PART + 1 if stop > start else 0):
                first = number * self.PART
                found.extend(self._unpack(self._parts[number])[max(start - first, 0) : stop - first])
            return tuple(found)
        if not -self._count <= index < self._count:
            raise IndexError(index)
        index %= self._count
        return self._unpack(self._parts[index // self.PART])[index % self.PART]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or len(other) != self._count:
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PackedClaims({self._count} claims in {len(self._parts)} parts)"

    @staticmethod
    def _unpack(part: bytes) -> tuple[ClaimPaymentAdvice, ...]:
        # Made by this module's own reader process, never by a sender: safe to unpickle.
        claims: tuple[ClaimPaymentAdvice, ...] = pickle.loads(part)  # noqa: S301
        return claims


class _Packing:
    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.part: list[ClaimPaymentAdvice] = []
        self.count = 0

    def add(self, claim: ClaimPaymentAdvice) -> None:
        self.part.append(claim)
        self.count += 1
        if len(self.part) == PackedClaims.PART:
            self._close()

    def _close(self) -> None:
        self.parts.append(pickle.dumps(tuple(self.part), protocol=pickle.HIGHEST_PROTOCOL))
        self.part = []

    def done(self) -> Sequence[ClaimPaymentAdvice]:
        if self.count <= PackedClaims.PART:
            return tuple(self.part)  # a usual remittance: plain claims, nothing to unpack
        if self.part:
            self._close()
        return PackedClaims(tuple(self.parts), self.count)


def _remittance(remittance: Remittance, claims: Sequence[ClaimPaymentAdvice]) -> RemittanceAdvice:
    return RemittanceAdvice(
        payer_key=remittance.payer_id,
        payer_name=remittance.payer.name,
        trace_number=remittance.trace_number,
        payment_cents=remittance.payment.amount_cents,
        payment_date=remittance.payment.payment_date,
        provider_adjustment_cents=remittance.provider_adjustment_total_cents,
        provider_adjustments=tuple(
            ProviderAdjustmentLine(
                provider_identifier=plb.provider_identifier,
                fiscal_period_end=plb.fiscal_period_end,
                reason_code=item.reason_code,
                amount_cents=item.amount_cents,
                reference=item.reference,
            )
            for plb in remittance.provider_adjustments
            for item in plb.items
        ),
        interchange_control_number=remittance.envelope.interchange_control_number,
        claims=claims,
    )


def _claim_advice(claim: ClaimPayment) -> ClaimPaymentAdvice:
    return ClaimPaymentAdvice(
        patient_control_number=claim.patient_control_number,
        # Codes come from small vocabularies (CARC, RARC, CPT, status): one copy of each in memory,
        # however many of the file's claims carry it.
        status_code=intern(claim.status_code),
        charge_cents=claim.charge_cents,
        paid_cents=claim.paid_cents,
        patient_responsibility_cents=claim.patient_responsibility_cents,
        payer_claim_control_number=claim.payer_claim_control_number,
        adjustments=_adjustments(claim.adjustments),
        remark_codes=_codes(claim.remark_codes),
        lines=tuple(
            LinePayment(
                code=intern(line.code),
                modifiers=_codes(line.modifiers),
                charge_cents=line.charge_cents,
                paid_cents=line.paid_cents,
                service_date=line.first_date,
                line_control_number=line.line_control_number,
                adjustments=_adjustments(line.adjustments),
                remark_codes=_codes(line.remark_codes),
            )
            for line in claim.service_lines
        ),
    )


def _group(ack: ImplementationAck) -> GroupAnswer:
    group = ack.group
    answers = []
    for response in group.transaction_sets:
        reasons = [
            Reason(f"IK5:{code}", SET_ERRORS.get(code, "transaction set error"))
            for code in response.error_codes
        ]
        for note in response.segment_notes:
            what = SEGMENT_ERRORS.get(note.error_code or "", "segment error")
            reasons.append(
                Reason(
                    f"IK3:{note.segment_id}:{note.error_code or ''}",
                    f"{note.segment_id} at {note.segment_position}: {what}",
                )
            )
            for element in note.elements:
                reasons.append(
                    Reason(
                        f"IK4:{note.segment_id}{element.element_position:02d}:{element.error_code}",
                        f"{note.segment_id}{element.element_position:02d}: "
                        f"{ELEMENT_ERRORS.get(element.error_code, 'element error')}",
                    )
                )
        answers.append(TransactionSetAnswer(response.control_number, response.accepted, tuple(reasons)))
    return GroupAnswer(
        group_control_number=group.group_control_number,
        accepted=group.accepted,
        transaction_sets=tuple(answers),
        reasons=tuple(Reason(f"AK9:{code}", f"functional group error {code}") for code in group.error_codes),
        interchange_control_number=ack.envelope.interchange_control_number,
    )


def _claim_statuses(ack: ClaimAcknowledgement) -> list[ClaimStatusAnswer]:
    answers = []
    for claim in ack.claims:
        codes = list(claim.status_codes)
        codes += [code for line in claim.lines for info in line.statuses for code in info.codes]
        reasons = tuple(
            Reason(
                ":".join(filter(None, (code.category, code.status, code.entity))),
                f"{CATEGORIES.get(code.category, 'status')} (claim status code {code.status})",
            )
            for code in codes
            if code.category in REJECTED_CATEGORIES
        )
        answers.append(
            ClaimStatusAnswer(
                patient_control_number=claim.patient_control_number,
                disposition=claim.disposition,
                payer_claim_control_number=claim.payer_claim_control_number,
                reasons=reasons,
                interchange_control_number=ack.envelope.interchange_control_number,
            )
        )
    return answers
