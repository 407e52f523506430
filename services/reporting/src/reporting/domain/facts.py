"""The facts the reports are computed from: what the platform recorded, and when.

Every fact carries a Stamp: its event time (the CloudEvents `ce_time`), the calendar day of that time
in the reporting time zone, and a tie-break for facts recorded at the same instant. Reports cut the
facts by that day ("known on or before D"), never by the state of today, so a report for a past day
is the same whenever it is run. Business dates (service date, posting date, ...) are kept beside it.

Facts hold ids, codes, dates and cents only: no patient data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal, Protocol, TypeVar

Responsibility = Literal["insurance", "self_pay"]
Outcome = Literal["paid", "partially_paid", "denied", "reversed"]
ClaimStepKind = Literal[
    "scrub_failed", "ready", "submitted", "acknowledged", "rejected", "resubmitted", "closed", "voided"
]

SELF_PAY = "self_pay"
UNASSIGNED = "unassigned"


# CARC 23: the impact of prior payers' adjudication, which a secondary or tertiary payer reports.
PRIOR_PAYER_IMPACT = "23"


@dataclass(frozen=True, order=True)
class Stamp:
    at: datetime
    # Orders events of one stream appended in the same transaction (they share `at`).
    stream_version: int
    event_id: str
    on: date = field(compare=False)


class _Stamped(Protocol):
    @property
    def stamp(self) -> Stamp: ...


_S = TypeVar("_S", bound=_Stamped)


@dataclass(frozen=True)
class ChargeLine:
    line_number: int
    code: str
    charge_cents: int


@dataclass(frozen=True)
class IssuedInvoice:
    invoice_id: str
    encounter_id: str
    coding_version: int
    service_date: date
    responsibility: Responsibility
    payer_id: str | None
    billing_provider_id: str
    rendering_provider_id: str
    total_charge_cents: int
    lines: tuple[ChargeLine, ...]
    stamp: Stamp

    @property
    def payer_key(self) -> str:
        """Who is billed first: the payer, or self-pay for an uninsured invoice."""
        if self.responsibility == "self_pay":
            return SELF_PAY
        return self.payer_id or UNASSIGNED


@dataclass(frozen=True)
class VoidedInvoice:
    invoice_id: str
    stamp: Stamp


@dataclass(frozen=True)
class Adjustment:
    group: str
    reason_code: str
    amount_cents: int

    @property
    def key(self) -> str:
        return f"{self.group}-{self.reason_code}"


@dataclass(frozen=True)
class PostedLine:
    line_number: int
    paid_cents: int
    adjustments: tuple[Adjustment, ...] = ()


@dataclass(frozen=True)
class InsurancePosting:
    """One adjudication posted to an invoice's ledger; a reversal carries negated amounts."""

    invoice_id: str
    claim_id: str
    payer_id: str
    reversal: bool
    denied: bool
    paid_cents: int
    contractual_adjustment_cents: int
    other_adjustment_cents: int
    patient_responsibility_cents: int
    posted_on: date
    lines: tuple[PostedLine, ...]
    stamp: Stamp
    # Coordination of benefits: the payer's sequence, and whether its answer awaits a payer after it.
    sequence: str = "primary"
    awaiting_next_payer: bool = False


@dataclass(frozen=True)
class PatientPayment:
    payment_id: str
    invoice_id: str
    amount_cents: int
    applied_cents: int
    received_on: date
    stamp: Stamp


@dataclass(frozen=True)
class WriteOff:
    """Part of an invoice's balance written off (an other adjustment), from the patient's part or the
    payers'."""

    invoice_id: str
    party: str  # patient | insurance
    reason: str
    amount_cents: int
    stamp: Stamp


@dataclass(frozen=True)
class PatientCredit:
    """The patient's credit moved onto an invoice (+, paying it) or off it (-, an overpayment released
    to the account): a patient payment on that invoice's ledger, not new cash."""

    invoice_id: str
    amount_cents: int
    stamp: Stamp


@dataclass(frozen=True)
class Statement:
    statement_id: str
    statement_date: date
    amount_due_cents: int
    stamp: Stamp


@dataclass(frozen=True)
class CreatedClaim:
    claim_id: str
    invoice_id: str
    payer_id: str
    service_date: date
    total_charge_cents: int
    stamp: Stamp


@dataclass(frozen=True)
class ClaimStep:
    claim_id: str
    kind: ClaimStepKind
    stamp: Stamp


@dataclass(frozen=True)
class AdjudicatedLine:
    line_number: int
    code: str
    charge_cents: int
    paid_cents: int
    adjustments: tuple[Adjustment, ...] = ()

    @property
    def denied(self) -> bool:
        """Nothing paid on a charged line for a reason other than the patient's share (deductible,
        coinsurance, copay) or the earlier payers' part (CARC 23, on a secondary's answer): the payer
        refused the line."""
        return (
            self.charge_cents > 0
            and self.paid_cents == 0
            and any(
                a.group != "PR" and a.reason_code != PRIOR_PAYER_IMPACT and a.amount_cents != 0
                for a in self.adjustments
            )
        )


@dataclass(frozen=True)
class Adjudication:
    claim_id: str
    invoice_id: str
    payer_id: str
    outcome: Outcome
    total_charge_cents: int
    paid_cents: int
    patient_responsibility_cents: int
    adjudicated_on: date
    claim_adjustments: tuple[Adjustment, ...]
    lines: tuple[AdjudicatedLine, ...]
    stamp: Stamp


@dataclass(frozen=True)
class Facts:
    """Everything one tenant's reports need. `known_on(day)` is the platform's knowledge at the end of
    that day."""

    invoices: tuple[IssuedInvoice, ...] = ()
    voids: tuple[VoidedInvoice, ...] = ()
    insurance_postings: tuple[InsurancePosting, ...] = ()
    patient_payments: tuple[PatientPayment, ...] = ()
    statements: tuple[Statement, ...] = ()
    claims: tuple[CreatedClaim, ...] = ()
    claim_steps: tuple[ClaimStep, ...] = ()
    adjudications: tuple[Adjudication, ...] = ()
    write_offs: tuple[WriteOff, ...] = ()
    patient_credits: tuple[PatientCredit, ...] = ()
    payer_names: Mapping[str, str] = field(default_factory=dict)
    provider_names: Mapping[str, str] = field(default_factory=dict)

    def known_on(self, day: date) -> Facts:
        def upto(items: Iterable[_S]) -> tuple[_S, ...]:
            return tuple(item for item in items if item.stamp.on <= day)

        return replace(
            self,
            invoices=upto(self.invoices),
            voids=upto(self.voids),
            insurance_postings=upto(self.insurance_postings),
            patient_payments=upto(self.patient_payments),
            statements=upto(self.statements),
            claims=upto(self.claims),
            claim_steps=upto(self.claim_steps),
            adjudications=upto(self.adjudications),
            write_offs=upto(self.write_offs),
            patient_credits=upto(self.patient_credits),
        )

    def payer_label(self, key: str) -> str:
        if key == SELF_PAY:
            return "Self-pay"
        if key == UNASSIGNED:
            return "Unassigned"
        return self.payer_names.get(key, key)

    def provider_label(self, key: str) -> str:
        if key == UNASSIGNED:
            return "Unassigned"
        return self.provider_names.get(key, key)
