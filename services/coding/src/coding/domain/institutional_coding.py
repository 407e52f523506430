"""The institutional coding of an admission: principal/admitting/other diagnoses with POA, ICD-10-PCS
procedures and, for an inpatient stay, its MS-DRG. Same stream as professional coding (one encounter
is either kind), its own event: InstitutionalEncounterCoded, one per version.

decide(CodeAdmission, state) -> [InstitutionalEncounterCoded] or [] (same coding again)
                                or raises CodingRejected (an edit failed with severity error)
evolve(state, event) -> state
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from billing_events.contracts.base import Event
from billing_events.contracts.coding import (
    DrgAssignment,
    EditFinding,
    InstitutionalDiagnosis,
    InstitutionalEncounterCoded,
    InstitutionalProcedure,
)
from billing_events.decider import Decider
from coding.domain.codesets import CodeSets, dotted
from coding.domain.drg import CmsEditor, WeightTables
from coding.domain.edits.institutional import InstitutionalContext, assess
from coding.domain.encounter_coding import STREAM_TYPE
from coding.domain.errors import CodingRejected
from coding.domain.institutional import AdmissionFacts, ProposedDiagnosis, ProposedInstitutionalCoding
from coding.domain.poa import EXEMPT, poa_exempt


@dataclass(frozen=True)
class CodeAdmission:
    stay: AdmissionFacts
    coding: ProposedInstitutionalCoding
    code_sets: CodeSets
    cms: CmsEditor
    weights: WeightTables
    today: date


@dataclass(frozen=True)
class InstitutionalCoding:
    version: int = 0  # 0: never coded
    coded: InstitutionalEncounterCoded | None = None

    @property
    def is_coded(self) -> bool:
        return self.coded is not None


def _diagnosis(proposed: ProposedDiagnosis, inpatient: bool) -> InstitutionalDiagnosis:
    poa = proposed.poa
    if poa is None and inpatient and poa_exempt(proposed.code):
        poa = EXEMPT  # exempt codes carry 1 (the 837I sends it blank)
    return InstitutionalDiagnosis(code=dotted(proposed.code), poa=poa)


def decide(command: CodeAdmission, state: InstitutionalCoding) -> Sequence[Event]:
    stay, coding = command.stay, command.coding
    assessment = assess(
        InstitutionalContext(stay, coding, command.code_sets, command.cms, command.weights, command.today)
    )
    if assessment.rejected:
        raise CodingRejected(assessment.findings)
    assert coding.principal_diagnosis is not None
    principal = _diagnosis(coding.principal_diagnosis, stay.inpatient)
    admitting = dotted(coding.admitting_diagnosis) if coding.admitting_diagnosis else None
    diagnoses = tuple(_diagnosis(d, stay.inpatient) for d in coding.diagnoses)
    procedures = tuple(InstitutionalProcedure(code=p.code, date=p.date) for p in coding.procedures)
    drg: DrgAssignment | None = assessment.drg
    warnings = tuple(
        EditFinding(edit_id=f.edit_id, severity=f.severity, message=f.message, field=f.field)
        for f in assessment.findings
    )
    previous = state.coded
    # The warnings take part: the same codes sent again after discharge turn a provisional DRG into
    # the final one, which is a new version.
    if previous is not None and (
        previous.principal_diagnosis,
        previous.admitting_diagnosis,
        previous.diagnoses,
        previous.procedures,
        previous.drg,
        previous.warnings,
    ) == (principal, admitting, diagnoses, procedures, drg, warnings):
        return []  # PUT is idempotent: the same coding again is no new version
    return [
        InstitutionalEncounterCoded(
            encounter_id=stay.encounter_id,
            patient_id=stay.patient_id,
            coding_version=state.version + 1,
            previous_version=state.version or None,
            facility_id=stay.facility_id,
            attending_provider_id=stay.attending_provider_id,
            setting=stay.setting,
            admitted_at=stay.admitted_at,
            principal_diagnosis=principal,
            admitting_diagnosis=admitting,
            diagnoses=diagnoses,
            procedures=procedures,
            drg=drg,
            warnings=warnings,
            reason=coding.reason if state.version else None,
        )
    ]


def evolve(state: InstitutionalCoding, event: Event) -> InstitutionalCoding:
    if isinstance(event, InstitutionalEncounterCoded):
        return InstitutionalCoding(version=event.coding_version, coded=event)
    return state


DECIDER: Decider[CodeAdmission, InstitutionalCoding] = Decider(
    initial=InstitutionalCoding(), decide=decide, evolve=evolve, stream_type=STREAM_TYPE
)
