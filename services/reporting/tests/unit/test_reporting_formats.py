"""Formatting at the edge: cents as dollars, CSV that parses back, SVG charts with real marks."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time

from reporting.adapters.projections import FactsReader
from reporting.domain.aging import AgingReport, AgingRow
from reporting.entrypoints.charts import Bar, Series, horizontal_bars, line_chart, nice_scale, stacked_bars
from reporting.entrypoints.formats import aging_csv, compact_usd, usd


def test_usd_formats_cents_exactly() -> None:
    assert usd(0) == "$0.00"
    assert usd(5) == "$0.05"
    assert usd(123456789) == "$1,234,567.89"
    assert usd(-1600) == "-$16.00"
    assert compact_usd(95000) == "$950"
    assert compact_usd(123456) == "$1.2k"
    assert compact_usd(2500000) == "$25k"
    assert compact_usd(340000000) == "$3.4M"


def test_aging_csv_parses_back_to_the_report() -> None:
    report = AgingReport(
        date(2025, 3, 31),
        (
            AgingRow("payer-blue", 'Blue "Plains", Inc.', (0, 0, 15000, 0, 0)),
            AgingRow("self_pay", "Self-pay", (1, 2, 3, 4, 5)),
        ),
        AgingRow("total", "Total", (1, 2, 15003, 4, 5)),
    )
    parsed = list(csv.DictReader(io.StringIO(aging_csv(report))))
    assert parsed[0]["payer_name"] == 'Blue "Plains", Inc.'  # quoted, not split
    assert parsed[0]["days_61_90_cents"] == "15000"
    assert parsed[1]["days_over_120_cents"] == "5"
    assert parsed[1]["total_cents"] == "15"  # 1 + 2 + 3 + 4 + 5
    assert {row["as_of"] for row in parsed} == {"2025-03-31"}


def test_value_axes_step_by_round_amounts() -> None:
    # Four steps of 1, 2 or 5 times a power of ten cents, at least a dollar.
    assert nice_scale(0, 0) == (0, 100, 100)
    assert nice_scale(0, 22000) == (0, 30000, 10000)  # $0, $100, $200, $300
    assert nice_scale(0, 39000) == (0, 40000, 10000)
    assert nice_scale(0, 1500) == (0, 1500, 500)
    assert nice_scale(-1200, 33000) == (-10000, 40000, 10000)


def _sizes(svg: str, tag: str) -> list[tuple[float, float]]:
    found = re.findall(rf'<{tag} class="bar"[^>]*width="([\d.]+)" height="([\d.]+)"', svg)
    return [(float(w), float(h)) for w, h in found]


def test_stacked_bars_draw_one_mark_per_positive_amount_and_escape_labels() -> None:
    svg = stacked_bars(
        "aging",
        "A/R <aging>",
        ["0-30", "31-60"],
        [Series("Acme & Co", "#111111", [1000, 0]), Series("Self-pay", "#222222", [500, -200])],
        "empty",
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    sizes = _sizes(svg, "rect")
    assert len(sizes) == 2  # the zero and the credit draw nothing
    assert all(w > 0 and h > 0 for w, h in sizes)
    assert "Acme &amp; Co" in svg and "A/R &lt;aging&gt;" in svg and "<aging>" not in svg
    # The taller segment is twice the shorter: 1000 and 500 on one scale.
    heights = sorted(h for _, h in sizes)
    assert abs(heights[1] - 2 * heights[0]) < 0.2


def test_empty_charts_still_have_a_size_and_say_so() -> None:
    svg = horizontal_bars("denials", "Denials", [], "#ef4444", "No denials in this window.")
    assert 'width="560"' in svg and "No denials in this window." in svg
    assert (
        line_chart("revenue", "Revenue", ["2025-01"], [Series("x", "#000", [0])], "No revenue.").count(
            "No revenue."
        )
        == 1
    )


def test_horizontal_bars_and_lines_carry_exact_values_in_titles() -> None:
    bars = horizontal_bars("denials", "Denials", [Bar("CO-50", 15000, "1 claim")], "#ef4444", "none")
    assert "<title>CO-50: $150.00, 1 claim</title>" in bars
    lines = line_chart(
        "revenue", "Revenue", ["2025-01", "2025-02"], [Series("Payments", "#0f0", [0, -1200])], "x"
    )
    assert lines.count('class="point"') == 2
    assert "Payments, 2025-02: -$12.00" in lines


def test_facts_are_dated_in_the_reporting_time_zone() -> None:
    from zoneinfo import ZoneInfo

    reader = FactsReader(pool=None, zone=ZoneInfo("America/New_York"))
    # 04:30 UTC on Feb 1 is still Jan 31 in New York, and the day ends at 05:00 UTC.
    assert reader.cutoff(date(2025, 1, 31)) == datetime.combine(date(2025, 2, 1), time(5), UTC)
    row = {"recorded_at": datetime(2025, 2, 1, 4, 30, tzinfo=UTC), "stream_version": 3, "event_id": "e"}
    assert reader._stamp(row).on == date(2025, 1, 31)


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised() -> None:
    from reporting.entrypoints.formats import to_csv

    text = to_csv(
        ["payer", "amount"],
        [
            ['=HYPERLINK("http://x")', "-12.50"],
            ["+1+1", -1250],
            ["@SUM(A1)", "0"],
            ["-cmd", None],
            ["ACME", "12"],
        ],
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1:] == [
        ['\'=HYPERLINK("http://x")', "-12.50"],
        ["'+1+1", "-1250"],
        ["'@SUM(A1)", "0"],
        ["'-cmd", ""],
        ["ACME", "12"],
    ]
