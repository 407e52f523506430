"""277CA Health Care Claim Acknowledgment (005010X214): per claim, whether the payer (or
clearinghouse) accepted it into adjudication or rejected it, with the STC status codes, the payer's
claim control number (REF*1K) and the claim's patient control number (TRN02 = CLM01).
Model, reader and writer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from billing_x12.amounts import format_cents, format_decimal, is_digits
from billing_x12.common import Party, nm1_segment, read_nm1
from billing_x12.errors import SegmentError, WrongTransactionError, X12WriteError
from billing_x12.reader import (
    EnvelopeRef,
    TransactionSet,
    envelope_ref,
    iter_transaction_sets,
    read_interchanges,
)
from billing_x12.segments import Segment, parse_period
from billing_x12.writer import SegmentOut, TransactionSetOut, render_single_group, seg

TRANSACTION_SET_ID = "277"
IMPLEMENTATION = "005010X214"

# Claim status category codes (STC01-1). A0 forwarded, A1 received, A2 accepted into adjudication,
# A5 split: the claim goes on. A3 unprocessable, A4 not found, A6/A7/A8 missing, invalid or
# inconsistent data: the claim must be corrected and sent again.
ACCEPTED_CATEGORIES = frozenset({"A0", "A1", "A2", "A5"})
REJECTED_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8"})

Disposition = Literal["accepted", "rejected", "pending"]


@dataclass(frozen=True)
class StatusCode:
    """One C043 composite: category (A2, A7, ...), status code (20, 400, ...) and entity (PR, 85)."""

    category: str
    status: str
    entity: str | None = None


@dataclass(frozen=True)
class StatusInfo:
    """STC: its status codes (STC01, STC10, STC11), effective date, action (WQ accept, U reject),
    amount (STC04, the total claim charge) and free-form message (STC12)."""

    codes: tuple[StatusCode, ...]
    effective_date: dt.date | None = None
    action_code: str | None = None
    amount_cents: int | None = None
    message: str | None = None


@dataclass(frozen=True)
class LineAck:
    """Loop 2220D: a service line the payer reports on (usually a rejected one)."""

    code: str
    charge_cents: int
    statuses: tuple[StatusInfo, ...]
    procedure_qualifier: str = "HC"
    modifiers: tuple[str, ...] = ()
    units: Decimal | None = None
    line_control_number: str | None = None
    service_date_from: dt.date | None = None
    service_date_to: dt.date | None = None


@dataclass(frozen=True)
class ClaimAck:
    """Loop 2200D: one claim's acknowledgement. `patient` is PHI: never log it."""

    patient_control_number: str
    statuses: tuple[StatusInfo, ...]
    payer_claim_control_number: str | None = None
    clearinghouse_trace_number: str | None = None
    service_date_from: dt.date | None = None
    service_date_to: dt.date | None = None
    patient: Party | None = None
    billing_provider: Party | None = None
    lines: tuple[LineAck, ...] = ()
    position: int = field(default=0, compare=False)

    @property
    def status_codes(self) -> tuple[StatusCode, ...]:
        return tuple(code for info in self.statuses for code in info.codes)

    @property
    def disposition(self) -> Disposition:
        """rejected when any status is a rejection category; accepted when any is an acceptance."""
        categories = {code.category for code in self.status_codes}
        categories |= {code.category for line in self.lines for info in line.statuses for code in info.codes}
        if categories & REJECTED_CATEGORIES:
            return "rejected"
        if categories & ACCEPTED_CATEGORIES:
            return "accepted"
        return "pending"

    @property
    def total_charge_cents(self) -> int | None:
        return next((info.amount_cents for info in self.statuses if info.amount_cents is not None), None)


@dataclass(frozen=True)
class ClaimAcknowledgement:
    """One 277CA transaction set."""

    envelope: EnvelopeRef
    reference_id: str
    created: dt.datetime
    payer: Party
    claims: tuple[ClaimAck, ...]
    receiver: Party | None = None
    receiver_trace_number: str | None = None
    receiver_statuses: tuple[StatusInfo, ...] = ()
    received_date: dt.date | None = None
    processed_date: dt.date | None = None
    source_trace_number: str | None = None

    @property
    def payer_id(self) -> str:
        return self.payer.identifier


# ------------------------------------------------------------------------------------------ reading


def parse_277ca(data: str | bytes) -> tuple[ClaimAcknowledgement, ...]:
    """Every 277CA of the file; refused with a named X12Error when it is not a valid 277CA."""
    acks = [
        read_claim_acknowledgement(ts, envelope_ref(ic, group, ts), group_version=group.version)
        for ic, group, ts in iter_transaction_sets(read_interchanges(data))
    ]
    if not acks:
        raise WrongTransactionError("the file holds no transaction set")
    return tuple(acks)


def read_stc(segment: Segment) -> StatusInfo:
    codes = []
    for index in (1, 10, 11):
        parts = segment.components(index)
        if not parts:
            continue
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise segment.error(index, "is not a category:status composite", ack_code="1")
        codes.append(StatusCode(parts[0], parts[1], parts[2] if len(parts) > 2 and parts[2] else None))
    if not codes:
        raise segment.error(1, "is required", ack_code="1")
    return StatusInfo(
        codes=tuple(codes),
        effective_date=segment.optional_date(2),
        action_code=segment.optional(3),
        amount_cents=segment.optional_cents(4),
        message=segment.optional(12),
    )


class _ClaimBuilder:
    def __init__(self, trn: Segment, patient: Party | None, provider: Party | None) -> None:
        self.trn = trn
        self.patient = patient
        self.provider = provider
        self.statuses: list[StatusInfo] = []
        self.refs: dict[str, str] = {}
        self.dates: tuple[dt.date, dt.date] | None = None
        self.lines: list[LineAck] = []
        self.svc: Segment | None = None
        self.line_statuses: list[StatusInfo] = []
        self.line_control: str | None = None
        self.line_dates: tuple[dt.date, dt.date] | None = None

    def close_line(self) -> None:
        if self.svc is None:
            return
        svc = self.svc
        procedure = svc.components(1)
        if len(procedure) < 2 or not procedure[1]:
            raise svc.error(1, "is not a procedure composite", ack_code="1")
        self.lines.append(
            LineAck(
                procedure_qualifier=procedure[0],
                code=procedure[1],
                modifiers=tuple(m for m in procedure[2:6] if m),
                charge_cents=svc.cents(2),
                units=svc.optional_decimal(7),
                statuses=tuple(self.line_statuses),
                line_control_number=self.line_control,
                service_date_from=self.line_dates[0] if self.line_dates else None,
                service_date_to=self.line_dates[1] if self.line_dates else None,
            )
        )
        self.svc = None
        self.line_statuses = []
        self.line_control = None
        self.line_dates = None

    def add(self, segment: Segment) -> None:
        sid = segment.id
        if sid == "SVC":
            self.close_line()
            self.svc = segment
        elif self.svc is not None:
            if sid == "STC":
                self.line_statuses.append(read_stc(segment))
            elif sid == "REF" and segment.get(1) == "FJ":
                self.line_control = segment.required(2)
            elif sid == "DTP" and segment.get(1) == "472":
                self.line_dates = parse_period(segment, 2)
        elif sid == "STC":
            self.statuses.append(read_stc(segment))
        elif sid == "REF":
            self.refs.setdefault(segment.required(1), segment.required(2))
        elif sid == "DTP" and segment.get(1) == "472":
            self.dates = parse_period(segment, 2)

    def build(self) -> ClaimAck:
        self.close_line()
        if not self.statuses:
            raise SegmentError("claim status has no STC", position=self.trn.position, segment_id="TRN")
        return ClaimAck(
            patient_control_number=self.trn.required(2),
            statuses=tuple(self.statuses),
            payer_claim_control_number=self.refs.get("1K"),
            clearinghouse_trace_number=self.refs.get("D9"),
            service_date_from=self.dates[0] if self.dates else None,
            service_date_to=self.dates[1] if self.dates else None,
            patient=self.patient,
            billing_provider=self.provider,
            lines=tuple(self.lines),
            position=self.trn.position,
        )


def read_claim_acknowledgement(
    transaction_set: TransactionSet, envelope: EnvelopeRef, *, group_version: str = ""
) -> ClaimAcknowledgement:
    st = transaction_set.header
    if transaction_set.id != TRANSACTION_SET_ID:
        raise WrongTransactionError("ST01 is not 277", position=st.position, segment_id="ST", element="ST01")
    version = transaction_set.implementation or group_version
    if not version.startswith("005010X214"):
        raise WrongTransactionError(
            "the implementation is not 005010X214 (277CA)",
            position=st.position,
            segment_id="ST",
            element="ST03",
        )
    segments = transaction_set.segments
    if not segments or segments[0].id != "BHT":
        raise SegmentError("a 277CA begins with BHT", position=st.position, segment_id="ST")
    bht = segments[0]
    level = ""
    payer: Party | None = None
    receiver: Party | None = None
    provider: Party | None = None
    patient: Party | None = None
    source_trace: str | None = None
    receiver_trace: str | None = None
    receiver_statuses: list[StatusInfo] = []
    dates: dict[str, dt.date] = {}
    claims: list[ClaimAck] = []
    claim: _ClaimBuilder | None = None
    for segment in segments[1:]:
        sid = segment.id
        if sid == "HL":
            if claim is not None:
                claims.append(claim.build())
                claim = None
            level = segment.required(3)
            if level == "19":
                provider = None
            if level == "PT":
                patient = None
            continue
        if level == "20":
            if sid == "NM1":
                payer = read_nm1(segment)
            elif sid == "TRN":
                source_trace = segment.get(2)
            elif sid == "DTP" and segment.get(1) in ("050", "009"):
                dates[segment.get(1)] = segment.date(3)
        elif level == "21":
            if sid == "NM1":
                receiver = read_nm1(segment)
            elif sid == "TRN":
                receiver_trace = segment.get(2)
            elif sid == "STC":
                receiver_statuses.append(read_stc(segment))
        elif level == "19":
            if sid == "NM1":
                provider = read_nm1(segment)
        elif level == "PT":
            if sid == "NM1" and claim is None:
                patient = read_nm1(segment)
            elif sid == "TRN":
                if claim is not None:
                    claims.append(claim.build())
                claim = _ClaimBuilder(segment, patient, provider)
            elif claim is None:
                raise SegmentError(f"{sid} before the claim's TRN", position=segment.position, segment_id=sid)
            else:
                claim.add(segment)
    if claim is not None:
        claims.append(claim.build())
    if payer is None:
        raise SegmentError(
            "a 277CA needs the information source (2100A NM1)", position=bht.position, segment_id="BHT"
        )
    return ClaimAcknowledgement(
        envelope=envelope,
        reference_id=bht.required(3),
        created=_bht_created(bht),
        payer=payer,
        receiver=receiver,
        receiver_trace_number=receiver_trace,
        receiver_statuses=tuple(receiver_statuses),
        received_date=dates.get("050"),
        processed_date=dates.get("009"),
        source_trace_number=source_trace,
        claims=tuple(claims),
    )


def _bht_created(bht: Segment) -> dt.datetime:
    day = bht.date(4)
    time = bht.get(5)
    if len(time) < 4 or not is_digits(time[:4]) or int(time[:2]) > 23 or int(time[2:4]) > 59:
        raise bht.error(5, "is not an HHMM time", ack_code="9")
    return dt.datetime.combine(day, dt.time(int(time[:2]), int(time[2:4])))


# ------------------------------------------------------------------------------------------ writing


def _date(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def stc_segment(info: StatusInfo) -> SegmentOut:
    def composite(code: StatusCode | None) -> tuple[str, ...] | None:
        if code is None:
            return None
        return (code.category, code.status, code.entity) if code.entity else (code.category, code.status)

    codes = info.codes
    return seg(
        "STC",
        composite(codes[0]),
        _date(info.effective_date) if info.effective_date else None,
        info.action_code,
        None if info.amount_cents is None else format_cents(info.amount_cents),
        None,
        None,
        None,
        None,
        None,
        composite(codes[1] if len(codes) > 1 else None),
        composite(codes[2] if len(codes) > 2 else None),
        info.message,
    )


def _period(start: dt.date | None, end: dt.date | None) -> tuple[str, str] | None:
    if start is None:
        return None
    if end is None or end == start:
        return "D8", _date(start)
    return "RD8", f"{_date(start)}-{_date(end)}"


def claim_acknowledgement_body(ack: ClaimAcknowledgement) -> list[SegmentOut]:
    """The segments between ST and SE. Claims are grouped under their billing provider (2000C) in
    the order they come; a claim without a billing provider cannot be written."""
    received = ack.received_date or ack.created.date()
    processed = ack.processed_date or ack.created.date()
    out = [
        seg("BHT", "0085", "08", ack.reference_id, _date(ack.created), ack.created.strftime("%H%M"), "TH"),
        seg("HL", "1", None, "20", "1"),
        nm1_segment(ack.payer),
        seg("TRN", "1", ack.source_trace_number or ack.reference_id),
        seg("DTP", "050", "D8", _date(received)),
        seg("DTP", "009", "D8", _date(processed)),
        seg("HL", "2", "1", "21", "1" if ack.claims else "0"),
    ]
    if ack.receiver is not None:
        out.append(nm1_segment(ack.receiver))
    out.append(seg("TRN", "2", ack.receiver_trace_number or ack.reference_id))
    out.extend(stc_segment(info) for info in ack.receiver_statuses)
    accepted = [c for c in ack.claims if c.disposition != "rejected"]
    rejected = [c for c in ack.claims if c.disposition == "rejected"]
    out.append(seg("QTY", "90", str(len(accepted))))
    out.append(seg("QTY", "AA", str(len(rejected))))
    out.append(seg("AMT", "YU", format_cents(sum(c.total_charge_cents or 0 for c in accepted))))
    out.append(seg("AMT", "YY", format_cents(sum(c.total_charge_cents or 0 for c in rejected))))
    hl = 2
    providers: list[tuple[Party, list[ClaimAck]]] = []
    for claim in ack.claims:
        if claim.billing_provider is None:
            raise X12WriteError("a 277CA claim needs its billing provider (2100C)")
        if providers and providers[-1][0] == claim.billing_provider:
            providers[-1][1].append(claim)
        else:
            providers.append((claim.billing_provider, [claim]))
    for provider, claims in providers:
        hl += 1
        provider_hl = hl
        out.append(seg("HL", str(provider_hl), "2", "19", "1"))
        out.append(nm1_segment(provider))
        out.append(seg("TRN", "1", "0"))
        out.append(
            seg(
                "STC",
                ("A1", "19", "PR"),
                None,
                "WQ",
                format_cents(sum(c.total_charge_cents or 0 for c in claims)),
            )
        )
        for claim in claims:
            hl += 1
            out.append(seg("HL", str(hl), str(provider_hl), "PT"))
            if claim.patient is None:
                raise X12WriteError("a 277CA claim needs its patient (2100D)")
            out.append(nm1_segment(claim.patient))
            out.append(seg("TRN", "2", claim.patient_control_number))
            out.extend(stc_segment(info) for info in claim.statuses)
            if claim.payer_claim_control_number:
                out.append(seg("REF", "1K", claim.payer_claim_control_number))
            if claim.clearinghouse_trace_number:
                out.append(seg("REF", "D9", claim.clearinghouse_trace_number))
            period = _period(claim.service_date_from, claim.service_date_to)
            if period is not None:
                out.append(seg("DTP", "472", *period))
            for line in claim.lines:
                out.append(
                    seg(
                        "SVC",
                        (line.procedure_qualifier, line.code, *line.modifiers),
                        format_cents(line.charge_cents),
                        None,
                        None,
                        None,
                        None,
                        None if line.units is None else format_decimal(line.units),
                    )
                )
                out.extend(stc_segment(info) for info in line.statuses)
                if line.line_control_number:
                    out.append(seg("REF", "FJ", line.line_control_number))
                line_period = _period(line.service_date_from, line.service_date_to)
                if line_period is not None:
                    out.append(seg("DTP", "472", *line_period))
    return out


def write_277ca(
    acks: Sequence[ClaimAcknowledgement],
    *,
    sender_id: str,
    receiver_id: str,
    interchange_control_number: int,
    group_control_number: int,
    created: dt.datetime,
    usage_indicator: str = "P",
) -> str:
    """A file with one HN group; each acknowledgement's ST02 is its envelope's control number."""
    transaction_sets = [
        TransactionSetOut(
            TRANSACTION_SET_ID,
            ack.envelope.transaction_set_control_number,
            claim_acknowledgement_body(ack),
            IMPLEMENTATION,
        )
        for ack in acks
    ]
    return render_single_group(
        functional_id="HN",
        version=IMPLEMENTATION,
        transaction_sets=transaction_sets,
        sender_id=sender_id,
        receiver_id=receiver_id,
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        created=created,
        usage_indicator=usage_indicator,
    )
