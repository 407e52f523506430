"""How a simulated payer adjudicates a hospital's claim (837I), in integer cents.

Inpatient (type of bill 11x, 12x), paid by MS-DRG, outliers ignored:

    DRG amount   = round_half_up(base rate in cents x relative weight)   (weight in ten-thousandths)
    allowed      = min(billed charges, DRG amount)
    CO-45        = charges - allowed
    PR-1, PR-2   = the member's deductible left, then coinsurance on the rest, as for a professional line
    paid         = allowed - PR

The 835 answers at line level so that each line posts: the allowed amount is shared over the lines
in proportion to their charges (largest remainder, so the shares sum to the allowed amount exactly),
the patient's share is taken from the lines in order, and each line pays its share less its PR. The
claim carries MIA (covered days, MIA04 the DRG amount). A late-charge claim (frequency 5) for a stay
adds charges the DRG already paid: every line is CO-45, nothing more is paid.

Outpatient (13x and others), line by line: allowed = min(charge, the HCPCS code's fee) where the
payer's outpatient fee schedule has the code, otherwise min(charge, charge x allowed%); then copay,
deductible and coinsurance as for a professional line. The claim carries MOA (MOA02 what the fee
schedule lines paid).

A stay without a DRG, or with one the payer's table lacks, is denied CO-16 (claim lacks information
needed for adjudication) with RARC M67 on every line; a claim past timely filing CO-29.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace

from billing_x12 import (
    Adjustment,
    Amount,
    ClaimPayment,
    InpatientAdjudication,
    InstitutionalClaim,
    InstitutionalServiceLine,
    OutpatientAdjudication,
    ServicePayment,
)

from payer_simulator.adjudication import (
    STATUS_BY_RESPONSIBILITY,
    Adjudication,
    Denial,
    claim_filing_indicator,
    claim_parties,
    price_allowed,
)
from payer_simulator.config import PayerRules

MISSING_INFORMATION = Denial("16", "M67")
TIMELY_FILING = Denial("29")
LATE_CHARGE = "5"


def drg_amount_cents(base_rate_cents: int, weight_ten_thousandths: int) -> int:
    """base rate x weight, rounded half up to the cent, in integers only."""
    return (base_rate_cents * weight_ten_thousandths + 5_000) // 10_000


def shares(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder, ties to the first): integers that
    sum to `total` exactly. Each share is at most its weight when total <= sum(weights)."""
    whole = sum(weights)
    if whole <= 0:
        return [0 for _ in weights]
    floors = [total * weight // whole for weight in weights]
    left = total - sum(floors)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for index in by_remainder[:left]:
        floors[index] += 1
    return floors


def adjudicate_institutional(
    claim: InstitutionalClaim,
    rules: PayerRules,
    *,
    payer_claim_control_number: str,
    deductible_used: Mapping[int, int],
    today: dt.date,
    deny_all: Denial | None = None,
) -> Adjudication:
    used = dict(deductible_used)
    denial = deny_all
    if denial is None and (today - claim.statement_to).days > rules.timely_filing_days:
        denial = TIMELY_FILING
    inpatient: InpatientAdjudication | None = None
    outpatient: OutpatientAdjudication | None = None
    if denial is not None:
        lines = [_denied(line, denial) for line in claim.lines]
    elif claim.is_inpatient:
        priced = _inpatient(claim, rules, used, today)
        if priced is None:
            lines = [_denied(line, MISSING_INFORMATION) for line in claim.lines]
        else:
            lines, inpatient = priced
    else:
        lines, outpatient = _outpatient(claim, rules, used, today)
    all_denied = all(line.paid_cents == 0 and line.allowed_cents is None for line in lines)
    payment = ClaimPayment(
        patient_control_number=claim.patient_control_number,
        status_code="4" if all_denied else STATUS_BY_RESPONSIBILITY.get(claim.payer_responsibility, "1"),
        charge_cents=claim.charge_cents,
        paid_cents=sum(line.paid_cents for line in lines),
        patient_responsibility_cents=sum(
            a.amount_cents for line in lines for a in line.adjustments if a.group == "PR"
        ),
        claim_filing_indicator=claim_filing_indicator(claim, rules),
        payer_claim_control_number=payer_claim_control_number,
        facility_code=claim.type_of_bill,
        frequency_code=claim.frequency_code,
        parties=claim_parties(claim),
        service_lines=tuple(lines),
        statement_from=claim.statement_from,
        statement_to=claim.statement_to,
        inpatient=inpatient,
        outpatient=outpatient,
        header_number=1,
    )
    increase = {year: used[year] - deductible_used.get(year, 0) for year in used}
    return Adjudication(payment, {year: cents for year, cents in increase.items() if cents})


def _inpatient(
    claim: InstitutionalClaim, rules: PayerRules, used: dict[int, int], today: dt.date
) -> tuple[list[ServicePayment], InpatientAdjudication] | None:
    base = rules.drg_base_rate_cents
    weight = rules.drg_weight_ten_thousandths(claim.drg) if claim.drg else None
    if base is None or weight is None:
        return None
    if claim.frequency_code == LATE_CHARGE:
        lines = [_service(line, 0, (Adjustment("CO", "45", line.charge_cents),), 0) for line in claim.lines]
        return lines, InpatientAdjudication(covered_days=claim.covered_days)
    drg_amount = drg_amount_cents(base, weight)
    charge = claim.charge_cents
    allowed = min(charge, drg_amount)
    _, claim_adjustments = price_allowed(charge, allowed, 0, claim.statement_from.year, rules, used)
    patient_owes = [a for a in claim_adjustments if a.group == "PR"]
    line_allowed = shares(allowed, [line.charge_cents for line in claim.lines])
    lines = []
    for line, line_share in zip(claim.lines, line_allowed, strict=True):
        room = line_share
        above = line.charge_cents - line_share
        adjustments = [Adjustment("CO", "45", above)] if above else []
        for index, owed in enumerate(patient_owes):
            taken = min(owed.amount_cents, room)
            if taken:
                adjustments.append(Adjustment("PR", owed.reason_code, taken))
                patient_owes[index] = Adjustment("PR", owed.reason_code, owed.amount_cents - taken)
                room -= taken
        lines.append(_service(line, room, tuple(adjustments), line_share))
    return lines, InpatientAdjudication(covered_days=claim.covered_days, drg_amount_cents=drg_amount)


def _outpatient(
    claim: InstitutionalClaim, rules: PayerRules, used: dict[int, int], today: dt.date
) -> tuple[list[ServicePayment], OutpatientAdjudication]:
    lines = []
    fee_schedule_paid = 0
    for line in claim.lines:
        charge = line.charge_cents
        fee = rules.outpatient_fee_cents(line.hcpcs)
        allowed = min(charge, fee if fee is not None else _percent(charge, rules))
        year = (line.service_date_from or claim.statement_from).year
        copay = rules.copay_cents(line.hcpcs) if line.hcpcs else 0
        paid, adjustments = price_allowed(charge, allowed, copay, year, rules, used)
        if fee is not None:
            fee_schedule_paid += paid
        lines.append(_service(line, paid, adjustments, allowed))
    return lines, OutpatientAdjudication(hcpcs_payable_cents=fee_schedule_paid)


def _percent(charge: int, rules: PayerRules) -> int:
    return (charge * rules.allowed_basis_points + 5_000) // 10_000


def _denied(line: InstitutionalServiceLine, denial: Denial) -> ServicePayment:
    service = _service(line, 0, (Adjustment("CO", denial.carc, line.charge_cents),), None)
    return replace(service, remark_codes=(denial.rarc,)) if denial.rarc else service


def _service(
    line: InstitutionalServiceLine, paid: int, adjustments: tuple[Adjustment, ...], allowed: int | None
) -> ServicePayment:
    """SVC01 is HC:<HCPCS> with the revenue code in SVC04, or NU:<revenue code> for a line without
    HCPCS; REF*6R gives the line back to the provider."""
    if line.hcpcs:
        qualifier, code, revenue_code = "HC", line.hcpcs, line.revenue_code
    else:
        qualifier, code, revenue_code = "NU", line.revenue_code, None
    return ServicePayment(
        procedure_qualifier=qualifier,
        code=code,
        modifiers=line.modifiers,
        revenue_code=revenue_code,
        charge_cents=line.charge_cents,
        paid_cents=paid,
        units=line.units,
        service_date=line.service_date_from,
        adjustments=adjustments,
        line_control_number=line.line_control_number,
        amounts=() if allowed is None else (Amount("B6", allowed),),
    )
