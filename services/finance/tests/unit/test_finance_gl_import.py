"""The GL CSV import: all lines or none, each bad line named."""

from __future__ import annotations

import itertools

import pytest

from finance.domain.errors import InvalidInput
from finance.domain.gl_import import parse_gl_csv
from finance.domain.values import CostCenterRef

CENTERS = {"CARD": CostCenterRef("cc-card", "CARD", "department")}
HEADER = "incurred_on,amount_cents,category,cost_center,vendor,memo\n"


def ids() -> itertools.count[int]:
    return itertools.count(1)


def parse(text: str) -> list[str]:
    counter = ids()
    return [e.expense_id for e in parse_gl_csv(text, CENTERS, lambda: f"e{next(counter)}", "imp-1")]


def test_a_clean_file_gives_one_expense_per_line() -> None:
    text = HEADER + "2025-01-31,100000,supplies,CARD,Medline,gloves\n2025-01-31,5000,other,CARD,,\n"
    counter = ids()
    events = parse_gl_csv(text, CENTERS, lambda: f"e{next(counter)}", "imp-1")
    assert [(e.amount_cents, e.category, e.vendor, e.source, e.import_id) for e in events] == [
        (100000, "supplies", "Medline", "import", "imp-1"),
        (5000, "other", None, "import", "imp-1"),
    ]


def test_each_bad_line_is_named_with_its_fields() -> None:
    text = (
        HEADER
        + "2025-01-31,100000,supplies,CARD,Medline,ok\n"  # line 2: fine
        + "2025-01-31,100000,supplies,ORTHO,,\n"  # line 3: unknown cost centre
        + "2025-01-31,100000,snacks,CARD,,\n"  # line 4: bad category
        + "2025-01-31,-1,supplies,CARD,,\n"  # line 5: negative
        + "2025-01-31,10.5,supplies,CARD,,\n"  # line 6: not whole cents
        + "2025-13-01,100,supplies,CARD,,\n"  # line 7: bad date
    )
    with pytest.raises(InvalidInput) as refused:
        parse(text)
    assert [i.field for i in refused.value.issues] == [
        "line 3: cost_center",
        "line 4: category",
        "line 5: amount_cents",
        "line 6: amount_cents",
        "line 7: incurred_on",
    ]


def test_a_wrong_header_refuses_the_file() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse("date,amount\n2025-01-01,5\n")
    assert refused.value.issues[0].field == "line 1"


def test_an_fte_column_may_follow() -> None:
    text = HEADER.rstrip("\n") + ",fte\n2025-01-31,900000,payroll,CARD,ADP,Jan,3\n"
    counter = ids()
    (event,) = parse_gl_csv(text, CENTERS, lambda: f"e{next(counter)}", "imp-1")
    assert event.fte_hundredths == 300
