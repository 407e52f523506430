"""The reports as JSON and CSV, and the formatting of cents and rates for people (here, at the edge).

JSON and CSV carry money as integer cents in fields ending `_cents`, rates as exact numerator and
denominator with a decimal string (`"33.33"`, percent, half up) beside them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from reporting.domain.aging import BUCKETS, AgingReport, AgingRow
from reporting.domain.denials import DenialCounts, DenialsReport
from reporting.domain.hospital import CaseMix, FacilityBalance
from reporting.domain.kpis import Kpis
from reporting.domain.measures import Ratio
from reporting.domain.revenue import MEASURES, RevenueFigures, RevenueReport

Unit = Literal["days", "percent"]


def usd(cents: int) -> str:
    """$1,234.56 from 123456, exactly (no float)."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rest:02d}"


def compact_usd(cents: int) -> str:
    """Short axis labels: $950, $1.2k, $12k, $3.4M."""
    dollars = Decimal(cents) / 100
    sign = "-" if dollars < 0 else ""
    dollars = abs(dollars)
    for limit, suffix in ((Decimal(1_000_000), "M"), (Decimal(1_000), "k")):
        if dollars >= limit:
            scaled = dollars / limit
            text = f"{scaled:.1f}".removesuffix(".0") if scaled < 10 else f"{scaled:.0f}"
            return f"{sign}${text}{suffix}"
    return f"{sign}${dollars:.0f}" if dollars == dollars.to_integral_value() else f"{sign}${dollars:.2f}"


def percent_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def ratio_json(ratio: Ratio) -> dict[str, Any]:
    return {
        "numerator": ratio.numerator,
        "denominator": ratio.denominator,
        "percent": decimal_text(ratio.percent),
    }


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): payer names,
# provider names and codes come from users and partners. Such text gets a leading apostrophe, which
# spreadsheets show as text; numbers (negative amounts) are left as they are.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(name) for name in header])
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return buffer.getvalue()


# A/R aging -------------------------------------------------------------------------------------------

BUCKET_COLUMNS = (
    "days_0_30_cents",
    "days_31_60_cents",
    "days_61_90_cents",
    "days_91_120_cents",
    "days_over_120_cents",
)
assert len(BUCKET_COLUMNS) == len(BUCKETS)


def _aging_row(row: AgingRow) -> dict[str, Any]:
    return {
        "payer_key": row.key,
        "payer_name": row.label,
        "buckets_cents": {
            bucket.label: cents for bucket, cents in zip(BUCKETS, row.buckets_cents, strict=True)
        },
        "total_cents": row.total_cents,
    }


def aging_json(report: AgingReport) -> dict[str, Any]:
    return {
        "as_of": report.as_of.isoformat(),
        "aged_from": "service_date",
        "buckets": [bucket.label for bucket in BUCKETS],
        "rows": [_aging_row(row) for row in report.rows],
        "totals": _aging_row(report.totals),
        "total_cents": report.total_cents,
        # Who owes the balance now: the primary, secondary or tertiary payer whose answer is
        # awaited, or the patient; the buckets add up to the totals above.
        "by_responsible_party": [
            {
                "party": row.key,
                "buckets_cents": {
                    bucket.label: cents for bucket, cents in zip(BUCKETS, row.buckets_cents, strict=True)
                },
                "total_cents": row.total_cents,
            }
            for row in report.by_responsibility
        ],
    }


def aging_csv(report: AgingReport) -> str:
    header = ["as_of", "payer_key", "payer_name", *BUCKET_COLUMNS, "total_cents"]
    return to_csv(
        header,
        (
            [report.as_of.isoformat(), row.key, row.label, *row.buckets_cents, row.total_cents]
            for row in report.rows
        ),
    )


# Revenue ---------------------------------------------------------------------------------------------

DERIVED = ("net_charges_cents", "payments_cents", "adjustments_cents")


def _figures(figures: RevenueFigures) -> dict[str, int]:
    return {name: getattr(figures, name) for name in (*MEASURES, *DERIVED)}


def revenue_json(report: RevenueReport) -> dict[str, Any]:
    return {
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "group_by": report.group_by,
        "period": report.period,
        "rows": [
            {
                "period": row.period,
                "period_start": row.period_start.isoformat(),
                "group_key": row.group_key,
                "group_name": row.group_label,
                **_figures(row.figures),
            }
            for row in report.rows
        ],
        "totals": _figures(report.totals),
        "reconciliation": {
            "opening_ar_cents": report.opening_ar_cents,
            "closing_ar_cents": report.closing_ar_cents,
            "expected_closing_ar_cents": report.expected_closing_ar_cents,
            "reconciled": report.reconciled,
        },
        # 835 PLB: provider-level money, on no invoice (so outside the A/R reconciliation above).
        "provider_adjustments": [
            {
                "group_key": row.group_key,
                "group_name": row.group_label,
                "reason_code": row.reason_code,
                "amount_cents": row.amount_cents,
            }
            for row in report.provider_adjustments
        ],
        "cash": {
            "insurance_payments_cents": report.totals.insurance_payments_cents,
            "provider_adjustment_cents": report.provider_adjustment_cents,
            "insurance_deposits_cents": report.insurance_deposits_cents,
            "patient_payments_cents": report.totals.patient_payments_cents,
            "cash_received_cents": report.cash_received_cents,
        },
    }


def revenue_csv(report: RevenueReport) -> str:
    header = ["period", "period_start", "group_by", "group_key", "group_name", *MEASURES, *DERIVED]
    return to_csv(
        header,
        (
            [
                row.period,
                row.period_start.isoformat(),
                report.group_by,
                row.group_key,
                row.group_label,
                *_figures(row.figures).values(),
            ]
            for row in report.rows
        ),
    )


# Denials ---------------------------------------------------------------------------------------------


def _denial_counts(counts: DenialCounts) -> dict[str, Any]:
    return {
        "payer_key": counts.key,
        "payer_name": counts.label,
        "adjudicated_claims": counts.adjudicated_claims,
        "denied_claims": counts.denied_claims,
        "adjudicated_charge_cents": counts.adjudicated_charge_cents,
        "denied_charge_cents": counts.denied_charge_cents,
        "denial_rate_by_count": ratio_json(counts.by_count),
        "denial_rate_by_dollars": ratio_json(counts.by_dollars),
    }


def denials_json(report: DenialsReport, top: int) -> dict[str, Any]:
    return {
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        **{k: v for k, v in _denial_counts(report.overall).items() if not k.startswith("payer_")},
        "top_reasons": [
            {
                "reason": reason.key,
                "group_code": reason.group,
                "carc": reason.reason_code,
                "claims": reason.claims,
                "amount_cents": reason.amount_cents,
            }
            for reason in report.reasons[:top]
        ],
        "by_payer": [_denial_counts(counts) for counts in report.by_payer],
        "denied_lines": report.denied_lines,
        "denied_line_charge_cents": report.denied_line_cents,
        "front_end_rejections": report.front_end_rejections,
        "reversals": report.reversals,
    }


def denials_csv(report: DenialsReport, view: Literal["payers", "reasons"], top: int) -> str:
    period = [report.start.isoformat(), report.end.isoformat()]
    if view == "reasons":
        return to_csv(
            ["from", "to", "reason", "group_code", "carc", "claims", "amount_cents"],
            (
                [*period, r.key, r.group, r.reason_code, r.claims, r.amount_cents]
                for r in report.reasons[:top]
            ),
        )
    header = [
        "from",
        "to",
        "payer_key",
        "payer_name",
        "adjudicated_claims",
        "denied_claims",
        "denial_rate_by_count_percent",
        "adjudicated_charge_cents",
        "denied_charge_cents",
        "denial_rate_by_dollars_percent",
    ]
    # Rates do not add up across payers, so the all-payers line is a row of its own ("all").
    return to_csv(
        header,
        (
            [
                *period,
                c.key,
                c.label,
                c.adjudicated_claims,
                c.denied_claims,
                decimal_text(c.by_count.percent),
                c.adjudicated_charge_cents,
                c.denied_charge_cents,
                decimal_text(c.by_dollars.percent),
            ]
            for c in (*report.by_payer, report.overall)
        ),
    )


# KPIs ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiLine:
    key: str
    label: str
    value: Decimal | None
    unit: Unit
    numerator: int
    denominator: int
    formula: str
    hfma_map_key: str | None = None
    money: bool = False  # numerator and denominator are cents

    @property
    def text(self) -> str:
        if self.value is None:
            return "—"
        return f"{self.value}%" if self.unit == "percent" else f"{self.value}"


def kpi_lines(k: Kpis) -> list[KpiLine]:
    def rate(
        key: str, label: str, ratio: Ratio, formula: str, map_key: str | None = None, money: bool = False
    ) -> KpiLine:
        return KpiLine(
            key, label, ratio.percent, "percent", ratio.numerator, ratio.denominator, formula, map_key, money
        )

    return [
        KpiLine(
            "days_in_ar",
            "Days in A/R",
            k.days_in_ar,
            "days",
            k.ar_cents,
            k.net_revenue_cents,
            f"A/R cents / (net patient service revenue cents in the window / {k.window_days} days)",
            "Net Days in A/R",
            money=True,
        ),
        rate(
            "clean_claim_rate",
            "Clean claim rate",
            k.clean_claim_rate,
            "claims created that no scrubber edit stopped / claims created",
            "Clean Claim Rate",
        ),
        rate(
            "first_pass_resolution_rate",
            "First-pass resolution rate",
            k.first_pass_resolution_rate,
            "claims paid on their first adjudication without rework / claims first adjudicated",
        ),
        rate(
            "denial_rate",
            "Denial rate",
            k.denial_rate,
            "claims denied on first adjudication / claims first adjudicated",
            "Remittance Denial Rate (initial denials)",
        ),
        rate(
            "denial_rate_dollars",
            "Denial rate (dollars)",
            k.denial_rate_dollars,
            "charge cents of claims denied on first adjudication / charge cents of claims first adjudicated",
            "Remittance Denial Rate (initial denials)",
            money=True,
        ),
        rate(
            "net_collection_rate",
            "Net collection rate",
            k.net_collection_rate,
            "payment cents / (net charge cents - contractual adjustment cents)",
            money=True,
        ),
        KpiLine(
            "average_days_to_payment",
            "Average days to payment",
            k.average_days_to_payment,
            "days",
            k.days_to_payment_total,
            k.paid_invoices,
            "days from service to first payment, summed / invoices first paid in the window",
        ),
        rate(
            "aged_ar_over_90",
            "A/R over 90 days",
            k.aged_over_90,
            "A/R cents over 90 days from service / A/R cents",
            "Aged A/R as a Percentage of Total Billed A/R",
            money=True,
        ),
    ]


def kpis_json(k: Kpis) -> dict[str, Any]:
    return {
        "as_of": k.as_of.isoformat(),
        "window": {"from": k.window_start.isoformat(), "to": k.as_of.isoformat(), "days": k.window_days},
        "ar_cents": k.ar_cents,
        "net_patient_service_revenue_cents": k.net_revenue_cents,
        "kpis": {
            line.key: {
                "label": line.label,
                "value": decimal_text(line.value),
                "unit": line.unit,
                "numerator": line.numerator,
                "denominator": line.denominator,
                "formula": line.formula,
                "hfma_map_key": line.hfma_map_key,
            }
            for line in kpi_lines(k)
        },
    }


def kpis_csv(k: Kpis) -> str:
    header = [
        "as_of",
        "window_from",
        "window_days",
        "kpi",
        "value",
        "unit",
        "numerator",
        "denominator",
        "formula",
    ]
    return to_csv(
        header,
        (
            [
                k.as_of.isoformat(),
                k.window_start.isoformat(),
                k.window_days,
                line.key,
                decimal_text(line.value),
                line.unit,
                line.numerator,
                line.denominator,
                line.formula,
            ]
            for line in kpi_lines(k)
        ),
    )


def case_mix_json(report: CaseMix) -> dict[str, Any]:
    return {
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "discharges": report.discharges,
        "total_drg_weight": decimal_text(report.total_weight),
        "case_mix_index": decimal_text(report.case_mix_index),
    }


def case_mix_csv(report: CaseMix) -> str:
    row = case_mix_json(report)
    return to_csv(list(row), [list(row.values())])


FACILITY_AR_HEADER = ("facility_id", "facility", "insurance_cents", "self_pay_cents", "total_cents")


def facility_ar_json(rows: tuple[FacilityBalance, ...]) -> dict[str, Any]:
    return {
        "rows": [dict(zip(FACILITY_AR_HEADER, _facility_row(row), strict=True)) for row in rows],
        "total_cents": sum(row.total_cents for row in rows),
    }


def facility_ar_csv(rows: tuple[FacilityBalance, ...]) -> str:
    return to_csv(FACILITY_AR_HEADER, [_facility_row(row) for row in rows])


def _facility_row(row: FacilityBalance) -> tuple[Any, ...]:
    return (row.facility_id, row.label, row.insurance_cents, row.self_pay_cents, row.total_cents)
