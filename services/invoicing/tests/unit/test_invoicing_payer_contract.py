"""The PayerContract decider: versions by date, the fee schedule's chunking, idempotent re-imports."""

from __future__ import annotations

from datetime import date

import pytest

from billing_events.contracts.invoicing import ContractRateRow, PayerContractImported, PayerContractRowsStaged
from invoicing.domain.errors import InvalidInput
from invoicing.domain.fee_schedule import ROWS_PER_PART
from invoicing.domain.payer_contract import DECIDER, ContractRates, ImportPayerContract

JAN = date(2026, 1, 1)


def rows(count: int) -> tuple[ContractRateRow, ...]:
    return tuple(ContractRateRow(code=f"{10000 + i:05d}", allowed_cents=100 + i) for i in range(count))


def test_a_large_contract_travels_in_parts_and_folds_back_whole() -> None:
    command = ImportPayerContract("contract-1", "payer-1", JAN, rows(2 * ROWS_PER_PART + 500))
    events = DECIDER.decide(command, DECIDER.initial)
    # 4500 rows: parts of 2000, 2000 and 500, then the import naming 3 parts and no inline rows.
    assert [type(e) for e in events] == [PayerContractRowsStaged] * 3 + [PayerContractImported]
    imported = events[-1]
    assert isinstance(imported, PayerContractImported)
    assert (imported.parts, imported.row_count, imported.rows) == (3, 4500, ())
    state = DECIDER.fold(events)
    assert len(state.versions[JAN].rows) == 4500


def test_the_same_rows_again_change_nothing_but_modifier_33_is_a_new_version() -> None:
    command = ImportPayerContract("contract-1", "payer-1", JAN, rows(3))
    state = DECIDER.fold(DECIDER.decide(command, DECIDER.initial))
    assert DECIDER.decide(command, state) == []
    changed = ImportPayerContract("contract-1", "payer-1", JAN, rows(3), requires_modifier_33=True)
    assert len(DECIDER.decide(changed, state)) == 1


def test_a_contract_without_rows_is_refused() -> None:
    with pytest.raises(InvalidInput):
        DECIDER.decide(ImportPayerContract("contract-1", "payer-1", JAN, ()), DECIDER.initial)


def test_the_rate_for_a_modifier_wins_over_the_code_alone() -> None:
    rates = ContractRates.of(
        "payer-1",
        JAN,
        [
            ContractRateRow(code="99213", allowed_cents=9000),
            ContractRateRow(code="99213", modifier="25", allowed_cents=9500),
        ],
    )
    assert rates.allowed_per_unit("99213", ("25",)) == 9500
    assert rates.allowed_per_unit("99213", ("59",)) == 9000
    assert rates.allowed_per_unit("99214") is None
