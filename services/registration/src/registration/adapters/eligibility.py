"""The eligibility checks' view: each check with the payer's answer, from registration's own log
(EligibilityCheckRequested, EligibilityCheckAnswered). No patient data: ids, dates, codes, cents."""

from __future__ import annotations

import asyncpg

from billing_events.contracts.registration import EligibilityCheckAnswered, EligibilityCheckRequested
from billing_events.envelope import EventEnvelope

ELIGIBILITY_SQL = """
CREATE TABLE IF NOT EXISTS reg_eligibility_checks (
    check_id text PRIMARY KEY,
    seq bigserial UNIQUE,
    tenant text NOT NULL,
    coverage_id text NOT NULL,
    patient_id text NOT NULL,
    payer_id text NOT NULL,
    provider_id text,
    service_date date NOT NULL,
    status text NOT NULL,
    requested_at timestamptz NOT NULL,
    answered_at timestamptz,
    plan_begin_on date,
    plan_end_on date,
    deductible_remaining_cents bigint,
    copay_cents bigint,
    coinsurance_basis_points integer,
    out_of_pocket_remaining_cents bigint,
    reasons jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS reg_eligibility_checks_answered ON reg_eligibility_checks
    (tenant, coverage_id, answered_at DESC) WHERE answered_at IS NOT NULL;
"""

ELIGIBILITY_TABLES = ("reg_eligibility_checks",)


async def apply_eligibility(connection: asyncpg.Connection, envelope: EventEnvelope) -> None:
    event = envelope.event()
    if isinstance(event, EligibilityCheckRequested):
        await connection.execute(
            "INSERT INTO reg_eligibility_checks (check_id, tenant, coverage_id, patient_id, payer_id, "
            "provider_id, service_date, status, requested_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)",
            event.check_id,
            envelope.tenant,
            event.coverage_id,
            event.patient_id,
            event.payer_id,
            event.provider_id,
            event.service_date,
            envelope.occurred_at,
        )
    elif isinstance(event, EligibilityCheckAnswered):
        await connection.execute(
            "UPDATE reg_eligibility_checks SET status = $3, answered_at = $4, plan_begin_on = $5, "
            "plan_end_on = $6, deductible_remaining_cents = $7, copay_cents = $8, "
            "coinsurance_basis_points = $9, out_of_pocket_remaining_cents = $10, reasons = $11 "
            "WHERE tenant = $1 AND check_id = $2",
            envelope.tenant,
            event.check_id,
            event.status,
            envelope.occurred_at,
            event.plan_begin_on,
            event.plan_end_on,
            event.deductible_remaining_cents,
            event.copay_cents,
            event.coinsurance_basis_points,
            event.out_of_pocket_remaining_cents,
            [reason.model_dump() for reason in event.reasons],
        )
