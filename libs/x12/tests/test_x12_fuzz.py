"""Mutation fuzz of the X12 readers (835, 999, 277CA, 837P): whatever the bytes, a reader answers or
raises the library's own X12Error (never ValueError, IndexError, RecursionError, ...), and no input
takes long: every mutated file is read within a time budget, however many segments a mutation
repeated (issue 16).

Seeds are valid files (tests/data); each example applies a few mutations: an element replaced by a
hostile value (Unicode digits, numbers of thousands of digits, controls, delimiters, negative
amounts), a segment dropped, repeated thousands of times or swapped, the file cut short, random
bytes inserted. Derandomized, so the suite is reproducible; BILLING_FUZZ_EXAMPLES raises the count.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from billing_x12 import (
    X12Error,
    envelope_ref,
    iter_transaction_sets,
    parse_277ca,
    parse_835,
    parse_837i,
    parse_837p,
    parse_999,
    read_interchanges,
    read_remittance,
)
from billing_x12.eligibility import parse_271
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DATA = Path(__file__).parent / "data"
SEEDS = {
    "835": [(DATA / "payment.835").read_text(), (DATA / "reversal.835").read_text()],
    "999": [(DATA / "implementation_ack.999").read_text()],
    "277CA": [(DATA / "claim_ack.277").read_text()],
    "837P": [(DATA / "professional.837").read_text()],
    "837I": [(DATA / "institutional.837").read_text()],
    "271": [(DATA / "eligibility_response.271").read_text()],
}


def read_835_streamed(data: str) -> None:
    """The claims service's way with a payer's 835: lazy bodies, each claim handed over as read."""
    for interchange, group, transaction_set in iter_transaction_sets(
        read_interchanges(data, lazy_bodies=True)
    ):
        read_remittance(
            transaction_set,
            envelope_ref(interchange, group, transaction_set),
            group_version=group.version,
            on_claim=lambda _claim: None,
        )


READERS: dict[str, Callable[[str], Any]] = {
    "835": parse_835,
    "835 streamed": read_835_streamed,
    "999": parse_999,
    "277CA": parse_277ca,
    "837P": parse_837p,
    "837I": parse_837i,
    "271": parse_271,
}
SEEDS["835 streamed"] = SEEDS["835"]
# The transaction a reader reads: two readers of one transaction accept each other's files.
TRANSACTION = {kind: kind.split()[0] for kind in READERS}
EXAMPLES = int(os.environ.get("BILLING_FUZZ_EXAMPLES", "150"))
# Per input, whatever it holds (the largest mutated inputs have ~10,000 segments).
BUDGET_SECONDS = 2.0
TRIED: dict[str, int] = {}

HOSTILE = [
    "",
    "\u00b2",  # superscript two: str.isdigit() says yes, int() says no
    "\u0661\u0660\u0660",  # Arabic-Indic 100
    "\uff11\uff12",  # fullwidth 12
    "9" * 5000,  # past int()'s 4300-digit limit
    "1" * 19,
    "-1",
    "-0.01",
    "1e9",
    "NaN",
    "Infinity",
    ".",
    "-",
    "0.001",
    "\x00",
    "\x1b[2J",
    "*",
    ":",
    "^",
    "~",
    "ISA",
    "\ufeff",
    "20250230",
    "99999999",
    "A" * 10_000,
    "22",
    "RD8",
    "D8",
]


@st.composite
def mutated(draw: st.DrawFn, kind: str) -> str:
    text = draw(st.sampled_from(SEEDS[kind]))
    segments = text.split("~")
    for _ in range(draw(st.integers(1, 4))):
        if not segments:
            break
        index = draw(st.integers(0, len(segments) - 1))
        operation = draw(
            st.sampled_from(["element", "element", "element", "drop", "repeat", "swap", "cut", "bytes"])
        )
        if operation == "element":
            elements = segments[index].split("*")
            position = draw(st.integers(0, len(elements)))
            value = draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)))
            if position == len(elements):
                elements.append(value)
            else:
                elements[position] = value
            segments[index] = "*".join(elements)
        elif operation == "drop":
            del segments[index]
        elif operation == "repeat":
            segments[index:index] = [segments[index]] * draw(st.sampled_from([2, 50, 3000]))
        elif operation == "swap":
            other = draw(st.integers(0, len(segments) - 1))
            segments[index], segments[other] = segments[other], segments[index]
        elif operation == "cut":
            joined = "~".join(segments)
            segments = joined[: draw(st.integers(0, len(joined)))].split("~")
        else:
            joined = "~".join(segments)
            at = draw(st.integers(0, len(joined)))
            noise = draw(st.binary(min_size=1, max_size=16)).decode("latin-1")
            segments = (joined[:at] + noise + joined[at:]).split("~")
    return "~".join(segments)


def read_within_budget(kind: str, data: str) -> None:
    TRIED[kind] = TRIED.get(kind, 0) + 1
    started = time.perf_counter()
    with contextlib.suppress(X12Error):  # the library's own refusal; anything else fails the test
        READERS[kind](data)
    elapsed = time.perf_counter() - started
    assert elapsed < BUDGET_SECONDS, f"{kind}: {len(data)} characters took {elapsed:.2f} s"


def fuzz(kind: str) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(data=mutated(kind))
    def run(data: str) -> None:
        read_within_budget(kind, data)

    run()


@pytest.mark.parametrize("kind", list(READERS))
def test_mutated_files_get_only_the_librarys_own_errors_within_budget(kind: str) -> None:
    fuzz(kind)


@pytest.mark.parametrize("kind", list(READERS))
def test_every_reader_refuses_every_other_kind_of_file_by_name(kind: str) -> None:
    for other, seeds in SEEDS.items():
        for seed in seeds:
            if TRANSACTION[other] != TRANSACTION[kind]:
                with pytest.raises(X12Error):
                    READERS[kind](seed)
            for value in HOSTILE:
                read_within_budget(kind, seed.replace("*", f"*{value}", 3))
                read_within_budget(kind, value + seed)


# Values that broke readers before (issue 16) or sit on a boundary: swept through every element.
SWEEP = ["\u00b2", "\u0661\u0660", "9" * 5000, "1" * 19, "-1", "-0.01", "\x00", ""]


@pytest.mark.parametrize("kind", list(READERS))
def test_every_element_of_every_seed_replaced_by_each_hostile_value(kind: str) -> None:
    for seed in SEEDS[kind]:
        segments = seed.split("~")
        for index, segment in enumerate(segments):
            if segment.lstrip().startswith("ISA"):
                continue  # fixed-width header: its own tests cover it
            elements = segment.split("*")
            for position in range(1, len(elements) + 1):
                for value in SWEEP:
                    changed = [*elements[:position], value, *elements[position + 1 :]]
                    data = "~".join([*segments[:index], "*".join(changed), *segments[index + 1 :]])
                    read_within_budget(kind, data)


def test_report_how_many_inputs_were_tried() -> None:
    print("X12 inputs tried:", dict(TRIED), "total", sum(TRIED.values()))
