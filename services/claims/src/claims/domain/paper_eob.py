"""A payer's paper EOB, keyed in by a biller, read as the 835 it stands for.

Payers without ERA mail an explanation of benefits. The biller types what it says per service line:
what was paid, the adjustments with their CARC group and code (CO-45, PR-1 deductible, PR-2
coinsurance, PR-3 copay ...) and the remarks (RARC). It becomes one RemittanceAdvice of one claim
payment, which posts through the same path as an 835 (application/posting.py): the same events, the
same ledger, the same coordination of benefits. The amounts must balance as an 835's do, per line:
charge - paid = the line's adjustments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from claims.domain.errors import UnbalancedEob
from claims.domain.inbound import Adjustment, ClaimPaymentAdvice, LinePayment, RemittanceAdvice
from claims.domain.model import ClaimContent

PATIENT_RESPONSIBILITY = "PR"
# CLP02 of a claim processed as primary, secondary or tertiary.
PROCESSED_AS = {"primary": "1", "secondary": "2", "tertiary": "3"}


@dataclass(frozen=True)
class EobLine:
    line_number: int
    paid_cents: int
    adjustments: tuple[Adjustment, ...] = ()
    remark_codes: tuple[str, ...] = ()
    # What the EOB prints as the patient's part of the line; when given, it must be the PR adjustments.
    patient_responsibility_cents: int | None = None


@dataclass(frozen=True)
class PaperEob:
    payer_key: str
    payer_name: str
    # The check or EOB number: with the payer and the claim, one remittance, posted once.
    trace_number: str
    paid_on: date
    lines: tuple[EobLine, ...]
    claim_status_code: str | None = None
    payer_claim_control_number: str | None = None
    remark_codes: tuple[str, ...] = ()


def _patient_share(adjustments: tuple[Adjustment, ...]) -> int:
    return sum(a.amount_cents for a in adjustments if a.group == PATIENT_RESPONSIBILITY)


def remittance_of_eob(eob: PaperEob, claim: ClaimContent) -> RemittanceAdvice:
    """The EOB as an 835 payment of this one claim, or UnbalancedEob naming the field."""
    by_number = {line.line_number: line for line in claim.lines}
    seen: set[int] = set()
    payments: list[LinePayment] = []
    for index, line in enumerate(eob.lines):
        where = f"lines[{index}]"
        service = by_number.get(line.line_number)
        if service is None:
            raise UnbalancedEob(f"{where}.line_number", "is not a line of the claim")
        if line.line_number in seen:
            raise UnbalancedEob(f"{where}.line_number", "is given twice")
        seen.add(line.line_number)
        adjusted = sum(a.amount_cents for a in line.adjustments)
        if service.charge_cents - line.paid_cents != adjusted:
            raise UnbalancedEob(
                f"{where}.adjustments",
                f"charge {service.charge_cents} - paid {line.paid_cents} must equal the adjustments "
                f"({adjusted})",
            )
        share = _patient_share(line.adjustments)
        if line.patient_responsibility_cents is not None and line.patient_responsibility_cents != share:
            raise UnbalancedEob(
                f"{where}.patient_responsibility_cents",
                f"must equal the line's PR adjustments ({share})",
            )
        payments.append(
            LinePayment(
                code=service.code,
                modifiers=service.modifiers,
                charge_cents=service.charge_cents,
                paid_cents=line.paid_cents,
                service_date=claim.service_date,
                line_control_number=service.line_control_number,
                adjustments=line.adjustments,
                remark_codes=line.remark_codes,
            )
        )
    missing = sorted(set(by_number) - seen)
    if missing:
        raise UnbalancedEob("lines", f"every line of the claim is answered; missing {missing}")
    paid = sum(p.paid_cents for p in payments)
    patient = sum(_patient_share(p.adjustments) for p in payments)
    answer = ClaimPaymentAdvice(
        patient_control_number=claim.patient_control_number,
        status_code=eob.claim_status_code or PROCESSED_AS.get(claim.sequence, "1"),
        charge_cents=claim.total_charge_cents,
        paid_cents=paid,
        patient_responsibility_cents=patient,
        payer_claim_control_number=eob.payer_claim_control_number,
        remark_codes=eob.remark_codes,
        lines=tuple(payments),
    )
    return RemittanceAdvice(
        payer_key=eob.payer_key,
        payer_name=eob.payer_name,
        # One paper check often pays several claims, each keyed from its own EOB: the payment is the
        # check and the claim, so that each posts once and none hides another.
        trace_number=f"{eob.trace_number}/{claim.patient_control_number}",
        payment_cents=paid,
        payment_date=eob.paid_on,
        provider_adjustment_cents=0,
        claims=(answer,),
        interchange_control_number="",
    )
