"""The API's reads of the patient side: the preventive cost-sharing work queue, the preventive-services
report, estimates and their accuracy, a patient's financial assistance. Always within the tenant."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from billing_service.pages import Keyset, Page, PageRequest

# Invoices whose payer assigned PR on in-network preventive lines, in issue order.
PREVENTIVE_COST_SHARING = Keyset("invoicing.work-queues.preventive-cost-sharing")

_WITHHELD = "(document->>'preventive_cost_sharing_cents')::bigint"


async def preventive_cost_sharing_queue(
    connection: asyncpg.Connection, tenant: str, page: PageRequest
) -> Page[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT first_position, document FROM invoicing_invoices "
        f"WHERE tenant = $1 AND status <> 'voided' AND {_WITHHELD} > 0 AND first_position > $2 "
        "ORDER BY first_position LIMIT $3",
        tenant,
        page.position,
        page.fetch,
    )
    return page.page(list(rows), lambda row: (row["first_position"],)).map(_queue_item)


def _queue_item(row: asyncpg.Record) -> dict[str, Any]:
    document: dict[str, Any] = row["document"]
    preventive = set(document.get("preventive_line_numbers") or [])
    claims = sorted({p["claim_id"] for p in document["postings"] if p.get("claim_id")})
    # The PR adjustments on the preventive lines, from the standing (not reversed) adjudications.
    lines = []
    for posting in document["postings"]:
        if posting.get("reversed_by") or posting["kind"] != "insurance_payment":
            continue
        for line in posting["lines"]:
            if line["line_number"] not in preventive:
                continue
            pr = [a for a in line.get("adjustments", []) if a["group"] == "PR"]
            if pr:
                code = next(
                    (ln["code"] for ln in document["lines"] if ln["line_number"] == line["line_number"]), None
                )
                lines.append(
                    {
                        "line_number": line["line_number"],
                        "code": code,
                        "claim_id": posting["claim_id"],
                        "adjustments": [f"PR-{a['reason_code']}" for a in pr],
                        "amount_cents": sum(a["amount_cents"] for a in pr),
                    }
                )
    return {
        "invoice_id": document["invoice_id"],
        "encounter_id": document["encounter_id"],
        "patient_id": document["patient_id"],
        "service_date": document["service_date"],
        "payer_id": document["payer_id"],
        "claim_ids": claims,
        "preventive_cost_sharing_cents": document["preventive_cost_sharing_cents"],
        "reason": "PR assigned on in-network preventive services (PHS Act 2713): a likely appeal",
        "lines": lines,
    }


async def preventive_services_report(
    connection: asyncpg.Connection, tenant: str, start: date, end: date
) -> dict[str, Any]:
    """Preventive lines billed on invoices with a date of service in [start, end], by code: how many,
    their charges, the PR payers assigned on them in network (withheld from patients) and the cost
    sharing patients were left with (out of network only)."""
    rows = await connection.fetch(
        "SELECT document FROM invoicing_invoices WHERE tenant = $1 AND status NOT IN ('voided', 'held') "
        "AND service_date BETWEEN $2 AND $3 AND jsonb_array_length(document->'preventive_line_numbers') > 0 "
        "ORDER BY first_position",
        tenant,
        start,
        end,
    )
    by_code: dict[str, dict[str, Any]] = {}
    for row in rows:
        document = row["document"]
        preventive = set(document["preventive_line_numbers"])
        in_network = bool(document.get("in_network")) and document.get("responsibility") == "insurance"
        pr_by_line: dict[int, int] = {}
        for posting in document["postings"]:
            if posting["kind"] not in ("insurance_payment", "reversal"):
                continue
            for line in posting["lines"]:
                pr = sum(a["amount_cents"] for a in line.get("adjustments", []) if a["group"] == "PR")
                pr_by_line[line["line_number"]] = pr_by_line.get(line["line_number"], 0) + pr
        for line in document["lines"]:
            if line["line_number"] not in preventive:
                continue
            entry = by_code.setdefault(
                line["code"],
                {
                    "code": line["code"],
                    "lines": 0,
                    "charge_cents": 0,
                    "in_network_lines": 0,
                    "payer_cost_sharing_withheld_cents": 0,
                    "patient_cost_sharing_cents": 0,
                },
            )
            entry["lines"] += 1
            entry["charge_cents"] += line["charge_cents"]
            pr = pr_by_line.get(line["line_number"], 0)
            if in_network:
                entry["in_network_lines"] += 1
                entry["payer_cost_sharing_withheld_cents"] += pr
            else:
                entry["patient_cost_sharing_cents"] += pr
    items = [by_code[code] for code in sorted(by_code)]
    totals = {
        key: sum(item[key] for item in items)
        for key in (
            "lines",
            "charge_cents",
            "in_network_lines",
            "payer_cost_sharing_withheld_cents",
            "patient_cost_sharing_cents",
        )
    }
    return {"from": start.isoformat(), "to": end.isoformat(), "items": items, "totals": totals}


async def estimate(connection: asyncpg.Connection, tenant: str, estimate_id: str) -> dict[str, Any] | None:
    row = await connection.fetchrow(
        "SELECT document FROM invoicing_estimates WHERE tenant = $1 AND estimate_id = $2", tenant, estimate_id
    )
    return dict(row["document"]) if row else None


async def estimates_accuracy(
    connection: asyncpg.Connection, tenant: str, start: date, end: date
) -> dict[str, Any]:
    """Each estimate of a service date in [start, end] beside what the patient was finally billed for
    that date (their responsibility plus what they paid, on the non-voided invoices of the same patient
    and date). `within_estimate`: billed no more than estimated; a self-pay bill $400 or more above a
    good-faith estimate is open to the patient-provider dispute process."""
    rows = await connection.fetch(
        "SELECT e.estimate_id, e.patient_id, e.service_date, e.kind, e.patient_estimate_cents, "
        "count(i.invoice_id) AS invoices, "
        "coalesce(sum(i.patient_responsibility_cents + (i.document->>'patient_paid_cents')::bigint), 0) "
        "AS billed "
        "FROM invoicing_estimates e LEFT JOIN invoicing_invoices i ON i.tenant = e.tenant "
        "AND i.patient_id = e.patient_id AND i.service_date = e.service_date "
        "AND i.status NOT IN ('voided', 'held') "
        "WHERE e.tenant = $1 AND e.service_date BETWEEN $2 AND $3 "
        "GROUP BY e.estimate_id, e.patient_id, e.service_date, e.kind, e.patient_estimate_cents, e.position "
        "ORDER BY e.position",
        tenant,
        start,
        end,
    )
    items = []
    for row in rows:
        billed = int(row["billed"]) if row["invoices"] else None
        difference = None if billed is None else billed - row["patient_estimate_cents"]
        items.append(
            {
                "estimate_id": row["estimate_id"],
                "patient_id": row["patient_id"],
                "service_date": row["service_date"].isoformat(),
                "kind": row["kind"],
                "patient_estimate_cents": row["patient_estimate_cents"],
                "patient_billed_cents": billed,
                "difference_cents": difference,
                "within_estimate": None if difference is None else difference <= 0,
                "dispute_eligible": row["kind"] == "good_faith"
                and difference is not None
                and difference >= 40_000,
            }
        )
    compared = [item for item in items if item["patient_billed_cents"] is not None]
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "items": items,
        "compared": len(compared),
        "within_estimate": sum(1 for item in compared if item["within_estimate"]),
    }


async def determinations(
    connection: asyncpg.Connection, tenant: str, patient_id: str
) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT application_id, eligible, discount_basis_points, agb_basis_points, received_on, valid_from, "
        "valid_until FROM invoicing_assistance_determinations WHERE tenant = $1 AND patient_id = $2 "
        "ORDER BY position",
        tenant,
        patient_id,
    )
    return [dict(row) for row in rows]


async def first_statement_on(connection: asyncpg.Connection, tenant: str, patient_id: str) -> date | None:
    document = await connection.fetchval(
        "SELECT document FROM invoicing_patient_accounts WHERE tenant = $1 AND patient_id = $2",
        tenant,
        patient_id,
    )
    if not document or not document.get("statements"):
        return None
    return min(date.fromisoformat(s["statement_date"]) for s in document["statements"])


async def assistance_policy(
    connection: asyncpg.Connection, tenant: str, on: date | None
) -> dict[str, Any] | None:
    row = await connection.fetchrow(
        "SELECT document FROM invoicing_assistance_policies WHERE tenant = $1 "
        "AND ($2::date IS NULL OR effective_from <= $2) ORDER BY effective_from DESC LIMIT 1",
        tenant,
        on,
    )
    return dict(row["document"]) if row else None
