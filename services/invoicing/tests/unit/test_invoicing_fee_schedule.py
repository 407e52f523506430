"""Fee schedules: every row checked and located by line, all or nothing, versions by effective date."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_events.contracts.invoicing import FeeScheduleImported, FeeScheduleRow
from invoicing.adapters.fee_schedule_files import read_csv, read_json
from invoicing.domain.errors import InvalidInput
from invoicing.domain.fee_schedule import (
    DECIDER,
    FeeScheduleState,
    ImportFeeSchedule,
    RawRow,
    validate_rows,
)

JAN = date(2026, 1, 1)
CODE_RULE = "must be a CPT (5 characters) or HCPCS Level II code (a letter and 4 digits)"


def raw(code: object, modifier: object, amount: object, line: int = 2, *, text: bool = True) -> RawRow:
    return RawRow(f"line {line}", f"line {line}", code, modifier, amount, from_text=text)


def test_valid_rows_are_normalised_and_sorted() -> None:
    rows, errors = validate_rows([raw(" g0008 ", "", "2500", 2), raw("99213", "25", "14000", 3)])
    assert errors == []
    assert rows == (
        FeeScheduleRow(code="99213", modifier="25", amount_cents=14000),
        FeeScheduleRow(code="G0008", modifier=None, amount_cents=2500),
    )


@pytest.mark.parametrize(
    ("amount", "text", "message"),
    [
        ("12.50", True, "must be a whole number of cents"),
        ("", True, "is required"),
        ("0", True, "must be greater than zero"),
        (-100, False, "must be greater than zero"),
        (1.5, False, "must be a whole number of cents"),
        (True, False, "must be a whole number of cents"),
        ("1250", False, "must be a whole number of cents"),  # JSON amounts are numbers, not text
        (1_000_000_001, False, "must be at most"),
    ],
)
def test_an_amount_that_is_not_positive_whole_cents_is_refused(
    amount: object, text: bool, message: str
) -> None:
    rows, errors = validate_rows([raw("99213", None, amount, 7, text=text)])
    assert rows == ()
    assert [e.field for e in errors] == ["line 7.amount_cents"]
    assert errors[0].message.startswith(f"line 7: amount_cents {message}")


def test_every_bad_row_is_reported_at_once_with_its_line() -> None:
    _, errors = validate_rows(
        [
            raw("99213", None, "100", 2),
            raw("9921", None, "100", 3),
            raw("99214", "2", "x", 4),
            raw("", None, "1", 5),
        ]
    )
    assert [e.field for e in errors] == [
        "line 3.code",
        "line 4.modifier",
        "line 4.amount_cents",
        "line 5.code",
    ]


def test_a_second_price_for_the_same_code_and_modifier_names_the_first() -> None:
    _, errors = validate_rows([raw("99213", None, "100", 2), raw("99213", "", "200", 9)])
    assert [(e.field, e.message) for e in errors] == [
        ("line 9.code", "line 9: duplicates the price at line 2")
    ]


def test_an_empty_schedule_is_refused() -> None:
    assert validate_rows([])[1][0].message == "the fee schedule has no rows"


def test_csv_line_numbers_count_the_header_and_blank_lines() -> None:
    parsed = read_csv("\ufeffcode,modifier,amount_cents\n99213,,12500\n\n99214,25,x\n")
    assert parsed.errors == []
    _, errors = validate_rows(parsed.rows)
    assert [e.field for e in errors] == ["line 4.amount_cents"]


def test_a_csv_without_modifier_column_is_accepted() -> None:
    rows, errors = validate_rows(read_csv("amount_cents,code\n100,99213\n").rows)
    assert (rows, errors) == ((FeeScheduleRow(code="99213", amount_cents=100),), [])


def test_a_csv_with_a_wrong_header_or_row_width_says_where() -> None:
    assert [e.message for e in read_csv("code,price\n99213,100\n").errors] == [
        "line 1: unknown column(s) price; expected code,modifier,amount_cents",
        "line 1: the header lacks amount_cents",
    ]
    assert [e.message for e in read_csv("code,modifier,amount_cents\n99213,,100,7\n").errors] == [
        "line 2: has 4 fields, the header has 3"
    ]


def test_json_rows_are_located_by_the_line_they_start_on() -> None:
    text = "\n".join(
        [
            "{",
            '  "note": {"rows": [1]},',
            '  "rows": [',
            '    {"code": "99213", "amount_cents": 100},',
            "",
            '    {"code": "x"}',
            "  ],",
            '  "effective_from": "2026-01-01"',
            "}",
        ]
    )
    parsed = read_json(text)
    assert parsed.effective_from == "2026-01-01"
    _, errors = validate_rows(parsed.rows)
    assert [(e.field, e.message) for e in errors] == [
        ("rows.1.code", "line 6 (row 2): code " + CODE_RULE),
        ("rows.1.amount_cents", "line 6 (row 2): amount_cents is required"),
    ]


def test_json_that_does_not_parse_names_its_line() -> None:
    (error,) = read_json('{"rows": [\n{"code": "99213",}\n]}').errors
    assert error.field == "body"
    assert error.message.startswith("line 2: not valid JSON")


def test_json_rows_with_unknown_fields_are_refused() -> None:
    parsed = read_json('{"rows": [{"code": "99213", "amount_cents": 1, "price": 2}]}')
    assert [e.message for e in parsed.errors] == ["line 1 (row 1): unknown field(s) price"]


def test_an_import_records_a_version_and_the_same_import_again_changes_nothing() -> None:
    rows = (FeeScheduleRow(code="99213", amount_cents=100),)
    command = ImportFeeSchedule("fs-1", "standard", JAN, rows)
    events = DECIDER.decide(command, DECIDER.initial)
    assert events == [
        FeeScheduleImported(fee_schedule_id="fs-1", name="standard", effective_from=JAN, rows=rows)
    ]
    state = DECIDER.fold(events)
    assert DECIDER.decide(command, state) == []
    changed = ImportFeeSchedule("fs-1", "standard", JAN, (FeeScheduleRow(code="99213", amount_cents=200),))
    assert len(DECIDER.decide(changed, state)) == 1
    later = ImportFeeSchedule("fs-1", "standard", date(2026, 7, 1), rows)
    assert sorted(DECIDER.fold(DECIDER.decide(later, state), state).versions) == [JAN, date(2026, 7, 1)]


def test_the_decider_refuses_rows_that_break_the_rules_even_without_a_file() -> None:
    duplicate = (FeeScheduleRow(code="99213", amount_cents=1), FeeScheduleRow(code="99213", amount_cents=2))
    with pytest.raises(InvalidInput) as refused:
        DECIDER.decide(ImportFeeSchedule("fs-1", "bad name!", JAN, duplicate), FeeScheduleState())
    assert [e.field for e in refused.value.errors] == ["name", "rows"]


codes = st.one_of(
    st.from_regex(r"\A[0-9]{4}[0-9FTU]\Z", fullmatch=True),
    st.from_regex(r"\A[A-V][0-9]{4}\Z", fullmatch=True),
)
rows_strategy = st.lists(
    st.tuples(
        codes,
        st.one_of(st.none(), st.from_regex(r"\A[A-Z0-9]{2}\Z", fullmatch=True)),
        st.integers(1, 10_000_000),
    ),
    min_size=1,
    max_size=30,
    unique_by=lambda r: (r[0], r[1]),
)


def as_csv(rows: list[tuple[str, str | None, int]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "modifier", "amount_cents"])
    writer.writerows([(c, m or "", a) for c, m, a in rows])
    return out.getvalue()


@settings(max_examples=150, deadline=None)
@given(rows=rows_strategy)
def test_any_valid_schedule_reads_the_same_from_csv_and_json(rows: list[tuple[str, str | None, int]]) -> None:
    from_csv, csv_errors = validate_rows(read_csv(as_csv(rows)).rows)
    document = {"rows": [{"code": c, "modifier": m, "amount_cents": a} for c, m, a in rows]}
    from_json, json_errors = validate_rows(read_json(json.dumps(document, indent=1)).rows)
    assert csv_errors == json_errors == []
    assert from_csv == from_json
    assert {(r.code, r.modifier): r.amount_cents for r in from_csv} == {(c, m): a for c, m, a in rows}


@settings(max_examples=150, deadline=None)
@given(rows=rows_strategy, data=st.data())
def test_one_bad_amount_anywhere_refuses_the_file_naming_exactly_its_line(
    rows: list[tuple[str, str | None, int]], data: st.DataObject
) -> None:
    bad = data.draw(st.integers(0, len(rows) - 1))
    text = as_csv(rows).split("\n")
    code, modifier, _ = rows[bad]
    text[bad + 1] = f"{code},{modifier or ''},{data.draw(st.sampled_from(['-5', '0', '1.5', 'ten']))}"
    _, errors = validate_rows(read_csv("\n".join(text)).rows)
    assert [e.field for e in errors] == [f"line {bad + 2}.amount_cents"]


def chargemaster_sized(count: int) -> tuple[FeeScheduleRow, ...]:
    """`count` distinct rows: HCPCS-shaped codes A0000..V9999 with and without a modifier."""
    rows = [
        FeeScheduleRow(code=f"{letter}{number:04d}", modifier=modifier, amount_cents=100 + number)
        for letter in "ABCDEFGHJKLMPQRSTV"
        for number in range(10_000)
        for modifier in (None,)
    ]
    return tuple(rows[:count])


def test_a_chargemaster_sized_schedule_is_stored_in_parts_each_far_under_the_message_limit() -> None:
    rows = chargemaster_sized(60_000)
    command = ImportFeeSchedule("fs-1", "hospital", JAN, rows)

    events = DECIDER.decide(command, FeeScheduleState())

    # 60,000 rows at 2,000 a part: 30 parts, then the event that puts the version in effect.
    assert [type(e).__name__ for e in events] == ["FeeScheduleRowsStaged"] * 30 + ["FeeScheduleImported"]
    assert all(len(e.model_dump_json()) < 256 * 1024 for e in events)
    imported = events[-1]
    assert isinstance(imported, FeeScheduleImported)
    assert (imported.rows, imported.parts, imported.row_count) == ((), 30, 60_000)
    state = DECIDER.fold(events)
    assert state.versions[JAN] == rows  # every row back, in canonical order
    assert state.staged == ()
    assert DECIDER.decide(command, state) == []  # the same rows again change nothing


def test_a_small_schedule_stays_one_event_with_its_rows() -> None:
    rows = chargemaster_sized(2_000)
    events = DECIDER.decide(ImportFeeSchedule("fs-1", "clinic", JAN, rows), FeeScheduleState())
    assert len(events) == 1
    assert isinstance(events[0], FeeScheduleImported)
    assert (len(events[0].rows), events[0].parts) == (2_000, 0)
