"""What the simulator remembers between runs: the files it has answered, its control number
counters, members' deductibles, the claims it adjudicated (to reverse them on a void), balances
carried forward, and renames still to do.

It is kept as a snapshot (`<dir>/.simulator-state.json`) and a journal after it
(`<dir>/.simulator-journal.jsonl`): a pass appends one line with what it changed, so its cost does
not grow with everything answered before (rewriting the whole state every pass cost 2.5 ms of CPU per
encounter at the start of a one-minute bench and 8 ms at its end). Each line sets whole values, so a
line applied twice changes nothing; a line cut short by a crash was never committed and is ignored.
Once the journal outgrows the snapshot, a pass writes a new snapshot and starts the journal again.

No names or member ids are stored: members are keyed by a hash, and a reversal takes the patient's
name from the void claim itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from billing_x12 import Adjustment, Amount, ClaimPayment, ServicePayment
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, PrivateAttr

STATE_FILE = ".simulator-state.json"
JOURNAL_FILE = ".simulator-journal.jsonl"
# A new snapshot once the journal holds this many passes (and at least the snapshot's size).
_COMPACT_AFTER_LINES = 500


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


def _claim_text(value: Any) -> str:
    """A stored claim as its JSON text: the form it is kept in memory. As pydantic objects (lines
    and adjustments each a model) they took about 10 KiB a claim, and the simulator keeps every
    claim it paid; the text is about a tenth of that, read back only for a void or a duplicate."""
    if isinstance(value, str):
        return value
    return StoredClaim.model_validate(value).model_dump_json()


# In the state file a claim is written as the object it is (the file format is unchanged).
ClaimText = Annotated[
    str, BeforeValidator(_claim_text), PlainSerializer(lambda text: json.loads(text), return_type=dict)
]


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


_KEYED = ("processed", "deductibles", "claims", "balances")


def _no_changes() -> dict[str, set[str]]:
    return {name: set() for name in _KEYED}


class SimulatorState(_Model):
    version: int = 1
    # Which snapshot a journal line follows: a line of an older snapshot's journal is not applied.
    generation: int = 0
    # sha256 of the file's bytes -> what was done with it.
    processed: dict[str, ProcessedFile] = Field(default_factory=dict)
    counters: Counters = Field(default_factory=Counters)
    # "<payer>|<member key>" -> service year -> deductible met, in cents.
    deductibles: dict[str, dict[str, int]] = Field(default_factory=dict)
    # "<payer>|<payer claim control number>" -> the adjudication paid (held as its JSON text).
    claims: dict[str, ClaimText] = Field(default_factory=dict)
    # "<payer>|<provider id>" -> cents the provider owes the payer after reversals (PLB FB).
    balances: dict[str, int] = Field(default_factory=dict)
    # Renames of written answers not yet done when the state was saved (see processor).
    pending: list[Rename] = Field(default_factory=list)

    # Keys changed since the last save, per keyed field: what the next journal line carries.
    _changed: dict[str, set[str]] = PrivateAttr(default_factory=_no_changes)
    # Journal lines after the snapshot this state was read from; None: no journal to append to yet.
    _journal_lines: int | None = PrivateAttr(default=None)
    # "<payer>|<patient control number>" -> keys of its claims, in the order they were stored.
    _by_patient_control_number: dict[str, list[str]] | None = PrivateAttr(default=None)

    def record_file(self, digest: str, processed: ProcessedFile) -> None:
        self.processed[digest] = processed
        self._changed["processed"].add(digest)

    def store_claim(self, claim: StoredClaim) -> None:
        key = f"{claim.payer_id}|{claim.payer_claim_control_number}"
        self.claims[key] = claim.model_dump_json()
        self._changed["claims"].add(key)
        if self._by_patient_control_number is not None:
            index_key = f"{claim.payer_id}|{claim.patient_control_number}"
            self._by_patient_control_number.setdefault(index_key, []).append(key)

    def supersede(self, claim: StoredClaim) -> None:
        """The claim no longer counts (voided or replaced): its deductible goes back to the member."""
        claim.superseded = True
        key = f"{claim.payer_id}|{claim.payer_claim_control_number}"
        self.claims[key] = claim.model_dump_json()
        self._changed["claims"].add(key)
        used = {int(year): cents for year, cents in claim.deductible_used.items()}
        self.add_deductible(claim.payer_id, claim.member_key, used, sign=-1)

    def set_balance(self, key: str, cents: int) -> None:
        self.balances[key] = cents
        self._changed["balances"].add(key)

    def deductible_used(self, payer_id: str, member_key: str) -> dict[int, int]:
        return {
            int(year): cents for year, cents in self.deductibles.get(f"{payer_id}|{member_key}", {}).items()
        }

    def add_deductible(self, payer_id: str, member_key: str, used: dict[int, int], sign: int = 1) -> None:
        key = f"{payer_id}|{member_key}"
        years = self.deductibles.setdefault(key, {})
        for year, cents in used.items():
            years[str(year)] = years.get(str(year), 0) + sign * cents
        self._changed["deductibles"].add(key)

    def find_claim(self, payer_id: str, payer_claim_control_number: str | None) -> StoredClaim | None:
        if not payer_claim_control_number:
            return None
        text = self.claims.get(f"{payer_id}|{payer_claim_control_number}")
        return None if text is None else StoredClaim.model_validate_json(text)

    def find_by_patient_control_number(
        self, payer_id: str, patient_control_number: str
    ) -> StoredClaim | None:
        """The latest claim still standing that the provider filed under this number (an index, built
        once: scanning every stored claim for each new one grew with the run)."""
        if self._by_patient_control_number is None:
            index: dict[str, list[str]] = {}
            for key, text in self.claims.items():
                stored = json.loads(text)
                index.setdefault(f"{stored['payer_id']}|{stored['patient_control_number']}", []).append(key)
            self._by_patient_control_number = index
        keys = self._by_patient_control_number.get(f"{payer_id}|{patient_control_number}", [])
        claims = [StoredClaim.model_validate_json(self.claims[key]) for key in keys]
        standing = [claim for claim in claims if not claim.superseded]
        return standing[-1] if standing else None

    def _journal_line(self) -> bytes:
        changed: dict[str, object] = {
            name: {key: getattr(self, name)[key] for key in keys} for name, keys in self._changed.items()
        }
        line = _Delta.model_validate(
            {**changed, "generation": self.generation, "counters": self.counters, "pending": self.pending}
        ).model_dump_json()
        return line.encode() + b"\n"

    def _apply(self, delta: _Delta) -> None:
        for name in _KEYED:
            getattr(self, name).update(getattr(delta, name))
        self.counters = delta.counters
        self.pending = delta.pending


class _Delta(_Model):
    """One journal line: the keyed values a pass set (whole), and the counters and renames as they
    stood after it."""

    generation: int
    processed: dict[str, ProcessedFile]
    deductibles: dict[str, dict[str, int]]
    claims: dict[str, ClaimText]
    balances: dict[str, int]
    counters: Counters
    pending: list[Rename]


def member_key(payer_id: str, member_id: str) -> str:
    """A stable key for a member that does not reveal the member id."""
    return hashlib.sha256(f"{payer_id}|{member_id}".encode()).hexdigest()[:32]


def load_state(directory: Path) -> SimulatorState:
    path = directory / STATE_FILE
    state = SimulatorState.model_validate_json(path.read_bytes()) if path.exists() else SimulatorState()
    lines: int | None = 0
    journal = directory / JOURNAL_FILE
    if journal.exists():
        for raw in journal.read_bytes().splitlines():
            try:
                delta = _Delta.model_validate_json(raw)
            except ValueError:
                # Cut short by a crash while it was written: that pass never committed. The next
                # save starts a new snapshot rather than append after the broken line.
                lines = None
                break
            if delta.generation == state.generation:
                state._apply(delta)
                lines = (lines or 0) + 1
    state._journal_lines = lines
    return state


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
    """Commit the state: one line appended to the journal (flushed to disk), or, for a state not
    read from `directory` or a journal grown past the snapshot, a new snapshot and an empty journal."""
    journal = directory / JOURNAL_FILE
    snapshot = directory / STATE_FILE
    lines = state._journal_lines
    if lines is not None and (lines < _COMPACT_AFTER_LINES or _size(journal) < _size(snapshot)):
        with open(journal, "ab") as handle:
            handle.write(state._journal_line())
            handle.flush()
            os.fsync(handle.fileno())
        state._journal_lines = lines + 1
    else:
        # A crash before the journal is emptied leaves lines of the previous generation behind the
        # new snapshot: they are older than it, and loading skips them.
        state.generation += 1
        # pydantic's own serialiser: json.dumps with indentation was most of a pass's CPU.
        write_atomically(snapshot, state.model_dump_json().encode())
        with open(journal, "wb") as handle:
            os.fsync(handle.fileno())
        state._journal_lines = 0
    for keys in state._changed.values():
        keys.clear()


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0
