"""Queries on registration's views and the patient-read audit, on one connection (the command's or
the read's transaction). Every query is scoped to a tenant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
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
    def __init__(self, connection: asyncpg.Connection, cache: dict[Any, Any] | None = None) -> None:
        self.connection = connection
        # The transaction's cache (Session.cache): a batch of visits names the same few providers
        # and payers over and over, and reads each once. Emptied by any payer or provider event
        # applied here, and by the session when a savepoint rolls back.
        self.cache = {} if cache is None else cache

    async def lock(self, *parts: str) -> None:
        """A transaction-scoped advisory lock on a name, so that check-then-append runs one at a time."""
        await self.connection.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "\x1f".join(("registration", *parts))
        )

    async def apply(self, envelope: EventEnvelope) -> None:
        if envelope.event_type.startswith(("Payer", "Provider")):
            self.cache.clear()
        await projections.apply(self.connection, envelope)

    async def _cached(self, key: tuple[str, str, str], sql: str) -> Row | None:
        if key not in self.cache:
            self.cache[key] = await self._one(sql, key[1], key[2])
        found: Row | None = self.cache[key]
        return None if found is None else dict(found)

    async def _one(self, sql: str, *args: Any) -> Row | None:
        record = await self.connection.fetchrow(sql, *args)
        return None if record is None else dict(record)

    # payers and providers

    async def payer(self, tenant: str, payer_id: str) -> Row | None:
        return await self._cached(
            ("reg_payers", tenant, payer_id), "SELECT * FROM reg_payers WHERE tenant = $1 AND payer_id = $2"
        )

    async def payers(self, tenant: str, page: PageRequest) -> Page[Row]:
        return await _page(
            self.connection,
            "SELECT * FROM reg_payers WHERE seq > $1 AND tenant = $3 ORDER BY seq LIMIT $2",
            page,
            tenant,
        )

    async def provider(self, tenant: str, provider_id: str) -> Row | None:
        return await self._cached(
            ("reg_providers", tenant, provider_id),
            "SELECT * FROM reg_providers WHERE tenant = $1 AND provider_id = $2",
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

    async def patient_by_mrn_index(self, tenant: str, mrn_indexes: Sequence[str]) -> Row | None:
        """The patient whose MRN index is any of these (one per blind-index key version)."""
        return await self._one(
            "SELECT * FROM reg_patients WHERE tenant = $1 AND mrn_index = ANY($2::text[]) LIMIT 1",
            tenant,
            list(mrn_indexes),
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

    # eligibility checks

    async def eligibility_check(self, tenant: str, check_id: str) -> Row | None:
        return await self._one(
            "SELECT * FROM reg_eligibility_checks WHERE tenant = $1 AND check_id = $2", tenant, check_id
        )

    async def latest_eligibility(self, tenant: str, coverage_ids: list[str]) -> dict[str, Row]:
        records = await self.connection.fetch(
            "SELECT DISTINCT ON (coverage_id) * FROM reg_eligibility_checks WHERE tenant = $1 "
            "AND coverage_id = ANY($2::text[]) AND answered_at IS NOT NULL "
            "ORDER BY coverage_id, answered_at DESC, seq DESC",
            tenant,
            coverage_ids,
        )
        return {record["coverage_id"]: dict(record) for record in records}

    async def first_billing_provider(self, tenant: str) -> str | None:
        value = await self.connection.fetchval(
            "SELECT provider_id FROM reg_providers WHERE tenant = $1 AND role = 'billing' "
            "ORDER BY seq LIMIT 1",
            tenant,
        )
        return None if value is None else str(value)

    async def coverages_to_check(self, tenant: str, patient_id: str, on: date, since: datetime) -> list[Row]:
        records = await self.connection.fetch(
            "SELECT c.* FROM reg_coverages c WHERE c.tenant = $1 AND c.patient_id = $2 "
            "AND c.effective_from <= $3 AND (c.effective_to IS NULL OR c.effective_to >= $3) "
            "AND NOT EXISTS (SELECT 1 FROM reg_eligibility_checks e WHERE e.tenant = c.tenant "
            "AND e.coverage_id = c.coverage_id AND coalesce(e.answered_at, e.requested_at) >= $4) "
            "ORDER BY c.seq",
            tenant,
            patient_id,
            on,
            since,
        )
        return [dict(record) for record in records]

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
