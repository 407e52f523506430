"""The claims service's own tables (idempotent DDL, run at every start). Every row carries its tenant.

Patient identifiers are kept only as the Sealed values registration published (jsonb); the service
decrypts them when it writes an 837, and keeps the 837 of each claim sealed under the patient's key.
"""

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
CREATE INDEX IF NOT EXISTS claims_by_status ON claims (tenant, status, seq);
CREATE INDEX IF NOT EXISTS claims_by_invoice ON claims (tenant, invoice_id);
CREATE INDEX IF NOT EXISTS claims_by_encounter ON claims (tenant, encounter_id);
CREATE INDEX IF NOT EXISTS claims_by_patient ON claims (tenant, patient_id);
CREATE INDEX IF NOT EXISTS claims_to_send ON claims (tenant, payer_id, seq)
    WHERE pending_frequency IS NOT NULL AND status <> 'scrub_failed';

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
"""
