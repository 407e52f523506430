"""The chargemaster: every bad row named with its line, large versions staged in parts under the event
size limit, a repeated import changing nothing; charges priced at their service date."""

from __future__ import annotations

import json
from datetime import date

import pytest

from billing_events.contracts.invoicing import ChargemasterImported, ChargemasterRow, ChargemasterRowsStaged
from billing_events.store import MAX_EVENT_BYTES
from invoicing.adapters.fee_schedule_files import Columns, read_csv_records, read_json_records
from invoicing.domain import chargemaster, encounter_charges
from invoicing.domain.chargemaster import ChargemasterState, ImportChargemaster, RawChargeRow
from invoicing.domain.encounter_charges import ChargePrice, RequestedCharge
from invoicing.domain.errors import InvalidInput

COLUMNS = Columns(chargemaster.COLUMNS, chargemaster.REQUIRED)
JAN = date(2026, 1, 1)


def raw(**cells: object) -> RawChargeRow:
    base: dict[str, object] = {
        "charge_code": "RB-MED",
        "description": "Room and board, medical/surgical",
        "revenue_code": "0120",
        "amount_cents": 200000,
    }
    return RawChargeRow("rows.0", "row 1", {**base, **cells})


def rows_from_csv(text: str) -> list[RawChargeRow]:
    parsed = read_csv_records(text, COLUMNS)
    assert parsed.errors == []
    return [RawChargeRow(r.field_prefix, r.where, r.cells, r.from_text) for r in parsed.rows]


def test_a_good_csv_reads_into_normalised_rows() -> None:
    text = (
        "charge_code,description,revenue_code,hcpcs,amount_cents\n"
        "rb-med,Room and board,120,,200000\n"
        "OR-1H,Operating room first hour,0360,27130,850050\n"
    )
    rows, errors = chargemaster.validate_rows(rows_from_csv(text))
    assert errors == []
    assert rows == (
        ChargemasterRow(
            charge_code="OR-1H",
            description="Operating room first hour",
            revenue_code="0360",
            hcpcs="27130",
            amount_cents=850050,
        ),
        # The revenue code gets its leading zero, the charge code upper case; no HCPCS is None.
        ChargemasterRow(
            charge_code="RB-MED", description="Room and board", revenue_code="0120", amount_cents=200000
        ),
    )


def test_every_bad_line_is_named_and_nothing_is_accepted() -> None:
    text = (
        "charge_code,description,revenue_code,hcpcs,amount_cents\n"
        "RB-MED,Room and board,0120,,200000\n"
        "RB-MED,Again,0120,,1\n"  # line 3: duplicate
        ",No code,0120,,100\n"  # line 4
        "LAB-1,Panel,12,80053,4500\n"  # line 5: revenue code
        "LAB-2,Panel,0300,8005,4500\n"  # line 6: HCPCS
        "LAB-3,Panel,0300,,12.50\n"  # line 7: not cents
    )
    _, errors = chargemaster.validate_rows(rows_from_csv(text))
    assert {error.field for error in errors} == {
        "line 3.charge_code",
        "line 4.charge_code",
        "line 5.revenue_code",
        "line 6.hcpcs",
        "line 7.amount_cents",
    }
    assert all(error.message.startswith(error.field.split(".")[0]) for error in errors)


def test_json_rows_are_named_by_their_line_in_the_file() -> None:
    text = json.dumps(
        {"effective_from": "2026-01-01", "rows": [raw().cells, {**raw().cells, "description": ""}]}, indent=1
    )
    parsed = read_json_records(text, COLUMNS)
    raw_rows = [RawChargeRow(r.field_prefix, r.where, r.cells, r.from_text) for r in parsed.rows]
    _, errors = chargemaster.validate_rows(raw_rows)
    (error,) = errors
    assert error.field == "rows.1.description"
    assert "(row 2)" in error.message


def rows(count: int) -> tuple[ChargemasterRow, ...]:
    # Descriptions at their longest (100 characters), to bound the size of a part.
    return tuple(
        ChargemasterRow(
            charge_code=f"C{n:06d}",
            description="X" * chargemaster.MAX_DESCRIPTION,
            revenue_code="0250",
            hcpcs="J1234",
            amount_cents=1_000 + n,
        )
        for n in range(count)
    )


def test_sixty_thousand_rows_are_staged_in_parts_each_under_the_event_limit() -> None:
    events = chargemaster.decide(ImportChargemaster("cdm", JAN, rows(60_000)), ChargemasterState())
    staged = [e for e in events if isinstance(e, ChargemasterRowsStaged)]
    (imported,) = [e for e in events if isinstance(e, ChargemasterImported)]
    # 60,000 rows / 1,000 per part = 60 parts, then the imported event naming them.
    assert len(staged) == 60 and [e.part for e in staged] == list(range(1, 61))
    assert imported.parts == 60 and imported.row_count == 60_000 and imported.rows == ()
    assert max(len(e.model_dump_json()) for e in staged) < MAX_EVENT_BYTES
    state = ChargemasterState()
    for event in events:
        state = chargemaster.evolve(state, event)
    assert JAN in state.versions and state.staged == ()
    # The same rows for the same date again: nothing new.
    assert chargemaster.decide(ImportChargemaster("cdm", JAN, rows(60_000)), state) == []


def test_a_small_version_travels_in_the_imported_event_itself() -> None:
    (imported,) = chargemaster.decide(ImportChargemaster("cdm", JAN, rows(3)), ChargemasterState())
    assert isinstance(imported, ChargemasterImported)
    assert imported.parts == 0 and len(imported.rows) == 3


def test_an_empty_chargemaster_is_refused() -> None:
    with pytest.raises(InvalidInput):
        chargemaster.decide(ImportChargemaster("cdm", JAN, ()), ChargemasterState())


def test_charges_are_units_times_the_price_of_their_day() -> None:
    march = date(2026, 3, 2)
    prices = {
        ("RB-MED", march): ChargePrice("RB-MED", "0120", None, 200000, JAN),
        ("OR-1H", march): ChargePrice("OR-1H", "0360", "27130", 850050, JAN),
    }
    requested = [RequestedCharge("RB-MED", 3, march), RequestedCharge("OR-1H", 1, march)]
    lines, errors = encounter_charges.price_charges(requested, prices, first_line_number=4)
    assert errors == []
    # 3 x 2,000.00 = 6,000.00; 1 x 8,500.50; numbered after the encounter's three earlier lines.
    assert [(line.line_number, line.charge_cents, line.revenue_code, line.hcpcs) for line in lines] == [
        (4, 600000, "0120", None),
        (5, 850050, "0360", "27130"),
    ]


def test_a_charge_code_missing_on_its_day_refuses_the_capture_naming_the_line() -> None:
    lines, errors = encounter_charges.price_charges(
        [RequestedCharge("RB-MED", 1, date(2025, 12, 31))], {}, first_line_number=1
    )
    assert lines == ()
    assert [error.field for error in errors] == ["lines.0.charge_code"]
