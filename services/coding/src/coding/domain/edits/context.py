"""What every edit reads: the encounter, the proposed coding, and the code sets for its date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

from coding.domain.codesets import CodeSets, IcdCode, ReleaseChoice
from coding.domain.values import EncounterFacts, ProposedCoding

MAX_DIAGNOSES = 12
MAX_LINES = 50
MAX_MODIFIERS = 4
MAX_POINTERS = 4
MAX_UNITS = 999


@dataclass(frozen=True)
class EditContext:
    encounter: EncounterFacts
    coding: ProposedCoding
    code_sets: CodeSets

    @property
    def service_date(self) -> date:
        return self.encounter.service_date

    @cached_property
    def release(self) -> ReleaseChoice | None:
        return self.code_sets.reference.icd10cm.for_date(self.service_date)

    def icd(self, code: str) -> IcdCode | None:
        """The code in the release chosen for the service date."""
        return self.release.release.get(code) if self.release else None
