"""Coordination of benefits: after a payer's answer, who is billed next, and with what.

A payer's answer leaves a balance: the charge less what it paid and what it adjusted off (CO, OA, PI,
CR), that is, what it assigned to the patient (PR) and whatever it refused. When the patient has a
coverage of the next priority in force on the date of service, that payer is billed the same service
on a claim of its own, carrying every earlier payer's answer (837P loops 2320/2430). When the payer
says it forwarded the claim itself (a crossover: CLP02 19, 20 or 21, or remark MA18 / N89), no claim
is sent: the next payer's 835 is awaited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from billing_events.contracts.claims import (
    AdjudicatedLine,
    CasAdjustment,
    ClaimLine,
    ClaimSequence,
    PriorAdjudication,
)
from claims.domain.identifiers import CLAIMS_NAMESPACE, line_control_number, patient_control_number_for
from claims.domain.model import ClaimContent

# CLP02: processed as primary/secondary/tertiary and forwarded to the next payer.
CROSSOVER_STATUS_CODES = frozenset({"19", "20", "21"})
# MA18: "claim information forwarded to the supplemental insurer"; N89: "... to the patient's
# other insurer".
CROSSOVER_REMARKS = frozenset({"MA18", "N89"})
# CARC 23: the impact of prior payers' adjudication. A later payer reports what the earlier ones paid
# and adjusted under it; it is information, not an adjustment of the provider's balance.
PRIOR_PAYER_IMPACT = "23"
PATIENT_RESPONSIBILITY = "PR"
NEXT_SEQUENCE: dict[str, ClaimSequence] = {"primary": "secondary", "secondary": "tertiary"}


@dataclass(frozen=True)
class CoverageInForce:
    """One of the patient's coverages in force on the date of service."""

    coverage_id: str
    payer_id: str
    priority: str


def next_coverage(sequence: str, coverages: Iterable[CoverageInForce]) -> CoverageInForce | None:
    """The coverage that pays after the one of `sequence`, if the patient has one."""
    wanted = NEXT_SEQUENCE.get(sequence)
    found = sorted((c for c in coverages if c.priority == wanted), key=lambda c: c.coverage_id)
    return found[0] if found else None


def crossed_over(claim_status_code: str, remark_codes: Iterable[str]) -> bool:
    return claim_status_code in CROSSOVER_STATUS_CODES or any(
        code in CROSSOVER_REMARKS for code in remark_codes
    )


def _written_off(adjustments: Iterable[CasAdjustment]) -> int:
    return sum(
        a.amount_cents
        for a in adjustments
        if a.group != PATIENT_RESPONSIBILITY and a.reason_code != PRIOR_PAYER_IMPACT
    )


def settled_by(answer: PriorAdjudication) -> int:
    """What one payer's answer took off the balance: its payment and its write-offs."""
    adjustments = [*answer.claim_adjustments, *(a for line in answer.lines for a in line.adjustments)]
    return answer.paid_cents + _written_off(adjustments)


def balance_left(total_charge_cents: int, answers: Sequence[PriorAdjudication]) -> int:
    return total_charge_cents - sum(settled_by(answer) for answer in answers)


def prior_adjudication(
    content: ClaimContent,
    *,
    payer_claim_control_number: str,
    paid_cents: int,
    patient_responsibility_cents: int,
    claim_adjustments: tuple[CasAdjustment, ...],
    lines: tuple[AdjudicatedLine, ...],
    adjudicated_on: date,
) -> PriorAdjudication:
    return PriorAdjudication(
        claim_id=content.claim_id,
        payer_id=content.payer_id,
        coverage_id=content.coverage_id,
        sequence=content.sequence,
        payer_claim_control_number=payer_claim_control_number,
        paid_cents=paid_cents,
        patient_responsibility_cents=patient_responsibility_cents,
        claim_adjustments=claim_adjustments,
        lines=lines,
        adjudicated_on=adjudicated_on,
    )


def successor_claim_id(tenant: str, invoice_id: str, sequence: str) -> str:
    """The secondary or tertiary claim of an invoice: one per invoice and sequence, ever."""
    return str(uuid.uuid5(CLAIMS_NAMESPACE, f"claim\x1f{tenant}\x1f{invoice_id}\x1f{sequence}"))


def successor_content(
    tenant: str, content: ClaimContent, answer: PriorAdjudication, coverage: CoverageInForce
) -> ClaimContent:
    """The claim to the next payer: the same service, this coverage, every earlier answer."""
    sequence = NEXT_SEQUENCE[content.sequence]
    claim_id = successor_claim_id(tenant, content.invoice_id, sequence)
    number = patient_control_number_for(claim_id)
    lines = tuple(
        ClaimLine(
            line_number=line.line_number,
            line_control_number=line_control_number(number, line.line_number),
            code=line.code,
            modifiers=line.modifiers,
            units=line.units,
            charge_cents=line.charge_cents,
            diagnosis_pointers=line.diagnosis_pointers,
        )
        for line in content.lines
    )
    return replace(
        content,
        claim_id=claim_id,
        patient_control_number=number,
        coverage_id=coverage.coverage_id,
        payer_id=coverage.payer_id,
        lines=lines,
        sequence=sequence,
        predecessor_claim_id=content.claim_id,
        prior_adjudications=(*content.prior_adjudications, answer),
    )
