"""The dashboard's finance section: the P&L by month, profitability by cost centre, cost to collect,
budget against actual for the year, and the decision-support answers. Each card links its CSV."""

from __future__ import annotations

from html import escape

from reporting.application.finance_reports import FinanceBoard
from reporting.entrypoints.charts import Series, legend, line_chart
from reporting.entrypoints.dashboard import plural
from reporting.entrypoints.formats import percent_text, usd


def _pnl(board: FinanceBoard) -> str:
    labels = [
        f"{m.month_start:%b}\n{m.month_start.year}"
        if m.month_start.month == 1 or i == 0
        else f"{m.month_start:%b}"
        for i, m in enumerate(board.months)
    ]
    series = [
        Series("Net revenue", "#2563eb", [m.net_revenue_cents for m in board.months]),
        Series("Expense", "#ef4444", [m.expense_cents for m in board.months]),
        Series("Margin", "#10b981", [m.margin_cents for m in board.months]),
    ]
    start, end = board.start.isoformat(), board.as_of.isoformat()
    chart = line_chart(
        "pnl", f"Profit and loss by month, {start} to {end}", labels, series, "No revenue or expense."
    )
    report = board.by_cost_center
    rows = "".join(
        f'<tr data-row="{escape(r.key)}"><td>{escape(r.label)}</td><td>{usd(r.net_revenue_cents)}</td>'
        f"<td>{usd(r.direct_expense_cents)}</td><td>{usd(r.allocated_expense_cents)}</td>"
        f"<td>{usd(r.margin_cents)}</td><td>{percent_text(r.margin.percent)}</td></tr>"
        for r in report.rows
    )
    foot = (
        f'<tr data-row="total"><td>Total</td><td>{usd(report.net_revenue_cents)}</td>'
        f'<td colspan="2">{usd(report.expense_cents)}</td><td>{usd(report.margin_cents)}</td>'
        f"<td>{percent_text(report.margin.percent)}</td></tr>"
    )
    return (
        '<figure class="card" data-card="profitability"><figcaption><span>Profit and loss</span>'
        f'<a href="/reports/profitability?from={start}&amp;to={end}&amp;group_by=cost_center'
        f'&amp;as_of={end}" '
        f'data-csv="profitability-{start}-{end}.csv">CSV</a></figcaption>{chart}{legend(series)}'
        '<table><thead><tr><th scope="col">Cost centre</th><th>Net revenue</th><th>Direct expense</th>'
        f"<th>Allocated overhead</th><th>Margin</th><th>Margin %</th></tr></thead><tbody>{rows}</tbody>"
        f"<tfoot>{foot}</tfoot></table>"
        '<p class="meta">Revenue by the rendering provider\'s cost centre; '
        "overhead allocated by net charges.</p>"
        "</figure>"
    )


def _budget(board: FinanceBoard) -> str:
    report = board.budget
    rows = "".join(
        f'<tr data-row="{escape(r.code)}"><td>{escape(r.name)}</td><td>{usd(r.budget_cents)}</td>'
        f"<td>{usd(r.actual_cents)}</td><td>{usd(r.variance_cents)}</td>"
        f"<td>{percent_text(r.variance.percent)}</td></tr>"
        for r in report.centers
    )
    ctc = board.cost_to_collect.total
    start, end = board.start.isoformat(), board.as_of.isoformat()
    return (
        '<figure class="card" data-card="budget"><figcaption>'
        f"<span>Budget against actual, {report.year}</span>"
        f'<a href="/reports/budget-variance?year={report.year}&amp;as_of={end}" '
        f'data-csv="budget-variance-{report.year}.csv">CSV</a></figcaption>'
        '<table><thead><tr><th scope="col">Cost centre</th><th>Budget</th><th>Actual</th><th>Variance</th>'
        f"<th>%</th></tr></thead><tbody>{rows}</tbody><tfoot><tr><td>Total</td>"
        f"<td>{usd(report.total_budget_cents)}</td><td>{usd(report.total_actual_cents)}</td>"
        f"<td>{usd(report.total_variance_cents)}</td><td></td></tr></tfoot></table>"
        f'<p class="meta" data-kpi="cost_to_collect">Cost to collect (HFMA MAP): '
        f'<span class="number">{percent_text(ctc.ratio.percent)}</span> = '
        f"{usd(ctc.cost_cents)} revenue-cycle cost / "
        f"{usd(ctc.cash_collected_cents)} collected, {start} to {end} "
        f'<a href="/reports/cost-to-collect?from={start}&amp;to={end}&amp;as_of={end}" '
        f'data-csv="cost-to-collect-{start}-{end}.csv">CSV</a></p></figure>'
    )


def _decisions(board: FinanceBoard) -> str:
    d = board.decisions
    items = []
    for p in d.paybacks:
        answer = (
            f"pays back in {plural(p.payback_months, 'month')} "
            f"({usd(p.monthly_contribution_cents or 0)} a month "
            f"from {p.monthly_volume} x {p.code} at {usd(p.contribution_per_unit_cents or 0)} observed)"
            if p.payback_months is not None
            else f"never pays back: {p.code} earned nothing in the window"
        )
        items.append(f'<li data-answer="payback">{escape(p.name)}: {escape(answer)}</li>')
    per_encounter = d.fte.per_encounter_cents
    items.append(
        '<li data-answer="fte">One more FTE: '
        + (
            f"{usd(per_encounter)} per encounter ({usd(d.fte.fte_month_cents or 0)} an FTE-month, "
            f"{d.fte.encounters} encounters)"
            if per_encounter is not None
            else "no payroll with FTEs or no encounters in the window"
        )
        + "</li>"
    )
    losers = [*(r.label for r in d.losing_cost_centers), *(r.label for r in d.losing_payers)]
    items.append(
        '<li data-answer="losers">Losing money: '
        + (escape(", ".join(losers)) if losers else "no service line, department or payer")
        + "</li>"
    )
    start, end = board.start.isoformat(), board.as_of.isoformat()
    return (
        '<figure class="card" data-card="decisions"><figcaption><span>Decision support</span>'
        f'<a href="/reports/decision-support?from={start}&amp;to={end}&amp;as_of={end}" '
        f'data-csv="decision-support-{start}-{end}.csv">CSV</a></figcaption>'
        f'<ul class="answers">{"".join(items)}</ul></figure>'
    )


def fragment(board: FinanceBoard) -> str:
    parts = _pnl(board) + _budget(board) + _decisions(board)
    return f'<section class="charts" aria-label="Finance">{parts}</section>'
