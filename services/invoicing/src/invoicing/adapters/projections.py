"""Invoicing's own tables: read models of its aggregates, and its copy of registration's coverage and
payers. Every row carries its tenant and every query filters by it.

Invoices and patient accounts are stored as the folded state of their streams (written in the command's
own transaction), so a read shows exactly what the ledger holds; `rebuild` recomputes them from the
event table. The CHECK on invoicing_invoices is the last line of defence of the ledger's equation.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

from billing_events.contracts.base import Sealed
from billing_events.contracts.coding import InstitutionalEncounterCoded
from billing_events.contracts.invoicing import (
    CapturedCharge,
    ChargemasterImported,
    ChargemasterRow,
    ChargemasterRowsStaged,
    ChargesCaptured,
    FeeScheduleImported,
    FeeScheduleRow,
)
from billing_events.contracts.registration import (
    AdmissionDischarged,
    AdmissionOpened,
    CoverageAdded,
    CoverageTerminated,
    PatientDemographicsUpdated,
    PatientRegistered,
    PayerRegistered,
)
from billing_events.store import EventStore, Session
from billing_events.unit_of_work import UnitOfWork
from invoicing.adapters.payer_contracts import IN_NETWORK_SQL
from invoicing.application.ports import CreditCandidates, EncounterInvoice, FeeScheduleVersion, Unit
from invoicing.domain import fee_schedule, invoice, patient_account
from invoicing.domain.encounter_charges import ChargePrice
from invoicing.domain.institutional_bill import Stay
from invoicing.domain.invoice import InvoiceState, PrimaryCoverage
from invoicing.domain.patient_account import OpenItem, PatientAccountState
from invoicing.domain.pricing import PriceList

PROJECTIONS_SQL = """
CREATE TABLE IF NOT EXISTS invoicing_fee_schedules (
    tenant text NOT NULL,
    fee_schedule_id text NOT NULL,
    name text NOT NULL,
    effective_from date NOT NULL,
    rows jsonb NOT NULL,
    row_count integer NOT NULL,
    position bigint NOT NULL,
    imported_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, fee_schedule_id, effective_from)
);
CREATE INDEX IF NOT EXISTS invoicing_fee_schedules_in_effect
    ON invoicing_fee_schedules (tenant, effective_from DESC, position DESC);

-- The chargemaster: one row per version, its rows by charge code (a version replaces the whole list).
CREATE TABLE IF NOT EXISTS invoicing_chargemaster_versions (
    tenant text NOT NULL,
    effective_from date NOT NULL,
    row_count integer NOT NULL,
    position bigint NOT NULL,
    imported_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, effective_from)
);
CREATE TABLE IF NOT EXISTS invoicing_chargemaster_rows (
    tenant text NOT NULL,
    effective_from date NOT NULL,
    charge_code text NOT NULL,
    description text NOT NULL,
    revenue_code text NOT NULL,
    hcpcs text,
    amount_cents bigint NOT NULL,
    PRIMARY KEY (tenant, effective_from, charge_code)
);

-- Charges captured on institutional encounters, line by line.
CREATE TABLE IF NOT EXISTS invoicing_encounter_charges (
    tenant text NOT NULL,
    encounter_id text NOT NULL,
    line_number integer NOT NULL,
    capture_id text NOT NULL,
    charge_code text NOT NULL,
    revenue_code text NOT NULL,
    hcpcs text,
    units integer NOT NULL,
    unit_price_cents bigint NOT NULL,
    charge_cents bigint NOT NULL,
    service_date date NOT NULL,
    late boolean NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (tenant, encounter_id, line_number)
);

-- Institutional encounters: registration's admission and discharge, coding's latest institutional coding.
CREATE TABLE IF NOT EXISTS invoicing_stays (
    tenant text NOT NULL,
    encounter_id text NOT NULL,
    opened jsonb,
    discharged jsonb,
    coding jsonb,
    coding_version integer,
    PRIMARY KEY (tenant, encounter_id)
);
CREATE INDEX IF NOT EXISTS invoicing_stays_unbilled ON invoicing_stays (tenant)
    WHERE discharged IS NOT NULL AND coding IS NOT NULL;

CREATE TABLE IF NOT EXISTS invoicing_invoices (
    tenant text NOT NULL,
    invoice_id text NOT NULL,
    first_position bigint NOT NULL,
    last_position bigint NOT NULL,
    encounter_id text NOT NULL,
    patient_id text NOT NULL,
    coding_version integer NOT NULL,
    service_date date NOT NULL,
    status text NOT NULL,
    responsibility text,
    payer_id text,
    total_charge_cents bigint NOT NULL,
    paid_cents bigint NOT NULL,
    adjustment_cents bigint NOT NULL,
    patient_responsibility_cents bigint NOT NULL,
    balance_cents bigint NOT NULL,
    document jsonb NOT NULL,
    PRIMARY KEY (tenant, invoice_id),
    CONSTRAINT invoicing_invoices_reconcile
        CHECK (total_charge_cents = paid_cents + adjustment_cents + balance_cents)
);
CREATE INDEX IF NOT EXISTS invoicing_invoices_order ON invoicing_invoices (tenant, first_position);
CREATE INDEX IF NOT EXISTS invoicing_invoices_encounter ON invoicing_invoices (tenant, encounter_id);
CREATE INDEX IF NOT EXISTS invoicing_invoices_patient ON invoicing_invoices (tenant, patient_id);
CREATE INDEX IF NOT EXISTS invoicing_invoices_status ON invoicing_invoices (tenant, status, first_position);

CREATE TABLE IF NOT EXISTS invoicing_patient_accounts (
    tenant text NOT NULL,
    patient_id text NOT NULL,
    credit_cents bigint NOT NULL,
    last_position bigint NOT NULL,
    document jsonb NOT NULL,
    PRIMARY KEY (tenant, patient_id)
);

CREATE TABLE IF NOT EXISTS invoicing_coverages (
    tenant text NOT NULL,
    coverage_id text NOT NULL,
    patient_id text NOT NULL,
    payer_id text NOT NULL,
    priority text NOT NULL,
    effective_from date NOT NULL,
    effective_to date,
    PRIMARY KEY (tenant, coverage_id)
);
CREATE INDEX IF NOT EXISTS invoicing_coverages_patient ON invoicing_coverages (tenant, patient_id);

-- The patient's name and address, still sealed under the patient's key: opened only to print a
-- statement (crypto-shredding the key leaves them unreadable here too).
CREATE TABLE IF NOT EXISTS invoicing_patients (
    tenant text NOT NULL,
    patient_id text NOT NULL,
    name jsonb,
    address jsonb,
    PRIMARY KEY (tenant, patient_id)
);

CREATE TABLE IF NOT EXISTS invoicing_payers (
    tenant text NOT NULL,
    payer_id text NOT NULL,
    name text NOT NULL,
    edi_payer_id text NOT NULL,
    PRIMARY KEY (tenant, payer_id)
);
"""

OWN_TABLES = (
    "invoicing_fee_schedules",
    "invoicing_invoices",
    "invoicing_patient_accounts",
    "invoicing_chargemaster_versions",
    "invoicing_chargemaster_rows",
    "invoicing_encounter_charges",
)
CHARGEMASTER_COLUMNS = (
    "tenant",
    "effective_from",
    "charge_code",
    "description",
    "revenue_code",
    "hcpcs",
    "amount_cents",
)
REGISTRATION_TABLES = ["invoicing_coverages", "invoicing_payers", "invoicing_patients"]
STAY_TABLES = ["invoicing_stays"]


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def by_payer(state: InvoiceState) -> list[dict[str, Any]]:
    """What each payer paid and adjusted off (reversals netted), in the order of their sequence: with
    the patient's payments and the balance, they add up to the charges to the cent."""
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for p in state.postings:
        if p.payer_id is None or p.kind not in ("insurance_payment", "denial", "reversal"):
            continue
        row = totals.setdefault(
            (p.sequence, p.payer_id),
            {"payer_id": p.payer_id, "sequence": p.sequence, "paid_cents": 0, "adjustment_cents": 0},
        )
        row["paid_cents"] += p.insurance_paid_cents
        row["adjustment_cents"] += p.adjustment_cents
    order = {"primary": 0, "secondary": 1, "tertiary": 2}
    return [totals[key] for key in sorted(totals, key=lambda k: (order.get(k[0], 9), k[1]))]


def invoice_document(state: InvoiceState) -> dict[str, Any]:
    """The invoice as the API shows it: its amounts, its lines and its ledger with a running balance."""
    reversed_by = {p.reverses: p.posting_id for p in state.postings if p.reverses}
    running = 0
    postings: list[dict[str, Any]] = []
    for p in state.postings:
        running += p.balance_effect_cents
        postings.append(
            {
                "posting_id": p.posting_id,
                "kind": p.kind,
                "posted_on": _day(p.posted_on),
                "charge_cents": p.charge_cents,
                "paid_cents": p.paid_cents,
                "adjustment_cents": p.adjustment_cents,
                "contractual_adjustment_cents": p.contractual_adjustment_cents,
                "other_adjustment_cents": p.other_adjustment_cents,
                "patient_responsibility_cents": p.patient_responsibility_cents,
                "balance_after_cents": running,
                "claim_id": p.claim_id,
                "payer_id": p.payer_id,
                "method": p.method,
                "reverses": p.reverses,
                "write_off_reason": p.write_off_reason,
                "write_off_party": p.write_off_party,
                "reversed_by": reversed_by.get(p.posting_id),
                "denial_reasons": list(p.denial_reasons),
                "lines": [line.model_dump(mode="json") for line in p.lines],
                "sequence": p.sequence if p.payer_id else None,
                "awaiting_next_payer": p.awaiting_next_payer,
                "preventive_cost_sharing_cents": p.preventive_cost_sharing_cents,
            }
        )
    lines = state.lines if state.lifecycle != "held" else state.coded_lines
    return {
        "invoice_id": state.invoice_id,
        "encounter_id": state.encounter_id,
        "patient_id": state.patient_id,
        "coding_version": state.coding_version,
        "status": state.status,
        "service_date": _day(state.service_date),
        "billing_provider_id": state.billing_provider_id,
        "rendering_provider_id": state.rendering_provider_id,
        "place_of_service": state.place_of_service,
        "diagnoses": list(state.diagnoses),
        "responsibility": state.responsibility,
        "coverage_id": state.coverage_id,
        "payer_id": state.payer_id,
        "fee_schedule": state.fee_schedule,
        "kind": "professional" if state.institutional is None else "institutional",
        "institutional": None if state.institutional is None else state.institutional.model_dump(mode="json"),
        "lines": [line.model_dump(mode="json") for line in lines],
        "pricing_errors": [error.model_dump(mode="json") for error in state.pricing_errors],
        "denial_reasons": list(state.denial_reasons),
        "total_charge_cents": state.total_charge_cents,
        "paid_cents": state.paid_cents,
        "insurance_paid_cents": state.insurance_paid_cents,
        "patient_paid_cents": state.patient_paid_cents,
        "adjustment_cents": state.adjustment_cents,
        "contractual_adjustment_cents": state.contractual_adjustment_cents,
        "other_adjustment_cents": state.other_adjustment_cents,
        "patient_responsibility_cents": state.patient_responsibility_cents,
        "insurance_balance_cents": state.insurance_balance_cents,
        "awaiting_next_payer": state.awaiting_next_payer,
        "by_payer": by_payer(state),
        "written_off_cents": sum(p.other_adjustment_cents for p in state.postings if p.kind == "write_off"),
        "patient_written_off_cents": state.patient_written_off_cents,
        "write_offs": [
            {
                "write_off_id": p.posting_id,
                "reason": p.write_off_reason,
                "party": p.write_off_party,
                "amount_cents": p.other_adjustment_cents,
                "written_off_on": _day(p.posted_on),
            }
            for p in state.postings
            if p.kind == "write_off"
        ],
        "balance_cents": state.balance_cents,
        "preventive_line_numbers": list(state.preventive_line_numbers),
        "in_network": state.in_network,
        "preventive_cost_sharing_cents": state.preventive_cost_sharing_cents,
        "settled_on": _day(state.settled_on) if state.status == "settled" else None,
        "void_reason": state.void_reason,
        "superseded_by_coding_version": state.superseded_by_coding_version,
        "postings": postings,
    }


def account_document(state: PatientAccountState) -> dict[str, Any]:
    return {
        "credit_cents": state.credit_cents,
        "received_cents": state.received_cents,
        "refunded_cents": state.refunded_cents,
        "cycle_started_on": _day(state.cycle_started_on),
        "cycle": state.cycle if state.cycle_started_on else None,
        "first_statements": [
            {"invoice_id": invoice_id, "statement_date": on.isoformat()}
            for invoice_id, on in state.first_statements
        ],
        "credit_moves": [
            {
                "credit_id": m.credit_id,
                "invoice_id": m.invoice_id,
                "amount_cents": m.amount_cents,
                "on": m.on.isoformat(),
            }
            for m in state.credit_moves
        ],
        "refunds": [
            {
                "refund_id": r.refund_id,
                "amount_cents": r.amount_cents,
                "method": r.method,
                "reason": r.reason,
                "issued_on": r.issued_on.isoformat(),
            }
            for r in state.refunds
        ],
        "payment_plans": [
            {
                "plan_id": plan.plan_id,
                "monthly_amount_cents": plan.monthly_amount_cents,
                "first_due_on": plan.first_due_on.isoformat(),
                "total_cents": plan.total_cents,
                "created_on": plan.created_on.isoformat(),
                "completed_on": _day(plan.completed_on),
                "installments": [i.model_dump(mode="json") for i in plan.installments],
            }
            for plan in state.plans
        ],
        "statements": [
            {
                "statement_id": s.statement_id,
                "statement_date": s.statement_date.isoformat(),
                "due_date": s.due_date.isoformat(),
                "amount_due_cents": s.amount_due_cents,
                "invoice_ids": list(s.invoice_ids),
                "cycle": s.cycle,
            }
            for s in state.statements
        ],
        "payments": [
            {
                "payment_id": p.payment_id,
                "invoice_id": p.invoice_id,
                "amount_cents": p.amount_cents,
                "applied_cents": p.applied_cents,
                "credit_cents": p.credit_cents,
                "method": p.method,
                "received_on": p.received_on.isoformat(),
            }
            for p in state.payments
        ],
    }


class PostgresViews:
    """The application's Views on one connection (inside the caller's transaction)."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def price_list_on(self, tenant: str, service_date: date) -> PriceList | None:
        # The version in effect is found by its key alone; its rows (tens of thousands for a hospital)
        # are read and parsed once per stored version, not once per invoice.
        key = await self.connection.fetchrow(
            "SELECT fee_schedule_id, effective_from, position, imported_at FROM invoicing_fee_schedules "
            "WHERE tenant = $1 AND effective_from <= $2 ORDER BY effective_from DESC, position DESC LIMIT 1",
            tenant,
            service_date,
        )
        if key is None:
            return None
        cache_key = (
            tenant,
            key["fee_schedule_id"],
            key["effective_from"],
            key["position"],
            key["imported_at"],
        )
        cached = _PRICE_LISTS.get(cache_key)
        if cached is not None:
            return cached
        row = await self.connection.fetchrow(
            "SELECT name, effective_from, rows FROM invoicing_fee_schedules "
            "WHERE tenant = $1 AND fee_schedule_id = $2 AND effective_from = $3",
            tenant,
            key["fee_schedule_id"],
            key["effective_from"],
        )
        if row is None:
            return None
        rows = [FeeScheduleRow.model_validate(r) for r in row["rows"]]
        price_list = PriceList.of(row["name"], row["effective_from"], rows)
        if len(_PRICE_LISTS) >= _PRICE_LIST_CACHE_SIZE:
            _PRICE_LISTS.pop(next(iter(_PRICE_LISTS)))
        _PRICE_LISTS[cache_key] = price_list
        return price_list

    async def primary_coverage_on(
        self, tenant: str, patient_id: str, service_date: date
    ) -> PrimaryCoverage | None:
        row = await self.connection.fetchrow(
            f"SELECT coverage_id, payer_id, {IN_NETWORK_SQL} AS modifier_33 FROM invoicing_coverages c "
            "WHERE tenant = $1 AND patient_id = $2 AND priority = 'primary' AND effective_from <= $3 "
            "AND (effective_to IS NULL OR effective_to >= $3) "
            "ORDER BY effective_from DESC, coverage_id LIMIT 1",
            tenant,
            patient_id,
            service_date,
        )
        if row is None:
            return None
        # A payer contract in effect on the date of service makes the payer in network for it.
        in_network = row["modifier_33"] is not None
        return PrimaryCoverage(row["coverage_id"], row["payer_id"], in_network, bool(row["modifier_33"]))

    async def invoices_of_encounter(self, tenant: str, encounter_id: str) -> list[EncounterInvoice]:
        rows = await self.connection.fetch(
            "SELECT invoice_id, coding_version, status FROM invoicing_invoices "
            "WHERE tenant = $1 AND encounter_id = $2 ORDER BY coding_version",
            tenant,
            encounter_id,
        )
        return [EncounterInvoice(r["invoice_id"], r["coding_version"], r["status"]) for r in rows]

    async def held_invoice_ids(self, tenant: str) -> list[str]:
        rows = await self.connection.fetch(
            "SELECT invoice_id FROM invoicing_invoices WHERE tenant = $1 AND status = 'held' "
            "ORDER BY first_position",
            tenant,
        )
        return [r["invoice_id"] for r in rows]

    async def self_pay_invoice_ids(self, tenant: str, patient_id: str) -> list[str]:
        rows = await self.connection.fetch(
            "SELECT invoice_id FROM invoicing_invoices WHERE tenant = $1 AND patient_id = $2 "
            "AND responsibility = 'self_pay' AND status <> 'voided' ORDER BY first_position",
            tenant,
            patient_id,
        )
        return [r["invoice_id"] for r in rows]

    async def open_items(self, tenant: str, patient_id: str) -> list[OpenItem]:
        rows = await self.connection.fetch(
            "SELECT invoice_id, patient_responsibility_cents, service_date FROM invoicing_invoices "
            "WHERE tenant = $1 AND patient_id = $2 AND patient_responsibility_cents > 0 "
            "ORDER BY first_position",
            tenant,
            patient_id,
        )
        return [OpenItem(r["invoice_id"], r["patient_responsibility_cents"], r["service_date"]) for r in rows]

    async def credit_candidates(self, tenant: str, patient_id: str) -> CreditCandidates:
        # One round trip: the policy runs after every adjudication, and usually finds nothing to do.
        row = await self.connection.fetchrow(
            "SELECT (SELECT credit_cents FROM invoicing_patient_accounts WHERE tenant = $1 "
            "AND patient_id = $2) AS credit_cents, ARRAY(SELECT invoice_id FROM invoicing_invoices "
            "WHERE tenant = $1 AND patient_id = $2 AND (balance_cents < 0 OR status = 'voided') "
            "AND (document->>'patient_paid_cents')::bigint > 0 ORDER BY first_position) AS releasable",
            tenant,
            patient_id,
        )
        assert row is not None
        return CreditCandidates(int(row["credit_cents"] or 0), tuple(row["releasable"]))

    async def save_invoice(
        self, tenant: str, state: InvoiceState, first_position: int, last_position: int
    ) -> None:
        await self.connection.execute(
            """
            INSERT INTO invoicing_invoices (tenant, invoice_id, first_position, last_position, encounter_id,
                patient_id, coding_version, service_date, status, responsibility, payer_id,
                total_charge_cents, paid_cents, adjustment_cents, patient_responsibility_cents,
                balance_cents, document)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
            ON CONFLICT (tenant, invoice_id) DO UPDATE SET
                last_position = excluded.last_position, status = excluded.status,
                responsibility = excluded.responsibility, payer_id = excluded.payer_id,
                total_charge_cents = excluded.total_charge_cents, paid_cents = excluded.paid_cents,
                adjustment_cents = excluded.adjustment_cents,
                patient_responsibility_cents = excluded.patient_responsibility_cents,
                balance_cents = excluded.balance_cents, document = excluded.document
            """,
            tenant,
            state.invoice_id,
            first_position,
            last_position,
            state.encounter_id,
            state.patient_id,
            state.coding_version,
            state.service_date,
            state.status,
            state.responsibility,
            state.payer_id,
            state.total_charge_cents,
            state.paid_cents,
            state.adjustment_cents,
            state.patient_responsibility_cents,
            state.balance_cents,
            invoice_document(state),
        )

    async def save_account(self, tenant: str, state: PatientAccountState, last_position: int) -> None:
        assert state.patient_id is not None
        await self.connection.execute(
            "INSERT INTO invoicing_patient_accounts "
            "(tenant, patient_id, credit_cents, last_position, document) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, patient_id) DO UPDATE SET "
            "credit_cents = excluded.credit_cents, last_position = excluded.last_position, "
            "document = excluded.document",
            tenant,
            state.patient_id,
            state.credit_cents,
            last_position,
            account_document(state),
        )

    async def save_chargemaster_version(
        self,
        tenant: str,
        effective_from: date,
        rows: tuple[ChargemasterRow, ...],
        position: int,
        imported_at: datetime,
    ) -> None:
        # COPY: 60,000 rows in one round trip, where INSERTs would take one each.
        await self.connection.execute(
            "DELETE FROM invoicing_chargemaster_rows WHERE tenant = $1 AND effective_from = $2",
            tenant,
            effective_from,
        )
        await self.connection.copy_records_to_table(
            "invoicing_chargemaster_rows",
            records=[
                (
                    tenant,
                    effective_from,
                    r.charge_code,
                    r.description,
                    r.revenue_code,
                    r.hcpcs,
                    r.amount_cents,
                )
                for r in rows
            ],
            columns=CHARGEMASTER_COLUMNS,
        )
        await self.connection.execute(
            "INSERT INTO invoicing_chargemaster_versions VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (tenant, effective_from) DO UPDATE SET row_count = excluded.row_count, "
            "position = excluded.position, imported_at = excluded.imported_at",
            tenant,
            effective_from,
            len(rows),
            position,
            imported_at,
        )

    async def charge_prices(
        self, tenant: str, wanted: set[tuple[str, date]]
    ) -> dict[tuple[str, date], ChargePrice]:
        """Each (charge code, day) priced from the version in effect that day, when it has the code."""
        if not wanted:
            return {}
        codes, days = zip(*sorted(wanted), strict=True)
        records = await self.connection.fetch(
            "SELECT q.code, q.day, r.revenue_code, r.hcpcs, r.amount_cents, r.effective_from "
            "FROM unnest($2::text[], $3::date[]) AS q(code, day) "
            "JOIN LATERAL (SELECT v.effective_from FROM invoicing_chargemaster_versions v "
            "  WHERE v.tenant = $1 AND v.effective_from <= q.day "
            "  ORDER BY v.effective_from DESC LIMIT 1) v ON true "
            "JOIN invoicing_chargemaster_rows r ON r.tenant = $1 "
            "  AND r.effective_from = v.effective_from AND r.charge_code = q.code",
            tenant,
            list(codes),
            list(days),
        )
        return {
            (record["code"], record["day"]): ChargePrice(
                record["code"],
                record["revenue_code"],
                record["hcpcs"],
                record["amount_cents"],
                record["effective_from"],
            )
            for record in records
        }

    async def save_charges(self, tenant: str, captured: ChargesCaptured, position: int) -> None:
        await self.connection.executemany(
            "INSERT INTO invoicing_encounter_charges VALUES "
            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING",
            [
                (
                    tenant,
                    captured.encounter_id,
                    line.line_number,
                    captured.capture_id,
                    line.charge_code,
                    line.revenue_code,
                    line.hcpcs,
                    line.units,
                    line.unit_price_cents,
                    line.charge_cents,
                    line.service_date,
                    captured.late,
                    position,
                )
                for line in captured.lines
            ],
        )

    async def charges_of(self, tenant: str, encounter_id: str) -> list[tuple[CapturedCharge, bool]]:
        records = await self.connection.fetch(
            "SELECT * FROM invoicing_encounter_charges WHERE tenant = $1 AND encounter_id = $2 "
            "ORDER BY line_number",
            tenant,
            encounter_id,
        )
        return [
            (
                CapturedCharge(
                    line_number=r["line_number"],
                    charge_code=r["charge_code"],
                    revenue_code=r["revenue_code"],
                    hcpcs=r["hcpcs"],
                    units=r["units"],
                    unit_price_cents=r["unit_price_cents"],
                    charge_cents=r["charge_cents"],
                    service_date=r["service_date"],
                    chargemaster_effective_from=r["service_date"],
                ),
                r["late"],
            )
            for r in records
        ]

    async def stay(self, tenant: str, encounter_id: str) -> Stay | None:
        record = await self.connection.fetchrow(
            "SELECT opened, discharged, coding FROM invoicing_stays WHERE tenant = $1 AND encounter_id = $2",
            tenant,
            encounter_id,
        )
        if record is None or record["opened"] is None:
            return None
        return Stay(
            AdmissionOpened.model_validate(record["opened"]),
            AdmissionDischarged.model_validate(record["discharged"]) if record["discharged"] else None,
            InstitutionalEncounterCoded.model_validate(record["coding"]) if record["coding"] else None,
        )

    async def stays_to_bill(self, tenant: str | None) -> list[tuple[str, str]]:
        """(tenant, encounter) of discharged, coded stays without an institutional invoice yet."""
        records = await self.connection.fetch(
            "SELECT s.tenant, s.encounter_id FROM invoicing_stays s WHERE s.discharged IS NOT NULL "
            "AND s.coding IS NOT NULL AND ($1::text IS NULL OR s.tenant = $1) AND NOT EXISTS ("
            "SELECT 1 FROM invoicing_invoices i "
            "WHERE i.tenant = s.tenant AND i.encounter_id = s.encounter_id)",
            tenant,
        )
        return [(r["tenant"], r["encounter_id"]) for r in records]

    async def save_fee_schedule_version(
        self, tenant: str, version: FeeScheduleVersion, position: int, imported_at: datetime
    ) -> None:
        await self.connection.execute(
            "INSERT INTO invoicing_fee_schedules (tenant, fee_schedule_id, name, effective_from, rows, "
            "row_count, position, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (tenant, fee_schedule_id, effective_from) DO UPDATE SET rows = excluded.rows, "
            "row_count = excluded.row_count, position = excluded.position, "
            "imported_at = excluded.imported_at",
            tenant,
            version.fee_schedule_id,
            version.name,
            version.effective_from,
            [row.model_dump(mode="json") for row in version.rows],
            len(version.rows),
            position,
            imported_at,
        )


# Institutional encounters, from registration's and coding's events.


async def save_admission(connection: asyncpg.Connection, tenant: str, event: AdmissionOpened) -> None:
    await connection.execute(
        "INSERT INTO invoicing_stays (tenant, encounter_id, opened) VALUES ($1, $2, $3) "
        "ON CONFLICT (tenant, encounter_id) DO UPDATE SET opened = excluded.opened",
        tenant,
        event.encounter_id,
        event.model_dump(mode="json"),
    )


async def save_discharge(connection: asyncpg.Connection, tenant: str, event: AdmissionDischarged) -> None:
    # Registration's and coding's topics are read in no set order: each part of a stay is kept as it
    # comes, and the stay is billed when the last one arrives.
    await connection.execute(
        "INSERT INTO invoicing_stays (tenant, encounter_id, discharged) VALUES ($1, $2, $3) "
        "ON CONFLICT (tenant, encounter_id) DO UPDATE SET discharged = excluded.discharged",
        tenant,
        event.encounter_id,
        event.model_dump(mode="json"),
    )


async def save_institutional_coding(
    connection: asyncpg.Connection, tenant: str, event: InstitutionalEncounterCoded
) -> None:
    """The latest coding version wins, whatever order the versions arrive in."""
    await connection.execute(
        "INSERT INTO invoicing_stays (tenant, encounter_id, coding, coding_version) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (tenant, encounter_id) DO UPDATE SET coding = excluded.coding, "
        "coding_version = excluded.coding_version "
        "WHERE invoicing_stays.coding_version IS NULL "
        "OR invoicing_stays.coding_version < excluded.coding_version",
        tenant,
        event.encounter_id,
        event.model_dump(mode="json"),
        event.coding_version,
    )


# Registration's data, as far as invoicing needs it (no patient identifiers: those stay sealed).


async def save_coverage(connection: asyncpg.Connection, tenant: str, event: CoverageAdded) -> None:
    await connection.execute(
        "INSERT INTO invoicing_coverages VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (tenant, coverage_id) DO UPDATE SET patient_id = excluded.patient_id, "
        "payer_id = excluded.payer_id, priority = excluded.priority, "
        "effective_from = excluded.effective_from, effective_to = excluded.effective_to",
        tenant,
        event.coverage_id,
        event.patient_id,
        event.payer_id,
        event.priority,
        event.effective_from,
        event.effective_to,
    )


async def end_coverage(connection: asyncpg.Connection, tenant: str, event: CoverageTerminated) -> None:
    await connection.execute(
        "UPDATE invoicing_coverages SET effective_to = $3 WHERE tenant = $1 AND coverage_id = $2",
        tenant,
        event.coverage_id,
        event.effective_to,
    )


async def save_payer(connection: asyncpg.Connection, tenant: str, event: PayerRegistered) -> None:
    await connection.execute(
        "INSERT INTO invoicing_payers VALUES ($1, $2, $3, $4) ON CONFLICT (tenant, payer_id) DO UPDATE SET "
        "name = excluded.name, edi_payer_id = excluded.edi_payer_id",
        tenant,
        event.payer_id,
        event.name,
        event.edi_payer_id,
    )


def _sealed(value: Sealed | None) -> dict[str, Any] | None:
    return value.model_dump(mode="json") if value is not None else None


async def save_patient(
    connection: asyncpg.Connection, tenant: str, event: PatientRegistered | PatientDemographicsUpdated
) -> None:
    """The sealed name and address as registration published them; an update carries only what
    changed, so a field it leaves out keeps its value."""
    await connection.execute(
        "INSERT INTO invoicing_patients (tenant, patient_id, name, address) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (tenant, patient_id) DO UPDATE SET "
        "name = coalesce(excluded.name, invoicing_patients.name), "
        "address = coalesce(excluded.address, invoicing_patients.address)",
        tenant,
        event.patient_id,
        _sealed(event.name),
        _sealed(event.address),
    )


async def forget_patient(connection: asyncpg.Connection, tenant: str, patient_id: str) -> None:
    """Crypto-shredded already; the unreadable copy goes too."""
    await connection.execute(
        "DELETE FROM invoicing_patients WHERE tenant = $1 AND patient_id = $2", tenant, patient_id
    )


# Parsed price lists keyed by the stored version's identity and the moment it was written: a re-import
# writes a new position and time, so a cached version is never stale (nor mistaken for another
# database's version with the same ids, as in tests that run several databases in one process).
_PRICE_LIST_CACHE_SIZE = 32
_PRICE_LISTS: dict[tuple[str, str, date, int, datetime], PriceList] = {}


# Rebuilding the own read models from the event table.


async def rebuild(store: EventStore, batch: int = 1000) -> int:
    """Empty the tables of invoicing's own aggregates and refill them from its event log, in one
    transaction so that readers see either the old or the new tables. Returns the events read."""
    invoices: dict[str, tuple[str, InvoiceState, int, int]] = {}
    accounts: dict[str, tuple[str, PatientAccountState, int]] = {}
    imports: list[tuple[str, FeeScheduleVersion, int, datetime]] = []
    schedules: dict[str, fee_schedule.FeeScheduleState] = {}
    staged_charges: dict[str, list[ChargemasterRow]] = {}
    chargemasters: list[tuple[str, ChargemasterImported, tuple[ChargemasterRow, ...], int, datetime]] = []
    captures: list[tuple[str, ChargesCaptured, int]] = []
    after, count = 0, 0
    while True:
        envelopes = await store.read_all(after, batch)
        if not envelopes:
            break
        for envelope in envelopes:
            position = envelope.position or 0
            after, count = position, count + 1
            event = envelope.event()
            if event.aggregate == "fee-schedule":
                schedule = fee_schedule.evolve(
                    schedules.get(envelope.stream_id, fee_schedule.DECIDER.initial), event
                )
                schedules[envelope.stream_id] = schedule
                if isinstance(event, FeeScheduleImported):
                    version = FeeScheduleVersion(
                        event.fee_schedule_id,
                        event.name,
                        event.effective_from,
                        schedule.versions[event.effective_from],
                    )
                    imports.append((envelope.tenant, version, position, envelope.occurred_at))
            elif isinstance(event, ChargemasterRowsStaged):
                staged = [] if event.part == 1 else staged_charges.get(envelope.stream_id, [])
                staged_charges[envelope.stream_id] = [*staged, *event.rows]
            elif isinstance(event, ChargemasterImported):
                rows = tuple(staged_charges.pop(envelope.stream_id, [])) if event.parts else event.rows
                chargemasters.append((envelope.tenant, event, rows, position, envelope.occurred_at))
            elif isinstance(event, ChargesCaptured):
                captures.append((envelope.tenant, event, position))
            elif event.aggregate == "invoice":
                _, state, first, _ = invoices.get(
                    envelope.stream_id, (envelope.tenant, invoice.DECIDER.initial, position, position)
                )
                invoices[envelope.stream_id] = (
                    envelope.tenant,
                    invoice.evolve(state, event),
                    first,
                    position,
                )
            elif event.aggregate == "patient-account":
                _, account, _ = accounts.get(
                    envelope.stream_id, (envelope.tenant, patient_account.DECIDER.initial, position)
                )
                accounts[envelope.stream_id] = (
                    envelope.tenant,
                    patient_account.evolve(account, event),
                    position,
                )
    async with store.session() as session:
        await session.connection.execute(f"TRUNCATE {', '.join(OWN_TABLES)}")
        views = PostgresViews(session.connection)
        for tenant, imported, position, at in imports:
            await views.save_fee_schedule_version(tenant, imported, position, at)
        for tenant, cdm, rows, position, at in chargemasters:
            await views.save_chargemaster_version(tenant, cdm.effective_from, rows, position, at)
        for tenant, captured, position in captures:
            await views.save_charges(tenant, captured, position)
        for tenant, state, first, last in invoices.values():
            await views.save_invoice(tenant, state, first, last)
        for tenant, account, last in accounts.values():
            await views.save_account(tenant, account, last)
    return count


def postgres_unit(session: Session) -> Unit:
    """The unit of work of one PostgreSQL transaction: the log and the read models on its connection."""
    return UnitOfWork(session, PostgresViews(session.connection))
