"""835 Health Care Claim Payment/Advice (005010X221A1): typed model and a reader that refuses the
whole file when it is not an 835, its envelopes are broken, or its amounts do not balance.

Amounts are integer cents. Reversals (CLP02 = 22) carry negative amounts, and every balancing rule
is plain signed arithmetic, so a reversal balances exactly like the claim it reverses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from billing_x12.amounts import format_cents
from billing_x12.common import Entity, EntityBuilder, Party, Reference, read_nm1, read_ref
from billing_x12.errors import SegmentError, UnbalancedError, WrongTransactionError
from billing_x12.reader import (
    EnvelopeRef,
    TransactionSet,
    envelope_ref,
    iter_transaction_sets,
    read_interchanges,
)
from billing_x12.segments import Segment

TRANSACTION_SET_ID = "835"
IMPLEMENTATION = "005010X221A1"

# CAS01. 5010 defines CO, OA, PI and PR; CR (corrections and reversals) is 4010's and still seen.
ADJUSTMENT_GROUPS = frozenset({"CO", "OA", "PI", "PR", "CR"})

# CLP02.
CLAIM_STATUS_CODES: dict[str, str] = {
    "1": "processed as primary",
    "2": "processed as secondary",
    "3": "processed as tertiary",
    "4": "denied",
    "19": "processed as primary, forwarded to additional payer(s)",
    "20": "processed as secondary, forwarded to additional payer(s)",
    "21": "processed as tertiary, forwarded to additional payer(s)",
    "22": "reversal of previous payment",
    "23": "not our claim, forwarded to additional payer(s)",
    "25": "predetermination pricing only, no payment",
}
REVERSAL = "22"
DENIED = "4"

_BPR_HANDLING = frozenset({"C", "D", "H", "I", "P", "U", "X"})
_BPR_METHODS = frozenset({"ACH", "BOP", "CHK", "FWT", "NON"})


@dataclass(frozen=True)
class Adjustment:
    """One CAS reason: group (CO, PR, OA, PI), CARC, amount in cents, optional quantity."""

    group: str
    reason_code: str
    amount_cents: int
    quantity: Decimal | None = None


@dataclass(frozen=True)
class Amount:
    """AMT: qualifier (B6 allowed, AU coverage, I interest, ...) and amount in cents."""

    qualifier: str
    amount_cents: int


@dataclass(frozen=True)
class ServicePayment:
    """Loop 2110: one service line (SVC) with its dates, adjustments, references and remarks."""

    code: str
    charge_cents: int
    paid_cents: int
    procedure_qualifier: str = "HC"
    modifiers: tuple[str, ...] = ()
    revenue_code: str | None = None
    units: Decimal | None = None
    submitted_procedure: tuple[str, ...] = ()
    submitted_units: Decimal | None = None
    service_date: dt.date | None = None
    service_period_start: dt.date | None = None
    service_period_end: dt.date | None = None
    adjustments: tuple[Adjustment, ...] = ()
    line_control_number: str | None = None
    references: tuple[Reference, ...] = ()
    amounts: tuple[Amount, ...] = ()
    remark_codes: tuple[str, ...] = ()
    position: int = field(default=0, compare=False)

    @property
    def allowed_cents(self) -> int | None:
        """AMT*B6, the allowed amount, when the payer sent it."""
        return next((a.amount_cents for a in self.amounts if a.qualifier == "B6"), None)

    @property
    def adjustment_total_cents(self) -> int:
        return sum(a.amount_cents for a in self.adjustments)

    @property
    def first_date(self) -> dt.date | None:
        return self.service_date or self.service_period_start


@dataclass(frozen=True)
class InpatientAdjudication:
    """MIA: how an inpatient (institutional) claim was priced. MIA01 covered days is required; MIA04
    is the DRG amount of a stay paid by DRG; MIA05 a claim payment remark code."""

    covered_days: int
    drg_amount_cents: int | None = None
    remark_code: str | None = None


@dataclass(frozen=True)
class OutpatientAdjudication:
    """MOA: how an outpatient (or professional) claim was priced: MOA01 reimbursement rate, MOA02
    the HCPCS payable amount; its remark codes (MOA03-MOA07) are the claim's `remark_codes`."""

    reimbursement_rate: Decimal | None = None
    hcpcs_payable_cents: int | None = None


@dataclass(frozen=True)
class ClaimPayment:
    """Loop 2100: one claim (CLP) as the payer adjudicated it.

    `parties` are the NM1s of the claim: QC patient, IL insured, 74 corrected insured, 82 rendering
    provider, PR corrected priority payer, TT crossover carrier. They are PHI: never log them.
    """

    patient_control_number: str
    status_code: str
    charge_cents: int
    paid_cents: int
    patient_responsibility_cents: int = 0
    claim_filing_indicator: str = ""
    payer_claim_control_number: str | None = None
    facility_code: str | None = None
    frequency_code: str | None = None
    adjustments: tuple[Adjustment, ...] = ()
    parties: tuple[Party, ...] = ()
    remark_codes: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    statement_from: dt.date | None = None
    statement_to: dt.date | None = None
    received_date: dt.date | None = None
    amounts: tuple[Amount, ...] = ()
    service_lines: tuple[ServicePayment, ...] = ()
    header_number: int | None = None
    position: int = field(default=0, compare=False)
    inpatient: InpatientAdjudication | None = None
    outpatient: OutpatientAdjudication | None = None

    @property
    def is_reversal(self) -> bool:
        return self.status_code == REVERSAL

    @property
    def is_denied(self) -> bool:
        return self.status_code == DENIED

    @property
    def patient(self) -> Party | None:
        return self._party("QC")

    @property
    def insured(self) -> Party | None:
        return self._party("IL")

    @property
    def rendering_provider(self) -> Party | None:
        return self._party("82")

    def _party(self, code: str) -> Party | None:
        return next((p for p in self.parties if p.entity_code == code), None)

    def reference(self, qualifier: str) -> str | None:
        return next((r.value for r in self.references if r.qualifier == qualifier), None)

    @property
    def adjustment_total_cents(self) -> int:
        """Claim-level CAS plus every line's CAS: what CLP03 - CLP04 must equal."""
        return sum(a.amount_cents for a in self.adjustments) + sum(
            line.adjustment_total_cents for line in self.service_lines
        )


@dataclass(frozen=True)
class ProviderAdjustmentItem:
    """One PLB reason: code (PLB03-1, e.g. WO, FB, L6, 72), reference (PLB03-2), amount in cents.

    A positive amount reduces the payment; a negative one increases it."""

    reason_code: str
    amount_cents: int
    reference: str | None = None


@dataclass(frozen=True)
class ProviderAdjustment:
    """PLB: provider-level adjustments, not tied to a claim."""

    provider_identifier: str
    fiscal_period_end: dt.date
    items: tuple[ProviderAdjustmentItem, ...]
    position: int = field(default=0, compare=False)

    @property
    def total_cents(self) -> int:
        return sum(item.amount_cents for item in self.items)


@dataclass(frozen=True)
class PaymentInfo:
    """BPR: what the payer paid, how and when."""

    handling_code: str
    amount_cents: int
    credit_debit: str
    method: str
    payment_date: dt.date
    format_code: str | None = None
    # BPR06-BPR15: the sending and receiving banks and accounts, kept as sent, for ACH payments.
    banking: tuple[str, ...] = field(default=(), repr=False)
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Remittance:
    """One 835 transaction set: a payment (or notification) from one payer to one payee."""

    envelope: EnvelopeRef
    payment: PaymentInfo
    trace_number: str
    originating_company_id: str
    payer: Entity
    payee: Entity
    claims: tuple[ClaimPayment, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    trace_type: str = "1"
    originating_company_supplemental: str | None = None
    production_date: dt.date | None = None
    receiver_id: str | None = None

    @property
    def payer_id(self) -> str:
        """The payer's id: REF*2U when sent, else N1*PR N104, else TRN03 (the payer's TIN form).

        Together with `trace_number` it identifies the remittance: the same pair twice is the same
        payment sent twice."""
        return self.payer.reference("2U") or self.payer.identifier or self.originating_company_id

    @property
    def provider_adjustment_total_cents(self) -> int:
        return sum(p.total_cents for p in self.provider_adjustments)


# ------------------------------------------------------------------------------------------ reading


def parse_835(data: str | bytes, *, check_balance: bool = True) -> tuple[Remittance, ...]:
    """Every 835 transaction set of the file, or a named X12Error for the whole file.

    Refused: data that is not X12 (`NotX12Error`), broken envelopes (`EnvelopeError`), a transaction
    set that is not an 835 005010X221A1 (`WrongTransactionError`), unreadable or misplaced segments
    and elements (`SegmentError`, `ElementError`) and, with `check_balance`, amounts that do not
    balance (`UnbalancedError`).
    """
    interchanges = read_interchanges(data)
    remittances = [
        read_remittance(
            ts, envelope_ref(ic, group, ts), group_version=group.version, check_balance=check_balance
        )
        for ic, group, ts in iter_transaction_sets(interchanges)
    ]
    if not remittances:
        raise WrongTransactionError("the file holds no transaction set")
    return tuple(remittances)


def read_remittance(
    transaction_set: TransactionSet,
    envelope: EnvelopeRef,
    *,
    group_version: str = "",
    check_balance: bool = True,
    on_claim: Callable[[ClaimPayment], None] | None = None,
) -> Remittance:
    """One 835 transaction set. With `on_claim`, each claim is handed over as soon as it is read (and,
    with `check_balance`, checked) and not kept: the Remittance's `claims` is then empty, and a file
    of 250,000 claims never holds them all at once here."""
    st = transaction_set.header
    if transaction_set.id != TRANSACTION_SET_ID:
        raise WrongTransactionError("ST01 is not 835", position=st.position, segment_id="ST", element="ST01")
    version = transaction_set.implementation or group_version
    if not version.startswith("005010X221"):
        raise WrongTransactionError(
            "the implementation is not 005010X221A1", position=st.position, segment_id="ST", element="ST03"
        )
    if on_claim is None:
        remittance = _Reader(transaction_set).read(envelope)
        if check_balance:
            check_remittance_balance(remittance)
        return remittance
    paid_cents = 0

    def take(claim: ClaimPayment) -> None:
        nonlocal paid_cents
        if check_balance:
            check_claim_balance(claim)
        paid_cents += claim.paid_cents
        on_claim(claim)

    remittance = _Reader(transaction_set, take).read(envelope)
    if check_balance:
        check_payment_balance(remittance, paid_cents)
    return remittance


class _ClaimBuilder:
    def __init__(self, clp: Segment, header_number: int | None) -> None:
        self.clp = clp
        self.header_number = header_number
        self.adjustments: list[Adjustment] = []
        self.parties: list[Party] = []
        self.remarks: list[str] = []
        self.references: list[Reference] = []
        self.dates: dict[str, dt.date] = {}
        self.amounts: list[Amount] = []
        self.lines: list[ServicePayment] = []
        self.line: _LineBuilder | None = None
        self.inpatient: InpatientAdjudication | None = None
        self.outpatient: OutpatientAdjudication | None = None

    def close_line(self) -> None:
        if self.line is not None:
            self.lines.append(self.line.build())
            self.line = None

    def build(self) -> ClaimPayment:
        self.close_line()
        clp = self.clp
        status = clp.required(2)
        if status not in CLAIM_STATUS_CODES:
            raise clp.error(2, "is not a claim status code", ack_code="7")
        # Only a reversal (CLP02 = 22) takes money back: a negative payment on any other claim is a
        # payer's error (or an attempt to move money) and is refused, not posted.
        if status != REVERSAL and clp.cents(4) < 0:
            raise clp.error(4, "is negative on a claim that is not a reversal (CLP02 22)")
        return ClaimPayment(
            patient_control_number=clp.required(1),
            status_code=status,
            charge_cents=clp.cents(3),
            paid_cents=clp.cents(4),
            patient_responsibility_cents=clp.optional_cents(5) or 0,
            claim_filing_indicator=clp.get(6),
            payer_claim_control_number=clp.optional(7),
            facility_code=clp.optional(8),
            frequency_code=clp.optional(9),
            adjustments=tuple(self.adjustments),
            parties=tuple(self.parties),
            remark_codes=tuple(self.remarks),
            references=tuple(self.references),
            statement_from=self.dates.get("232"),
            statement_to=self.dates.get("233"),
            received_date=self.dates.get("050"),
            amounts=tuple(self.amounts),
            service_lines=tuple(self.lines),
            header_number=self.header_number,
            position=clp.position,
            inpatient=self.inpatient,
            outpatient=self.outpatient,
        )


class _LineBuilder:
    def __init__(self, svc: Segment) -> None:
        self.svc = svc
        self.adjustments: list[Adjustment] = []
        self.references: list[Reference] = []
        self.dates: dict[str, dt.date] = {}
        self.amounts: list[Amount] = []
        self.remarks: list[str] = []

    def build(self) -> ServicePayment:
        svc = self.svc
        procedure = svc.components(1)
        if len(procedure) < 2 or not procedure[1]:
            raise svc.error(1, "is not a procedure composite (qualifier:code)", ack_code="1")
        line_control = next((r.value for r in self.references if r.qualifier == "6R"), None)
        return ServicePayment(
            procedure_qualifier=procedure[0],
            code=procedure[1],
            modifiers=tuple(m for m in procedure[2:6] if m),
            charge_cents=svc.cents(2),
            paid_cents=svc.cents(3),
            revenue_code=svc.optional(4),
            units=svc.optional_decimal(5),
            submitted_procedure=svc.components(6),
            submitted_units=svc.optional_decimal(7),
            service_date=self.dates.get("472"),
            service_period_start=self.dates.get("150"),
            service_period_end=self.dates.get("151"),
            adjustments=tuple(self.adjustments),
            line_control_number=line_control,
            references=tuple(r for r in self.references if r.qualifier != "6R"),
            amounts=tuple(self.amounts),
            remark_codes=tuple(self.remarks),
            position=svc.position,
        )


def read_cas(segment: Segment) -> list[Adjustment]:
    """CAS: a group and up to six reason/amount/quantity triplets (CAS02-CAS19)."""
    group = segment.code(1, ADJUSTMENT_GROUPS)
    adjustments = []
    for first in range(2, 20, 3):
        reason = segment.get(first)
        if not reason:
            if segment.get(first + 1) or segment.get(first + 2):
                raise segment.error(first, "is required with an adjustment amount", ack_code="1")
            continue
        adjustments.append(
            Adjustment(group, reason, segment.cents(first + 1), segment.optional_decimal(first + 2))
        )
    if not adjustments:
        raise segment.error(2, "is required", ack_code="1")
    return adjustments


def read_plb(segment: Segment) -> ProviderAdjustment:
    items = []
    for first in range(3, 15, 2):
        reason = segment.components(first)
        if not reason:
            if segment.get(first + 1):
                raise segment.error(first, "is required with an adjustment amount", ack_code="1")
            continue
        if not reason[0]:
            raise segment.error(first, "has no adjustment reason code", ack_code="1")
        items.append(
            ProviderAdjustmentItem(
                reason_code=reason[0],
                reference=reason[1] if len(reason) > 1 and reason[1] else None,
                amount_cents=segment.cents(first + 1),
            )
        )
    if not items:
        raise segment.error(3, "is required", ack_code="1")
    return ProviderAdjustment(
        provider_identifier=segment.required(1),
        fiscal_period_end=segment.date(2),
        items=tuple(items),
        position=segment.position,
    )


class _Reader:
    def __init__(
        self, transaction_set: TransactionSet, on_claim: Callable[[ClaimPayment], None] | None = None
    ) -> None:
        self.segments = transaction_set.body()
        self.st = transaction_set.header
        self.on_claim = on_claim

    def read(self, envelope: EnvelopeRef) -> Remittance:
        bpr: Segment | None = None
        trn: Segment | None = None
        production_date: dt.date | None = None
        receiver_id: str | None = None
        entities: dict[str, Entity] = {}
        entity: EntityBuilder | None = None
        claims: list[ClaimPayment] = []
        claim: _ClaimBuilder | None = None
        plbs: list[ProviderAdjustment] = []
        header_number: int | None = None
        in_detail = False

        def unexpected(segment: Segment, where: str) -> SegmentError:
            return SegmentError(
                f"{segment.id} is not expected {where}", position=segment.position, segment_id=segment.id
            )

        for segment in self.segments:
            sid = segment.id
            if bpr is None:
                if sid != "BPR":
                    raise SegmentError(
                        "BPR must be the first segment of an 835", position=segment.position, segment_id=sid
                    )
                bpr = segment
                continue
            if entity is not None and entity.add(segment):
                continue
            if entity is not None:
                built = entity.build()
                entities.setdefault(built.entity_code, built)
                entity = None
            if sid == "N1":
                if in_detail:
                    raise unexpected(segment, "after the claim detail")
                entity = EntityBuilder(segment)
            elif sid == "TRN" and not in_detail and trn is None:
                trn = segment
            elif sid in ("CUR", "TS3", "TS2", "QTY", "PER", "RDM"):
                continue  # tolerated: none of them changes who is paid what
            elif sid == "REF" and claim is None:
                if segment.get(1) == "EV":
                    receiver_id = segment.get(2)
            elif sid == "DTM" and claim is None:
                if segment.get(1) == "405":
                    production_date = segment.date(2)
            elif sid == "LX":
                in_detail = True
                if claim is not None:
                    self._add(claims, claim)
                    claim = None
                header_number = segment.integer(1)
            elif sid == "CLP":
                if plbs:
                    raise unexpected(segment, "after PLB")
                in_detail = True
                if claim is not None:
                    self._add(claims, claim)
                claim = _ClaimBuilder(segment, header_number)
            elif sid == "PLB":
                if claim is not None:
                    self._add(claims, claim)
                    claim = None
                in_detail = True
                plbs.append(read_plb(segment))
            elif claim is None:
                if sid in ("CAS", "NM1", "SVC", "MIA", "MOA", "AMT", "LQ", "REF", "DTM"):
                    raise unexpected(segment, "outside a claim (CLP)")
                continue
            else:
                self._claim_segment(claim, segment)
        if bpr is None:
            raise SegmentError("an 835 needs a BPR segment", position=self.st.position, segment_id="ST")
        if entity is not None:
            built = entity.build()
            entities.setdefault(built.entity_code, built)
        if claim is not None:
            self._add(claims, claim)
        if trn is None:
            raise SegmentError("an 835 needs a TRN segment", position=bpr.position, segment_id="BPR")
        if "PR" not in entities or "PE" not in entities:
            raise SegmentError(
                "an 835 needs a payer (N1*PR) and a payee (N1*PE)", position=bpr.position, segment_id="BPR"
            )
        return Remittance(
            envelope=envelope,
            payment=_read_bpr(bpr),
            trace_type=trn.required(1),
            trace_number=trn.required(2),
            originating_company_id=trn.required(3),
            originating_company_supplemental=trn.optional(4),
            production_date=production_date,
            receiver_id=receiver_id,
            payer=entities["PR"],
            payee=entities["PE"],
            claims=tuple(claims),
            provider_adjustments=tuple(plbs),
        )

    def _add(self, claims: list[ClaimPayment], claim: _ClaimBuilder) -> None:
        built = claim.build()
        if self.on_claim is None:
            claims.append(built)
        else:
            self.on_claim(built)

    @staticmethod
    def _claim_segment(claim: _ClaimBuilder, segment: Segment) -> None:
        sid = segment.id
        line = claim.line
        if sid == "SVC":
            claim.close_line()
            claim.line = _LineBuilder(segment)
        elif sid == "CAS":
            (line.adjustments if line else claim.adjustments).extend(read_cas(segment))
        elif sid == "REF":
            (line.references if line else claim.references).append(read_ref(segment))
        elif sid == "DTM":
            qualifier = segment.required(1)
            (line.dates if line else claim.dates)[qualifier] = segment.date(2)
        elif sid == "AMT":
            (line.amounts if line else claim.amounts).append(Amount(segment.required(1), segment.cents(2)))
        elif sid == "LQ":
            if line is None:
                raise SegmentError(
                    "LQ is not expected outside a service line", position=segment.position, segment_id="LQ"
                )
            if segment.get(1) == "HE":
                line.remarks.append(segment.required(2))
        elif sid == "NM1":
            if line is not None:
                raise SegmentError(
                    "NM1 is not expected in a service line", position=segment.position, segment_id="NM1"
                )
            claim.parties.append(read_nm1(segment))
        elif sid == "MOA":
            claim.remarks.extend(code for code in (segment.get(i) for i in range(3, 8)) if code)
            rate, payable = segment.optional_decimal(1), segment.optional_cents(2)
            # An MOA with remark codes only says nothing about pricing.
            if rate is not None or payable is not None:
                claim.outpatient = OutpatientAdjudication(rate, payable)
        elif sid == "MIA":
            claim.inpatient = InpatientAdjudication(
                covered_days=segment.integer(1),
                drg_amount_cents=segment.optional_cents(4),
                remark_code=segment.optional(5),
            )
        # Other segments of the claim loop (PER, QTY) carry nothing the platform posts.


def _read_bpr(bpr: Segment) -> PaymentInfo:
    amount = bpr.cents(2)
    if amount < 0:
        raise bpr.error(2, "is negative: a payment cannot be")
    banking = tuple(bpr.get(i) for i in range(6, 16))
    return PaymentInfo(
        handling_code=bpr.code(1, _BPR_HANDLING),
        amount_cents=amount,
        credit_debit=bpr.code(3, {"C", "D"}),
        method=bpr.code(4, _BPR_METHODS),
        format_code=bpr.optional(5),
        banking=banking if any(banking) else (),
        payment_date=bpr.date(16),
        position=bpr.position,
    )


def check_remittance_balance(remittance: Remittance) -> None:
    """The three balancing rules of the 835 guide; the first one broken raises UnbalancedError.

    - each service line: SVC02 - SVC03 = sum of the line's CAS amounts;
    - each claim: CLP03 - CLP04 = sum of claim CAS + sum of every line's CAS;
    - the transaction: BPR02 = sum of CLP04 - sum of PLB amounts.
    """
    for claim in remittance.claims:
        check_claim_balance(claim)
    check_payment_balance(remittance, sum(c.paid_cents for c in remittance.claims))


def check_claim_balance(claim: ClaimPayment) -> None:
    """The first two balancing rules, for one claim and its lines."""
    for line in claim.service_lines:
        difference = line.charge_cents - line.paid_cents
        if difference != line.adjustment_total_cents:
            raise UnbalancedError(
                f"service line does not balance: SVC02 - SVC03 = {format_cents(difference)} but its "
                f"adjustments total {format_cents(line.adjustment_total_cents)}",
                position=line.position,
                segment_id="SVC",
            )
    difference = claim.charge_cents - claim.paid_cents
    if difference != claim.adjustment_total_cents:
        raise UnbalancedError(
            f"claim does not balance: CLP03 - CLP04 = {format_cents(difference)} but its adjustments "
            f"total {format_cents(claim.adjustment_total_cents)}",
            position=claim.position,
            segment_id="CLP",
        )


def check_payment_balance(remittance: Remittance, claim_paid_cents: int) -> None:
    """The third rule: BPR02 = the claims' payments (summed by the caller) less the PLB amounts."""
    expected = claim_paid_cents - remittance.provider_adjustment_total_cents
    if remittance.payment.amount_cents != expected:
        raise UnbalancedError(
            f"payment does not balance: BPR02 = {format_cents(remittance.payment.amount_cents)} but the "
            f"claims' payments less provider adjustments = {format_cents(expected)}",
            position=remittance.payment.position,
            segment_id="BPR",
            element="BPR02",
        )
