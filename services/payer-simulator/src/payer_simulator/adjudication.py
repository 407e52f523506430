"""How a simulated payer adjudicates a professional claim, line by line, in integer cents.

For each line, the first rule that denies it wins: timely filing (CO-29), a non-covered code
(CO-96 + RARC), a missing required modifier (CO-4 + RARC). A denied line pays nothing and its whole
charge is one CO adjustment. Otherwise:

    allowed      = min(charge, round_half_up(charge x allowed% / 100))
    CO-45        = charge - allowed                       (contractual adjustment)
    PR-3 copay   = min(copay for the code, allowed)
    PR-1         = min(allowed - copay, deductible left for the member and service year)
    PR-2         = round_half_up((allowed - copay - deductible) x coinsurance% / 100)
    paid         = allowed - copay - deductible - coinsurance

so that every line balances (charge - paid = its adjustments) and so does the claim.

As a secondary or tertiary payer (SBR01 S or T, with the earlier payers' answers in loop 2430) each
line is then coordinated with them (`coordinate`):

    balance left = charge - what earlier payers paid - what they wrote off (all but PR and OA-23)
    OA-23        = charge - balance left                 (the impact of prior payers' adjudication)
    paid         = standard:  min(normal paid, balance left)
                   carve_out: min(max(normal paid - earlier payers' payment, 0), balance left)
    PR           = balance left - paid, itemised as the normal calculation's copay (PR-3), deductible
                   (PR-1) and coinsurance (PR-2) in that order, the rest as coinsurance (PR-2)

A line the payer denies denies only the balance left (CO-<carc>), the rest being OA-23. The
deductible the member meets is the PR-1 actually assigned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from billing_x12 import (
    Adjustment,
    Amount,
    ClaimPayment,
    InstitutionalClaim,
    Party,
    ProfessionalClaim,
    ServicePayment,
)
from billing_x12.professional_claim import ProfessionalServiceLine

from payer_simulator.config import PayerRules

PRIOR_PAYER_IMPACT = "23"

# CLP06 codes of the 835 (they differ from the 837's SBR09 list: no CI, BL).
CLP06_CODES = frozenset(
    {
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "AM",
        "CH",
        "DS",
        "HM",
        "LM",
        "MA",
        "MB",
        "MC",
        "OF",
        "TV",
        "VA",
        "WC",
        "ZZ",
    }
)
STATUS_BY_RESPONSIBILITY = {"P": "1", "S": "2", "T": "3"}


def percent_of(cents: int, basis_points: int) -> int:
    """cents x basis_points / 10000, rounded half up, in integers only (cents >= 0)."""
    if cents < 0 or basis_points < 0:
        raise ValueError("percent_of takes non-negative amounts")
    return (cents * basis_points + 5_000) // 10_000


@dataclass(frozen=True)
class Denial:
    carc: str
    rarc: str | None = None


@dataclass(frozen=True)
class Adjudication:
    """The 835 claim and the deductible it used, per service year (to add to the member's total)."""

    payment: ClaimPayment
    deductible_used: Mapping[int, int]


def line_denial(
    line: ProfessionalServiceLine, claim: ProfessionalClaim, rules: PayerRules, today: dt.date
) -> Denial | None:
    service_date = line.service_date_from
    if service_date is not None and (today - service_date).days > rules.timely_filing_days:
        return Denial("29")
    if rules.non_covered is not None and line.code in rules.non_covered.codes:
        return Denial(rules.non_covered.carc, rules.non_covered.rarc)
    for rule in rules.modifier_rules:
        if line.code not in rule.codes or rule.modifier in line.modifiers:
            continue
        if rule.with_other_procedure and not any(
            other.code != line.code and other.service_date_from == line.service_date_from
            for other in claim.lines
        ):
            continue
        return Denial(rule.carc, rule.rarc)
    return None


# What the 837P and the 837I have alike: the parties and the envelope a payer answers.
AnyClaim = ProfessionalClaim | InstitutionalClaim


def claim_parties(claim: AnyClaim) -> tuple[Party, ...]:
    """NM1*QC (patient) and, when the patient is not the subscriber, NM1*IL (insured)."""
    subscriber = claim.subscriber
    if claim.patient is None:
        patient = replace(subscriber, entity_code="QC", entity_type="1", id_qualifier="MI")
        return (patient,)
    patient = replace(claim.patient, entity_code="QC", entity_type="1", id_qualifier="", identifier="")
    insured = replace(subscriber, entity_code="IL", id_qualifier="MI")
    return (patient, insured)


def claim_filing_indicator(claim: AnyClaim, rules: PayerRules) -> str:
    indicator = claim.claim_filing_indicator
    return indicator if indicator in CLP06_CODES else rules.claim_filing_indicator


def allowed_cents(line: ProfessionalServiceLine, rules: PayerRules) -> int:
    """The contracted rate x units where the payer's contract has the code, else the charge x
    allowed_percent (both before the cap at the charge)."""
    rate = rules.contract_rate_cents(line.code, line.modifiers)
    if rate is None:
        return percent_of(line.charge_cents, rules.allowed_basis_points)
    return int((Decimal(rate) * line.units).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def adjudicate(
    claim: ProfessionalClaim,
    rules: PayerRules,
    *,
    payer_claim_control_number: str,
    deductible_used: Mapping[int, int],
    today: dt.date,
    deny_all: Denial | None = None,
) -> Adjudication:
    """Adjudicate the claim. `deductible_used` is what the member already met, per service year;
    `deny_all` denies every line with one reason (e.g. CO-18 for a duplicate)."""
    used = dict(deductible_used)
    lines: list[ServicePayment] = []
    for line in claim.lines:
        denial = deny_all or line_denial(line, claim, rules, today)
        if denial is not None:
            lines.append(
                _service(line, 0, (Adjustment("CO", denial.carc, line.charge_cents),), denial.rarc, None)
            )
            continue
        charge = line.charge_cents
        allowed = min(charge, allowed_cents(line, rules))
        year = (line.service_date_from or today).year
        cost_sharing = line.code not in rules.no_cost_sharing_codes
        paid, adjustments = price_allowed(
            charge, allowed, rules.copay_cents(line.code), year, rules, used, cost_sharing=cost_sharing
        )
        lines.append(_service(line, paid, adjustments, None, allowed))
    paid_total = sum(line.paid_cents for line in lines)
    patient_total = sum(a.amount_cents for line in lines for a in line.adjustments if a.group == "PR")
    all_denied = all(line.paid_cents == 0 and line.allowed_cents is None for line in lines)
    payment = ClaimPayment(
        patient_control_number=claim.patient_control_number,
        status_code="4" if all_denied else STATUS_BY_RESPONSIBILITY.get(claim.payer_responsibility, "1"),
        charge_cents=claim.charge_cents,
        paid_cents=paid_total,
        patient_responsibility_cents=patient_total,
        claim_filing_indicator=claim_filing_indicator(claim, rules),
        payer_claim_control_number=payer_claim_control_number,
        facility_code=claim.place_of_service,
        frequency_code=claim.frequency_code,
        parties=claim_parties(claim),
        service_lines=tuple(lines),
        header_number=1,
    )
    increase = {year: used[year] - deductible_used.get(year, 0) for year in used}
    adjudication = Adjudication(payment, {year: cents for year, cents in increase.items() if cents})
    if claim.payer_responsibility in ("S", "T") and any(line.prior_payments for line in claim.lines):
        return coordinate(claim, adjudication, rules, today)
    return adjudication


def price_allowed(
    charge: int,
    allowed: int,
    copay: int,
    year: int,
    rules: PayerRules,
    used: dict[int, int],
    *,
    cost_sharing: bool = True,
) -> tuple[int, tuple[Adjustment, ...]]:
    """What the payer pays of an allowed amount and the line's adjustments: CO-45 the charge above
    it, then copay (PR-3), the deductible left for the year (PR-1, counted into `used`) and
    coinsurance (PR-2) on the rest. Without cost sharing (a code the payer covers in full, such as an
    in-network preventive service) it pays the whole allowed amount."""
    if not cost_sharing:
        copay = deductible = coinsurance = 0
    else:
        copay = min(copay, allowed)
        deductible_left = max(0, rules.annual_deductible_cents - used.get(year, 0))
        deductible = min(allowed - copay, deductible_left)
        used[year] = used.get(year, 0) + deductible
        coinsurance = percent_of(allowed - copay - deductible, rules.coinsurance_basis_points)
    paid = allowed - copay - deductible - coinsurance
    adjustments = tuple(
        Adjustment(group, reason, amount)
        for group, reason, amount in (
            ("CO", "45", charge - allowed),
            ("PR", "1", deductible),
            ("PR", "2", coinsurance),
            ("PR", "3", copay),
        )
        if amount
    )
    return paid, adjustments


def balance_left(line: ProfessionalServiceLine) -> int:
    """What the earlier payers left of the line's charge: neither paid nor written off by them."""
    settled = sum(
        prior.paid_cents
        + sum(
            a.amount_cents
            for a in prior.adjustments
            if a.group != "PR" and a.reason_code != PRIOR_PAYER_IMPACT
        )
        for prior in line.prior_payments
    )
    return max(0, line.charge_cents - settled)


def coordinate(
    claim: ProfessionalClaim, normal: Adjudication, rules: PayerRules, today: dt.date
) -> Adjudication:
    """The normal adjudication coordinated with the earlier payers' answers, line by line."""
    lines: list[ServicePayment] = []
    deductible: dict[int, int] = {}
    for line, paid_line in zip(claim.lines, normal.payment.service_lines, strict=True):
        left = balance_left(line)
        impact = (
            [Adjustment("OA", PRIOR_PAYER_IMPACT, line.charge_cents - left)]
            if line.charge_cents > left
            else []
        )
        if paid_line.allowed_cents is None:  # denied: only what is left is denied
            carc = next(a.reason_code for a in paid_line.adjustments if a.group == "CO")
            denied = [Adjustment("CO", carc, left)] if left else []
            lines.append(replace(paid_line, adjustments=tuple(impact + denied)))
            continue
        earlier = sum(prior.paid_cents for prior in line.prior_payments)
        benefit = (
            paid_line.paid_cents if rules.cob_rule == "standard" else max(paid_line.paid_cents - earlier, 0)
        )
        paid = min(benefit, left)
        shortfall = left - paid
        patient: list[Adjustment] = []
        normal_pr = {a.reason_code: a.amount_cents for a in paid_line.adjustments if a.group == "PR"}
        for reason in ("3", "1", "2"):
            amount = min(normal_pr.get(reason, 0), shortfall - sum(a.amount_cents for a in patient))
            if amount:
                patient.append(Adjustment("PR", reason, amount))
        rest = shortfall - sum(a.amount_cents for a in patient)
        if rest:
            coinsurance = next((a for a in patient if a.reason_code == "2"), None)
            patient = [a for a in patient if a is not coinsurance]
            patient.append(Adjustment("PR", "2", rest + (coinsurance.amount_cents if coinsurance else 0)))
        year = (line.service_date_from or today).year
        deductible[year] = deductible.get(year, 0) + sum(
            a.amount_cents for a in patient if a.reason_code == "1"
        )
        lines.append(replace(paid_line, paid_cents=paid, adjustments=tuple(impact + patient)))
    payment = replace(
        normal.payment,
        paid_cents=sum(line.paid_cents for line in lines),
        patient_responsibility_cents=sum(
            a.amount_cents for line in lines for a in line.adjustments if a.group == "PR"
        ),
        service_lines=tuple(lines),
    )
    return Adjudication(payment, {year: cents for year, cents in deductible.items() if cents})


def _service(
    line: ProfessionalServiceLine,
    paid: int,
    adjustments: tuple[Adjustment, ...],
    rarc: str | None,
    allowed: int | None,
) -> ServicePayment:
    return ServicePayment(
        procedure_qualifier=line.procedure_qualifier,
        code=line.code,
        modifiers=line.modifiers,
        charge_cents=line.charge_cents,
        paid_cents=paid,
        units=line.units,
        service_date=line.service_date_from,
        adjustments=adjustments,
        line_control_number=line.line_control_number,
        amounts=() if allowed is None else (Amount("B6", allowed),),
        remark_codes=(rarc,) if rarc else (),
    )


def reversal(original: ClaimPayment, parties: tuple[Party, ...]) -> ClaimPayment:
    """The original adjudication with every amount negated and status 22, under the original's
    payer claim control number; `parties` come from the void claim (the simulator keeps no names)."""

    def negate(adjustments: tuple[Adjustment, ...]) -> tuple[Adjustment, ...]:
        return tuple(replace(a, amount_cents=-a.amount_cents) for a in adjustments)

    return replace(
        original,
        status_code="22",
        charge_cents=-original.charge_cents,
        paid_cents=-original.paid_cents,
        patient_responsibility_cents=-original.patient_responsibility_cents,
        adjustments=negate(original.adjustments),
        parties=parties,
        service_lines=tuple(
            replace(
                line,
                charge_cents=-line.charge_cents,
                paid_cents=-line.paid_cents,
                adjustments=negate(line.adjustments),
                amounts=tuple(replace(a, amount_cents=-a.amount_cents) for a in line.amounts),
            )
            for line in original.service_lines
        ),
    )
