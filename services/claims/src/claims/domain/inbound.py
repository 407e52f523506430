"""What the payer's files say, as the claims service reads them (999, 277CA, 835).

Plain values in cents; read from X12 by the adapter, matched to claims by the rules in remittance.py.
Patient names and member ids in those files are not carried over: the service matches by its own
control numbers and never needs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from claims.domain.eligibility import EligibilityResponseRead

InboundKind = Literal["835", "999", "277CA", "271"]


# slots: a payer's 835 can carry 250,000 claims, a million lines and adjustments, all held at once
# between the reader and posting; without a __dict__ each takes about a hundred bytes less.
@dataclass(frozen=True, slots=True)
class Adjustment:
    group: str
    reason_code: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class LinePayment:
    """SVC with its DTM*472, CAS, REF*6R and LQ*HE remarks."""

    code: str
    modifiers: tuple[str, ...]
    charge_cents: int
    paid_cents: int
    service_date: date | None
    line_control_number: str | None
    adjustments: tuple[Adjustment, ...] = ()
    remark_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimPaymentAdvice:
    """CLP and what follows it."""

    patient_control_number: str
    status_code: str
    charge_cents: int
    paid_cents: int
    patient_responsibility_cents: int
    payer_claim_control_number: str | None
    adjustments: tuple[Adjustment, ...] = ()
    remark_codes: tuple[str, ...] = ()
    lines: tuple[LinePayment, ...] = ()


@dataclass(frozen=True)
class ProviderAdjustmentLine:
    """One PLB reason (WO, L6, FB, 72, CS ...): positive takes money from the payment, negative adds."""

    provider_identifier: str
    fiscal_period_end: date
    reason_code: str
    amount_cents: int
    reference: str | None = None


@dataclass(frozen=True)
class RemittanceAdvice:
    """One 835 transaction set: one payment (BPR/TRN) from one payer."""

    payer_key: str
    payer_name: str
    trace_number: str
    payment_cents: int
    payment_date: date
    provider_adjustment_cents: int
    # A tuple, or for a payer's large file the reader's packed form, unpacked a part at a time.
    claims: Sequence[ClaimPaymentAdvice]
    interchange_control_number: str
    provider_adjustments: tuple[ProviderAdjustmentLine, ...] = ()


@dataclass(frozen=True)
class Reason:
    code: str
    description: str


@dataclass(frozen=True)
class TransactionSetAnswer:
    """999 AK2/IK5: one transaction set of ours (by ST02), accepted or rejected and why."""

    control_number: str
    accepted: bool
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class GroupAnswer:
    """999 AK1/AK9: one functional group of ours (by GS06)."""

    group_control_number: str
    accepted: bool
    transaction_sets: tuple[TransactionSetAnswer, ...]
    reasons: tuple[Reason, ...]
    interchange_control_number: str


@dataclass(frozen=True)
class ClaimStatusAnswer:
    """277CA loop 2200D: one claim of ours (by CLM01), accepted into adjudication or rejected."""

    patient_control_number: str
    disposition: Literal["accepted", "rejected", "pending"]
    payer_claim_control_number: str | None
    reasons: tuple[Reason, ...]
    interchange_control_number: str


@dataclass(frozen=True)
class InboundDocument:
    """A whole inbound file, read and checked: one kind, addressed to one receiver (ISA08)."""

    kind: InboundKind
    receiver_id: str
    interchange_control_number: str
    remittances: tuple[RemittanceAdvice, ...] = ()
    groups: tuple[GroupAnswer, ...] = ()
    claim_statuses: tuple[ClaimStatusAnswer, ...] = ()
    eligibility_responses: tuple[EligibilityResponseRead, ...] = ()
