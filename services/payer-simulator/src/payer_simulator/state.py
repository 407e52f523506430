"""What the simulator remembers between runs, in `<dir>/.simulator-state.json`: the files it has
answered, its control number counters, members' deductibles, the claims it adjudicated (to reverse
them on a void), balances carried forward, and renames still to do.

No names or member ids are stored: members are keyed by a hash, and a reversal takes the patient's
name from the void claim itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from decimal import Decimal
from pathlib import Path

from billing_x12 import Adjustment, Amount, ClaimPayment, ServicePayment
from pydantic import BaseModel, ConfigDict, Field

STATE_FILE = ".simulator-state.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoredAdjustment(_Model):
    group: str
    reason_code: str
    amount_cents: int


class StoredLine(_Model):
    procedure_qualifier: str
    code: str
    modifiers: list[str]
    charge_cents: int
    paid_cents: int
    units: str | None
    service_date: dt.date | None
    line_control_number: str | None
    adjustments: list[StoredAdjustment]
    allowed_cents: int | None
    remark_codes: list[str]


class StoredClaim(_Model):
    """An adjudication the simulator paid, as needed to reverse it."""

    payer_id: str
    payer_claim_control_number: str
    patient_control_number: str
    status_code: str
    charge_cents: int
    paid_cents: int
    patient_responsibility_cents: int
    claim_filing_indicator: str
    facility_code: str | None
    frequency_code: str | None
    lines: list[StoredLine]
    member_key: str
    provider_id: str
    deductible_used: dict[str, int] = Field(default_factory=dict)
    superseded: bool = False

    @classmethod
    def of(
        cls,
        payment: ClaimPayment,
        *,
        payer_id: str,
        member_key: str,
        provider_id: str,
        deductible: dict[int, int],
    ) -> StoredClaim:
        return cls(
            payer_id=payer_id,
            payer_claim_control_number=payment.payer_claim_control_number or "",
            patient_control_number=payment.patient_control_number,
            status_code=payment.status_code,
            charge_cents=payment.charge_cents,
            paid_cents=payment.paid_cents,
            patient_responsibility_cents=payment.patient_responsibility_cents,
            claim_filing_indicator=payment.claim_filing_indicator,
            facility_code=payment.facility_code,
            frequency_code=payment.frequency_code,
            member_key=member_key,
            provider_id=provider_id,
            deductible_used={str(year): cents for year, cents in deductible.items()},
            lines=[
                StoredLine(
                    procedure_qualifier=line.procedure_qualifier,
                    code=line.code,
                    modifiers=list(line.modifiers),
                    charge_cents=line.charge_cents,
                    paid_cents=line.paid_cents,
                    units=None if line.units is None else str(line.units),
                    service_date=line.service_date,
                    line_control_number=line.line_control_number,
                    adjustments=[
                        StoredAdjustment(
                            group=a.group, reason_code=a.reason_code, amount_cents=a.amount_cents
                        )
                        for a in line.adjustments
                    ],
                    allowed_cents=line.allowed_cents,
                    remark_codes=list(line.remark_codes),
                )
                for line in payment.service_lines
            ],
        )

    def payment(self) -> ClaimPayment:
        return ClaimPayment(
            patient_control_number=self.patient_control_number,
            status_code=self.status_code,
            charge_cents=self.charge_cents,
            paid_cents=self.paid_cents,
            patient_responsibility_cents=self.patient_responsibility_cents,
            claim_filing_indicator=self.claim_filing_indicator,
            payer_claim_control_number=self.payer_claim_control_number,
            facility_code=self.facility_code,
            frequency_code=self.frequency_code,
            header_number=1,
            service_lines=tuple(
                ServicePayment(
                    procedure_qualifier=line.procedure_qualifier,
                    code=line.code,
                    modifiers=tuple(line.modifiers),
                    charge_cents=line.charge_cents,
                    paid_cents=line.paid_cents,
                    units=None if line.units is None else Decimal(line.units),
                    service_date=line.service_date,
                    line_control_number=line.line_control_number,
                    adjustments=tuple(
                        Adjustment(a.group, a.reason_code, a.amount_cents) for a in line.adjustments
                    ),
                    amounts=() if line.allowed_cents is None else (Amount("B6", line.allowed_cents),),
                    remark_codes=tuple(line.remark_codes),
                )
                for line in self.lines
            ),
        )


class ProcessedFile(_Model):
    name: str
    processed_at: dt.datetime
    outputs: list[str]


class Rename(_Model):
    source: str
    target: str


class Counters(_Model):
    interchange: int = 0
    group: int = 0
    claim: int = 0
    trace: int = 0

    def next(self, name: str) -> int:
        value = getattr(self, name) + 1
        # ISA13 and GS06 have 9 digits: wrap around rather than fail after a billion files.
        if value > 999_999_999:
            value = 1
        setattr(self, name, value)
        return int(value)


class SimulatorState(_Model):
    version: int = 1
    # sha256 of the file's bytes -> what was done with it.
    processed: dict[str, ProcessedFile] = Field(default_factory=dict)
    counters: Counters = Field(default_factory=Counters)
    # "<payer>|<member key>" -> service year -> deductible met, in cents.
    deductibles: dict[str, dict[str, int]] = Field(default_factory=dict)
    # "<payer>|<payer claim control number>" -> the adjudication paid.
    claims: dict[str, StoredClaim] = Field(default_factory=dict)
    # "<payer>|<provider id>" -> cents the provider owes the payer after reversals (PLB FB).
    balances: dict[str, int] = Field(default_factory=dict)
    # Renames of written answers not yet done when the state was saved (see processor).
    pending: list[Rename] = Field(default_factory=list)

    def deductible_used(self, payer_id: str, member_key: str) -> dict[int, int]:
        return {
            int(year): cents for year, cents in self.deductibles.get(f"{payer_id}|{member_key}", {}).items()
        }

    def add_deductible(self, payer_id: str, member_key: str, used: dict[int, int], sign: int = 1) -> None:
        years = self.deductibles.setdefault(f"{payer_id}|{member_key}", {})
        for year, cents in used.items():
            years[str(year)] = years.get(str(year), 0) + sign * cents

    def find_claim(self, payer_id: str, payer_claim_control_number: str | None) -> StoredClaim | None:
        if not payer_claim_control_number:
            return None
        return self.claims.get(f"{payer_id}|{payer_claim_control_number}")

    def find_by_patient_control_number(
        self, payer_id: str, patient_control_number: str
    ) -> StoredClaim | None:
        found = [
            c
            for c in self.claims.values()
            if c.payer_id == payer_id
            and c.patient_control_number == patient_control_number
            and not c.superseded
        ]
        return found[-1] if found else None


def member_key(payer_id: str, member_id: str) -> str:
    """A stable key for a member that does not reveal the member id."""
    return hashlib.sha256(f"{payer_id}|{member_id}".encode()).hexdigest()[:32]


def load_state(directory: Path) -> SimulatorState:
    path = directory / STATE_FILE
    if not path.exists():
        return SimulatorState()
    return SimulatorState.model_validate_json(path.read_text(encoding="utf-8"))


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary name in the same folder, flush to disk, then rename over `path`, so a
    reader sees either the old file or the whole new one."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def save_state(directory: Path, state: SimulatorState) -> None:
    # pydantic's own serialiser: json.dumps with indentation was most of a pass's CPU.
    write_atomically(directory / STATE_FILE, state.model_dump_json().encode())
