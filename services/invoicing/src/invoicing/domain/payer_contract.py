"""The PayerContract aggregate: a payer's contracted allowed amounts, in versions by effective date.

A contract is imported like a fee schedule (the same file readers, row rules and chunking; see
domain.fee_schedule) and answers one question: what the payer allows for a code on a date. A payer
with a contract in effect on the date of service is in network for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from billing_events.contracts.base import Event
from billing_events.contracts.invoicing import (
    ContractRateRow,
    FeeScheduleRow,
    PayerContractImported,
    PayerContractRowsStaged,
)
from billing_events.decider import Decider
from invoicing.domain.errors import FieldError, InvalidInput
from invoicing.domain.fee_schedule import MAX_AMOUNT_CENTS, ROWS_PER_PART
from invoicing.domain.staging import parts_of


def contract_rows(rows: Sequence[FeeScheduleRow]) -> tuple[ContractRateRow, ...]:
    """Rows checked by the fee-schedule rules (domain.fee_schedule.validate_rows) as contract rates."""
    return tuple(
        ContractRateRow(code=r.code, modifier=r.modifier, allowed_cents=r.amount_cents) for r in rows
    )


def canonical(rows: Sequence[ContractRateRow]) -> tuple[ContractRateRow, ...]:
    return tuple(sorted(rows, key=lambda r: (r.code, r.modifier or "")))


@dataclass(frozen=True)
class ContractRates:
    """One version of a payer's contract: the allowed amount per unit of every contracted code."""

    payer_id: str
    effective_from: date
    allowed: Mapping[tuple[str, str | None], int]
    requires_modifier_33: bool = False

    @classmethod
    def of(
        cls,
        payer_id: str,
        effective_from: date,
        rows: Sequence[ContractRateRow],
        requires_modifier_33: bool = False,
    ) -> ContractRates:
        return cls(
            payer_id,
            effective_from,
            {(r.code, r.modifier): r.allowed_cents for r in rows},
            requires_modifier_33,
        )

    def allowed_per_unit(self, code: str, modifiers: Sequence[str] = ()) -> int | None:
        """The rate for the code with one of its modifiers (in the order given), else for the code alone:
        the same lookup as a fee schedule's price."""
        for modifier in modifiers:
            allowed = self.allowed.get((code, modifier))
            if allowed is not None:
                return allowed
        return self.allowed.get((code, None))


@dataclass(frozen=True)
class ImportPayerContract:
    payer_contract_id: str
    payer_id: str
    effective_from: date
    rows: tuple[ContractRateRow, ...]
    requires_modifier_33: bool = False


@dataclass(frozen=True)
class ContractVersion:
    rows: tuple[ContractRateRow, ...]
    requires_modifier_33: bool


@dataclass(frozen=True)
class PayerContractState:
    payer_contract_id: str | None = None
    payer_id: str | None = None
    versions: dict[date, ContractVersion] = field(default_factory=dict)
    staged: tuple[ContractRateRow, ...] = ()


def decide(command: ImportPayerContract, state: PayerContractState) -> list[Event]:
    rows = canonical(command.rows)
    errors: list[FieldError] = []
    if not rows:
        errors.append(FieldError("rows", "the contract has no rows"))
    keys = [(r.code, r.modifier) for r in rows]
    if len(set(keys)) != len(keys):
        errors.append(FieldError("rows", "a code and modifier may have one allowed amount only"))
    if any(r.allowed_cents <= 0 or r.allowed_cents > MAX_AMOUNT_CENTS for r in rows):
        errors.append(FieldError("rows", "every allowed amount must be above zero and at most the maximum"))
    if errors:
        raise InvalidInput(errors)
    version = ContractVersion(rows, command.requires_modifier_33)
    if state.versions.get(command.effective_from) == version:
        return []
    chunks = parts_of(rows, ROWS_PER_PART)
    inline = () if chunks else rows
    parts: list[Event] = [
        PayerContractRowsStaged(
            payer_contract_id=command.payer_contract_id,
            effective_from=command.effective_from,
            part=number,
            parts=len(chunks),
            rows=chunk,
        )
        for number, chunk in enumerate(chunks, start=1)
    ]
    return [
        *parts,
        PayerContractImported(
            payer_contract_id=command.payer_contract_id,
            payer_id=command.payer_id,
            effective_from=command.effective_from,
            rows=inline,
            parts=len(parts),
            row_count=len(rows) if parts else None,
            requires_modifier_33=command.requires_modifier_33,
        ),
    ]


def evolve(state: PayerContractState, event: Event) -> PayerContractState:
    if isinstance(event, PayerContractRowsStaged):
        staged = () if event.part == 1 else state.staged
        return replace(state, staged=staged + event.rows)
    if isinstance(event, PayerContractImported):
        rows = canonical(state.staged) if event.parts else canonical(event.rows)
        return PayerContractState(
            payer_contract_id=event.payer_contract_id,
            payer_id=event.payer_id,
            versions={
                **state.versions,
                event.effective_from: ContractVersion(rows, event.requires_modifier_33),
            },
        )
    return state


DECIDER: Decider[ImportPayerContract, PayerContractState] = Decider(
    initial=PayerContractState(), decide=decide, evolve=evolve, stream_type="payer-contract"
)
