"""Coding's use cases: code an encounter (load, decide, append), read a coding, search codes, keep the
projection of registration's encounters, and manage a tenant's CPT list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from billing_events.contracts.coding import InstitutionalEncounterCoded
from billing_events.contracts.registration import (
    AdmissionDischarged,
    AdmissionOpened,
    EncounterOpened,
    PatientDemographicsUpdated,
)
from billing_events.decider import execute
from billing_events.envelope import EventEnvelope, Metadata
from billing_events.store import Session
from coding.application.free_text import opened, opened_state, reason_sealing
from coding.application.ports import CodeSearch, SearchResult, Unit, Vault, Views
from coding.domain import institutional_coding
from coding.domain.codesets import CPT_FORMAT, CodeSets, ReferenceData, code_system
from coding.domain.drg import CmsEditor, WeightTables
from coding.domain.encounter_coding import DECIDER, CodeEncounter, EncounterCoding
from coding.domain.errors import EncounterUnknown, WrongCodingKind
from coding.domain.institutional import ProposedInstitutionalCoding
from coding.domain.values import ProposedCoding, shown


@dataclass(frozen=True)
class Coded:
    state: EncounterCoding
    changed: bool  # False when the same coding was sent again


async def code_encounter(
    unit: Unit,
    vault: Vault,
    reference: ReferenceData,
    tenant: str,
    encounter_id: str,
    coding: ProposedCoding,
    metadata: Metadata,
    *,
    expected_version: int | None = None,
) -> Coded:
    facts = await unit.views.encounter_facts(tenant, encounter_id)
    if facts is None:
        if await unit.views.admission_facts(tenant, encounter_id) is not None:
            raise WrongCodingKind(institutional_encounter=True)
        raise EncounterUnknown()
    cpt_codes = [line.code for line in coding.lines if code_system(line.code) == "CPT"]
    licence = await unit.views.cpt_licence(tenant, cpt_codes)
    command = CodeEncounter(facts, coding, CodeSets(reference, licence))
    outcome = await execute(
        unit.session,
        DECIDER,
        encounter_id,
        command,
        metadata,
        expected_version=expected_version,
        seal=reason_sealing(vault, facts.patient_id),
    )
    return Coded(await opened_state(vault, outcome.after), changed=outcome.changed)


@dataclass(frozen=True)
class InstitutionalCoded:
    coding: InstitutionalEncounterCoded | None
    changed: bool  # False when the same coding was sent again


async def code_admission(
    unit: Unit,
    vault: Vault,
    reference: ReferenceData,
    cms: CmsEditor,
    weights: WeightTables,
    tenant: str,
    encounter_id: str,
    coding: ProposedInstitutionalCoding,
    metadata: Metadata,
    *,
    today: date,
    expected_version: int | None = None,
) -> InstitutionalCoded:
    stay = await unit.views.admission_facts(tenant, encounter_id)
    if stay is None:
        if await unit.views.encounter_facts(tenant, encounter_id) is not None:
            raise WrongCodingKind(institutional_encounter=False)
        raise EncounterUnknown()
    command = institutional_coding.CodeAdmission(stay, coding, CodeSets(reference), cms, weights, today)
    outcome = await execute(
        unit.session,
        institutional_coding.DECIDER,
        encounter_id,
        command,
        metadata,
        expected_version=expected_version,
        seal=reason_sealing(vault, stay.patient_id),
    )
    coded = outcome.after.coded
    return InstitutionalCoded(None if coded is None else await opened(vault, coded), changed=outcome.changed)


@dataclass(frozen=True)
class CodingView:
    state: EncounterCoding
    coded_by: str | None
    coded_at: datetime
    # The latest institutional coding, when the encounter is an admission.
    institutional: InstitutionalEncounterCoded | None = None


async def coding_of(session: Session, vault: Vault, tenant: str, encounter_id: str) -> CodingView | None:
    history = await session.load(encounter_id)
    if not history or any(e.tenant != tenant for e in history):
        return None  # another tenant's stream is as absent as no stream
    events = [e.event() for e in history]
    state = DECIDER.fold(events)
    institutional = institutional_coding.DECIDER.fold(events).coded
    if not state.coded and institutional is None:
        return None
    last = history[-1]
    return CodingView(
        await opened_state(vault, state),
        last.metadata.get("actor"),
        last.occurred_at,
        None if institutional is None else await opened(vault, institutional),
    )


def search_icd10cm(
    index: CodeSearch, query: str, *, limit: int, offset: int, billable_only: bool
) -> SearchResult:
    return index.search(query, limit=limit, offset=offset, billable_only=billable_only)


# The projection of registration's events ---------------------------------------------------------


async def on_encounter_opened(views: Views, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, EncounterOpened)
    await views.record_encounter(envelope.tenant, event, envelope.occurred_at)


async def on_admission_opened(views: Views, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, AdmissionOpened)
    await views.record_admission(envelope.tenant, event, envelope.occurred_at)


async def on_admission_discharged(views: Views, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, AdmissionDischarged)
    await views.record_discharge(envelope.tenant, event)


async def on_demographics_updated(views: Views, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, PatientDemographicsUpdated)
    if event.sex is not None:  # the only clear-text demographic coding's edits need
        await views.record_sex_correction(envelope.tenant, event.patient_id, event.sex, envelope.occurred_at)


# A tenant's licensed CPT list ----------------------------------------------------------------------


@dataclass(frozen=True)
class BadListEntry:
    field: str
    message: str


def check_cpt_list(codes: Sequence[str], field_name: str) -> tuple[list[str], list[BadListEntry]]:
    """Normalise the codes and name every entry that is not a CPT code."""
    clean: list[str] = []
    problems: list[BadListEntry] = []
    for index, raw in enumerate(codes):
        code = raw.strip().upper()
        if CPT_FORMAT.match(code):
            clean.append(code)
        else:
            problems.append(
                BadListEntry(
                    f"{field_name}[{index}]",
                    f"{shown(code)} is not a CPT code (5 digits, or 4 digits and F, T, U or M).",
                )
            )
    return clean, problems
