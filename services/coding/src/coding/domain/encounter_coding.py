"""The EncounterCoding aggregate: the versioned diagnoses and procedure lines of one encounter.

decide(CodeEncounter, state) -> [EncounterCoded | EncounterRecoded] or [] (same coding again)
                                or raises CodingRejected (an edit failed with severity error)
evolve(state, event) -> state
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from billing_events.contracts.base import Event, Sealed
from billing_events.contracts.coding import CodedLine, EditFinding, EncounterCoded, EncounterRecoded
from billing_events.decider import Decider
from coding.domain.codesets import CodeSets, code_system, dotted
from coding.domain.edits import EditContext, run_edits
from coding.domain.errors import CodingRejected
from coding.domain.values import EncounterFacts, ProposedCoding

STREAM_TYPE = "encounter-coding"


@dataclass(frozen=True)
class CodeEncounter:
    """A coder's diagnoses and lines for an encounter, with the code sets for its date."""

    encounter: EncounterFacts
    coding: ProposedCoding
    code_sets: CodeSets


@dataclass(frozen=True)
class EncounterCoding:
    encounter_id: str | None = None
    version: int = 0  # 0: never coded
    service_date: date | None = None
    diagnoses: tuple[str, ...] = ()
    lines: tuple[CodedLine, ...] = ()
    warnings: tuple[EditFinding, ...] = ()
    reason: str | None = None
    sealed_reason: Sealed | None = None  # the reason, sealed under the patient's key

    @property
    def coded(self) -> bool:
        return self.version > 0

    def with_reason(self, reason: str) -> EncounterCoding:
        return dataclasses.replace(self, reason=reason, sealed_reason=None)


def _coded_lines(coding: ProposedCoding) -> tuple[CodedLine, ...]:
    lines = []
    for number, line in enumerate(coding.lines, start=1):
        system = code_system(line.code)
        assert system is not None, "CPT-FORMAT refuses codes of no system before this point"
        lines.append(
            CodedLine(
                line_number=number,
                code=line.code,
                code_system=system,
                modifiers=line.modifiers,
                units=line.units,
                diagnosis_pointers=line.diagnosis_pointers,
            )
        )
    return tuple(lines)


def decide(command: CodeEncounter, state: EncounterCoding) -> Sequence[Event]:
    findings = run_edits(EditContext(command.encounter, command.coding, command.code_sets))
    if any(f.severity == "error" for f in findings):
        raise CodingRejected(findings)
    diagnoses = tuple(dotted(code) for code in command.coding.diagnoses)
    lines = _coded_lines(command.coding)
    if state.coded and state.diagnoses == diagnoses and state.lines == lines:
        return []  # PUT is idempotent: the same coding again is no new version for invoicing to reissue
    warnings = tuple(
        EditFinding(edit_id=f.edit_id, severity=f.severity, message=f.message, field=f.field)
        for f in findings
    )
    facts = command.encounter
    if not state.coded:
        return [
            EncounterCoded(
                encounter_id=facts.encounter_id,
                patient_id=facts.patient_id,
                coding_version=1,
                service_date=facts.service_date,
                billing_provider_id=facts.billing_provider_id,
                rendering_provider_id=facts.rendering_provider_id,
                place_of_service=facts.place_of_service,
                diagnoses=diagnoses,
                lines=lines,
                warnings=warnings,
            )
        ]
    return [
        EncounterRecoded(
            encounter_id=facts.encounter_id,
            patient_id=facts.patient_id,
            coding_version=state.version + 1,
            previous_version=state.version,
            service_date=facts.service_date,
            billing_provider_id=facts.billing_provider_id,
            rendering_provider_id=facts.rendering_provider_id,
            place_of_service=facts.place_of_service,
            diagnoses=diagnoses,
            lines=lines,
            warnings=warnings,
            reason=command.coding.reason,
        )
    ]


def evolve(state: EncounterCoding, event: Event) -> EncounterCoding:
    if isinstance(event, EncounterCoded | EncounterRecoded):
        return EncounterCoding(
            encounter_id=event.encounter_id,
            version=event.coding_version,
            service_date=event.service_date,
            diagnoses=event.diagnoses,
            lines=event.lines,
            warnings=event.warnings,
            reason=event.reason if isinstance(event, EncounterRecoded) else None,
            sealed_reason=event.sealed_reason if isinstance(event, EncounterRecoded) else None,
        )
    return state


DECIDER: Decider[CodeEncounter, EncounterCoding] = Decider(
    initial=EncounterCoding(), decide=decide, evolve=evolve, stream_type=STREAM_TYPE
)
