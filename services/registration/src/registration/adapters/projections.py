"""Registration's own read models in PostgreSQL: the views its commands check and its GETs answer.

They are written in the command's own transaction (so cross-aggregate rules such as "one MRN per
tenant" read what every committed command wrote) and can be rebuilt from the event log. Patient
identifiers are stored only as the sealed values of the events, and the MRN only as a blind index.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from billing_events.contracts.registration import (
    CoverageAdded,
    CoverageTerminated,
    EncounterOpened,
    PatientDemographicsUpdated,
    PatientForgotten,
    PatientRegistered,
    PayerRegistered,
    ProviderEnrolled,
)
from billing_events.envelope import EventEnvelope
from billing_events.store import EventStore
from registration.adapters.eligibility import ELIGIBILITY_SQL, ELIGIBILITY_TABLES, apply_eligibility

PROJECTIONS_SQL = (
    """
CREATE TABLE IF NOT EXISTS reg_payers (
    payer_id text PRIMARY KEY,
    seq bigserial UNIQUE,
    tenant text NOT NULL,
    name text NOT NULL,
    edi_payer_id text NOT NULL,
    claim_filing_indicator text NOT NULL,
    address jsonb,
    timely_filing_days integer NOT NULL,
    registered_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS reg_payers_by_tenant ON reg_payers (tenant, seq);

CREATE TABLE IF NOT EXISTS reg_providers (
    provider_id text PRIMARY KEY,
    seq bigserial UNIQUE,
    tenant text NOT NULL,
    npi text NOT NULL,
    role text NOT NULL,
    organization_name text,
    given_name text,
    family_name text,
    taxonomy_code text NOT NULL,
    tax_id text,
    address jsonb NOT NULL,
    enrolled_at timestamptz NOT NULL,
    UNIQUE (tenant, npi, role)
);
CREATE INDEX IF NOT EXISTS reg_providers_by_tenant ON reg_providers (tenant, seq);

-- Only sealed values (jsonb of billing_events Sealed) and the MRN's blind index: no plaintext PHI.
CREATE TABLE IF NOT EXISTS reg_patients (
    patient_id text PRIMARY KEY,
    seq bigserial UNIQUE,
    tenant text NOT NULL,
    mrn_index text NOT NULL,
    mrn jsonb NOT NULL,
    name jsonb NOT NULL,
    birth_date jsonb NOT NULL,
    sex text NOT NULL,
    address jsonb NOT NULL,
    phone jsonb,
    version integer NOT NULL,
    registered_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (tenant, mrn_index)
);
CREATE INDEX IF NOT EXISTS reg_patients_by_tenant ON reg_patients (tenant, seq);

CREATE TABLE IF NOT EXISTS reg_coverages (
    coverage_id text PRIMARY KEY,
    seq bigserial UNIQUE,
    tenant text NOT NULL,
    patient_id text NOT NULL,
    payer_id text NOT NULL,
    member_id jsonb NOT NULL,
    group_number text,
    priority text NOT NULL,
    relationship_to_subscriber text NOT NULL,
    subscriber jsonb,
    effective_from date NOT NULL,
    effective_to date,
    terminated_at timestamptz,
    added_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS reg_coverages_by_patient ON reg_coverages (tenant, patient_id, priority);

CREATE TABLE IF NOT EXISTS reg_encounters (
    encounter_id text PRIMARY KEY,
    seq bigserial UNIQUE,
    tenant text NOT NULL,
    patient_id text NOT NULL,
    billing_provider_id text NOT NULL,
    rendering_provider_id text NOT NULL,
    service_date date NOT NULL,
    place_of_service text NOT NULL,
    patient_sex text NOT NULL,
    patient_age_years integer NOT NULL,
    opened_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS reg_encounters_by_patient ON reg_encounters (tenant, patient_id, seq);
CREATE INDEX IF NOT EXISTS reg_encounters_by_tenant ON reg_encounters (tenant, seq);

-- Who read which patient's record, when, and through which door. Not rebuilt: it is not derived
-- from events, and it holds no patient data but the platform's own patient id.
CREATE TABLE IF NOT EXISTS reg_patient_reads (
    seq bigserial PRIMARY KEY,
    tenant text NOT NULL,
    patient_id text NOT NULL,
    actor text NOT NULL,
    roles text[] NOT NULL,
    access text NOT NULL,
    correlation_id text,
    read_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS reg_patient_reads_by_tenant ON reg_patient_reads (tenant, seq);
CREATE INDEX IF NOT EXISTS reg_patient_reads_by_patient ON reg_patient_reads (tenant, patient_id, seq);
"""
    + ELIGIBILITY_SQL
)

# Derived from the event log; `rebuild` empties and refills them.
PROJECTION_TABLES = (
    "reg_payers",
    "reg_providers",
    "reg_patients",
    "reg_coverages",
    "reg_encounters",
    *ELIGIBILITY_TABLES,
)


def _sealed(value: Any) -> dict[str, Any] | None:
    return None if value is None else dict(value.model_dump())


async def apply(connection: asyncpg.Connection, envelope: EventEnvelope) -> None:
    """Bring the views up to date with one stored event of this service's log."""
    event = envelope.event()
    tenant, at = envelope.tenant, envelope.occurred_at
    if isinstance(event, PayerRegistered):
        await connection.execute(
            "INSERT INTO reg_payers (payer_id, tenant, name, edi_payer_id, claim_filing_indicator, address, "
            "timely_filing_days, registered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            event.payer_id,
            tenant,
            event.name,
            event.edi_payer_id,
            event.claim_filing_indicator,
            event.address.model_dump() if event.address else None,
            event.timely_filing_days,
            at,
        )
    elif isinstance(event, ProviderEnrolled):
        await connection.execute(
            "INSERT INTO reg_providers (provider_id, tenant, npi, role, organization_name, given_name, "
            "family_name, taxonomy_code, tax_id, address, enrolled_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            event.provider_id,
            tenant,
            event.npi,
            event.role,
            event.organization_name,
            event.given_name,
            event.family_name,
            event.taxonomy_code,
            event.tax_id,
            event.address.model_dump(),
            at,
        )
    elif isinstance(event, PatientRegistered):
        await connection.execute(
            "INSERT INTO reg_patients (patient_id, tenant, mrn_index, mrn, name, birth_date, sex, address, "
            "phone, version, registered_at, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
            event.patient_id,
            tenant,
            event.mrn_index,
            _sealed(event.mrn),
            _sealed(event.name),
            _sealed(event.birth_date),
            event.sex,
            _sealed(event.address),
            _sealed(event.phone),
            envelope.stream_version or 1,
            at,
        )
    elif isinstance(event, PatientDemographicsUpdated):
        await connection.execute(
            "UPDATE reg_patients SET name = coalesce($3, name), birth_date = coalesce($4, birth_date), "
            "sex = coalesce($5, sex), address = coalesce($6, address), phone = coalesce($7, phone), "
            "version = $8, updated_at = $9 WHERE tenant = $1 AND patient_id = $2",
            tenant,
            event.patient_id,
            _sealed(event.name),
            _sealed(event.birth_date),
            event.sex,
            _sealed(event.address),
            _sealed(event.phone),
            envelope.stream_version,
            at,
        )
    elif isinstance(event, PatientForgotten):
        # The sealed values stay (unreadable without the destroyed key); the MRN's blind index goes,
        # so the patient can no longer be found by MRN, nor block that MRN for a new registration.
        await connection.execute(
            "UPDATE reg_patients SET mrn_index = 'forgotten:' || patient_id, version = $3, updated_at = $4 "
            "WHERE tenant = $1 AND patient_id = $2",
            tenant,
            event.patient_id,
            envelope.stream_version,
            at,
        )
    elif isinstance(event, CoverageAdded):
        await connection.execute(
            "INSERT INTO reg_coverages (coverage_id, tenant, patient_id, payer_id, member_id, group_number, "
            "priority, relationship_to_subscriber, subscriber, effective_from, effective_to, added_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            event.coverage_id,
            tenant,
            event.patient_id,
            event.payer_id,
            _sealed(event.member_id),
            event.group_number,
            event.priority,
            event.relationship_to_subscriber,
            _sealed(event.subscriber),
            event.effective_from,
            event.effective_to,
            at,
        )
    elif isinstance(event, CoverageTerminated):
        await connection.execute(
            "UPDATE reg_coverages SET effective_to = $3, terminated_at = $4 "
            "WHERE tenant = $1 AND coverage_id = $2",
            tenant,
            event.coverage_id,
            event.effective_to,
            at,
        )
    elif isinstance(event, EncounterOpened):
        await connection.execute(
            "INSERT INTO reg_encounters (encounter_id, tenant, patient_id, billing_provider_id, "
            "rendering_provider_id, service_date, place_of_service, patient_sex, patient_age_years, "
            "opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            event.encounter_id,
            tenant,
            event.patient_id,
            event.billing_provider_id,
            event.rendering_provider_id,
            event.service_date,
            event.place_of_service,
            event.patient_sex,
            event.patient_age_years,
            at,
        )
    else:
        await apply_eligibility(connection, envelope)


async def rebuild(
    store: EventStore, *, batch: int = 1000, progress: Callable[[int, int], None] | None = None
) -> int:
    """Empty the views and replay the whole event log into them, in one transaction."""
    total = await store.head()
    applied = 0
    async with store.session() as session:
        await session.connection.execute(f"TRUNCATE {', '.join(PROJECTION_TABLES)}")
        after = 0
        while envelopes := await store.read_all(after, batch):
            for envelope in envelopes:
                await apply(session.connection, envelope)
            after = envelopes[-1].position or after
            applied += len(envelopes)
            if progress is not None:
                progress(applied, max(total, applied))
    return applied
