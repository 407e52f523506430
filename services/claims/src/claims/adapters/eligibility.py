"""The eligibility inquiries waiting to be sent, and the parties a 270 is written from (this service's
copy of registration's reference data, with its Sealed values)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import asyncpg

from billing_events.contracts.registration import EligibilityCheckRequested
from billing_events.store import Session
from billing_events.unit_of_work import UnitOfWork
from claims.adapters.projections import PostgresBatches, PostgresReferenceData
from claims.application.eligibility import EligibilityUnit, EligibilityViews, InquiryParties, InquiryRow

# Not derived from this service's log: one row per check registration asked for (its topic is
# replayed with ON CONFLICT DO NOTHING), moved on by the sender in the transaction that appends
# EligibilityInquirySent or EligibilityInquiryFailed. The inquiry's stream decides; this table only
# tells the sender what is left to do. No patient data: ids and dates.
ELIGIBILITY_SQL = """
CREATE TABLE IF NOT EXISTS claims_eligibility_inquiries (
    check_id text PRIMARY KEY,
    seq bigserial,
    tenant text NOT NULL,
    coverage_id text NOT NULL,
    patient_id text NOT NULL,
    payer_id text NOT NULL,
    provider_id text,
    service_date date NOT NULL,
    status text NOT NULL DEFAULT 'waiting',
    file_name text,
    requested_at timestamptz NOT NULL,
    settled_at timestamptz
);
CREATE INDEX IF NOT EXISTS claims_eligibility_waiting ON claims_eligibility_inquiries (seq)
    WHERE status = 'waiting';
"""


def _row(record: asyncpg.Record) -> InquiryRow:
    return InquiryRow(
        check_id=record["check_id"],
        tenant=record["tenant"],
        coverage_id=record["coverage_id"],
        patient_id=record["patient_id"],
        payer_id=record["payer_id"],
        provider_id=record["provider_id"],
        service_date=record["service_date"],
        requested_at=record["requested_at"],
    )


class PostgresInquiries:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.db = connection
        self.reference = PostgresReferenceData(connection)

    async def queue(self, tenant: str, event: EligibilityCheckRequested, requested_at: datetime) -> None:
        await self.db.execute(
            "INSERT INTO claims_eligibility_inquiries (check_id, tenant, coverage_id, patient_id, payer_id, "
            "provider_id, service_date, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (check_id) DO NOTHING",
            event.check_id,
            tenant,
            event.coverage_id,
            event.patient_id,
            event.payer_id,
            event.provider_id,
            event.service_date,
            requested_at,
        )

    async def waiting(self, limit: int) -> list[InquiryRow]:
        rows = await self.db.fetch(
            "SELECT * FROM claims_eligibility_inquiries WHERE status = 'waiting' ORDER BY seq LIMIT $1 "
            "FOR UPDATE SKIP LOCKED",
            limit,
        )
        return [_row(row) for row in rows]

    async def parties(self, row: InquiryRow) -> InquiryParties | None:
        # The reference data's own readers (those the 837 is written from), one record each.
        reference = self.reference
        payer = await reference._payer(row.tenant, row.payer_id)
        coverage = await reference._coverage(row.tenant, row.coverage_id)
        patient = await reference._patient(row.tenant, row.patient_id)
        provider_id = row.provider_id
        if provider_id is None:
            provider_id = await self.db.fetchval(
                "SELECT provider_id FROM claims_providers WHERE tenant = $1 AND role = 'billing' "
                "ORDER BY npi, provider_id LIMIT 1",
                row.tenant,
            )
        receiver = None if provider_id is None else await reference._provider(row.tenant, provider_id)
        if payer is None or coverage is None or patient is None or receiver is None:
            return None
        return InquiryParties(payer, receiver, patient, coverage)

    async def settle(self, check_id: str, status: Literal["sent", "failed"], file_name: str | None) -> None:
        await self.db.execute(
            "UPDATE claims_eligibility_inquiries SET status = $2, file_name = $3, settled_at = now() "
            "WHERE check_id = $1",
            check_id,
            status,
            file_name,
        )


def eligibility_unit(session: Session) -> EligibilityUnit:
    connection = session.connection
    return UnitOfWork(session, EligibilityViews(PostgresInquiries(connection), PostgresBatches(connection)))
