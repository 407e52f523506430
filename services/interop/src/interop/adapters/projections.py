"""Interop's read model in PostgreSQL: one row per FHIR resource's source, kept from the events only.

Patient identifiers stay sealed exactly as the events carry them (they are opened when a resource is
read, and that read is audited). Topics are consumed in any order across aggregates, so every
handler is an upsert that does not depend on another table having been written first; resources are
assembled from these rows when they are asked for. `last_updated` is the event time (ce_time) of the
newest event that changed what a resource shows: FHIR's `meta.lastUpdated` and `_lastUpdated`.
"""

from __future__ import annotations

from typing import Any

from billing_events.consumer import Subscription, handlers
from billing_events.contracts.claims import (
    ClaimAdjudicated,
    ClaimClosed,
    ClaimCreated,
    ClaimVoided,
)
from billing_events.contracts.coding import EncounterCoded, EncounterRecoded
from billing_events.contracts.invoicing import InsurancePaymentPosted
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
from billing_events.store import Session

OWNED_TABLES = [
    "interop_payers",
    "interop_providers",
    "interop_patients",
    "interop_coverages",
    "interop_encounters",
    "interop_claims",
    "interop_adjudications",
    "interop_postings",
]

PROJECTIONS_SQL = """
CREATE TABLE IF NOT EXISTS interop_payers (
    tenant text NOT NULL, payer_id text NOT NULL,
    name text NOT NULL, edi_payer_id text NOT NULL, claim_filing_indicator text NOT NULL, address jsonb,
    last_updated timestamptz NOT NULL,
    PRIMARY KEY (tenant, payer_id)
);
CREATE TABLE IF NOT EXISTS interop_providers (
    tenant text NOT NULL, provider_id text NOT NULL,
    npi text NOT NULL, role text NOT NULL, organization_name text, given_name text, family_name text,
    taxonomy_code text NOT NULL, tax_id text, address jsonb NOT NULL, last_updated timestamptz NOT NULL,
    PRIMARY KEY (tenant, provider_id)
);
-- Sealed values (jsonb of billing_events Sealed) only: no plaintext PHI at rest.
CREATE TABLE IF NOT EXISTS interop_patients (
    tenant text NOT NULL, patient_id text NOT NULL,
    mrn jsonb NOT NULL, name jsonb NOT NULL, birth_date jsonb NOT NULL, sex text NOT NULL,
    address jsonb NOT NULL, phone jsonb, version integer NOT NULL, last_updated timestamptz NOT NULL,
    PRIMARY KEY (tenant, patient_id)
);
CREATE TABLE IF NOT EXISTS interop_coverages (
    tenant text NOT NULL, coverage_id text NOT NULL,
    patient_id text NOT NULL, payer_id text NOT NULL, member_id jsonb NOT NULL, group_number text,
    priority text NOT NULL, relationship_to_subscriber text NOT NULL, subscriber jsonb,
    effective_from date NOT NULL, effective_to date, terminated boolean NOT NULL DEFAULT false,
    last_updated timestamptz NOT NULL,
    PRIMARY KEY (tenant, coverage_id)
);
CREATE INDEX IF NOT EXISTS interop_coverages_by_patient ON interop_coverages (tenant, patient_id);
-- Opened by registration, coded by coding: either may come first, so every source column is nullable.
CREATE TABLE IF NOT EXISTS interop_encounters (
    tenant text NOT NULL, encounter_id text NOT NULL,
    patient_id text NOT NULL, opened boolean NOT NULL DEFAULT false,
    billing_provider_id text, rendering_provider_id text, service_date date, place_of_service text,
    coding_version integer, diagnoses jsonb, lines jsonb,
    last_updated timestamptz NOT NULL,
    PRIMARY KEY (tenant, encounter_id)
);
CREATE INDEX IF NOT EXISTS interop_encounters_by_patient ON interop_encounters (tenant, patient_id);
CREATE TABLE IF NOT EXISTS interop_claims (
    tenant text NOT NULL, claim_id text NOT NULL,
    invoice_id text NOT NULL, encounter_id text NOT NULL, patient_id text NOT NULL,
    coverage_id text NOT NULL, payer_id text NOT NULL, service_date date NOT NULL,
    diagnoses jsonb NOT NULL, lines jsonb NOT NULL, total_charge_cents bigint NOT NULL,
    billing_provider_id text, rendering_provider_id text, place_of_service text,
    status text NOT NULL, created_at timestamptz NOT NULL, last_updated timestamptz NOT NULL,
    PRIMARY KEY (tenant, claim_id)
);
CREATE INDEX IF NOT EXISTS interop_claims_by_patient ON interop_claims (tenant, patient_id);
-- The payer's answers (ClaimAdjudicated) and the ledger's postings of them (InsurancePaymentPosted).
CREATE TABLE IF NOT EXISTS interop_adjudications (
    event_id text PRIMARY KEY, tenant text NOT NULL, claim_id text NOT NULL, stream_version integer NOT NULL,
    remittance_id text NOT NULL, payer_id text NOT NULL, payer_claim_control_number text NOT NULL,
    claim_status_code text NOT NULL, outcome text NOT NULL, total_charge_cents bigint NOT NULL,
    paid_cents bigint NOT NULL, patient_responsibility_cents bigint NOT NULL,
    claim_adjustments jsonb NOT NULL, lines jsonb NOT NULL, remark_codes jsonb NOT NULL,
    adjudicated_on date NOT NULL, recorded_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS interop_adjudications_by_claim ON interop_adjudications (tenant, claim_id);
CREATE TABLE IF NOT EXISTS interop_postings (
    event_id text PRIMARY KEY, tenant text NOT NULL, claim_id text NOT NULL, invoice_id text NOT NULL,
    payer_id text NOT NULL, adjudication_id text NOT NULL, reversal boolean NOT NULL, denied boolean NOT NULL,
    paid_cents bigint NOT NULL, contractual_adjustment_cents bigint NOT NULL,
    other_adjustment_cents bigint NOT NULL, patient_responsibility_cents bigint NOT NULL,
    denial_reasons jsonb NOT NULL, lines jsonb NOT NULL, posted_on date NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS interop_postings_by_claim ON interop_postings (tenant, claim_id);

-- Who read which patient's data, when, and through which door (not derived from events: not rebuilt).
CREATE TABLE IF NOT EXISTS interop_patient_reads (
    seq bigserial PRIMARY KEY, tenant text NOT NULL, patient_id text NOT NULL, actor text NOT NULL,
    roles text[] NOT NULL, access text NOT NULL, correlation_id text,
    read_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS interop_patient_reads_by_patient
    ON interop_patient_reads (tenant, patient_id, seq);

-- Bulk Data export jobs and their NDJSON files (the files themselves live under the export folder).
CREATE TABLE IF NOT EXISTS interop_exports (
    export_id text PRIMARY KEY, tenant text NOT NULL, requested_by text NOT NULL, request_url text NOT NULL,
    level text NOT NULL, types text[] NOT NULL, since timestamptz, status text NOT NULL,
    transaction_time timestamptz NOT NULL, output jsonb NOT NULL DEFAULT '[]', error text,
    completed_at timestamptz,
    -- Touched after every batch: an export whose process ended stops beating and is reported failed.
    heartbeat timestamptz NOT NULL DEFAULT clock_timestamp()
);
""" + "".join(
    f"CREATE INDEX IF NOT EXISTS {table}_updated ON {table} (tenant, last_updated);\n"
    for table in (
        "interop_payers",
        "interop_providers",
        "interop_patients",
        "interop_coverages",
        "interop_encounters",
        "interop_claims",
    )
)


def _sealed(value: Any) -> dict[str, Any] | None:
    return None if value is None else dict(value.model_dump())


def _dump(items: Any) -> list[Any]:
    return [item.model_dump(mode="json") for item in items]


async def on_payer_registered(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, PayerRegistered)
    await session.connection.execute(
        "INSERT INTO interop_payers (tenant, payer_id, name, edi_payer_id, claim_filing_indicator, address, "
        "last_updated) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant, payer_id) DO NOTHING",
        envelope.tenant,
        event.payer_id,
        event.name,
        event.edi_payer_id,
        event.claim_filing_indicator,
        event.address.model_dump() if event.address else None,
        envelope.occurred_at,
    )


async def on_provider_enrolled(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, ProviderEnrolled)
    await session.connection.execute(
        "INSERT INTO interop_providers (tenant, provider_id, npi, role, organization_name, given_name, "
        "family_name, taxonomy_code, tax_id, address, last_updated) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (tenant, provider_id) DO NOTHING",
        envelope.tenant,
        event.provider_id,
        event.npi,
        event.role,
        event.organization_name,
        event.given_name,
        event.family_name,
        event.taxonomy_code,
        event.tax_id,
        event.address.model_dump(),
        envelope.occurred_at,
    )


async def on_patient_registered(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, PatientRegistered)
    await session.connection.execute(
        "INSERT INTO interop_patients (tenant, patient_id, mrn, name, birth_date, sex, address, phone, "
        "version, last_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        "ON CONFLICT (tenant, patient_id) DO NOTHING",
        envelope.tenant,
        event.patient_id,
        _sealed(event.mrn),
        _sealed(event.name),
        _sealed(event.birth_date),
        event.sex,
        _sealed(event.address),
        _sealed(event.phone),
        envelope.stream_version or 1,
        envelope.occurred_at,
    )


async def on_demographics_updated(session: Session, envelope: EventEnvelope) -> None:
    # A patient's events share a partition: the registration always came first.
    event = envelope.event()
    assert isinstance(event, PatientDemographicsUpdated)
    await session.connection.execute(
        "UPDATE interop_patients SET name = coalesce($3, name), birth_date = coalesce($4, birth_date), "
        "sex = coalesce($5, sex), address = coalesce($6, address), phone = coalesce($7, phone), "
        "version = greatest(version, $8), last_updated = greatest(last_updated, $9) "
        "WHERE tenant = $1 AND patient_id = $2",
        envelope.tenant,
        event.patient_id,
        _sealed(event.name),
        _sealed(event.birth_date),
        event.sex,
        _sealed(event.address),
        _sealed(event.phone),
        envelope.stream_version or 0,
        envelope.occurred_at,
    )


async def on_coverage_added(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, CoverageAdded)
    await session.connection.execute(
        "INSERT INTO interop_coverages (tenant, coverage_id, patient_id, payer_id, member_id, group_number, "
        "priority, relationship_to_subscriber, subscriber, effective_from, effective_to, last_updated) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
        "ON CONFLICT (tenant, coverage_id) DO NOTHING",
        envelope.tenant,
        event.coverage_id,
        event.patient_id,
        event.payer_id,
        _sealed(event.member_id),
        event.group_number,
        event.priority,
        event.relationship_to_subscriber,
        _sealed(event.subscriber),
        event.effective_from,
        event.effective_to,
        envelope.occurred_at,
    )


async def on_coverage_terminated(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, CoverageTerminated)
    await session.connection.execute(
        "UPDATE interop_coverages SET effective_to = $3, terminated = true, "
        "last_updated = greatest(last_updated, $4) WHERE tenant = $1 AND coverage_id = $2",
        envelope.tenant,
        event.coverage_id,
        event.effective_to,
        envelope.occurred_at,
    )


async def on_encounter_opened(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, EncounterOpened)
    await session.connection.execute(
        "INSERT INTO interop_encounters AS e (tenant, encounter_id, patient_id, opened, billing_provider_id, "
        "rendering_provider_id, service_date, place_of_service, last_updated) "
        "VALUES ($1, $2, $3, true, $4, $5, $6, $7, $8) ON CONFLICT (tenant, encounter_id) DO UPDATE SET "
        "opened = true, billing_provider_id = excluded.billing_provider_id, "
        "rendering_provider_id = excluded.rendering_provider_id, service_date = excluded.service_date, "
        "place_of_service = excluded.place_of_service, "
        "last_updated = greatest(e.last_updated, excluded.last_updated)",
        envelope.tenant,
        event.encounter_id,
        event.patient_id,
        event.billing_provider_id,
        event.rendering_provider_id,
        event.service_date,
        event.place_of_service,
        envelope.occurred_at,
    )


async def on_encounter_coded(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, EncounterCoded | EncounterRecoded)
    # The newest coding version wins, whatever order the two sources arrive in.
    await session.connection.execute(
        "INSERT INTO interop_encounters AS e (tenant, encounter_id, patient_id, billing_provider_id, "
        "rendering_provider_id, service_date, place_of_service, coding_version, diagnoses, lines, "
        "last_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
        "ON CONFLICT (tenant, encounter_id) DO UPDATE SET "
        "coding_version = excluded.coding_version, diagnoses = excluded.diagnoses, lines = excluded.lines, "
        "last_updated = greatest(e.last_updated, excluded.last_updated) "
        "WHERE e.coding_version IS NULL OR e.coding_version < excluded.coding_version",
        envelope.tenant,
        event.encounter_id,
        event.patient_id,
        event.billing_provider_id,
        event.rendering_provider_id,
        event.service_date,
        event.place_of_service,
        event.coding_version,
        list(event.diagnoses),
        _dump(event.lines),
        envelope.occurred_at,
    )


_CLAIM_TOUCHED = (
    "greatest($2::timestamptz, "
    "(SELECT max(recorded_at) FROM interop_adjudications a WHERE a.tenant = $1 AND a.claim_id = $3), "
    "(SELECT max(recorded_at) FROM interop_postings p WHERE p.tenant = $1 AND p.claim_id = $3))"
)


async def on_claim_created(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, ClaimCreated)
    await session.connection.execute(
        "INSERT INTO interop_claims (tenant, last_updated, claim_id, invoice_id, encounter_id, patient_id, "
        "coverage_id, payer_id, service_date, diagnoses, lines, total_charge_cents, billing_provider_id, "
        "rendering_provider_id, place_of_service, status, created_at) "
        f"VALUES ($1, {_CLAIM_TOUCHED}, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
        "'active', $2) "
        "ON CONFLICT (tenant, claim_id) DO NOTHING",
        envelope.tenant,
        envelope.occurred_at,
        event.claim_id,
        event.invoice_id,
        event.encounter_id,
        event.patient_id,
        event.coverage_id,
        event.payer_id,
        event.service_date,
        list(event.diagnoses),
        _dump(event.lines),
        event.total_charge_cents,
        event.billing_provider_id,
        event.rendering_provider_id,
        event.place_of_service,
    )


async def _touch_claim(session: Session, envelope: EventEnvelope, claim_id: str, status: str | None) -> None:
    await session.connection.execute(
        "UPDATE interop_claims SET last_updated = greatest(last_updated, $3), status = coalesce($4, status) "
        "WHERE tenant = $1 AND claim_id = $2",
        envelope.tenant,
        claim_id,
        envelope.occurred_at,
        status,
    )


async def on_claim_voided(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, ClaimVoided)
    await _touch_claim(session, envelope, event.claim_id, "cancelled")


async def on_claim_closed(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, ClaimClosed)
    await _touch_claim(session, envelope, event.claim_id, None)


async def on_claim_adjudicated(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, ClaimAdjudicated)
    await session.connection.execute(
        "INSERT INTO interop_adjudications (event_id, tenant, claim_id, stream_version, remittance_id, "
        "payer_id, payer_claim_control_number, claim_status_code, outcome, total_charge_cents, paid_cents, "
        "patient_responsibility_cents, claim_adjustments, lines, remark_codes, adjudicated_on, recorded_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) "
        "ON CONFLICT (event_id) DO NOTHING",
        envelope.event_id,
        envelope.tenant,
        event.claim_id,
        envelope.stream_version or 0,
        event.remittance_id,
        event.payer_id,
        event.payer_claim_control_number,
        event.claim_status_code,
        event.outcome,
        event.total_charge_cents,
        event.paid_cents,
        event.patient_responsibility_cents,
        _dump(event.claim_adjustments),
        _dump(event.lines),
        list(event.remark_codes),
        event.adjudicated_on,
        envelope.occurred_at,
    )
    await _touch_claim(session, envelope, event.claim_id, None)


async def on_insurance_payment_posted(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, InsurancePaymentPosted)
    await session.connection.execute(
        "INSERT INTO interop_postings (event_id, tenant, claim_id, invoice_id, payer_id, adjudication_id, "
        "reversal, denied, paid_cents, contractual_adjustment_cents, other_adjustment_cents, "
        "patient_responsibility_cents, denial_reasons, lines, posted_on, recorded_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) "
        "ON CONFLICT (event_id) DO NOTHING",
        envelope.event_id,
        envelope.tenant,
        event.claim_id,
        event.invoice_id,
        event.payer_id,
        event.adjudication_id,
        event.reversal,
        event.denied,
        event.paid_cents,
        event.contractual_adjustment_cents,
        event.other_adjustment_cents,
        event.patient_responsibility_cents,
        list(event.denial_reasons),
        _dump(event.lines),
        event.posted_on,
        envelope.occurred_at,
    )
    await _touch_claim(session, envelope, event.claim_id, None)


async def on_patient_forgotten(session: Session, envelope: EventEnvelope) -> None:
    """The patient's demographics and member ids go (sealed under a destroyed key, they are noise):
    FHIR answers Patient and Coverage reads for them as unknown. Encounters, claims and EOBs stay,
    holding the patient only by id. Idempotent."""
    event = envelope.event()
    assert isinstance(event, PatientForgotten)
    for table in ("interop_coverages", "interop_patients"):
        await session.connection.execute(
            f"DELETE FROM {table} WHERE tenant = $1 AND patient_id = $2",
            envelope.tenant,
            event.patient_id,
        )


def projection_subscription() -> Subscription:
    return Subscription(
        name="interop",
        topics=[
            ("registration", "payer"),
            ("registration", "provider"),
            ("registration", "patient"),
            ("registration", "coverage"),
            ("registration", "encounter"),
            ("coding", "encounter-coding"),
            ("invoicing", "invoice"),
            ("claims", "claim"),
        ],
        handlers=handlers(
            (PayerRegistered, on_payer_registered),
            (ProviderEnrolled, on_provider_enrolled),
            (PatientRegistered, on_patient_registered),
            (PatientDemographicsUpdated, on_demographics_updated),
            (PatientForgotten, on_patient_forgotten),
            (CoverageAdded, on_coverage_added),
            (CoverageTerminated, on_coverage_terminated),
            (EncounterOpened, on_encounter_opened),
            (EncounterCoded, on_encounter_coded),
            (EncounterRecoded, on_encounter_coded),
            (ClaimCreated, on_claim_created),
            (ClaimVoided, on_claim_voided),
            (ClaimClosed, on_claim_closed),
            (ClaimAdjudicated, on_claim_adjudicated),
            (InsurancePaymentPosted, on_insurance_payment_posted),
        ),
        owned_tables=OWNED_TABLES,
    )
