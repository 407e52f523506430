"""The rule table: which payers the simulator plays and how each one adjudicates.

Money in the YAML is written in dollars as strings ("500.00") and percentages as strings with at
most two decimals ("62.5"); both become integers here (cents and basis points) so that every
computation after loading is integer arithmetic.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

_EDI_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .\-]{0,14}\Z")


def _two_decimals(value: Decimal, what: str) -> Decimal:
    if not value.is_finite() or value < 0:
        raise ValueError(f"{what} must be a non-negative number")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{what} must have at most 2 decimals")
    return value


def dollars_to_cents(value: Decimal) -> int:
    return int(value * 100)


def percent_to_basis_points(value: Decimal) -> int:
    return int(value * 100)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AddressConfig(_Model):
    line: str
    city: str
    state: str
    zip: str


class NonCoveredRule(_Model):
    """Codes the plan does not cover: the line is denied CO-<carc> with the RARC."""

    codes: frozenset[str]
    carc: str = "96"
    rarc: str | None = "N130"


class ModifierRule(_Model):
    """A line whose code is in `codes` must carry `modifier` (when `with_other_procedure`, only if
    the claim has a line with another code on the same date, the E/M + procedure case of modifier
    25); otherwise it is denied CO-<carc> with the RARC."""

    codes: frozenset[str]
    modifier: str
    with_other_procedure: bool = True
    carc: str = "4"
    rarc: str | None = "M20"


class EligibilityRules(_Model):
    """How the payer answers a 270 (with a 271): every member is active on a calendar-year plan
    unless listed as inactive (EB01 6, the plan ended the year before) or unknown (AAA 75,
    subscriber not found). The benefits come from the adjudication rules and the simulator's
    state, so the answer matches what the 835s do: deductible remaining = annual deductible less
    what the member's claims met this year; out-of-pocket remaining = out_of_pocket_max less the
    same (the simulator keeps no other running total); the office visit copay (EB03 98, per visit)
    and the coinsurance (EB08 as a decimal: 20% is 0.2)."""

    plan_description: str = "DEMO PLAN"
    # EB04 (C1 commercial, MB Medicare Part B, ...).
    insurance_type: str = "C1"
    out_of_pocket_max: Decimal = Decimal(0)
    # Reported as the office visit copay; absent, the copay of 99213 in the rules, if any.
    office_visit_copay: Decimal | None = None
    inactive_members: frozenset[str] = frozenset()
    unknown_members: frozenset[str] = frozenset()

    @field_validator("out_of_pocket_max", "office_visit_copay")
    @classmethod
    def _amount(cls, value: Decimal | None) -> Decimal | None:
        return None if value is None else _two_decimals(value, "an amount")


class PayerRules(_Model):
    name: str
    tax_id: str = Field(pattern=r"^\d{9}$")
    address: AddressConfig
    technical_contact_phone: str = "8005550100"
    # Allowed amount = charge x allowed_percent / 100, in integer cents, rounded half up, never
    # more than the charge.
    allowed_percent: Decimal
    # Patient responsibility, in this order on each allowed amount: copay for the code (PR-3), then
    # what is left of the member's deductible for the service year (PR-1), then coinsurance on the
    # rest (PR-2, rounded half up). The payer pays what remains.
    annual_deductible: Decimal = Decimal(0)
    coinsurance_percent: Decimal = Decimal(0)
    copays: dict[str, Decimal] = Field(default_factory=dict)
    # A line whose service date is more than this many days before the adjudication date is denied
    # CO-29.
    timely_filing_days: int = Field(default=365, gt=0)
    non_covered: NonCoveredRule | None = None
    modifier_rules: tuple[ModifierRule, ...] = ()
    # CLP06 when the 837's SBR09 is not one of the 835's claim filing indicator codes.
    claim_filing_indicator: str = "ZZ"
    # A second original claim with the same patient control number as a claim already paid is
    # denied CO-18 (exact duplicate).
    deny_duplicates: bool = True
    # Real payers often reverse the original (CLP02 22) in the same 835 that pays a replacement.
    reverse_on_replacement: bool = False
    # As a secondary or tertiary payer (SBR01 S or T, earlier payers' answers in loop 2430), how the
    # payer coordinates benefits on each line (see payer_simulator.adjudication.coordinate):
    # "standard" (traditional COB) pays the lesser of its normal benefit and the balance the earlier
    # payers left; "carve_out" pays its normal benefit less what the earlier payers paid, never more
    # than that balance.
    cob_rule: Literal["standard", "carve_out"] = "standard"
    # A primary payer that forwards its claims to a supplemental payer itself (a crossover, as
    # Medicare does to Medigap and Medicaid plans): the EDI id of that payer, also in this table.
    # An original claim that leaves the patient a share is answered CLP02 19 with MOA MA18, and the
    # supplemental payer answers it as secondary under its cob_rule, in its own 835.
    crossover_to: str | None = None
    # Crossover by enrolment (Medicare's COBA eligibility file): member id -> the EDI id of the
    # supplemental payer that enrolled the member for crossover, also in this table. Such a member's
    # original claim that leaves a share is forwarded to that payer as with crossover_to; other
    # members' claims are not (a payer cannot forward to a plan it knows nothing of).
    crossover_members: dict[str, str] = Field(default_factory=dict)
    # Some payers keep only the first N characters of the provider's claim number (CLM01) and echo
    # that in CLP01 of their 835: the claim does not match until a biller matches it by hand.
    # None echoes CLM01 whole.
    clp01_length: int | None = Field(default=None, gt=0)
    # The payer's contracted allowed amounts: a CSV with the header code,modifier,allowed_cents (the
    # file invoicing imports with PUT /contracts/{payer_id}), relative to the rule table. A line whose
    # code (with one of its modifiers, else alone) has a rate is allowed rate x units, never more than
    # the charge; other lines keep allowed_percent.
    contract_file: str | None = None
    contract_allowed_cents: dict[str, int] = Field(default_factory=dict)
    # ACA (PHS Act 2713): codes the plan covers without cost sharing in network (no copay, deductible
    # or coinsurance). Empty: the payer applies cost sharing to every line, as a non-compliant or
    # grandfathered plan would.
    no_cost_sharing_codes: frozenset[str] = frozenset()
    # How the payer answers eligibility inquiries (270); the defaults answer every member active.
    eligibility: EligibilityRules = Field(default_factory=EligibilityRules)
    # Institutional claims (837I). An inpatient stay is paid by its MS-DRG: the DRG's relative
    # weight (4 decimals) x the payer's base rate, rounded half up to the cent; outliers are ignored.
    # The allowed amount is the lesser of that DRG amount and the billed charges. A stay whose DRG
    # the table lacks is denied CO-16 (claim lacks information), as is one without a DRG.
    drg_base_rate: Decimal | None = None
    drg_weights: dict[str, Decimal] = Field(default_factory=dict)
    # An outpatient line with a HCPCS code in this fee schedule is allowed the lesser of the fee and
    # its charge; any other outpatient line is allowed `allowed_percent` of its charge.
    outpatient_fees: dict[str, Decimal] = Field(default_factory=dict)

    @field_validator("allowed_percent", "coinsurance_percent")
    @classmethod
    def _percent(cls, value: Decimal) -> Decimal:
        _two_decimals(value, "a percentage")
        if value > 100:
            raise ValueError("a percentage must be at most 100")
        return value

    @field_validator("annual_deductible")
    @classmethod
    def _amount(cls, value: Decimal) -> Decimal:
        return _two_decimals(value, "an amount")

    @field_validator("drg_base_rate")
    @classmethod
    def _base_rate(cls, value: Decimal | None) -> Decimal | None:
        return None if value is None else _two_decimals(value, "a base rate")

    @field_validator("drg_weights")
    @classmethod
    def _weights(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for weight in value.values():
            if not weight.is_finite() or weight <= 0 or weight != weight.quantize(Decimal("0.0001")):
                raise ValueError("a DRG weight must be a positive number with at most 4 decimals")
        return value

    @field_validator("outpatient_fees")
    @classmethod
    def _fees(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for amount in value.values():
            _two_decimals(amount, "a fee")
        return value

    @field_validator("copays")
    @classmethod
    def _copays(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for amount in value.values():
            _two_decimals(amount, "a copay")
        return value

    @property
    def allowed_basis_points(self) -> int:
        return percent_to_basis_points(self.allowed_percent)

    @property
    def coinsurance_basis_points(self) -> int:
        return percent_to_basis_points(self.coinsurance_percent)

    @property
    def annual_deductible_cents(self) -> int:
        return dollars_to_cents(self.annual_deductible)

    @property
    def drg_base_rate_cents(self) -> int | None:
        return None if self.drg_base_rate is None else dollars_to_cents(self.drg_base_rate)

    def drg_weight_ten_thousandths(self, drg: str) -> int | None:
        """The DRG's relative weight in ten-thousandths (1.9000 -> 19000), None when not in the table."""
        weight = self.drg_weights.get(drg)
        return None if weight is None else int(weight * 10_000)

    def outpatient_fee_cents(self, hcpcs: str | None) -> int | None:
        amount = self.outpatient_fees.get(hcpcs) if hcpcs else None
        return None if amount is None else dollars_to_cents(amount)

    def contract_rate_cents(self, code: str, modifiers: tuple[str, ...]) -> int | None:
        """The contracted allowed amount per unit: for the code with one of its modifiers (in order),
        else for the code alone (the lookup invoicing's fee schedules and contracts use)."""
        for modifier in modifiers:
            rate = self.contract_allowed_cents.get(f"{code}:{modifier}")
            if rate is not None:
                return rate
        return self.contract_allowed_cents.get(code)

    def copay_cents(self, code: str) -> int:
        amount = self.copays.get(code)
        return 0 if amount is None else dollars_to_cents(amount)


class Rules(_Model):
    payers: dict[str, PayerRules]

    @field_validator("payers")
    @classmethod
    def _payer_ids(cls, value: dict[str, PayerRules]) -> dict[str, PayerRules]:
        for payer_id in value:
            if not _EDI_ID.match(payer_id):
                raise ValueError("a payer id must be 1 to 15 letters, digits, spaces, dots or dashes")
        return value


class RulesError(Exception):
    """The rule table cannot be read or is not valid."""


def load_rules(path: Path) -> Rules:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"cannot read the rule table {path}: {exc}") from exc
    try:
        rules = Rules.model_validate(raw)
    except ValueError as exc:
        raise RulesError(f"the rule table {path} is not valid: {exc}") from exc
    payers = {
        payer_id: payer.model_copy(
            update={"contract_allowed_cents": read_contract(path.parent / payer.contract_file)}
        )
        if payer.contract_file
        else payer
        for payer_id, payer in rules.payers.items()
    }
    return rules.model_copy(update={"payers": payers})


def read_contract(path: Path) -> dict[str, int]:
    """A contract CSV (code,modifier,allowed_cents) as rates keyed "code" or "code:modifier"."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RulesError(f"cannot read the contract {path}: {exc}") from exc
    rates: dict[str, int] = {}
    for number, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        code = (row.get("code") or "").strip().upper()
        modifier = (row.get("modifier") or "").strip().upper()
        amount = (row.get("allowed_cents") or "").strip()
        if not code or not amount.isdigit() or int(amount) <= 0:
            raise RulesError(f"the contract {path} line {number}: needs a code and allowed_cents above zero")
        rates[f"{code}:{modifier}" if modifier else code] = int(amount)
    return rates
