"""Cost estimates before a service: what it will be charged, what the payer is expected to pay and what
the patient is expected to owe; for a patient without coverage, a good-faith estimate (No Surprises
Act, Public Health Service Act §2799B-6 and 45 CFR 149.610).

For an insured patient each line is priced from the fee schedule, allowed at the payer's contracted
rate (never more than the charge; the charge itself where the contract has no rate, which can only
overstate the patient's share) and shared with the patient in the order payers apply benefits:

    copay        = min(copay, allowed)     on the visit's first office or outpatient E/M line only
    deductible   = min(allowed - copay, deductible left)        (the deductible left shrinks)
    coinsurance  = round_half_up((allowed - copay - deductible) x coinsurance% / 100)
    patient      = copay + deductible + coinsurance,  payer = allowed - patient

then the patient's total is capped at the out-of-pocket maximum left (taken off the last lines
first). In-network preventive lines (domain.preventive) cost the patient nothing. Without an
eligibility answer, the estimate assumes the deductible is not met at all (the patient's share is
the allowed amount): an estimate must not understate what a patient will owe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from billing_events.contracts.base import Event
from billing_events.contracts.invoicing import EstimateIssued, EstimateLine
from billing_events.decider import Decider
from invoicing.domain import preventive
from invoicing.domain.errors import FieldError, InvalidInput
from invoicing.domain.payer_contract import ContractRates
from invoicing.domain.pricing import PriceList

MAX_LINES = 100
MAX_UNITS = 999
# Office or other outpatient E/M visits: the visit a plan's office copay applies to.
COPAY_CODES = frozenset({"99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215"})
# 45 CFR 149.620: a self-pay patient billed at least $400 more than the good-faith estimate from a
# provider or facility may start the patient-provider dispute resolution process.
DISPUTE_THRESHOLD_CENTS = 40_000
GOOD_FAITH_DISCLAIMERS = (
    "This Good Faith Estimate shows the costs of items and services that are reasonably expected for "
    "your health care needs for an item or service. The estimate is based on information known at the "
    "time the estimate was created.",
    "The Good Faith Estimate does not include any unknown or unexpected costs that may arise during "
    "treatment. You could be charged more if complications or special circumstances occur. If this "
    "happens, federal law allows you to dispute (appeal) the bill.",
    "If you are billed for more than this Good Faith Estimate, you have the right to dispute the bill. "
    "You may contact the health care provider or facility listed to let them know the billed charges "
    "are higher than the Good Faith Estimate. You can ask them to update the bill to match the Good "
    "Faith Estimate, ask to negotiate the bill, or ask if there is financial assistance available.",
    "You may also start a dispute resolution process with the U.S. Department of Health and Human "
    "Services (HHS). If you choose to use the dispute resolution process, you must start the dispute "
    "process within 120 calendar days (about 4 months) of the date on the original bill. There is a "
    "$25 fee to use the dispute process.",
    "Additional items or services may be recommended as part of the course of care that must be "
    "scheduled or requested separately and are not reflected in this Good Faith Estimate.",
    "This Good Faith Estimate is not a contract and does not require you to obtain the items or "
    "services from any of the providers or facilities identified.",
    "For questions or more information about your right to a Good Faith Estimate or the dispute "
    "process, visit www.cms.gov/nosurprises or call 1-800-985-3059.",
)


@dataclass(frozen=True)
class Benefits:
    """What the patient's plan leaves to them, from the latest eligibility answer (X12 271)."""

    deductible_remaining_cents: int
    copay_cents: int
    coinsurance_basis_points: int  # 2000 = 20%
    out_of_pocket_remaining_cents: int | None = None
    source: str = "eligibility"


@dataclass(frozen=True)
class RequestedLine:
    code: str
    units: int
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Estimate:
    lines: tuple[EstimateLine, ...]

    @property
    def total_charge_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)

    @property
    def expected_payer_cents(self) -> int:
        return sum(line.expected_payer_cents for line in self.lines)

    @property
    def patient_estimate_cents(self) -> int:
        return sum(line.patient_estimate_cents for line in self.lines)


def percent_of(cents: int, basis_points: int) -> int:
    """cents x basis_points / 10000, rounded half up, integers only (as payers round coinsurance)."""
    return (cents * basis_points + 5_000) // 10_000


def _charges(lines: Sequence[RequestedLine], price_list: PriceList | None, service_date: date) -> list[int]:
    errors: list[FieldError] = []
    if not lines:
        errors.append(FieldError("lines", "an estimate needs at least one line"))
    if len(lines) > MAX_LINES:
        errors.append(FieldError("lines", f"an estimate has at most {MAX_LINES} lines"))
    if price_list is None:
        errors.append(
            FieldError("service_date", f"no fee schedule is in effect on {service_date.isoformat()}")
        )
    unit_prices: list[int] = []
    for index, line in enumerate(lines):
        if not 1 <= line.units <= MAX_UNITS:
            errors.append(FieldError(f"lines.{index}.units", f"must be between 1 and {MAX_UNITS}"))
        price = price_list.unit_price(line.code, line.modifiers) if price_list else None
        if price_list is not None and price is None:
            errors.append(
                FieldError(
                    f"lines.{index}.code", f"{line.code} has no price in fee schedule '{price_list.name}'"
                )
            )
        unit_prices.append(price or 0)
    if errors:
        raise InvalidInput(errors)
    return unit_prices


def good_faith_estimate(
    lines: Sequence[RequestedLine],
    price_list: PriceList | None,
    service_date: date,
    diagnoses: Sequence[str] = (),
) -> Estimate:
    """No coverage: the patient is expected to pay the charges, itemised."""
    unit_prices = _charges(lines, price_list, service_date)
    return Estimate(
        tuple(
            EstimateLine(
                line_number=number,
                code=line.code,
                units=line.units,
                unit_price_cents=unit_price,
                charge_cents=unit_price * line.units,
                allowed_cents=unit_price * line.units,
                expected_payer_cents=0,
                patient_estimate_cents=unit_price * line.units,
                preventive=preventive.is_preventive(line.code, line.modifiers, diagnoses),
                allowed_basis="self_pay",
            )
            for number, (line, unit_price) in enumerate(zip(lines, unit_prices, strict=True), start=1)
        )
    )


def insured_estimate(
    lines: Sequence[RequestedLine],
    price_list: PriceList | None,
    service_date: date,
    contract: ContractRates | None,
    benefits: Benefits | None,
    diagnoses: Sequence[str] = (),
) -> Estimate:
    """`diagnoses` (expected, ICD-10-CM) make a screening code preventive (domain.preventive)."""
    unit_prices = _charges(lines, price_list, service_date)
    in_network = contract is not None
    deductible_left = benefits.deductible_remaining_cents if benefits else None
    copay_due = benefits.copay_cents if benefits else 0
    result: list[EstimateLine] = []
    for number, (line, unit_price) in enumerate(zip(lines, unit_prices, strict=True), start=1):
        charge = unit_price * line.units
        rate = contract.allowed_per_unit(line.code, line.modifiers) if contract else None
        allowed = charge if rate is None else min(charge, rate * line.units)
        is_preventive = preventive.is_preventive(line.code, line.modifiers, diagnoses)
        if is_preventive and in_network:
            patient = 0
        elif benefits is None or deductible_left is None:
            patient = allowed
        else:
            copay = 0
            if copay_due and line.code in COPAY_CODES:
                copay, copay_due = min(copay_due, allowed), 0
            deductible = min(allowed - copay, deductible_left)
            deductible_left -= deductible
            coinsurance = percent_of(allowed - copay - deductible, benefits.coinsurance_basis_points)
            patient = copay + deductible + coinsurance
        result.append(
            EstimateLine(
                line_number=number,
                code=line.code,
                units=line.units,
                unit_price_cents=unit_price,
                charge_cents=charge,
                allowed_cents=allowed,
                expected_payer_cents=allowed - patient,
                patient_estimate_cents=patient,
                preventive=is_preventive,
                allowed_basis="charge" if rate is None else "contract",
            )
        )
    cap = benefits.out_of_pocket_remaining_cents if benefits else None
    return Estimate(tuple(_capped(result, cap)))


def _capped(lines: list[EstimateLine], out_of_pocket_left: int | None) -> list[EstimateLine]:
    """The patient's share limited to the out-of-pocket maximum left, taken off the last lines first."""
    if out_of_pocket_left is None:
        return lines
    excess = sum(line.patient_estimate_cents for line in lines) - max(out_of_pocket_left, 0)
    capped = list(lines)
    for index in reversed(range(len(capped))):
        if excess <= 0:
            break
        line = capped[index]
        relief = min(excess, line.patient_estimate_cents)
        excess -= relief
        capped[index] = line.model_copy(
            update={
                "patient_estimate_cents": line.patient_estimate_cents - relief,
                "expected_payer_cents": line.expected_payer_cents + relief,
            }
        )
    return capped


# The Estimate aggregate: an estimate, once given, is a fact (reporting compares it with the bill).


@dataclass(frozen=True)
class IssueEstimate:
    issued: EstimateIssued


@dataclass(frozen=True)
class EstimateState:
    issued: EstimateIssued | None = None


def decide(command: IssueEstimate, state: EstimateState) -> list[Event]:
    return [] if state.issued is not None else [command.issued]


def evolve(state: EstimateState, event: Event) -> EstimateState:
    return EstimateState(event) if isinstance(event, EstimateIssued) else state


DECIDER: Decider[IssueEstimate, EstimateState] = Decider(
    initial=EstimateState(), decide=decide, evolve=evolve, stream_type="estimate"
)
