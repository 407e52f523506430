"""What an institutional encounter (registration's AdmissionOpened) is to coding, and what a coder
proposes for it: principal, admitting and other diagnoses with POA, ICD-10-PCS procedures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from coding.domain.values import Sex

# The 3-day payment window: services in the 3 days before an inpatient admission belong to the stay.
PREADMISSION_DAYS = 3


@dataclass(frozen=True)
class AdmissionFacts:
    encounter_id: str
    patient_id: str
    facility_id: str
    attending_provider_id: str
    setting: str  # inpatient | outpatient
    admitted_at: datetime
    patient_sex: Sex
    patient_age_years: int
    discharged_at: datetime | None = None
    discharge_status: str | None = None

    @property
    def inpatient(self) -> bool:
        return self.setting == "inpatient"

    @property
    def admission_date(self) -> date:
        return self.admitted_at.date()

    @property
    def discharge_date(self) -> date | None:
        return self.discharged_at.date() if self.discharged_at else None

    @property
    def coding_date(self) -> date:
        """The date code sets and grouper are chosen by: the discharge (CMS: the discharge date
        decides the ICD-10 release and the MS-DRG version), or the admission while the stay is open."""
        return self.discharge_date or self.admission_date


@dataclass(frozen=True)
class ProposedDiagnosis:
    code: str  # trimmed, upper case, as sent (dotted or not)
    poa: str | None = None


@dataclass(frozen=True)
class ProposedProcedure:
    code: str
    date: date


@dataclass(frozen=True)
class ProposedInstitutionalCoding:
    principal_diagnosis: ProposedDiagnosis | None
    admitting_diagnosis: str | None = None
    diagnoses: tuple[ProposedDiagnosis, ...] = ()
    procedures: tuple[ProposedProcedure, ...] = ()
    reason: str | None = None

    @staticmethod
    def normalized(
        principal: ProposedDiagnosis | None,
        admitting: str | None,
        diagnoses: list[ProposedDiagnosis],
        procedures: list[ProposedProcedure],
        reason: str | None = None,
    ) -> ProposedInstitutionalCoding:
        """Trim and upper-case codes and indicators. A principal given without a POA takes the POA of
        the same code in `diagnoses`, which then is not listed twice."""

        def clean(d: ProposedDiagnosis) -> ProposedDiagnosis:
            poa = d.poa.strip().upper() if d.poa and d.poa.strip() else None
            return ProposedDiagnosis(d.code.strip().upper(), poa)

        others = [clean(d) for d in diagnoses]
        pdx = clean(principal) if principal is not None and principal.code.strip() else None
        if pdx is not None:
            bare = pdx.code.replace(".", "")
            same = [d for d in others if d.code.replace(".", "") == bare]
            if same:
                if pdx.poa is None:
                    pdx = ProposedDiagnosis(pdx.code, same[0].poa)
                others = [d for d in others if d.code.replace(".", "") != bare]
        admit = admitting.strip().upper() if admitting and admitting.strip() else None
        return ProposedInstitutionalCoding(
            principal_diagnosis=pdx,
            admitting_diagnosis=admit,
            diagnoses=tuple(others),
            procedures=tuple(ProposedProcedure(p.code.strip().upper(), p.date) for p in procedures),
            reason=reason.strip() if reason and reason.strip() else None,
        )
