"""Fee-schedule files fuzzed (issue 16): whatever the text, reading and validating it gives rows or
RowErrors naming a field and a line, never an exception (csv.Error on huge fields, ValueError from
numbers of thousands of digits, RecursionError from deep JSON), and only ASCII digits are amounts."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoicing.adapters.fee_schedule_files import read_csv, read_json
from invoicing.domain.fee_schedule import validate_rows

HOSTILE_CELLS = [
    "\u0661\u0662\u0663",
    "\u00b2",
    "\uff11\uff12",
    "9" * 5000,
    "1" * 16,
    "-5",
    "\x00",
    '"',
    "=1+1",
]


def read_and_validate(text: str, kind: str) -> list[str]:
    parsed = read_csv(text) if kind == "csv" else read_json(text)
    if parsed.errors:
        return [e.field for e in parsed.errors]
    _, errors = validate_rows(parsed.rows)
    return [e.field for e in errors]


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(
    header=st.sampled_from(["code,modifier,amount_cents", "code,amount_cents", "", "x,y"]),
    cells=st.lists(
        st.lists(st.one_of(st.sampled_from(HOSTILE_CELLS), st.text(max_size=8)), max_size=4), max_size=6
    ),
)
def test_any_csv_is_read_into_rows_or_errors(header: str, cells: list[list[str]]) -> None:
    text = "\n".join([header, *(",".join(row) for row in cells)])
    read_and_validate(text, "csv")


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(text=st.one_of(st.text(max_size=60), st.sampled_from(HOSTILE_CELLS)))
def test_any_json_text_is_read_into_rows_or_errors(text: str) -> None:
    read_and_validate(text, "json")
    read_and_validate('{"rows": [{"code": "99213", "amount_cents": ' + json.dumps(text) + "}]}", "json")


@pytest.mark.parametrize(
    "text",
    [
        "code,amount_cents\n99213," + "\u0661\u0662\u0663",  # Arabic-Indic 123: not an amount
        "code,amount_cents\n99213," + "9" * 5000,
        'code,amount_cents\n99213,"' + "x" * 200_000 + '"',  # over the csv module's field limit
    ],
    ids=["arabic-indic", "huge-number", "huge-field"],
)
def test_hostile_csv_is_refused_naming_the_line(text: str) -> None:
    fields = read_and_validate(text, "csv")
    assert fields and all(f.startswith("line 2") for f in fields), fields


@pytest.mark.parametrize(
    "text",
    [
        '{"rows": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"rows": [{"code": "99213", "amount_cents": ' + "9" * 5000 + "}]}",
    ],
    ids=["deeply-nested", "huge-number"],
)
def test_hostile_json_is_refused_not_raised(text: str) -> None:
    assert read_and_validate(text, "json") == ["body"]
