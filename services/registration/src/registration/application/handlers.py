"""Registration's commands: gather the facts a decision needs from the views, decide, append.

Each runs inside one transaction (the caller's Session, shared with the Idempotency-Key record):
cross-aggregate facts are read under an advisory lock, the events are appended at the stream's
loaded version, and the views are brought up to date before the transaction commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from billing_events.contracts.base import Event, Sealed
from billing_events.contracts.registration import EncounterOpened
from billing_events.decider import Decider, Outcome, Seal, StreamOfAnotherTenant, execute
from billing_events.envelope import Metadata
from billing_events.phi import BlindIndex
from billing_events.unit_of_work import UnitOfWork
from registration.application.ports import Phi, Views
from registration.application.sealing import DeferredSealer
from registration.domain import (
    admission,
    coverage,
    eligibility_check,
    encounter,
    facility,
    patient,
    payer,
    provider,
)
from registration.domain.errors import NotRegistered
from registration.domain.validation import PRIORITIES
from registration.domain.values import (
    AddressInput,
    Demographics,
    NameInput,
    PersonName,
    PostalAddress,
    SubscriberInput,
)


@dataclass(frozen=True)
class CommandContext(UnitOfWork[Views]):
    """The unit of work (log and views in one transaction) with what registration's commands also
    need: the vault that seals patient data, the MRN blind index, who acts, and the date."""

    vault: Phi
    blind_index: BlindIndex
    metadata: Metadata
    today: date

    @property
    def tenant(self) -> str:
        return self.metadata.tenant

    async def project(self, outcome: Outcome[Any]) -> None:
        """execute's projection hook: the views follow every appended event, in this transaction."""
        for envelope in outcome.appended:
            await self.views.apply(envelope)

    async def start(
        self, decider: Decider[Any, Any], stream_id: str, command: Any, *, seal: Seal | None = None
    ) -> Outcome[Any]:
        """A command that starts a stream under an id it just made up (`new_id()`): nothing to load,
        the events appended at version 0, the views brought up to date."""
        return await execute(
            self.session,
            decider,
            stream_id,
            command,
            self.metadata,
            seal=seal,
            project=self.project,
            new_stream=True,
        )

    def sealing(self, sealer: DeferredSealer) -> Seal:
        """execute's sealing hook: what the events carry is sealed under the patient's key."""

        async def seal(events: list[Event]) -> list[Event]:
            return await sealer.seal(self.vault, events)

        return seal


def new_id() -> str:
    return str(uuid.uuid4())


async def register_payer(
    ctx: CommandContext,
    *,
    name: str | None,
    edi_payer_id: str | None,
    claim_filing_indicator: str | None,
    address: AddressInput | None,
    timely_filing_days: int | None,
) -> str:
    payer_id = new_id()
    command = payer.RegisterPayer(
        payer_id=payer_id,
        name=name,
        edi_payer_id=edi_payer_id,
        claim_filing_indicator=claim_filing_indicator,
        address=address,
        timely_filing_days=timely_filing_days,
    )
    await ctx.start(payer.payer, payer_id, command)
    return payer_id


async def enroll_provider(
    ctx: CommandContext,
    *,
    npi: str | None,
    name: str | NameInput | None,
    taxonomy_code: str | None,
    role: str | None,
    address: AddressInput | None,
    tax_id: str | None,
) -> str:
    provider_id = new_id()
    taken = False
    if npi and role:
        await ctx.views.lock(ctx.tenant, "npi", npi.strip(), role)
        taken = await ctx.views.npi_enrolled_in_role(ctx.tenant, npi.strip(), role)
    command = provider.EnrollProvider(
        provider_id=provider_id,
        npi=npi,
        name=name,
        taxonomy_code=taxonomy_code,
        role=role,
        address=address,
        tax_id=tax_id,
        npi_enrolled_in_role=taken,
    )
    await ctx.start(provider.provider, provider_id, command)
    return provider_id


async def register_patient(
    ctx: CommandContext,
    *,
    mrn: str | None,
    name: NameInput | None,
    birth_date: str | None,
    sex: str | None,
    address: AddressInput | None,
    phone: str | None,
) -> str:
    patient_id = new_id()
    mrn_index, taken = "", False
    if mrn and mrn.strip():
        mrn_index = ctx.blind_index(ctx.tenant, "mrn", mrn)
        # Two registrations of one MRN wait for each other here, so only one can find it free.
        await ctx.views.lock(ctx.tenant, "mrn", mrn_index)
        lookups = ctx.blind_index.lookups(ctx.tenant, "mrn", mrn)
        taken = await ctx.views.patient_by_mrn_index(ctx.tenant, lookups) is not None
    sealer = DeferredSealer(patient_id)
    command = patient.RegisterPatient(
        patient_id=patient_id,
        mrn=mrn,
        mrn_index=mrn_index,
        name=name,
        birth_date=birth_date,
        sex=sex,
        address=address,
        phone=phone,
        today=ctx.today,
        seal=sealer,
        mrn_taken=taken,
    )
    await ctx.start(patient.patient, patient_id, command, seal=ctx.sealing(sealer))
    return patient_id


async def open_demographics(vault: Phi, row: dict[str, Any]) -> Demographics:
    """A patient's current identifiers in clear, from the sealed values of the view."""
    name = await vault.open(_sealed(row["name"]), "name")
    address = await vault.open(_sealed(row["address"]), "address")
    birth_date = await vault.open(_sealed(row["birth_date"]), "birth_date")
    phone = await vault.open(_sealed(row["phone"]), "phone") if row["phone"] else None
    return Demographics(
        name=PersonName(**name),
        birth_date=date.fromisoformat(birth_date),
        sex=row["sex"],
        address=PostalAddress(**address),
        phone=phone,
    )


def _sealed(value: dict[str, Any]) -> Sealed:
    return Sealed.model_validate(value)


async def forget_patient(
    ctx: CommandContext, patient_id: str, *, reason: str | None, legal_order: bool, retention_days: int
) -> bool:
    """Crypto-shred a patient: record PatientForgotten (every service reads it on the patient topic),
    then destroy the patient's data key, so every sealed value of the patient, in every log, topic,
    view and sealed file, is unreadable. The hash chains are untouched (sealed bytes stay as they
    were). Returns whether this call forgot the patient (False: forgotten before). The key is
    destroyed inside the command's transaction, before it commits: should the commit fail, the data
    is already unreadable and asking again records the event; the safe direction for a forget."""
    if await ctx.views.patient(ctx.tenant, patient_id) is None:
        raise NotRegistered("patient")
    command = patient.ForgetPatient(
        patient_id=patient_id,
        reason=reason,
        legal_order=legal_order,
        last_service_date=await ctx.views.last_service_date(ctx.tenant, patient_id),
        today=ctx.today,
        retention_days=retention_days,
    )
    outcome = await execute(
        ctx.session, patient.patient, patient_id, command, ctx.metadata, project=ctx.project
    )
    await ctx.vault.destroy(patient_id)
    return outcome.changed


async def update_demographics(
    ctx: CommandContext,
    patient_id: str,
    *,
    expected_version: int | None,
    name: NameInput | None = None,
    birth_date: str | None = None,
    sex: str | None = None,
    address: AddressInput | None = None,
    phone: str | None = None,
) -> int:
    """Returns the patient's version after the update (unchanged when nothing changed)."""
    row = await ctx.views.patient(ctx.tenant, patient_id)
    if row is None:
        raise NotRegistered("patient")
    sealer = DeferredSealer(patient_id)
    command = patient.UpdateDemographics(
        patient_id=patient_id,
        current=await open_demographics(ctx.vault, row),
        today=ctx.today,
        seal=sealer,
        name=name,
        birth_date=birth_date,
        sex=sex,
        address=address,
        phone=phone,
    )
    outcome = await execute(
        ctx.session,
        patient.patient,
        patient_id,
        command,
        ctx.metadata,
        expected_version=expected_version,
        seal=ctx.sealing(sealer),
        project=ctx.project,
    )
    return outcome.new_version


async def add_coverage(
    ctx: CommandContext,
    patient_id: str,
    *,
    payer_id: str | None,
    member_id: str | None,
    group_number: str | None,
    priority: str | None,
    relationship_to_subscriber: str | None,
    subscriber: SubscriberInput | None,
    effective_from: str | None,
    effective_to: str | None,
) -> str:
    coverage_id = new_id()
    # One patient's coverages are decided one at a time, so two overlapping ones cannot both pass.
    await ctx.views.lock(ctx.tenant, "coverages", patient_id)
    patient_known = await ctx.views.patient(ctx.tenant, patient_id) is not None
    payer_known = bool(payer_id) and await ctx.views.payer(ctx.tenant, payer_id or "") is not None
    spans = (
        await ctx.views.coverage_spans(ctx.tenant, patient_id, priority)
        if patient_known and priority in PRIORITIES
        else ()
    )
    sealer = DeferredSealer(patient_id)
    command = coverage.AddCoverage(
        coverage_id=coverage_id,
        patient_id=patient_id,
        payer_id=payer_id,
        member_id=member_id,
        group_number=group_number,
        priority=priority,
        relationship_to_subscriber=relationship_to_subscriber,
        subscriber=subscriber,
        effective_from=effective_from,
        effective_to=effective_to,
        today=ctx.today,
        seal=sealer,
        patient_known=patient_known,
        payer_known=payer_known,
        same_priority=spans,
    )
    await ctx.start(coverage.coverage, coverage_id, command, seal=ctx.sealing(sealer))
    return coverage_id


async def terminate_coverage(ctx: CommandContext, coverage_id: str, *, effective_to: str | None) -> date:
    row = await ctx.views.coverage(ctx.tenant, coverage_id)
    if row is None:
        raise NotRegistered("coverage")
    await ctx.views.lock(ctx.tenant, "coverages", row["patient_id"])
    command = coverage.TerminateCoverage(coverage_id=coverage_id, effective_to=effective_to)
    outcome = await execute(
        ctx.session, coverage.coverage, coverage_id, command, ctx.metadata, project=ctx.project
    )
    return date.fromisoformat(outcome.appended[0].payload["effective_to"])


async def open_encounter(
    ctx: CommandContext,
    *,
    patient_id: str | None,
    billing_provider_id: str | None,
    rendering_provider_id: str | None,
    service_date: str | None,
    place_of_service: str | None,
    check_eligibility_after_days: int | None = None,
) -> str:
    encounter_id = new_id()
    patient_facts = billing = rendering = None
    if patient_id and (row := await ctx.views.patient(ctx.tenant, patient_id)) is not None:
        born = await ctx.vault.open(_sealed(row["birth_date"]), "birth_date")
        patient_facts = encounter.PatientFacts(sex=row["sex"], birth_date=date.fromisoformat(born))
    if billing_provider_id and (found := await ctx.views.provider(ctx.tenant, billing_provider_id)):
        billing = encounter.ProviderFacts(role=found["role"])
    if rendering_provider_id and (found := await ctx.views.provider(ctx.tenant, rendering_provider_id)):
        rendering = encounter.ProviderFacts(role=found["role"])
    command = encounter.OpenEncounter(
        encounter_id=encounter_id,
        patient_id=patient_id,
        billing_provider_id=billing_provider_id,
        rendering_provider_id=rendering_provider_id,
        service_date=service_date,
        place_of_service=place_of_service,
        today=ctx.today,
        patient=patient_facts,
        billing_provider=billing,
        rendering_provider=rendering,
    )
    outcome = await ctx.start(encounter.encounter, encounter_id, command)
    if check_eligibility_after_days is not None:
        opened = outcome.appended[0].event()
        assert isinstance(opened, EncounterOpened)
        await _check_eligibility_at_encounter(ctx, opened, check_eligibility_after_days)
    return encounter_id


async def _check_eligibility_at_encounter(ctx: CommandContext, opened: EncounterOpened, days: int) -> None:
    """Ask about each coverage in force on the encounter's date whose eligibility is not known from the
    last `days` days, for the encounter's billing provider, in the encounter's transaction."""
    since = datetime.combine(ctx.today - timedelta(days=days), time.min, UTC)
    for row in await ctx.views.coverages_to_check(ctx.tenant, opened.patient_id, opened.service_date, since):
        check_id = new_id()
        command = eligibility_check.RequestCheck(
            check_id=check_id,
            coverage_id=row["coverage_id"],
            service_date=opened.service_date.isoformat(),
            provider_id=opened.billing_provider_id,
            today=ctx.today,
            coverage=eligibility_check.CoverageFacts(row["patient_id"], row["payer_id"]),
            provider_known=True,
            default_provider_id=None,
        )
        await ctx.start(eligibility_check.eligibility_check, check_id, command)


async def request_eligibility_check(
    ctx: CommandContext, coverage_id: str, *, provider_id: str | None, service_date: str | None
) -> str:
    """Ask the coverage's payer (through claims' 270) whether it is in force; the answer arrives later
    on the check (GET /eligibility-checks/{id}) and on the coverage."""
    check_id = new_id()
    row = await ctx.views.coverage(ctx.tenant, coverage_id)
    facts = None if row is None else eligibility_check.CoverageFacts(row["patient_id"], row["payer_id"])
    provider_known = bool(provider_id) and await ctx.views.provider(ctx.tenant, provider_id or "") is not None
    command = eligibility_check.RequestCheck(
        check_id=check_id,
        coverage_id=coverage_id,
        service_date=service_date,
        provider_id=provider_id,
        today=ctx.today,
        coverage=facts,
        provider_known=provider_known,
        default_provider_id=None if provider_id else await ctx.views.first_billing_provider(ctx.tenant),
    )
    await ctx.start(eligibility_check.eligibility_check, check_id, command)
    return check_id


async def record_eligibility_answer(
    unit: UnitOfWork[Views], check_id: str, answer: eligibility_check.RecordAnswer, metadata: Metadata
) -> bool:
    """Claims' reading of the payer's 271 (or its failure to ask), recorded on the check once. False
    when the check is not one of this tenant's: nothing to record."""

    async def project(outcome: Outcome[Any]) -> None:
        for envelope in outcome.appended:
            await unit.views.apply(envelope)

    try:
        outcome = await execute(
            unit.session, eligibility_check.eligibility_check, check_id, answer, metadata, project=project
        )
    except (NotRegistered, StreamOfAnotherTenant):
        return False
    return outcome.changed


async def register_facility(
    ctx: CommandContext,
    *,
    name: str | None,
    npi: str | None,
    tax_id: str | None,
    kind: str | None,
    address: AddressInput | None,
    taxonomy_code: str | None,
) -> str:
    facility_id = new_id()
    taken = False
    if npi and npi.strip():
        # Two registrations of one NPI wait for each other here, so only one can find it free.
        await ctx.views.lock(ctx.tenant, "facility-npi", npi.strip())
        taken = await ctx.views.facility_npi_registered(ctx.tenant, npi.strip())
    command = facility.RegisterFacility(
        facility_id=facility_id,
        name=name,
        npi=npi,
        tax_id=tax_id,
        kind=kind,
        address=address,
        taxonomy_code=taxonomy_code,
        npi_registered=taken,
    )
    await ctx.start(facility.facility, facility_id, command)
    return facility_id


async def open_admission(
    ctx: CommandContext,
    *,
    patient_id: str | None,
    facility_id: str | None,
    attending_provider_id: str | None,
    setting: str | None,
    admitted_at: str | None,
    admission_type: str | None,
    admission_source: str | None,
    now: datetime,
) -> str:
    encounter_id = new_id()
    patient_facts = attending = None
    if patient_id and (row := await ctx.views.patient(ctx.tenant, patient_id)) is not None:
        born = await ctx.vault.open(_sealed(row["birth_date"]), "birth_date")
        patient_facts = encounter.PatientFacts(sex=row["sex"], birth_date=date.fromisoformat(born))
    facility_known = bool(facility_id) and await ctx.views.facility(ctx.tenant, facility_id or "") is not None
    if attending_provider_id and (found := await ctx.views.provider(ctx.tenant, attending_provider_id)):
        attending = encounter.ProviderFacts(role=found["role"])
    command = admission.OpenAdmission(
        encounter_id=encounter_id,
        patient_id=patient_id,
        facility_id=facility_id,
        attending_provider_id=attending_provider_id,
        setting=setting,
        admitted_at=admitted_at,
        admission_type=admission_type,
        admission_source=admission_source,
        now=now,
        patient=patient_facts,
        facility_known=facility_known,
        attending_provider=attending,
    )
    await ctx.start(admission.admission, encounter_id, command)
    return encounter_id


async def discharge(
    ctx: CommandContext,
    encounter_id: str,
    *,
    discharged_at: str | None,
    discharge_status: str | None,
    now: datetime,
) -> dict[str, Any]:
    command = admission.DischargeAdmission(
        encounter_id=encounter_id, discharged_at=discharged_at, discharge_status=discharge_status, now=now
    )
    outcome = await execute(
        ctx.session, admission.admission, encounter_id, command, ctx.metadata, project=ctx.project
    )
    payload = outcome.appended[0].payload
    return {
        "encounter_id": encounter_id,
        "status": "discharged",
        "discharged_at": payload["discharged_at"],
        "discharge_status": payload["discharge_status"],
    }
