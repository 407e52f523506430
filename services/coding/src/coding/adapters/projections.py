"""Coding's own tables: its projection of registration's encounters (and sex corrections), and each
tenant's imported CPT list. Every row carries its tenant; every query filters on it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from billing_events.contracts.registration import AdmissionDischarged, AdmissionOpened, EncounterOpened
from coding.domain.codesets import CptLicence
from coding.domain.institutional import AdmissionFacts
from coding.domain.values import EncounterFacts, Sex

PROJECTION_TABLES = ["coding_encounters", "coding_patient_sex", "coding_admissions"]

PROJECTIONS_SQL = """
CREATE TABLE IF NOT EXISTS coding_encounters (
    tenant text NOT NULL,
    encounter_id text NOT NULL,
    patient_id text NOT NULL,
    service_date date NOT NULL,
    patient_sex text NOT NULL,
    patient_age_years integer NOT NULL,
    billing_provider_id text NOT NULL,
    rendering_provider_id text NOT NULL,
    place_of_service text NOT NULL,
    opened_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, encounter_id)
);
CREATE INDEX IF NOT EXISTS coding_encounters_patient ON coding_encounters (tenant, patient_id);

-- Registration's institutional encounters (AdmissionOpened, then AdmissionDischarged). The times keep
-- the facility's offset as the events give it (ISO 8601 text).
CREATE TABLE IF NOT EXISTS coding_admissions (
    tenant text NOT NULL,
    encounter_id text NOT NULL,
    patient_id text NOT NULL,
    facility_id text NOT NULL,
    attending_provider_id text NOT NULL,
    setting text NOT NULL,
    admitted_at text NOT NULL,
    patient_sex text NOT NULL,
    patient_age_years integer NOT NULL,
    discharged_at text,
    discharge_status text,
    opened_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, encounter_id)
);

-- The newest sex a demographics correction gave a patient, and when. An encounter opened before
-- the correction takes the corrected sex; one opened after it already carries it.
CREATE TABLE IF NOT EXISTS coding_patient_sex (
    tenant text NOT NULL,
    patient_id text NOT NULL,
    sex text NOT NULL,
    as_of timestamptz NOT NULL,
    PRIMARY KEY (tenant, patient_id)
);

-- A tenant's licensed CPT codes (codes only; the platform stores no AMA descriptors).
CREATE TABLE IF NOT EXISTS coding_cpt_codes (
    tenant text NOT NULL,
    code text NOT NULL,
    PRIMARY KEY (tenant, code)
);
CREATE TABLE IF NOT EXISTS coding_cpt_imports (
    tenant text PRIMARY KEY,
    codes integer NOT NULL,
    imported_by text NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);
"""


async def record_encounter(
    connection: asyncpg.Connection, tenant: str, event: EncounterOpened, opened_at: datetime
) -> None:
    await connection.execute(
        "INSERT INTO coding_encounters (tenant, encounter_id, patient_id, service_date, patient_sex, "
        "patient_age_years, billing_provider_id, rendering_provider_id, place_of_service, opened_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        "ON CONFLICT (tenant, encounter_id) DO UPDATE SET patient_id = excluded.patient_id, "
        "service_date = excluded.service_date, patient_sex = excluded.patient_sex, "
        "patient_age_years = excluded.patient_age_years, billing_provider_id = excluded.billing_provider_id, "
        "rendering_provider_id = excluded.rendering_provider_id, "
        "place_of_service = excluded.place_of_service, opened_at = excluded.opened_at",
        tenant,
        event.encounter_id,
        event.patient_id,
        event.service_date,
        event.patient_sex,
        event.patient_age_years,
        event.billing_provider_id,
        event.rendering_provider_id,
        event.place_of_service,
        opened_at,
    )


async def record_sex_correction(
    connection: asyncpg.Connection, tenant: str, patient_id: str, sex: Sex, as_of: datetime
) -> None:
    await connection.execute(
        "INSERT INTO coding_patient_sex (tenant, patient_id, sex, as_of) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (tenant, patient_id) DO UPDATE SET sex = excluded.sex, as_of = excluded.as_of "
        "WHERE coding_patient_sex.as_of <= excluded.as_of",
        tenant,
        patient_id,
        sex,
        as_of,
    )


async def encounter_facts(
    connection: asyncpg.Connection, tenant: str, encounter_id: str
) -> EncounterFacts | None:
    row = await connection.fetchrow(
        "SELECT e.*, CASE WHEN p.as_of > e.opened_at THEN p.sex ELSE e.patient_sex END AS sex_now "
        "FROM coding_encounters e LEFT JOIN coding_patient_sex p "
        "ON p.tenant = e.tenant AND p.patient_id = e.patient_id "
        "WHERE e.tenant = $1 AND e.encounter_id = $2",
        tenant,
        encounter_id,
    )
    if row is None:
        return None
    return EncounterFacts(
        encounter_id=row["encounter_id"],
        patient_id=row["patient_id"],
        service_date=row["service_date"],
        patient_sex=row["sex_now"],
        patient_age_years=row["patient_age_years"],
        billing_provider_id=row["billing_provider_id"],
        rendering_provider_id=row["rendering_provider_id"],
        place_of_service=row["place_of_service"],
    )


async def cpt_licence(connection: asyncpg.Connection, tenant: str, codes: Sequence[str]) -> CptLicence:
    imported = await connection.fetchval("SELECT true FROM coding_cpt_imports WHERE tenant = $1", tenant)
    if not imported:
        return CptLicence()
    rows = await connection.fetch(
        "SELECT code FROM coding_cpt_codes WHERE tenant = $1 AND code = ANY($2::text[])", tenant, list(codes)
    )
    return CptLicence(imported=True, licensed=frozenset(r["code"] for r in rows))


async def replace_cpt_list(
    connection: asyncpg.Connection, tenant: str, codes: Sequence[str], actor: str
) -> int:
    await connection.execute("DELETE FROM coding_cpt_codes WHERE tenant = $1", tenant)
    await connection.execute(
        "INSERT INTO coding_cpt_codes (tenant, code) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
        tenant,
        sorted(set(codes)),
    )
    count = len(set(codes))
    await connection.execute(
        "INSERT INTO coding_cpt_imports (tenant, codes, imported_by, imported_at) VALUES ($1, $2, $3, now()) "
        "ON CONFLICT (tenant) DO UPDATE SET codes = excluded.codes, imported_by = excluded.imported_by, "
        "imported_at = excluded.imported_at",
        tenant,
        count,
        actor,
    )
    return count


async def cpt_list_status(connection: asyncpg.Connection, tenant: str) -> dict[str, Any] | None:
    row = await connection.fetchrow(
        "SELECT codes, imported_by, imported_at FROM coding_cpt_imports WHERE tenant = $1", tenant
    )
    if row is None:
        return None
    return {
        "codes": row["codes"],
        "imported_by": row["imported_by"],
        "imported_at": row["imported_at"].isoformat(),
    }


async def delete_cpt_list(connection: asyncpg.Connection, tenant: str) -> bool:
    await connection.execute("DELETE FROM coding_cpt_codes WHERE tenant = $1", tenant)
    deleted = await connection.fetchval(
        "DELETE FROM coding_cpt_imports WHERE tenant = $1 RETURNING true", tenant
    )
    return bool(deleted)


async def record_admission(
    connection: asyncpg.Connection, tenant: str, event: AdmissionOpened, opened_at: datetime
) -> None:
    # Idempotent: a replayed AdmissionOpened leaves a later discharge in place.
    await connection.execute(
        "INSERT INTO coding_admissions (tenant, encounter_id, patient_id, facility_id, "
        "attending_provider_id, setting, admitted_at, patient_sex, patient_age_years, opened_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (tenant, encounter_id) DO NOTHING",
        tenant,
        event.encounter_id,
        event.patient_id,
        event.facility_id,
        event.attending_provider_id,
        event.setting,
        event.admitted_at.isoformat(),
        event.patient_sex,
        event.patient_age_years,
        opened_at,
    )


async def record_discharge(connection: asyncpg.Connection, tenant: str, event: AdmissionDischarged) -> None:
    """Both events travel on the encounter's key, so the discharge always follows its admission."""
    await connection.execute(
        "UPDATE coding_admissions SET discharged_at = $3, discharge_status = $4 "
        "WHERE tenant = $1 AND encounter_id = $2",
        tenant,
        event.encounter_id,
        event.discharged_at.isoformat(),
        event.discharge_status,
    )


async def admission_facts(
    connection: asyncpg.Connection, tenant: str, encounter_id: str
) -> AdmissionFacts | None:
    row = await connection.fetchrow(
        "SELECT a.*, CASE WHEN p.as_of > a.opened_at THEN p.sex ELSE a.patient_sex END AS sex_now "
        "FROM coding_admissions a LEFT JOIN coding_patient_sex p "
        "ON p.tenant = a.tenant AND p.patient_id = a.patient_id "
        "WHERE a.tenant = $1 AND a.encounter_id = $2",
        tenant,
        encounter_id,
    )
    if row is None:
        return None
    return AdmissionFacts(
        encounter_id=row["encounter_id"],
        patient_id=row["patient_id"],
        facility_id=row["facility_id"],
        attending_provider_id=row["attending_provider_id"],
        setting=row["setting"],
        admitted_at=datetime.fromisoformat(row["admitted_at"]),
        patient_sex=row["sex_now"],
        patient_age_years=row["patient_age_years"],
        discharged_at=datetime.fromisoformat(row["discharged_at"]) if row["discharged_at"] else None,
        discharge_status=row["discharge_status"],
    )


class PostgresViews:
    """application.ports.Views on one transaction's connection."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def encounter_facts(self, tenant: str, encounter_id: str) -> EncounterFacts | None:
        return await encounter_facts(self.connection, tenant, encounter_id)

    async def cpt_licence(self, tenant: str, codes: Sequence[str]) -> CptLicence:
        return await cpt_licence(self.connection, tenant, codes)

    async def record_encounter(self, tenant: str, event: EncounterOpened, opened_at: datetime) -> None:
        await record_encounter(self.connection, tenant, event, opened_at)

    async def record_sex_correction(self, tenant: str, patient_id: str, sex: Sex, as_of: datetime) -> None:
        await record_sex_correction(self.connection, tenant, patient_id, sex, as_of)

    async def admission_facts(self, tenant: str, encounter_id: str) -> AdmissionFacts | None:
        return await admission_facts(self.connection, tenant, encounter_id)

    async def record_admission(self, tenant: str, event: AdmissionOpened, opened_at: datetime) -> None:
        await record_admission(self.connection, tenant, event, opened_at)

    async def record_discharge(self, tenant: str, event: AdmissionDischarged) -> None:
        await record_discharge(self.connection, tenant, event)
