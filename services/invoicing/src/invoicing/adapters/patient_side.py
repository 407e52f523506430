"""Read models of the patient's side: payer contracts (adapters.payer_contracts), estimates, the
financial-assistance policy and determinations (outcomes only: household size and income stay sealed
in the log), and invoicing's copies of registration's providers and eligibility answers."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from billing_events.contracts.invoicing import (
    EstimateIssued,
    FinancialAssistanceDetermined,
    FinancialAssistancePolicySet,
    PayerContractImported,
    PayerContractRowsStaged,
)
from billing_events.contracts.registration import EligibilityCheckAnswered, ProviderEnrolled
from billing_events.envelope import EventEnvelope
from billing_events.store import EventStore, Session
from billing_events.unit_of_work import UnitOfWork
from invoicing.adapters import payer_contracts
from invoicing.adapters.payer_contracts import CONTRACTS_SQL, ContractVersionRow
from invoicing.adapters.projections import PostgresViews
from invoicing.application.ports import (
    CoverageOnFile,
    Determination,
    PatientBalance,
    PatientSideUnit,
    ProviderOnFile,
)
from invoicing.domain import payer_contract
from invoicing.domain.estimates import Benefits
from invoicing.domain.financial_assistance import AssistancePolicy, policy_of
from invoicing.domain.payer_contract import ContractRates

PATIENT_SIDE_SQL = (
    CONTRACTS_SQL
    + """
CREATE TABLE IF NOT EXISTS invoicing_estimates (
    tenant text NOT NULL,
    estimate_id text NOT NULL,
    patient_id text NOT NULL,
    service_date date NOT NULL,
    kind text NOT NULL,
    patient_estimate_cents bigint NOT NULL,
    position bigint NOT NULL,
    document jsonb NOT NULL,
    PRIMARY KEY (tenant, estimate_id)
);
CREATE INDEX IF NOT EXISTS invoicing_estimates_patient
    ON invoicing_estimates (tenant, patient_id, service_date);

CREATE TABLE IF NOT EXISTS invoicing_assistance_policies (
    tenant text NOT NULL,
    policy_id text NOT NULL,
    effective_from date NOT NULL,
    position bigint NOT NULL,
    document jsonb NOT NULL,
    PRIMARY KEY (tenant, effective_from)
);

CREATE TABLE IF NOT EXISTS invoicing_assistance_determinations (
    tenant text NOT NULL,
    application_id text NOT NULL,
    patient_id text NOT NULL,
    eligible boolean NOT NULL,
    discount_basis_points integer NOT NULL,
    agb_basis_points integer NOT NULL,
    received_on date NOT NULL,
    valid_from date NOT NULL,
    valid_until date NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (tenant, application_id)
);
CREATE INDEX IF NOT EXISTS invoicing_assistance_patient
    ON invoicing_assistance_determinations (tenant, patient_id, position);

CREATE TABLE IF NOT EXISTS invoicing_providers (
    tenant text NOT NULL,
    provider_id text NOT NULL,
    npi text NOT NULL,
    name text NOT NULL,
    tax_id text,
    address jsonb NOT NULL,
    PRIMARY KEY (tenant, provider_id)
);

CREATE TABLE IF NOT EXISTS invoicing_benefits (
    tenant text NOT NULL,
    coverage_id text NOT NULL,
    check_id text NOT NULL,
    status text NOT NULL,
    deductible_remaining_cents bigint,
    copay_cents bigint,
    coinsurance_basis_points integer,
    out_of_pocket_remaining_cents bigint,
    position bigint NOT NULL,
    PRIMARY KEY (tenant, coverage_id)
);
"""
)
# Tables rebuilt from invoicing's own log, and those a subscription fills from registration's topics.
OWN_PATIENT_SIDE_TABLES = (
    "invoicing_payer_contracts",
    "invoicing_estimates",
    "invoicing_assistance_policies",
    "invoicing_assistance_determinations",
)
REGISTRATION_COPY_TABLES = ["invoicing_providers", "invoicing_benefits"]
AGGREGATES = ("payer-contract", "estimate", "financial-assistance-policy", "financial-assistance-application")


def estimate_document(event: EstimateIssued) -> dict[str, Any]:
    return event.model_dump(mode="json")


class Projection:
    """Folds the patient side's own events into its tables; used after each command and by rebuild."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self._contracts: dict[str, payer_contract.PayerContractState] = {}

    async def apply(self, envelope: EventEnvelope) -> None:
        event = envelope.event()
        tenant = envelope.tenant
        position = envelope.position or 0
        if isinstance(event, PayerContractRowsStaged | PayerContractImported):
            # A large version's parts come just before its PayerContractImported, in the same command
            # (or replay): folding them here gives the version's rows.
            state = self._contracts.get(envelope.stream_id, payer_contract.DECIDER.initial)
            state = payer_contract.evolve(state, event)
            self._contracts[envelope.stream_id] = state
            if isinstance(event, PayerContractImported):
                version = state.versions[event.effective_from]
                row = ContractVersionRow(
                    event.payer_contract_id,
                    event.payer_id,
                    event.effective_from,
                    version.requires_modifier_33,
                    version.rows,
                )
                await payer_contracts.save_contract_version(
                    self.connection, tenant, row, position, envelope.occurred_at
                )
        elif isinstance(event, EstimateIssued):
            await self.connection.execute(
                "INSERT INTO invoicing_estimates VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                "ON CONFLICT DO NOTHING",
                tenant,
                event.estimate_id,
                event.patient_id,
                event.service_date,
                event.kind,
                event.patient_estimate_cents,
                position,
                estimate_document(event),
            )
        elif isinstance(event, FinancialAssistancePolicySet):
            await self.connection.execute(
                "INSERT INTO invoicing_assistance_policies VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (tenant, effective_from) DO UPDATE SET policy_id = excluded.policy_id, "
                "position = excluded.position, document = excluded.document",
                tenant,
                event.policy_id,
                event.effective_from,
                position,
                event.model_dump(mode="json"),
            )
        elif isinstance(event, FinancialAssistanceDetermined):
            await self.connection.execute(
                "INSERT INTO invoicing_assistance_determinations VALUES "
                "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                tenant,
                event.application_id,
                event.patient_id,
                event.eligible,
                event.discount_basis_points,
                event.agb_basis_points,
                event.received_on,
                event.valid_from,
                event.valid_until,
                position,
            )

    async def __call__(self, envelopes: list[EventEnvelope]) -> None:
        for envelope in envelopes:
            await self.apply(envelope)


class PostgresPatientSideViews(PostgresViews):
    async def contract_on(self, tenant: str, payer_id: str, on: date) -> ContractRates | None:
        return await payer_contracts.contract_on(self.connection, tenant, payer_id, on)

    async def coverage(self, tenant: str, coverage_id: str) -> CoverageOnFile | None:
        row = await self.connection.fetchrow(
            "SELECT coverage_id, patient_id, payer_id, priority, effective_from, effective_to "
            "FROM invoicing_coverages WHERE tenant = $1 AND coverage_id = $2",
            tenant,
            coverage_id,
        )
        return CoverageOnFile(**dict(row)) if row else None

    async def latest_benefits(self, tenant: str, coverage_id: str) -> Benefits | None:
        row = await self.connection.fetchrow(
            "SELECT * FROM invoicing_benefits WHERE tenant = $1 AND coverage_id = $2 AND status = 'active'",
            tenant,
            coverage_id,
        )
        if row is None:
            return None
        # Without the deductible left the answer cannot bound the patient's share: the estimate then
        # assumes none of it is met (domain.estimates). An unstated copay or coinsurance is none.
        if row["deductible_remaining_cents"] is None:
            return None
        return Benefits(
            deductible_remaining_cents=row["deductible_remaining_cents"],
            copay_cents=row["copay_cents"] or 0,
            coinsurance_basis_points=row["coinsurance_basis_points"] or 0,
            out_of_pocket_remaining_cents=row["out_of_pocket_remaining_cents"],
            source=f"eligibility-check:{row['check_id']}",
        )

    async def provider(self, tenant: str, provider_id: str) -> ProviderOnFile | None:
        row = await self.connection.fetchrow(
            "SELECT provider_id, npi, name, tax_id, address FROM invoicing_providers "
            "WHERE tenant = $1 AND provider_id = $2",
            tenant,
            provider_id,
        )
        return ProviderOnFile(**dict(row)) if row else None

    async def assistance_policy_on(self, tenant: str, on: date) -> tuple[str, AssistancePolicy] | None:
        row = await self.connection.fetchrow(
            "SELECT policy_id, document FROM invoicing_assistance_policies "
            "WHERE tenant = $1 AND effective_from <= $2 ORDER BY effective_from DESC LIMIT 1",
            tenant,
            on,
        )
        if row is None:
            return None
        return row["policy_id"], policy_of(FinancialAssistancePolicySet.model_validate(row["document"]))

    async def assistance_on(self, tenant: str, patient_id: str, on: date) -> Determination | None:
        row = await self.connection.fetchrow(
            "SELECT application_id, eligible, discount_basis_points, agb_basis_points, valid_from, "
            "valid_until FROM invoicing_assistance_determinations WHERE tenant = $1 AND patient_id = $2 "
            "AND valid_from <= $3 AND $3 <= valid_until ORDER BY position DESC LIMIT 1",
            tenant,
            patient_id,
            on,
        )
        return Determination(**dict(row)) if row else None

    async def patient_balances(self, tenant: str, patient_id: str) -> list[PatientBalance]:
        rows = await self.connection.fetch(
            "SELECT invoice_id, service_date, total_charge_cents, patient_responsibility_cents, "
            "(document->>'patient_paid_cents')::bigint AS patient_paid_cents, "
            "(SELECT coalesce(sum((w->>'amount_cents')::bigint), 0) FROM jsonb_array_elements("
            "coalesce(document->'write_offs', '[]'::jsonb)) w WHERE w->>'reason' = 'charity')::bigint "
            "AS charity_written_off_cents FROM invoicing_invoices "
            "WHERE tenant = $1 AND patient_id = $2 AND patient_responsibility_cents > 0 "
            "AND status <> 'voided' ORDER BY first_position",
            tenant,
            patient_id,
        )
        return [PatientBalance(**dict(row)) for row in rows]


def patient_side_unit(session: Session) -> PatientSideUnit:
    return UnitOfWork(session, PostgresPatientSideViews(session.connection))


# Registration's providers and eligibility answers, as far as estimates need them.


async def save_provider(connection: asyncpg.Connection, tenant: str, event: ProviderEnrolled) -> None:
    name = event.organization_name or " ".join(p for p in (event.given_name, event.family_name) if p)
    await connection.execute(
        "INSERT INTO invoicing_providers VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, provider_id) "
        "DO UPDATE SET npi = excluded.npi, name = excluded.name, tax_id = excluded.tax_id, "
        "address = excluded.address",
        tenant,
        event.provider_id,
        event.npi,
        name,
        event.tax_id,
        event.address.model_dump(mode="json"),
    )


async def save_benefits(
    connection: asyncpg.Connection, tenant: str, event: EligibilityCheckAnswered, position: int
) -> None:
    """The coverage's latest answer (by registration's log position) is the one estimates use."""
    await connection.execute(
        "INSERT INTO invoicing_benefits VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "ON CONFLICT (tenant, coverage_id) DO UPDATE SET check_id = excluded.check_id, "
        "status = excluded.status, deductible_remaining_cents = excluded.deductible_remaining_cents, "
        "copay_cents = excluded.copay_cents, coinsurance_basis_points = excluded.coinsurance_basis_points, "
        "out_of_pocket_remaining_cents = excluded.out_of_pocket_remaining_cents, "
        "position = excluded.position "
        "WHERE invoicing_benefits.position < excluded.position",
        tenant,
        event.coverage_id,
        event.check_id,
        event.status,
        event.deductible_remaining_cents,
        event.copay_cents,
        event.coinsurance_basis_points,
        event.out_of_pocket_remaining_cents,
        position,
    )


async def rebuild_patient_side(store: EventStore, batch: int = 1000) -> int:
    """Empty the patient side's own tables and refill them from invoicing's log, in one transaction
    (readers see the old or the new tables). Returns the events applied."""
    mine: list[EventEnvelope] = []
    after = 0
    while True:
        envelopes = await store.read_all(after, batch)
        if not envelopes:
            break
        after = envelopes[-1].position or after
        mine += [e for e in envelopes if e.event().aggregate in AGGREGATES]
    async with store.session() as session:
        await session.connection.execute(f"TRUNCATE {', '.join(OWN_PATIENT_SIDE_TABLES)}")
        await Projection(session.connection)(mine)
    return len(mine)
