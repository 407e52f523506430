"""Queries on registration's views and the patient-read audit, on one connection (the command's or
the read's transaction). Every query is scoped to a tenant."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from billing_events.envelope import EventEnvelope
from billing_service.pages import Keyset, Page, PageRequest
from registration.adapters import projections
from registration.application.ports import Row
from registration.domain.coverage import CoverageSpan

# Every list of registration is read in `seq` order; a cursor of one list is refused by the others.
PAYERS = Keyset("registration.payers")
PROVIDERS = Keyset("registration.providers")
PATIENTS = Keyset("registration.patients")
COVERAGES = Keyset("registration.coverages")
ENCOUNTERS = Keyset("registration.encounters")
PATIENT_READS = Keyset("registration.patient_reads")
FACILITIES = Keyset("registration.facilities")


async def _page(connection: asyncpg.Connection, sql: str, page: PageRequest, *args: Any) -> Page[Row]:
    """`sql` selects rows with `seq` after `$1`, ordered by seq, limited by `$2`; args follow."""
    records = await connection.fetch(sql, page.position, page.fetch, *args)
    return page.page([dict(r) for r in records], lambda row: (row["seq"],))


class PostgresViews:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def lock(self, *parts: str) -> None:
        """A transaction-scoped advisory lock on a name, so that check-then-append runs one at a time."""
        await self.connection.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "\x1f".join(("registration", *parts))
        )

    async def apply(self, envelope: EventEnvelope) -> None:
        await projections.apply(self.connection, envelope)

    async def _one(self, sql: str, *args: Any) -> Row | None:
        record = await self.connection.fetchrow(sql, *args)
        return None if record is None else dict(record)

    # payers and providers

    async def payer(self, tenant: str, payer_id: str) -> Row | None:
        return await self._one(
            "SELECT * FROM reg_payers WHERE tenant = $1 AND payer_id = $2", tenant, payer_id
        )

    async def payers(self, tenant: str, page: PageRequest) -> Page[Row]:
        return await _page(
            self.connection,
            "SELECT * FROM reg_payers WHERE seq > $1 AND tenant = $3 ORDER BY seq LIMIT $2",
            page,
            tenant,
        )

    async def provider(self, tenant: str, provider_id: str) -> Row | None:
        return await self._one(
            "SELECT * FROM reg_providers WHERE tenant = $1 AND provider_id = $2", tenant, provider_id
        )

    async def providers(
        self, tenant: str, page: PageRequest, *, role: str | None = None, npi: str | None = None
    ) -> Page[Row]:
        return await _page(
            self.connection,
            "SELECT * FROM reg_providers WHERE seq > $1 AND tenant = $3 "
            "AND ($4::text IS NULL OR role = $4) AND ($5::text IS NULL OR npi = $5) ORDER BY seq LIMIT $2",
            page,
            tenant,
            role,
            npi,
        )

    async def npi_enrolled_in_role(self, tenant: str, npi: str, role: str) -> bool:
        return bool(
            await self.connection.fetchval(
                "SELECT true FROM reg_providers WHERE tenant = $1 AND npi = $2 AND role = $3",
                tenant,
                npi,
                role,
            )
        )

    # patients

    async def patient(self, tenant: str, patient_id: str) -> Row | None:
        return await self._one(
            "SELECT * FROM reg_patients WHERE tenant = $1 AND patient_id = $2", tenant, patient_id
        )

    async def patient_by_mrn_index(self, tenant: str, mrn_index: str) -> Row | None:
        return await self._one(
            "SELECT * FROM reg_patients WHERE tenant = $1 AND mrn_index = $2", tenant, mrn_index
        )

    async def patients(self, tenant: str, page: PageRequest) -> Page[Row]:
        return await _page(
            self.connection,
            "SELECT * FROM reg_patients WHERE seq > $1 AND tenant = $3 ORDER BY seq LIMIT $2",
            page,
            tenant,
        )

    # coverages

    async def coverage(self, tenant: str, coverage_id: str) -> Row | None:
        return await self._one(
            "SELECT * FROM reg_coverages WHERE tenant = $1 AND coverage_id = $2", tenant, coverage_id
        )

    async def coverages_of(self, tenant: str, patient_id: str, page: PageRequest) -> Page[Row]:
        return await _page(
            self.connection,
            "SELECT * FROM reg_coverages WHERE seq > $1 AND tenant = $3 AND patient_id = $4 "
            "ORDER BY seq LIMIT $2",
            page,
            tenant,
            patient_id,
        )

    async def coverage_spans(self, tenant: str, patient_id: str, priority: str) -> tuple[CoverageSpan, ...]:
        records = await self.connection.fetch(
            "SELECT coverage_id, effective_from, effective_to FROM reg_coverages "
            "WHERE tenant = $1 AND patient_id = $2 AND priority = $3 ORDER BY seq",
            tenant,
            patient_id,
            priority,
        )
        return tuple(CoverageSpan(r["coverage_id"], r["effective_from"], r["effective_to"]) for r in records)

    # encounters

    async def encounter(self, tenant: str, encounter_id: str) -> Row | None:
        return await self._one(
            "SELECT * FROM reg_encounters WHERE tenant = $1 AND encounter_id = $2", tenant, encounter_id
        )

    async def last_service_date(self, tenant: str, patient_id: str) -> date | None:
        # A stay's last service date is its discharge (or its admission while it is open).
        value = await self.connection.fetchval(
            "SELECT max(d) FROM (SELECT service_date AS d FROM reg_encounters "
            "WHERE tenant = $1 AND patient_id = $2 UNION ALL "
            "SELECT coalesce(discharge_date, admission_date) FROM reg_admissions "
            "WHERE tenant = $1 AND patient_id = $2) AS days",
            tenant,
            patient_id,
        )
        return value if isinstance(value, date) else None

    async def encounters(self, tenant: str, page: PageRequest, *, patient_id: str | None = None) -> Page[Row]:
        return await _page(
            self.connection,
            "SELECT * FROM reg_encounters WHERE seq > $1 AND tenant = $3 "
            "AND ($4::text IS NULL OR patient_id = $4) ORDER BY seq LIMIT $2",
            page,
            tenant,
            patient_id,
        )

    # facilities and admissions

    async def facility(self, tenant: str, facility_id: str) -> Row | None:
        return await self._one(
            "SELECT * FROM reg_facilities WHERE tenant = $1 AND facility_id = $2", tenant, facility_id
        )

    async def facilities(self, tenant: str, page: PageRequest) -> Page[Row]:
        return await _page(
            self.connection,
            "SELECT * FROM reg_facilities WHERE seq > $1 AND tenant = $3 ORDER BY seq LIMIT $2",
            page,
            tenant,
        )

    async def facility_npi_registered(self, tenant: str, npi: str) -> bool:
        return bool(
            await self.connection.fetchval(
                "SELECT true FROM reg_facilities WHERE tenant = $1 AND npi = $2", tenant, npi
            )
        )

    async def admission(self, tenant: str, encounter_id: str) -> Row | None:
        return await self._one(
            "SELECT * FROM reg_admissions WHERE tenant = $1 AND encounter_id = $2", tenant, encounter_id
        )

    # the audit of patient reads

    async def record_read(
        self,
        tenant: str,
        patient_id: str,
        *,
        actor: str,
        roles: list[str],
        access: str,
        correlation_id: str | None,
    ) -> None:
        await self.connection.execute(
            "INSERT INTO reg_patient_reads (tenant, patient_id, actor, roles, access, correlation_id) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            tenant,
            patient_id,
            actor,
            roles,
            access,
            correlation_id,
        )

    async def reads(
        self, tenant: str, page: PageRequest, *, patient_id: str | None = None, actor: str | None = None
    ) -> Page[Row]:
        return await _page(
            self.connection,
            "SELECT * FROM reg_patient_reads WHERE seq > $1 AND tenant = $3 "
            "AND ($4::text IS NULL OR patient_id = $4) AND ($5::text IS NULL OR actor = $5) "
            "ORDER BY seq LIMIT $2",
            page,
            tenant,
            patient_id,
            actor,
        )
