"""The claims service's own tables: their DDL and the PostgreSQL implementations of the application's
ports, on one session's connection."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, cast

import asyncpg

from billing_events.contracts.base import Sealed
from billing_events.contracts.claims import RemittanceReceived
from billing_events.contracts.registration import (
    Address,
    CoverageAdded,
    CoverageTerminated,
    PatientDemographicsUpdated,
    PatientRegistered,
    PayerRegistered,
    ProviderEnrolled,
)
from billing_events.store import Session
from billing_events.unit_of_work import UnitOfWork
from claims.application.ports import (
    BatchRecord,
    ClaimParties,
    ClaimRow,
    ClaimsViews,
    CoverageRecord,
    PatientRecord,
    PayerRecord,
    ProviderRecord,
    RemittanceProgress,
    Unit,
)
from claims.domain.claim import ClaimState
from claims.domain.coordination import CoverageInForce
from claims.domain.identifiers import base32
from claims.domain.inbound import ClaimPaymentAdvice
from claims.domain.model import (
    ClaimContent,
    CoverageFacts,
    PatientFacts,
    PayerFacts,
    ProviderFacts,
    ScrubContext,
)

# The claims service's own tables (idempotent DDL, run at every start). Every row carries its tenant.
# Patient identifiers are kept only as the Sealed values registration published (jsonb); the service
# decrypts them when it writes an 837, and keeps the 837 of each claim sealed under the patient's key.
PROJECTIONS_SQL = """
-- Reference data, projected from registration's topics.
CREATE TABLE IF NOT EXISTS claims_payers (
    tenant text NOT NULL,
    payer_id text NOT NULL,
    name text NOT NULL,
    edi_payer_id text NOT NULL,
    claim_filing_indicator text NOT NULL,
    timely_filing_days integer NOT NULL,
    address jsonb,
    PRIMARY KEY (tenant, payer_id)
);
CREATE TABLE IF NOT EXISTS claims_providers (
    tenant text NOT NULL,
    provider_id text NOT NULL,
    npi text NOT NULL,
    role text NOT NULL,
    organization_name text,
    given_name text,
    family_name text,
    taxonomy_code text NOT NULL,
    tax_id text,
    address jsonb NOT NULL,
    PRIMARY KEY (tenant, provider_id)
);
CREATE TABLE IF NOT EXISTS claims_patients (
    tenant text NOT NULL,
    patient_id text NOT NULL,
    name jsonb,
    birth_date jsonb,
    sex text,
    address jsonb,
    PRIMARY KEY (tenant, patient_id)
);
CREATE TABLE IF NOT EXISTS claims_coverages (
    tenant text NOT NULL,
    coverage_id text NOT NULL,
    patient_id text NOT NULL,
    payer_id text NOT NULL,
    member_id jsonb,
    group_number text,
    priority text NOT NULL,
    relationship text NOT NULL,
    subscriber jsonb,
    effective_from date NOT NULL,
    effective_to date,
    PRIMARY KEY (tenant, coverage_id)
);
CREATE INDEX IF NOT EXISTS claims_coverages_by_patient ON claims_coverages (tenant, patient_id);

-- The claims, kept from the service's own log in the transaction that appends (rebuildable from it).
CREATE TABLE IF NOT EXISTS claims (
    claim_id text PRIMARY KEY,
    tenant text NOT NULL,
    seq bigserial,
    invoice_id text NOT NULL,
    encounter_id text NOT NULL,
    patient_id text NOT NULL,
    coverage_id text NOT NULL,
    payer_id text NOT NULL,
    billing_provider_id text NOT NULL,
    rendering_provider_id text NOT NULL,
    patient_control_number text NOT NULL UNIQUE,
    service_date date NOT NULL,
    codes_signature text NOT NULL,
    total_charge_cents bigint NOT NULL,
    status text NOT NULL,
    pending_frequency text,
    findings jsonb NOT NULL DEFAULT '[]',
    payer_claim_control_number text,
    paid_cents bigint NOT NULL DEFAULT 0,
    patient_responsibility_cents bigint NOT NULL DEFAULT 0,
    adjudication jsonb,
    last_batch_id text,
    version integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
-- Coordination of benefits (added later: existing tables gain the columns).
ALTER TABLE claims ADD COLUMN IF NOT EXISTS sequence text NOT NULL DEFAULT 'primary';
ALTER TABLE claims ADD COLUMN IF NOT EXISTS predecessor_claim_id text;
-- Hospital claims (added later): professional (837P) or institutional (837I).
ALTER TABLE claims ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'professional';
CREATE INDEX IF NOT EXISTS claims_by_status ON claims (tenant, status, seq);
CREATE INDEX IF NOT EXISTS claims_by_invoice ON claims (tenant, invoice_id);
CREATE INDEX IF NOT EXISTS claims_by_encounter ON claims (tenant, encounter_id);
CREATE INDEX IF NOT EXISTS claims_by_patient ON claims (tenant, patient_id);
CREATE INDEX IF NOT EXISTS claims_to_send ON claims (tenant, payer_id, seq)
    WHERE pending_frequency IS NOT NULL AND status <> 'scrub_failed';
-- A claim that becomes due to send wakes the submission worker (LISTEN claims_to_send), in whichever
-- process it runs, when the transaction commits; PostgreSQL sends one notification per transaction.
CREATE OR REPLACE FUNCTION claims_notify_to_send() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('claims_to_send', '');
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER claims_to_send_wakes_submission
    AFTER INSERT OR UPDATE OF pending_frequency, status ON claims FOR EACH ROW
    WHEN (NEW.pending_frequency IS NOT NULL AND NEW.status <> 'scrub_failed')
    EXECUTE FUNCTION claims_notify_to_send();

-- Files. Control numbers come from one counter per tenant, committed with the batch that uses them.
CREATE TABLE IF NOT EXISTS x12_control_numbers (
    tenant text PRIMARY KEY,
    last_value bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS x12_submitters (
    submitter_id text PRIMARY KEY,
    tenant text NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS submission_batches (
    batch_id text PRIMARY KEY,
    tenant text NOT NULL,
    payer_id text NOT NULL,
    control_number bigint NOT NULL,
    file_name text NOT NULL,
    claim_ids text[] NOT NULL,
    frequencies text[] NOT NULL,
    sender_id text NOT NULL,
    receiver_id text NOT NULL,
    created_at timestamptz NOT NULL,
    -- Not rebuilt from the log: a batch whose file is not written yet is rewritten after a crash.
    file_written_at timestamptz,
    UNIQUE (tenant, control_number)
);
CREATE INDEX IF NOT EXISTS submission_batches_unwritten ON submission_batches (created_at)
    WHERE file_written_at IS NULL;
CREATE TABLE IF NOT EXISTS claim_submissions (
    claim_id text NOT NULL,
    batch_id text NOT NULL,
    tenant text NOT NULL,
    frequency_code text NOT NULL,
    submitted_at timestamptz NOT NULL,
    -- The claim's 837, sealed under the patient's data key (crypto-shredding covers it too).
    x12 jsonb NOT NULL,
    PRIMARY KEY (claim_id, batch_id)
);

-- Who read a claim's PHI (the 837 holds names, birth dates, member ids), when and through which
-- door: written in the read's own transaction, no audit row, no answer. Not derived from events,
-- so not rebuilt; it holds no patient data but the platform's own ids.
CREATE TABLE IF NOT EXISTS claims_phi_reads (
    seq bigserial PRIMARY KEY,
    tenant text NOT NULL,
    claim_id text NOT NULL,
    patient_id text NOT NULL,
    actor text NOT NULL,
    roles text[] NOT NULL,
    access text NOT NULL,
    correlation_id text,
    read_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS claims_phi_reads_by_tenant ON claims_phi_reads (tenant, seq);

-- Inbound files: each file is ingested once per tenant, whatever its name. Keyed per tenant: one
-- tenant must neither learn that another sent the same bytes nor have its own file skipped for it.
CREATE TABLE IF NOT EXISTS inbound_files (
    tenant text NOT NULL,
    sha256 text NOT NULL,
    file_name text NOT NULL,
    kind text,
    outcome text NOT NULL,
    detail text,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, sha256)
);
-- Databases created before the key was per tenant: move it (rows always had their tenant).
DO $$
BEGIN
    IF (SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid
            AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = 'inbound_files'::regclass AND i.indisprimary) = 1 THEN
        DELETE FROM inbound_files WHERE tenant IS NULL;
        ALTER TABLE inbound_files ALTER COLUMN tenant SET NOT NULL;
        ALTER TABLE inbound_files DROP CONSTRAINT inbound_files_pkey;
        ALTER TABLE inbound_files ADD PRIMARY KEY (tenant, sha256);
    END IF;
END $$;
CREATE TABLE IF NOT EXISTS unmatched_remittance_claims (
    tenant text NOT NULL,
    remittance_id text NOT NULL,
    patient_control_number text NOT NULL,
    payer_claim_control_number text,
    claim_status_code text NOT NULL,
    charge_cents bigint NOT NULL,
    paid_cents bigint NOT NULL,
    payer_name text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, remittance_id, patient_control_number, claim_status_code)
);
ALTER TABLE unmatched_remittance_claims ADD COLUMN IF NOT EXISTS matched_claim_id text;
ALTER TABLE unmatched_remittance_claims ADD COLUMN IF NOT EXISTS matched_at timestamptz;
-- A crossover answer looks up the next payer's answer that came first, by its claim number.
CREATE INDEX IF NOT EXISTS unmatched_remittance_claims_waiting
    ON unmatched_remittance_claims (tenant, patient_control_number) WHERE matched_claim_id IS NULL;
-- The provider-level ledger: 835 PLB reasons, which belong to the payee, not to a claim.
CREATE TABLE IF NOT EXISTS provider_adjustments (
    tenant text NOT NULL,
    remittance_id text NOT NULL,
    item integer NOT NULL,
    payer_id text,
    payer_name text NOT NULL,
    trace_number text NOT NULL,
    payment_date date NOT NULL,
    provider_identifier text NOT NULL,
    fiscal_period_end date NOT NULL,
    reason_code text NOT NULL,
    reference text,
    amount_cents bigint NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, remittance_id, item)
);
CREATE INDEX IF NOT EXISTS provider_adjustments_by_date ON provider_adjustments (tenant, payment_date);
"""


def _sealed(value: Any) -> Sealed | None:
    return None if value is None else Sealed.model_validate(value)


def _dump(value: Sealed | None) -> dict[str, Any] | None:
    return None if value is None else value.model_dump()


def _payer(row: asyncpg.Record) -> PayerRecord:
    return PayerRecord(
        payer_id=row["payer_id"],
        name=row["name"],
        edi_payer_id=row["edi_payer_id"],
        claim_filing_indicator=row["claim_filing_indicator"],
        timely_filing_days=row["timely_filing_days"],
    )


def _provider(row: asyncpg.Record) -> ProviderRecord:
    return ProviderRecord(
        provider_id=row["provider_id"],
        npi=row["npi"],
        taxonomy_code=row["taxonomy_code"],
        organization_name=row["organization_name"],
        given_name=row["given_name"],
        family_name=row["family_name"],
        tax_id=row["tax_id"],
        address=Address.model_validate(row["address"]),
    )


def _coverage(row: asyncpg.Record) -> CoverageRecord:
    return CoverageRecord(
        coverage_id=row["coverage_id"],
        patient_id=row["patient_id"],
        payer_id=row["payer_id"],
        member_id=_sealed(row["member_id"]),
        group_number=row["group_number"],
        priority=row["priority"],
        relationship=row["relationship"],
        subscriber=_sealed(row["subscriber"]),
        effective_from=row["effective_from"],
        effective_to=row["effective_to"],
    )


def _patient_record(row: asyncpg.Record) -> PatientRecord:
    return PatientRecord(
        patient_id=row["patient_id"],
        name=_sealed(row["name"]),
        birth_date=_sealed(row["birth_date"]),
        sex=row["sex"],
        address=_sealed(row["address"]),
    )


class PostgresReferenceData:
    def __init__(self, connection: asyncpg.Connection, cache: dict[Any, Any] | None = None) -> None:
        self.db = connection
        # Payers, providers, patients and coverages read in this transaction (the session's cache): a
        # submission file of 500 claims reads its billing provider and payer once, not 2,000 times.
        # Any write of reference data here empties it.
        self.cache: dict[Any, Any] = {} if cache is None else cache

    async def _one(
        self, table: str, key_column: str, tenant: str, key: str, convert: Callable[[asyncpg.Record], Any]
    ) -> Any:
        """One row of a reference table, read at most once in this transaction."""
        cached = (table, tenant, key)
        if cached not in self.cache:
            row = await self.db.fetchrow(
                f"SELECT * FROM {table} WHERE tenant = $1 AND {key_column} = $2", tenant, key
            )
            self.cache[cached] = None if row is None else convert(row)
        return self.cache[cached]

    async def record_payer(self, tenant: str, event: PayerRegistered) -> None:
        self.cache.clear()
        await self.db.execute(
            "INSERT INTO claims_payers (tenant, payer_id, name, edi_payer_id, claim_filing_indicator, "
            "timely_filing_days, address) VALUES ($1, $2, $3, $4, $5, $6, $7) "
            "ON CONFLICT (tenant, payer_id) DO UPDATE SET name = EXCLUDED.name, "
            "edi_payer_id = EXCLUDED.edi_payer_id, claim_filing_indicator = EXCLUDED.claim_filing_indicator, "
            "timely_filing_days = EXCLUDED.timely_filing_days, address = EXCLUDED.address",
            tenant,
            event.payer_id,
            event.name,
            event.edi_payer_id,
            event.claim_filing_indicator,
            event.timely_filing_days,
            event.address.model_dump() if event.address else None,
        )

    async def record_provider(self, tenant: str, event: ProviderEnrolled) -> None:
        self.cache.clear()
        await self.db.execute(
            "INSERT INTO claims_providers (tenant, provider_id, npi, role, organization_name, given_name, "
            "family_name, taxonomy_code, tax_id, address) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
            "ON CONFLICT (tenant, provider_id) DO UPDATE SET npi = EXCLUDED.npi, role = EXCLUDED.role, "
            "organization_name = EXCLUDED.organization_name, given_name = EXCLUDED.given_name, "
            "family_name = EXCLUDED.family_name, taxonomy_code = EXCLUDED.taxonomy_code, "
            "tax_id = EXCLUDED.tax_id, address = EXCLUDED.address",
            tenant,
            event.provider_id,
            event.npi,
            event.role,
            event.organization_name,
            event.given_name,
            event.family_name,
            event.taxonomy_code,
            event.tax_id,
            event.address.model_dump(),
        )

    async def record_patient(self, tenant: str, event: PatientRegistered) -> None:
        self.cache.clear()
        await self.db.execute(
            "INSERT INTO claims_patients (tenant, patient_id, name, birth_date, sex, address) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, patient_id) DO UPDATE SET "
            "name = EXCLUDED.name, birth_date = EXCLUDED.birth_date, sex = EXCLUDED.sex, "
            "address = EXCLUDED.address",
            tenant,
            event.patient_id,
            _dump(event.name),
            _dump(event.birth_date),
            event.sex,
            _dump(event.address),
        )

    async def update_patient(self, tenant: str, event: PatientDemographicsUpdated) -> None:
        # Only the fields that changed are present; the others keep their sealed values.
        self.cache.clear()
        await self.db.execute(
            "INSERT INTO claims_patients (tenant, patient_id, name, birth_date, sex, address) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, patient_id) DO UPDATE SET "
            "name = coalesce(EXCLUDED.name, claims_patients.name), "
            "birth_date = coalesce(EXCLUDED.birth_date, claims_patients.birth_date), "
            "sex = coalesce(EXCLUDED.sex, claims_patients.sex), "
            "address = coalesce(EXCLUDED.address, claims_patients.address)",
            tenant,
            event.patient_id,
            _dump(event.name),
            _dump(event.birth_date),
            event.sex,
            _dump(event.address),
        )

    async def record_coverage(self, tenant: str, event: CoverageAdded) -> None:
        self.cache.clear()
        await self.db.execute(
            "INSERT INTO claims_coverages (tenant, coverage_id, "
            "patient_id, payer_id, member_id, group_number, "
            "priority, relationship, subscriber, effective_from, effective_to) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
            "ON CONFLICT (tenant, coverage_id) DO UPDATE SET patient_id = EXCLUDED.patient_id, "
            "payer_id = EXCLUDED.payer_id, member_id = EXCLUDED.member_id, "
            "group_number = EXCLUDED.group_number, priority = EXCLUDED.priority, "
            "relationship = EXCLUDED.relationship, subscriber = EXCLUDED.subscriber, "
            "effective_from = EXCLUDED.effective_from, effective_to = EXCLUDED.effective_to",
            tenant,
            event.coverage_id,
            event.patient_id,
            event.payer_id,
            _dump(event.member_id),
            event.group_number,
            event.priority,
            event.relationship_to_subscriber,
            _dump(event.subscriber),
            event.effective_from,
            event.effective_to,
        )

    async def terminate_coverage(self, tenant: str, event: CoverageTerminated) -> None:
        self.cache.clear()
        await self.db.execute(
            "UPDATE claims_coverages SET effective_to = $3 WHERE tenant = $1 AND coverage_id = $2",
            tenant,
            event.coverage_id,
            event.effective_to,
        )

    async def _payer(self, tenant: str, payer_id: str) -> PayerRecord | None:
        found = await self._one("claims_payers", "payer_id", tenant, payer_id, _payer)
        return cast(PayerRecord | None, found)

    async def _provider(self, tenant: str, provider_id: str) -> ProviderRecord | None:
        found = await self._one("claims_providers", "provider_id", tenant, provider_id, _provider)
        return cast(ProviderRecord | None, found)

    async def _patient(self, tenant: str, patient_id: str) -> PatientRecord | None:
        found = await self._one("claims_patients", "patient_id", tenant, patient_id, _patient_record)
        return cast(PatientRecord | None, found)

    async def _coverage(self, tenant: str, coverage_id: str) -> CoverageRecord | None:
        found = await self._one("claims_coverages", "coverage_id", tenant, coverage_id, _coverage)
        return cast(CoverageRecord | None, found)

    async def payer(self, tenant: str, payer_id: str) -> PayerRecord | None:
        return await self._payer(tenant, payer_id)

    async def payer_ids_for_edi(self, tenant: str, edi_payer_id: str) -> list[str]:
        rows = await self.db.fetch(
            "SELECT payer_id FROM claims_payers WHERE tenant = $1 AND edi_payer_id = $2 ORDER BY payer_id",
            tenant,
            edi_payer_id,
        )
        return [str(row["payer_id"]) for row in rows]

    async def scrub_context(self, tenant: str, content: ClaimContent) -> ScrubContext:
        billing = await self._provider(tenant, content.billing_provider_id)
        rendering = await self._provider(tenant, content.rendering_provider_id)
        payer = await self._payer(tenant, content.payer_id)
        coverage = await self._coverage(tenant, content.coverage_id)
        patient = await self._patient(tenant, content.patient_id)
        duplicate_of = await self.db.fetchval(
            "SELECT c.claim_id FROM claims c WHERE c.tenant = $1 AND c.patient_id = $2 AND c.payer_id = $3 "
            "AND c.service_date = $4 AND c.codes_signature = "
            "$5 AND c.claim_id <> $6 AND c.status <> 'voided' "
            # Only an earlier claim makes this one a duplicate, so the first of two is never held back.
            "AND c.seq < coalesce((SELECT seq FROM claims WHERE claim_id = $6), 9223372036854775807) "
            "ORDER BY c.seq LIMIT 1",
            tenant,
            content.patient_id,
            content.payer_id,
            content.service_date,
            content.codes_signature(),
            content.claim_id,
        )
        return ScrubContext(
            billing_provider=_provider_facts(billing),
            rendering_provider=_provider_facts(rendering),
            payer=None
            if payer is None
            else PayerFacts(payer.edi_payer_id, payer.claim_filing_indicator, payer.timely_filing_days),
            coverage=None
            if coverage is None
            else CoverageFacts(
                payer_id=coverage.payer_id,
                patient_id=coverage.patient_id,
                has_member_id=coverage.member_id is not None,
                relationship=coverage.relationship,
                has_subscriber=coverage.subscriber is not None,
                effective_from=coverage.effective_from,
                effective_to=coverage.effective_to,
            ),
            patient=None
            if patient is None
            else PatientFacts(
                has_name=patient.name is not None,
                has_birth_date=patient.birth_date is not None,
                has_address=patient.address is not None,
            ),
            duplicate_of=duplicate_of,
        )

    async def parties(self, tenant: str, content: ClaimContent) -> ClaimParties | None:
        payer = await self._payer(tenant, content.payer_id)
        billing = await self._provider(tenant, content.billing_provider_id)
        rendering = await self._provider(tenant, content.rendering_provider_id)
        patient = await self._patient(tenant, content.patient_id)
        coverage = await self._coverage(tenant, content.coverage_id)
        if payer is None or billing is None or patient is None or coverage is None:
            return None
        rows = await self.db.fetch(
            "SELECT c.*, p.name, p.edi_payer_id, p.claim_filing_indicator, p.timely_filing_days "
            "FROM claims_coverages c JOIN claims_payers p ON p.tenant = c.tenant AND p.payer_id = c.payer_id "
            "WHERE c.tenant = $1 AND c.patient_id = $2 AND c.coverage_id <> $3 AND c.priority <> $4 "
            "AND c.effective_from <= $5 AND (c.effective_to IS NULL OR c.effective_to >= $5) "
            "ORDER BY array_position(ARRAY['primary', 'secondary', 'tertiary'], c.priority), c.coverage_id",
            tenant,
            content.patient_id,
            content.coverage_id,
            coverage.priority,
            content.service_date,
        )
        others = tuple((_coverage(row), _payer(row)) for row in rows)
        return ClaimParties(payer, billing, rendering, patient, coverage, others)

    async def coverages_in_force(self, tenant: str, patient_id: str, on: date) -> list[CoverageInForce]:
        rows = await self.db.fetch(
            "SELECT coverage_id, payer_id, priority FROM claims_coverages WHERE tenant = $1 "
            "AND patient_id = $2 AND effective_from <= $3 AND (effective_to IS NULL OR effective_to >= $3) "
            "ORDER BY coverage_id",
            tenant,
            patient_id,
            on,
        )
        return [CoverageInForce(row["coverage_id"], row["payer_id"], row["priority"]) for row in rows]


def _provider_facts(provider: ProviderRecord | None) -> ProviderFacts | None:
    if provider is None:
        return None
    return ProviderFacts(provider.npi, provider.taxonomy_code, provider.tax_id, provider.address.postal_code)


_WAITING_COLUMNS = frozenset(
    {"patient_id", "payer_id", "coverage_id", "billing_provider_id", "rendering_provider_id"}
)


def _claim_row(row: asyncpg.Record) -> ClaimRow:
    return ClaimRow(
        claim_id=row["claim_id"],
        tenant=row["tenant"],
        status=row["status"],
        patient_id=row["patient_id"],
        payer_id=row["payer_id"],
        pending_frequency=row["pending_frequency"],
        patient_control_number=row["patient_control_number"],
    )


class PostgresInboundRecords:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.db = connection

    async def record_file(self, sha256: str, tenant: str, file_name: str, kind: str) -> bool:
        first = await self.db.fetchval(
            "INSERT INTO inbound_files (sha256, tenant, file_name, kind, outcome) "
            "VALUES ($1, $2, $3, $4, 'applied') ON CONFLICT (tenant, sha256) DO NOTHING RETURNING true",
            sha256,
            tenant,
            file_name,
            kind,
        )
        return bool(first)

    async def lock_remittance(self, remittance_id: str) -> None:
        # Two files carrying the same payment at once: the second waits here, then finds it applied.
        await self.db.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", remittance_id)

    async def remittance_progress(self, remittance_id: str) -> RemittanceProgress:
        last = await self.db.fetchrow(
            "SELECT stream_version, event_type, (payload->>'claims_through')::bigint AS claims_through, "
            "(payload->>'part')::int AS part FROM events WHERE stream_id = $1 "
            "ORDER BY stream_version DESC LIMIT 1",
            remittance_id,
        )
        if last is None:
            return RemittanceProgress(0, False, 0, 0)
        if last["event_type"] != "RemittanceClaimsListed":
            return RemittanceProgress(last["stream_version"], True, 0, 0)
        return RemittanceProgress(
            last["stream_version"], False, int(last["claims_through"] or 0), int(last["part"] or 0)
        )

    async def held_on_remittance(self, remittance_id: str) -> int:
        return int(
            await self.db.fetchval(
                "SELECT coalesce(sum(jsonb_array_length(payload->'held_claims')), 0) FROM events "
                "WHERE stream_id = $1 AND event_type = 'RemittanceClaimsListed' "
                "AND jsonb_typeof(payload->'held_claims') = 'array'",
                remittance_id,
            )
        )

    async def record_unmatched(
        self,
        tenant: str,
        remittance_id: str,
        claim: ClaimPaymentAdvice,
        payer_name: str,
        *,
        received_at: datetime | None = None,
    ) -> None:
        """`received_at`: when the remittance was received (a rebuild gives it; else now)."""
        await self.db.execute(
            "INSERT INTO unmatched_remittance_claims (tenant, remittance_id, patient_control_number, "
            "payer_claim_control_number, claim_status_code, charge_cents, paid_cents, payer_name, "
            "received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, now())) "
            "ON CONFLICT DO NOTHING",
            tenant,
            remittance_id,
            claim.patient_control_number,
            claim.payer_claim_control_number,
            claim.status_code,
            claim.charge_cents,
            claim.paid_cents,
            payer_name,
            received_at,
        )

    async def record_matched(
        self,
        tenant: str,
        remittance_id: str,
        patient_control_number: str,
        claim_id: str,
        *,
        matched_at: datetime | None = None,
    ) -> None:
        await self.db.execute(
            "UPDATE unmatched_remittance_claims SET matched_claim_id = $4, matched_at = coalesce($5, now()) "
            "WHERE tenant = $1 AND remittance_id = $2 AND patient_control_number = $3",
            tenant,
            remittance_id,
            patient_control_number,
            claim_id,
            matched_at,
        )

    async def held_under(self, tenant: str, patient_control_number: str) -> list[str]:
        rows = await self.db.fetch(
            "SELECT DISTINCT remittance_id FROM unmatched_remittance_claims "
            "WHERE tenant = $1 AND patient_control_number = $2 AND matched_claim_id IS NULL "
            "ORDER BY remittance_id",
            tenant,
            patient_control_number,
        )
        return [row["remittance_id"] for row in rows]

    async def record_provider_adjustments(self, tenant: str, received: RemittanceReceived) -> None:
        await self.db.executemany(
            "INSERT INTO provider_adjustments (tenant, remittance_id, item, payer_id, payer_name, "
            "trace_number, payment_date, provider_identifier, fiscal_period_end, reason_code, reference, "
            "amount_cents) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
            "ON CONFLICT DO NOTHING",
            [
                (
                    tenant,
                    received.remittance_id,
                    number,
                    received.payer_id,
                    received.payer_name,
                    received.trace_number,
                    received.payment_date,
                    item.provider_identifier,
                    item.fiscal_period_end,
                    item.reason_code,
                    item.reference,
                    item.amount_cents,
                )
                for number, item in enumerate(received.provider_adjustments, start=1)
            ],
        )


async def _write(
    db: asyncpg.Connection, later: Session | None, statement: str, arguments: tuple[Any, ...]
) -> None:
    """A write sent now, or deferred to `later`'s commit with the other rows of its statement."""
    if later is not None:
        later.defer(statement, *arguments)
    else:
        await db.execute(statement, *arguments)


_UPSERT_CLAIM = (
    "INSERT INTO claims (claim_id, tenant, invoice_id, "
    "encounter_id, patient_id, coverage_id, payer_id, "
    "billing_provider_id, rendering_provider_id, patient_control_number, "
    "service_date, codes_signature, "
    "total_charge_cents, status, pending_frequency, findings, "
    "payer_claim_control_number, paid_cents, "
    "patient_responsibility_cents, adjudication, last_batch_id, version, created_at, updated_at, "
    "sequence, predecessor_claim_id, kind) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
    "$11, $12, $13, $14, $15, $16, $17, $18, $19, $20, "
    "$21, $22, $24, $23, $25, $26, $27) "
    "ON CONFLICT (claim_id) DO UPDATE SET status = EXCLUDED.status, "
    "pending_frequency = EXCLUDED.pending_frequency, findings = EXCLUDED.findings, "
    "payer_claim_control_number = EXCLUDED.payer_claim_control_number, "
    "paid_cents = EXCLUDED.paid_cents, patient_responsibility_cents "
    "= EXCLUDED.patient_responsibility_cents, "
    "adjudication = EXCLUDED.adjudication, last_batch_id = EXCLUDED.last_batch_id, "
    "version = EXCLUDED.version, updated_at = EXCLUDED.updated_at"
)


class PostgresClaimViews:
    def __init__(self, connection: asyncpg.Connection, session: Session | None = None) -> None:
        self.db = connection
        self.session = session

    async def lock(self, claim_id: str) -> ClaimRow | None:
        row = await self.db.fetchrow("SELECT * FROM claims WHERE claim_id = $1 FOR UPDATE", claim_id)
        return None if row is None else _claim_row(row)

    async def lock_many(self, claim_ids: Sequence[str]) -> list[str]:
        # In id order: two files answering overlapping claims lock them in the same order (no deadlock).
        rows = await self.db.fetch(
            "SELECT claim_id FROM claims WHERE claim_id = ANY($1::text[]) ORDER BY claim_id FOR UPDATE",
            list(claim_ids),
        )
        return [row["claim_id"] for row in rows]

    async def save(
        self,
        tenant: str,
        state: ClaimState,
        version: int,
        at: datetime,
        created_at: datetime | None = None,
        *,
        later: bool = False,
    ) -> None:
        """Upsert the claim's row. `later`: for a caller that reads no claim row again before it commits
        (submission's batch): sent with the batch's other rows in one pipelined executemany."""
        content = state.content
        assert content is not None
        last_batch = state.submissions[-1].batch_id if state.submissions else None
        adjudication = state.adjudication.model_dump(mode="json") if state.adjudication is not None else None
        arguments = (
            content.claim_id,
            tenant,
            content.invoice_id,
            content.encounter_id,
            content.patient_id,
            content.coverage_id,
            content.payer_id,
            content.billing_provider_id,
            content.rendering_provider_id,
            content.patient_control_number,
            content.service_date,
            content.codes_signature(),
            content.total_charge_cents,
            state.status,
            state.pending_frequency,
            [f.model_dump() for f in state.findings],
            state.payer_claim_control_number,
            state.paid_cents,
            state.patient_responsibility_cents,
            adjudication,
            last_batch,
            version,
            at,
            created_at or at,
            content.sequence,
            content.predecessor_claim_id,
            content.kind,
        )
        await _write(self.db, self.session if later else None, _UPSERT_CLAIM, arguments)

    async def waiting_on(self, tenant: str, *, column: str, value: str) -> list[str]:
        if column not in _WAITING_COLUMNS:
            raise ValueError(f"claims cannot wait on {column}")
        rows = await self.db.fetch(
            f"SELECT claim_id FROM claims WHERE tenant = $1 AND {column} = $2 AND status = 'scrub_failed' "
            "ORDER BY seq",
            tenant,
            value,
        )
        return [row["claim_id"] for row in rows]

    async def claim_ids_for_invoice(self, tenant: str, invoice_id: str) -> list[str]:
        rows = await self.db.fetch(
            "SELECT claim_id FROM claims WHERE tenant = $1 AND invoice_id = $2 ORDER BY seq",
            tenant,
            invoice_id,
        )
        return [row["claim_id"] for row in rows]

    async def payers_with_claims_to_send(self) -> list[tuple[str, str]]:
        rows = await self.db.fetch(
            "SELECT DISTINCT tenant, payer_id FROM claims "
            "WHERE pending_frequency IS NOT NULL AND status <> 'scrub_failed' ORDER BY tenant, payer_id"
        )
        return [(row["tenant"], row["payer_id"]) for row in rows]

    async def claims_to_send(self, tenant: str, payer_id: str, limit: int) -> list[str]:
        # SKIP LOCKED: two workers never put the same claim in two files.
        rows = await self.db.fetch(
            "SELECT claim_id FROM claims WHERE tenant = $1 AND "
            "payer_id = $2 AND pending_frequency IS NOT NULL "
            "AND status <> 'scrub_failed' ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED",
            tenant,
            payer_id,
            limit,
        )
        return [row["claim_id"] for row in rows]

    async def by_patient_control_numbers(
        self, tenant: str | None, numbers: Sequence[str]
    ) -> dict[str, ClaimRow]:
        rows = await self.db.fetch(
            "SELECT * FROM claims WHERE patient_control_number = ANY($1::text[]) "
            "AND ($2::text IS NULL OR tenant = $2)",
            list(numbers),
            tenant,
        )
        return {row["patient_control_number"]: _claim_row(row) for row in rows}


def _batch(row: asyncpg.Record) -> BatchRecord:
    return BatchRecord(
        batch_id=row["batch_id"],
        tenant=row["tenant"],
        payer_id=row["payer_id"],
        control_number=row["control_number"],
        file_name=row["file_name"],
        claim_ids=tuple(row["claim_ids"]),
        frequencies=tuple(row["frequencies"]),
        sender_id=row["sender_id"],
        receiver_id=row["receiver_id"],
        created_at=row["created_at"],
    )


def derived_submitter_id(tenant: str) -> str:
    """A 15-character ETIN for a tenant: readable letters of its name and a hash against collisions."""
    letters = "".join(c for c in tenant.upper() if c.isascii() and c.isalnum())[:9]
    digest = int.from_bytes(hashlib.sha256(tenant.encode()).digest()[:4], "big")
    return f"{letters}{base32(digest, 6)}"


class PostgresBatches:
    def __init__(self, connection: asyncpg.Connection, session: Session | None = None) -> None:
        self.db = connection
        self.session = session

    async def next_control_number(self, tenant: str) -> int:
        # The row lock serialises batches of one tenant; the number commits with the batch that uses it.
        value = await self.db.fetchval(
            "INSERT INTO x12_control_numbers (tenant, last_value) VALUES ($1, 1) "
            "ON CONFLICT (tenant) DO UPDATE SET last_value = x12_control_numbers.last_value + 1 "
            "RETURNING last_value",
            tenant,
        )
        return int(value)

    async def submitter_id(self, tenant: str, preferred: str | None) -> str:
        existing = await self.db.fetchval("SELECT submitter_id FROM x12_submitters WHERE tenant = $1", tenant)
        if existing is not None:
            return str(existing)
        for candidate in filter(None, (preferred, derived_submitter_id(tenant))):
            inserted = await self.db.fetchval(
                "INSERT INTO x12_submitters (submitter_id, tenant) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING RETURNING submitter_id",
                candidate,
                tenant,
            )
            if inserted is not None:
                return str(inserted)
        raise RuntimeError("no free submitter id for this tenant")

    async def tenant_of_submitter(self, submitter_id: str) -> str | None:
        value = await self.db.fetchval(
            "SELECT tenant FROM x12_submitters WHERE submitter_id = $1", submitter_id.strip().upper()
        )
        return None if value is None else str(value)

    async def record(self, batch: BatchRecord) -> None:
        await self.db.execute(
            "INSERT INTO submission_batches (batch_id, tenant, "
            "payer_id, control_number, file_name, claim_ids, "
            "frequencies, sender_id, receiver_id, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            batch.batch_id,
            batch.tenant,
            batch.payer_id,
            batch.control_number,
            batch.file_name,
            list(batch.claim_ids),
            list(batch.frequencies),
            batch.sender_id,
            batch.receiver_id,
            batch.created_at,
        )

    async def record_claim_file(
        self, tenant: str, claim_id: str, batch_id: str, frequency: str, sealed_x12: Sealed, at: datetime
    ) -> None:
        # Nothing reads a claim's file back in the transaction that records its batch: the rows of a
        # batch go in one pipelined executemany before it commits.
        statement = (
            "INSERT INTO claim_submissions (claim_id, batch_id, tenant, frequency_code, submitted_at, x12) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"
        )
        arguments = (claim_id, batch_id, tenant, frequency, at, sealed_x12.model_dump())
        await _write(self.db, self.session, statement, arguments)

    async def unwritten(self) -> list[BatchRecord]:
        rows = await self.db.fetch(
            "SELECT * FROM submission_batches WHERE file_written_at IS NULL ORDER BY created_at"
        )
        return [_batch(row) for row in rows]

    async def mark_written(self, batch_id: str) -> None:
        await self.db.execute(
            "UPDATE submission_batches SET file_written_at = now() WHERE batch_id = $1", batch_id
        )

    async def lock_unwritten(self, batch_id: str, *, wait: bool) -> bool:
        skip = "" if wait else " SKIP LOCKED"
        locked = await self.db.fetchval(
            "SELECT batch_id FROM submission_batches WHERE batch_id = $1 AND file_written_at IS NULL "
            f"FOR UPDATE{skip}",
            batch_id,
        )
        return locked is not None

    async def find(self, tenant: str, control_number: int) -> BatchRecord | None:
        row = await self.db.fetchrow(
            "SELECT * FROM submission_batches WHERE tenant = $1 AND control_number = $2",
            tenant,
            control_number,
        )
        return None if row is None else _batch(row)


def postgres_unit(session: Session) -> Unit:
    connection = session.connection
    return UnitOfWork(
        session,
        ClaimsViews(
            reference=PostgresReferenceData(connection, session.cache),
            claims=PostgresClaimViews(connection, session),
            batches=PostgresBatches(connection, session),
            inbound=PostgresInboundRecords(connection),
        ),
    )


async def forget_patient(connection: Any, tenant: str, patient_id: str) -> list[str]:
    """Blank what claims holds about a forgotten patient (the sealed demographics and member ids: their
    key is destroyed, so they are noise now) and name the 837 files that carried the patient's claims,
    for the clearinghouse folder to purge. The claims themselves stay: they are the practice's billing
    record and hold the patient only by id. Idempotent."""
    await connection.execute(
        "UPDATE claims_patients SET name = NULL, birth_date = NULL, address = NULL "
        "WHERE tenant = $1 AND patient_id = $2",
        tenant,
        patient_id,
    )
    await connection.execute(
        "UPDATE claims_coverages SET member_id = NULL, subscriber = NULL "
        "WHERE tenant = $1 AND patient_id = $2",
        tenant,
        patient_id,
    )
    rows = await connection.fetch(
        "SELECT DISTINCT b.file_name FROM submission_batches b JOIN claims c "
        "ON c.tenant = b.tenant AND c.claim_id = ANY(b.claim_ids) "
        "WHERE b.tenant = $1 AND c.patient_id = $2 ORDER BY b.file_name",
        tenant,
        patient_id,
    )
    return [row["file_name"] for row in rows]
