"""The dashboard for a revenue-cycle manager: one page, no build, no external asset.

`/` is a shell that anyone may load: it holds no data. Its small script keeps the user's bearer token
in sessionStorage (pasted once, or handed over in the URL fragment `#token=...`, which browsers never
send to a server) and fetches `/dashboard`, the server-rendered part with the KPI tiles and the SVG
charts, with that token. So the reports stay behind the same authentication as the JSON API.
"""

from __future__ import annotations

from datetime import date
from html import escape

from reporting.application.reports import Dashboard
from reporting.domain.aging import BUCKETS
from reporting.domain.facts import SELF_PAY
from reporting.domain.revenue import period_label, period_starts
from reporting.entrypoints.charts import (
    NEUTRAL,
    PALETTE,
    Bar,
    Series,
    horizontal_bars,
    legend,
    line_chart,
    stacked_bars,
)
from reporting.entrypoints.formats import kpi_lines, percent_text, usd

TOP_REASONS = 8

STYLE = """
:root { color-scheme: light; --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --card: #ffffff; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #f3f4f6; }
header { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: center; justify-content: space-between;
         padding: 14px 24px; background: #0f172a; color: #f8fafc; }
header h1 { font-size: 18px; margin: 0; font-weight: 600; }
header form { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
header input { font: inherit; padding: 5px 8px; border-radius: 6px; border: 1px solid #475569;
               background: #1e293b; color: #f8fafc; }
header button { font: inherit; padding: 5px 12px; border-radius: 6px; border: 0; background: #2563eb;
                color: white; cursor: pointer; }
header button.quiet { background: transparent; border: 1px solid #475569; }
body[data-signed-in="yes"] .token-field { display: none; }
body[data-signed-in="no"] #sign-out { display: none; }
#status { padding: 8px 24px; color: var(--muted); min-height: 1em; }
main { padding: 0 24px 32px; }
.meta { color: var(--muted); margin: 4px 0 16px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px;
        margin-bottom: 20px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.tile h2 { font-size: 12px; font-weight: 600; margin: 0; color: var(--muted); text-transform: uppercase;
           letter-spacing: .03em; }
.tile .value { font-size: 28px; font-weight: 650; margin: 4px 0 0; font-variant-numeric: tabular-nums; }
.tile .value small { font-size: 14px; font-weight: 500; color: var(--muted); margin-left: 4px; }
.tile .detail { margin: 2px 0 0; color: var(--muted); font-size: 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
figure.card { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 10px;
              padding: 14px; }
figure.card figcaption { display: flex; justify-content: space-between; gap: 8px; font-weight: 600;
                         margin-bottom: 8px; }
figure.card figcaption a { font-weight: 400; font-size: 12px; color: #2563eb; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg.chart .grid { stroke: var(--line); }
svg.chart .axis { stroke: #9ca3af; }
svg.chart text { font-size: 11px; fill: #374151; }
svg.chart .tick, svg.chart .total { fill: var(--muted); }
svg.chart .frame { fill: #f9fafb; stroke: var(--line); }
svg.chart .empty { fill: var(--muted); font-size: 13px; }
svg.chart .bar:hover, svg.chart .point:hover { opacity: .8; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 14px; padding: 0; margin: 8px 0 0;
          font-size: 12px; }
.legend li { display: flex; align-items: center; gap: 5px; }
table { border-collapse: collapse; width: 100%; margin-top: 10px; font-size: 12px;
        font-variant-numeric: tabular-nums; }
th, td { padding: 4px 6px; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, td:first-child { text-align: left; }
tfoot td { font-weight: 600; }
.ok { color: #047857; } .warn { color: #b91c1c; }
"""

SCRIPT = """
(() => {
  const KEY = "billing.reporting.token";
  const params = new URLSearchParams(location.search);
  if (location.hash.startsWith("#token=")) {
    sessionStorage.setItem(KEY, decodeURIComponent(location.hash.slice(7)));
    history.replaceState(null, "", location.pathname + location.search);
  }
  const form = document.getElementById("controls");
  const asOf = document.getElementById("as-of");
  const tokenBox = document.getElementById("token");
  const status = document.getElementById("status");
  const content = document.getElementById("content");
  if (params.get("as_of")) asOf.value = params.get("as_of");

  async function load() {
    const token = sessionStorage.getItem(KEY);
    document.body.dataset.signedIn = token ? "yes" : "no";
    if (!token) {
      status.textContent = "Paste a token (billing token --tenant T --role biller) to see the reports.";
      return;
    }
    status.textContent = "Loading…";
    const query = new URLSearchParams({ as_of: asOf.value });
    const response = await fetch("/dashboard?" + query, { headers: { Authorization: "Bearer " + token } });
    if (response.status === 401) {
      sessionStorage.removeItem(KEY);
      document.body.dataset.signedIn = "no";
      content.replaceChildren();
      status.textContent = "The token was refused or has expired: paste a new one.";
      return;
    }
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      status.textContent = problem.detail || "The reports could not be loaded (" + response.status + ").";
      return;
    }
    content.innerHTML = await response.text();
    status.textContent = "";
    document.body.dataset.loaded = "yes";
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (tokenBox.value.trim()) sessionStorage.setItem(KEY, tokenBox.value.trim());
    tokenBox.value = "";
    load();
  });
  asOf.addEventListener("change", load);
  document.getElementById("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    content.replaceChildren();
    load();
  });
  // CSV links need the token too: fetch, then hand the file to the browser.
  content.addEventListener("click", async (event) => {
    const link = event.target.closest("a[data-csv]");
    if (!link) return;
    event.preventDefault();
    const response = await fetch(link.getAttribute("href"), {
      headers: { Authorization: "Bearer " + sessionStorage.getItem(KEY), Accept: "text/csv" },
    });
    if (!response.ok) { status.textContent = "The download failed (" + response.status + ")."; return; }
    const url = URL.createObjectURL(await response.blob());
    const save = document.createElement("a");
    save.href = url;
    save.download = link.dataset.csv;
    document.body.append(save);
    save.click();
    save.remove();
    URL.revokeObjectURL(url);
  });
  load();
})();
"""


def content_security_policy(nonce: str) -> str:
    return (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; "
        "img-src 'self' data: blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def shell(nonce: str, today: date) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Revenue cycle · billing reporting</title>
<style nonce="{nonce}">{STYLE}</style>
</head>
<body data-signed-in="no">
<header>
  <h1>Revenue cycle</h1>
  <form id="controls" autocomplete="off">
    <label>As of <input id="as-of" type="date" value="{today.isoformat()}" required></label>
    <input id="token" class="token-field" type="password" placeholder="Bearer token"
           aria-label="Bearer token">
    <button type="submit">Show</button>
    <button type="button" id="sign-out" class="quiet">Forget token</button>
  </form>
</header>
<p id="status" role="status"></p>
<main id="content"></main>
<script nonce="{nonce}">{SCRIPT}</script>
</body>
</html>
"""


def _tiles(board: Dashboard) -> str:
    k = board.kpis
    tiles = []
    for line in kpi_lines(k):
        if line.key == "days_in_ar":
            detail = f"{usd(line.numerator)} A/R, {usd(line.denominator)} net revenue in {k.window_days} days"
        elif line.key == "average_days_to_payment":
            detail = f"over {plural(line.denominator, 'invoice')} first paid"
        elif line.money:
            detail = f"{usd(line.numerator)} of {usd(line.denominator)}"
        else:
            detail = f"{line.numerator} of {line.denominator} claims"
        unit = "" if line.value is None or line.unit == "percent" else "<small>days</small>"
        tiles.append(
            f'<article class="tile" data-kpi="{line.key}" title="{escape(line.formula)}">'
            f"<h2>{escape(line.label)}</h2>"
            f'<p class="value"><span class="number">{escape(line.text)}</span>{unit}</p>'
            f'<p class="detail">{escape(detail)}</p></article>'
        )
    return f'<section class="kpis" aria-label="Key performance indicators">{"".join(tiles)}</section>'


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _payer_colors(keys: list[str]) -> dict[str, str]:
    others = [key for key in keys if key != SELF_PAY]
    colors = {key: PALETTE[i % len(PALETTE)] for i, key in enumerate(others)}
    colors[SELF_PAY] = NEUTRAL
    return colors


def _aging(board: Dashboard) -> str:
    report = board.aging
    colors = _payer_colors([row.key for row in report.rows])
    series = [Series(row.label, colors[row.key], row.buckets_cents) for row in report.rows]
    chart = stacked_bars(
        "aging",
        f"A/R aging by payer as of {report.as_of.isoformat()}",
        [bucket.label for bucket in BUCKETS],
        series,
        "Nothing is outstanding.",
    )
    head = "".join(f"<th>{escape(b.label)}</th>" for b in BUCKETS)
    body = "".join(
        f"<tr><td>{escape(row.label)}</td>"
        + "".join(f"<td>{usd(c)}</td>" for c in row.buckets_cents)
        + f"<td>{usd(row.total_cents)}</td></tr>"
        for row in report.rows
    )
    foot = (
        "<tr><td>Total</td>"
        + "".join(f"<td>{usd(c)}</td>" for c in report.totals.buckets_cents)
        + f"<td>{usd(report.total_cents)}</td></tr>"
    )
    as_of = report.as_of.isoformat()
    return (
        '<figure class="card"><figcaption><span>A/R aging by payer (days since service)</span>'
        f'<a href="/reports/ar-aging?as_of={as_of}" data-csv="ar-aging-{as_of}.csv">CSV</a></figcaption>'
        f"{chart}{legend(series)}"
        f'<table><thead><tr><th scope="col">Payer</th>{head}<th>Total</th></tr></thead>'
        f"<tbody>{body}</tbody><tfoot>{foot}</tfoot></table></figure>"
    )


def _denials(board: Dashboard) -> str:
    report = board.denials
    bars = [
        Bar(reason.key, reason.amount_cents, plural(reason.claims, "claim"))
        for reason in report.reasons[:TOP_REASONS]
    ]
    start, end = report.start.isoformat(), report.end.isoformat()
    chart = horizontal_bars(
        "denials",
        f"Denials by reason (CARC), {start} to {end}",
        bars,
        "#ef4444",
        "No denials in this window.",
    )
    overall = report.overall
    rate = overall.by_count.percent
    summary = (
        f"{overall.denied_claims} of {overall.adjudicated_claims} claims denied on first adjudication"
        + (f" ({rate}%)" if rate is not None else "")
        + f"; {plural(report.front_end_rejections, 'front-end rejection')}; "
        + f"{plural(report.reversals, 'reversal')}."
    )
    rows = "".join(
        f"<tr><td>{escape(c.label)}</td><td>{c.adjudicated_claims}</td><td>{c.denied_claims}</td>"
        f"<td>{percent_text(c.by_count.percent)}</td><td>{usd(c.denied_charge_cents)}</td>"
        f"<td>{percent_text(c.by_dollars.percent)}</td></tr>"
        for c in report.by_payer
    )
    table = (
        '<table><thead><tr><th scope="col">Payer</th><th>Adjudicated</th><th>Denied</th><th>Rate</th>'
        f"<th>Denied charges</th><th>Rate ($)</th></tr></thead><tbody>{rows}</tbody></table>"
        if report.by_payer
        else ""
    )
    return (
        f'<figure class="card"><figcaption><span>Denials by reason, {start} to {end}</span>'
        f'<a href="/reports/denials?from={start}&amp;to={end}&amp;view=reasons" '
        f'data-csv="denial-reasons-{start}-{end}.csv">CSV</a></figcaption>'
        f'{chart}<p class="meta">{escape(summary)}</p>{table}</figure>'
    )


def _revenue(board: Dashboard) -> str:
    report = board.revenue
    starts = period_starts(report.start, report.end, report.period)
    # Month names, with the year under each January and under the first month shown.
    labels = [
        period_label(s, "day")
        if report.period == "day"
        else f"{s:%b}\n{s.year}"
        if s.month == 1 or i == 0
        else f"{s:%b}"
        for i, s in enumerate(starts)
    ]
    index = {s: i for i, s in enumerate(starts)}
    charges, payments, adjustments = [0] * len(starts), [0] * len(starts), [0] * len(starts)
    for row in report.rows:
        i = index[row.period_start]
        charges[i] += row.figures.net_charges_cents
        payments[i] += row.figures.payments_cents
        adjustments[i] += row.figures.adjustments_cents
    series = [
        Series("Net charges", "#2563eb", charges),
        Series("Payments", "#10b981", payments),
        Series("Adjustments", "#f59e0b", adjustments),
    ]
    start, end = report.start.isoformat(), report.end.isoformat()
    chart = line_chart(
        "revenue", f"Revenue by month, {start} to {end}", labels, series, "No revenue in this period."
    )
    check = (
        '<span class="ok">reconciles</span>'
        if report.reconciled
        else f'<span class="warn">off by {usd(report.closing_ar_cents - report.expected_closing_ar_cents)}'
        "</span>"
    )
    t = report.totals
    summary = (
        f"Opening A/R {usd(report.opening_ar_cents)} + net charges {usd(t.net_charges_cents)} - payments "
        f"{usd(t.payments_cents)} - adjustments {usd(t.adjustments_cents)} = closing A/R "
        f"{usd(report.closing_ar_cents)}: "
    )
    return (
        '<figure class="card"><figcaption><span>Revenue over time</span>'
        f'<a href="/reports/revenue?from={start}&amp;to={end}&amp;group_by=payer&amp;period=month" '
        f'data-csv="revenue-{start}-{end}.csv">CSV</a></figcaption>'
        f'{chart}{legend(series)}<p class="meta">{escape(summary)}{check}</p></figure>'
    )


def fragment(board: Dashboard) -> str:
    k = board.kpis
    return (
        f'<p class="meta">Tenant <strong>{escape(board.tenant)}</strong> · as of the end of '
        f"<strong>{board.as_of.isoformat()}</strong> · KPIs over {k.window_days} days from "
        f"{k.window_start.isoformat()}</p>"
        + _tiles(board)
        + f'<section class="charts">{_aging(board)}{_denials(board)}{_revenue(board)}</section>'
    )
