"""Each edit, proven by a case it must catch and a neighbouring case it must let through.

The code sets here are tiny tables written for the tests: two ICD-10-CM "releases" (their contents
are test data, not CMS releases), a few HCPCS codes, NCCI pairs and MUE values.
"""

from __future__ import annotations

from datetime import date

import pytest

from coding.domain.codesets import (
    CodeSets,
    CptLicence,
    HcpcsCatalog,
    HcpcsCode,
    IcdCatalog,
    IcdCode,
    IcdRelease,
    MceList,
    MceLists,
    MueLimit,
    MueTable,
    MueTables,
    PtpEdit,
    PtpTable,
    ReferenceData,
    undotted,
)
from coding.domain.edits import CATALOGUE, EditContext, run_edits
from coding.domain.values import EncounterFacts, Finding, ProposedCoding, ProposedLine, Sex

OCT_2025 = date(2025, 10, 1)
APR_2026 = date(2026, 4, 1)
SERVICE_DAY = date(2026, 5, 12)


def release(effective: date, codes: dict[str, bool]) -> IcdRelease:
    return IcdRelease(
        effective,
        "test",
        {undotted(c): IcdCode(undotted(c), billable, f"test {c}") for c, billable in codes.items()},
    )


SHARED = {
    "E11": False,
    "E11.9": True,
    "I10": True,
    "J06.9": True,
    "O80": True,
    "C61": True,
    "N76.0": True,
    "P59.9": True,
    "Z00.129": True,
    "Z00.00": True,
    "Z34.82": True,
}
REFERENCE = ReferenceData(
    icd10cm=IcdCatalog(
        [
            # In the older test release R05 is billable and U09.8 exists; the newer one splits R05
            # (R05.1 new, R05 a header) and drops U09.8.
            release(OCT_2025, {**SHARED, "R05": True, "U09.8": True}),
            release(APR_2026, {**SHARED, "R05": False, "R05.1": True}),
        ]
    ),
    hcpcs=HcpcsCatalog(
        {
            "J1100": HcpcsCode("J1100", "test drug", date(2000, 1, 1), None),
            "G0001": HcpcsCode("G0001", "test ended code", date(2000, 1, 1), date(2025, 12, 31)),
            "G0999": HcpcsCode("G0999", "test new code", date(2026, 7, 1), None),
        }
    ),
    modifiers=frozenset({"25", "59", "76", "91", "LT", "RT", "XS", "XU", "GA", "QW"}),
    ptp=PtpTable.of(
        [
            PtpEdit("20610", "99213", date(2020, 1, 1), None, "1"),
            PtpEdit("80053", "80048", date(2020, 1, 1), None, "0"),
            PtpEdit("97530", "97140", date(2020, 1, 1), None, "1"),
            PtpEdit("11055", "11720", date(2020, 1, 1), date(2026, 1, 1), "1"),
            PtpEdit("11056", "11055", date(2020, 1, 1), None, "9"),
            PtpEdit("93000", "93010", date(2026, 7, 1), None, "0"),
        ]
    ),
    mue=MueTables(
        [
            MueTable(
                date(2025, 1, 1),
                {
                    "20610": MueLimit("20610", 2, 1),
                    "99213": MueLimit("99213", 1, 2),
                    "36415": MueLimit("36415", 2, 3),
                },
            )
        ]
    ),
    mce=MceLists(
        newborn=MceList.parse_entries("newborn", ["P00-P96", "Z38"], 0, 0),
        pediatric=MceList.parse_entries("pediatric", ["Z00.1"], 0, 17),
        maternity=MceList.parse_entries("maternity", ["O00-O9A", "Z34"], 9, 64),
        adult=MceList.parse_entries("adult", ["Z00.0"], 15, 124),
        female=MceList.parse_entries("female", ["O00-O9A", "Z34", "N70-N98"], None, None),
        male=MceList.parse_entries("male", ["C60-C63", "N40-N53"], None, None),
    ),
)


def line(code: str, *modifiers: str, units: int = 1, pointers: tuple[int, ...] = (1,)) -> ProposedLine:
    return ProposedLine(code, modifiers, units, pointers)


def run(
    diagnoses: list[str] | None = None,
    lines: list[ProposedLine] | None = None,
    *,
    sex: Sex = "F",
    age: int = 40,
    day: date = SERVICE_DAY,
    cpt: CptLicence | None = None,
) -> tuple[Finding, ...]:
    facts = EncounterFacts("enc-1", "pat-1", day, sex, age, "bill-1", "rend-1", "11")
    coding = ProposedCoding.normalized(
        ["I10"] if diagnoses is None else diagnoses, [line("99213")] if lines is None else lines
    )
    return run_edits(EditContext(facts, coding, CodeSets(REFERENCE, cpt or CptLicence())))


def of(edit_id: str, findings: tuple[Finding, ...]) -> list[str]:
    """The fields where `edit_id` fired."""
    return [f.field for f in findings if f.edit_id == edit_id]


def test_a_clean_coding_has_no_findings() -> None:
    assert run(["E11.9", "I10"], [line("99213", pointers=(1, 2)), line("36415")]) == ()


def test_every_edit_has_a_stable_id_and_a_severity() -> None:
    assert len(CATALOGUE) == 26 + 18  # professional, then institutional edits
    assert {s.severity for s in CATALOGUE.values()} == {"error", "warning"}
    assert [i for i, s in CATALOGUE.items() if s.severity == "warning"] == [
        "ICD-RELEASE",
        "AGE-NEWBORN",
        "PDX-QUESTIONABLE",
        "ADMIT-DX-MISSING",
        "PCS-DUPLICATE",
        "PCS-OUTPATIENT",
        "DRG-PROVISIONAL",
        "DRG-WEIGHTS",
    ]


# Diagnoses -------------------------------------------------------------------------------------------


def test_dx_count_needs_one_to_twelve_diagnoses() -> None:
    twelve = [
        "E11.9",
        "I10",
        "J06.9",
        "O80",
        "N76.0",
        "Z34.82",
        "R05.1",
        "E11",
        "C61",
        "P59.9",
        "Z00.00",
        "Z00.129",
    ]
    assert of("DX-COUNT", run([])) == ["diagnoses"]
    assert of("DX-COUNT", run([*twelve, "R05"])) == ["diagnoses"]
    assert of("DX-COUNT", run(twelve)) == []


def test_dx_duplicate_catches_the_same_code_written_twice() -> None:
    findings = run(["E11.9", "I10", "e119"], [line("99213")])
    assert of("DX-DUPLICATE", findings) == ["diagnoses[2]"]
    assert "repeats diagnoses[0]" in findings[0].message
    assert of("DX-DUPLICATE", run(["E11.9", "I10"])) == []


def test_icd_invalid_catches_what_no_release_holds_without_echoing_free_text() -> None:
    findings = run(["E11.99", "Jane Doe", "Smith"])
    assert of("ICD-INVALID", findings) == ["diagnoses[0]", "diagnoses[1]", "diagnoses[2]"]
    assert findings[0].message == "E11.99 is not an ICD-10-CM code."
    assert findings[1].message == findings[2].message == "The value given is not an ICD-10-CM code."
    assert of("ICD-INVALID", run(["E11.9"])) == []


def test_icd_nonbillable_catches_a_header() -> None:
    findings = run(["E11"])
    assert of("ICD-NONBILLABLE", findings) == ["diagnoses[0]"]
    assert findings[0].severity == "error"
    assert of("ICD-NONBILLABLE", run(["E11.9"])) == []


def test_the_release_of_the_service_date_decides_billability() -> None:
    # R05 is billable in the October 2025 test release and a header from April 2026.
    assert of("ICD-NONBILLABLE", run(["R05"], day=date(2026, 3, 31))) == []
    assert of("ICD-NONBILLABLE", run(["R05"], day=APR_2026)) == ["diagnoses[0]"]


def test_icd_date_catches_a_code_not_yet_valid() -> None:
    findings = run(["R05.1"], day=date(2025, 11, 3))
    assert of("ICD-DATE", findings) == ["diagnoses[0]"]
    assert "takes effect with the release of 2026-04-01" in findings[0].message
    assert of("ICD-DATE", run(["R05.1"], day=APR_2026)) == []


def test_icd_date_catches_a_code_no_longer_valid() -> None:
    findings = run(["U09.8"], day=SERVICE_DAY)
    assert of("ICD-DATE", findings) == ["diagnoses[0]"]
    assert "last in the release of 2025-10-01" in findings[0].message
    assert of("ICD-DATE", run(["U09.8"], day=date(2026, 3, 31))) == []


def test_icd_release_warns_when_no_loaded_release_covers_the_date() -> None:
    # The April 2026 release covers up to September 30; October 2026 needs a release not loaded.
    late = run(["E11.9"], day=date(2026, 10, 1))
    assert [(f.edit_id, f.severity, f.field) for f in late] == [("ICD-RELEASE", "warning", "service_date")]
    assert "effective 2026-10-01" in late[0].message and "effective 2026-04-01" in late[0].message
    early = run(["E11.9"], day=date(2025, 9, 30))
    assert of("ICD-RELEASE", early) == ["service_date"]
    assert of("ICD-RELEASE", run(["E11.9"], day=date(2026, 9, 30))) == []


def test_sex_conflict_catches_a_female_only_code_for_a_male() -> None:
    findings = run(["O80"], sex="M", age=30)
    assert of("SEX-CONFLICT", findings) == ["diagnoses[0]"]
    assert of("SEX-CONFLICT", run(["O80"], sex="F", age=30)) == []
    assert of("SEX-CONFLICT", run(["O80"], sex="U", age=30)) == []


def test_sex_conflict_catches_a_male_only_code_for_a_female() -> None:
    assert of("SEX-CONFLICT", run(["C61"], sex="F", age=70)) == ["diagnoses[0]"]
    assert of("SEX-CONFLICT", run(["C61"], sex="M", age=70)) == []


def test_age_newborn_warns_for_a_perinatal_code_after_age_zero() -> None:
    findings = run(["P59.9"], age=2)
    assert [(f.edit_id, f.severity) for f in findings] == [("AGE-NEWBORN", "warning")]
    assert "2" not in findings[0].message.replace("P59.9", "")  # the patient's age is not echoed
    assert of("AGE-NEWBORN", run(["P59.9"], age=0)) == []


def test_age_pediatric_catches_a_child_exam_for_an_adult() -> None:
    assert of("AGE-PEDIATRIC", run(["Z00.129"], age=18)) == ["diagnoses[0]"]
    assert of("AGE-PEDIATRIC", run(["Z00.129"], age=17)) == []


@pytest.mark.parametrize(("age", "fires"), [(8, True), (9, False), (64, False), (65, True)])
def test_age_maternity_catches_pregnancy_codes_outside_nine_to_sixty_four(age: int, fires: bool) -> None:
    assert of("AGE-MATERNITY", run(["Z34.82"], age=age)) == (["diagnoses[0]"] if fires else [])


def test_age_adult_catches_an_adult_exam_for_a_child() -> None:
    assert of("AGE-ADULT", run(["Z00.00"], age=14)) == ["diagnoses[0]"]
    assert of("AGE-ADULT", run(["Z00.00"], age=15)) == []


# Lines -----------------------------------------------------------------------------------------------


def test_line_count_needs_one_to_fifty_lines() -> None:
    fifty = [line(f"{10000 + i}") for i in range(50)]
    assert of("LINE-COUNT", run(["I10"], [])) == ["lines"]
    assert of("LINE-COUNT", run(["I10"], [*fifty, line("99213")])) == ["lines"]
    assert of("LINE-COUNT", run(["I10"], fifty)) == []


@pytest.mark.parametrize("code", ["9921", "992133", "ABCDE", "0001X", "J110", "99 13"])
def test_cpt_format_catches_what_is_neither_cpt_nor_hcpcs(code: str) -> None:
    assert of("CPT-FORMAT", run(["I10"], [line(code)])) == ["lines[0].code"]


@pytest.mark.parametrize("code", ["99213", "3074F", "0075T", "0001U", "J1100"])
def test_cpt_format_accepts_cpt_categories_and_hcpcs(code: str) -> None:
    assert of("CPT-FORMAT", run(["I10"], [line(code)])) == []


def test_cpt_unlicensed_checks_the_tenants_list_only_when_one_was_imported() -> None:
    imported = CptLicence(imported=True, licensed=frozenset({"36415"}))
    assert of("CPT-UNLICENSED", run(["I10"], [line("99213")], cpt=imported)) == ["lines[0].code"]
    assert of("CPT-UNLICENSED", run(["I10"], [line("36415")], cpt=imported)) == []
    assert of("CPT-UNLICENSED", run(["I10"], [line("99213")], cpt=CptLicence())) == []


def test_hcpcs_invalid_catches_a_code_not_in_the_file() -> None:
    assert of("HCPCS-INVALID", run(["I10"], [line("J9999")])) == ["lines[0].code"]
    assert of("HCPCS-INVALID", run(["I10"], [line("J1100")])) == []


def test_hcpcs_date_catches_codes_terminated_or_not_yet_added() -> None:
    assert of("HCPCS-DATE", run(["I10"], [line("G0001")], day=date(2026, 1, 1))) == ["lines[0].code"]
    assert of("HCPCS-DATE", run(["I10"], [line("G0001")], day=date(2025, 12, 31))) == []
    assert of("HCPCS-DATE", run(["I10"], [line("G0999")], day=date(2026, 6, 30))) == ["lines[0].code"]
    assert of("HCPCS-DATE", run(["I10"], [line("G0999")], day=date(2026, 7, 1))) == []


def test_mod_count_allows_four_modifiers() -> None:
    assert of("MOD-COUNT", run(["I10"], [line("20610", "RT", "59", "GA", "XS", "QW")])) == [
        "lines[0].modifiers"
    ]
    assert of("MOD-COUNT", run(["I10"], [line("20610", "RT", "59", "GA", "XS")])) == []


def test_mod_unknown_names_the_modifier_position() -> None:
    findings = run(["I10"], [line("99213"), line("20610", "RT", "ZZ")])
    assert of("MOD-UNKNOWN", findings) == ["lines[1].modifiers[1]"]
    assert of("MOD-UNKNOWN", run(["I10"], [line("20610", "RT")])) == []


def test_mod_duplicate_catches_a_modifier_twice_on_a_line() -> None:
    assert of("MOD-DUPLICATE", run(["I10"], [line("20610", "RT", "RT")])) == ["lines[0].modifiers[1]"]


@pytest.mark.parametrize(("units", "fires"), [(0, True), (1, False), (999, False), (1000, True)])
def test_units_range_is_one_to_999(units: int, fires: bool) -> None:
    assert of("UNITS-RANGE", run(["I10"], [line("J1100", units=units)])) == (
        ["lines[0].units"] if fires else []
    )


def test_ptr_count_needs_one_to_four_pointers() -> None:
    five = ["E11.9", "I10", "J06.9", "N76.0", "Z34.82"]
    assert of("PTR-COUNT", run(five, [line("99213", pointers=())])) == ["lines[0].diagnosis_pointers"]
    assert of("PTR-COUNT", run(five, [line("99213", pointers=(1, 2, 3, 4, 5))])) == [
        "lines[0].diagnosis_pointers"
    ]
    assert of("PTR-COUNT", run(five, [line("99213", pointers=(1, 2, 3, 4))])) == []


def test_ptr_invalid_catches_pointers_to_no_diagnosis() -> None:
    findings = run(["E11.9", "I10"], [line("99213", pointers=(2, 3)), line("36415", pointers=(0,))])
    assert of("PTR-INVALID", findings) == ["lines[0].diagnosis_pointers[1]", "lines[1].diagnosis_pointers[0]"]
    assert of("PTR-INVALID", run(["E11.9", "I10"], [line("99213", pointers=(2, 1))])) == []


def test_ptr_duplicate_catches_a_pointer_twice() -> None:
    findings = run(["E11.9", "I10"], [line("99213", pointers=(1, 1))])
    assert of("PTR-DUPLICATE", findings) == ["lines[0].diagnosis_pointers[1]"]


def test_dup_line_catches_the_same_code_and_modifiers_twice() -> None:
    findings = run(["I10"], [line("36415"), line("99213"), line("36415")])
    assert of("DUP-LINE", findings) == ["lines[2]"]
    assert of("DUP-LINE", run(["I10"], [line("20610", "RT", "59"), line("20610", "59", "RT")])) == [
        "lines[1]"
    ]
    assert of("DUP-LINE", run(["I10"], [line("36415"), line("36415", "91")])) == []


# NCCI procedure-to-procedure edits ------------------------------------------------------------------


def test_ncci_indicator_0_is_never_bypassed() -> None:
    findings = run(["I10"], [line("80053"), line("80048", "59")])
    assert of("NCCI-PTP", findings) == ["lines[1].code"]
    assert "modifier indicator 0" in findings[0].message


def test_ncci_indicator_1_needs_a_bypass_modifier() -> None:
    assert of("NCCI-PTP", run(["I10"], [line("97530"), line("97140")])) == ["lines[1].code"]
    assert of("NCCI-PTP", run(["I10"], [line("97530"), line("97140", "59")])) == []
    assert of("NCCI-PTP", run(["I10"], [line("97530"), line("97140", "XU")])) == []


def test_ncci_modifier_25_on_the_visit_bypasses_a_minor_procedure_edit() -> None:
    assert of("NCCI-PTP", run(["I10"], [line("99213"), line("20610")])) == ["lines[0].code"]
    assert of("NCCI-PTP", run(["I10"], [line("99213", "25"), line("20610")])) == []


def test_ncci_anatomic_modifiers_bypass_only_for_different_sites() -> None:
    assert of("NCCI-PTP", run(["I10"], [line("97530", "RT"), line("97140", "LT")])) == []
    assert of("NCCI-PTP", run(["I10"], [line("97530", "RT"), line("97140", "RT")])) == ["lines[1].code"]


def test_ncci_edits_apply_only_between_their_dates_and_not_with_indicator_9() -> None:
    assert of("NCCI-PTP", run(["I10"], [line("11055"), line("11720")], day=date(2025, 12, 31))) == [
        "lines[1].code"
    ]
    assert of("NCCI-PTP", run(["I10"], [line("11055"), line("11720")], day=date(2026, 1, 1))) == []
    assert of("NCCI-PTP", run(["I10"], [line("93000"), line("93010")], day=date(2026, 6, 30))) == []
    assert of("NCCI-PTP", run(["I10"], [line("11056"), line("11055")])) == []


# Medically unlikely edits ---------------------------------------------------------------------------


def test_mue_line_edit_counts_units_per_line() -> None:
    assert of("MUE", run(["I10"], [line("20610", "RT", units=3)])) == ["lines[0].units"]
    assert of("MUE", run(["I10"], [line("20610", "RT", units=2), line("20610", "LT", units=2)])) == []


def test_mue_date_of_service_edits_add_the_units_of_every_line() -> None:
    findings = run(["I10"], [line("36415", units=2), line("99213", "25"), line("36415", "91", units=1)])
    assert of("MUE", findings) == ["lines[0].units"]
    assert "3 units on the date of service (lines[0], lines[2])" in findings[0].message
    assert of("MUE", run(["I10"], [line("36415"), line("36415", "91")])) == []
    assert of("MUE", run(["I10"], [line("99213", units=2)])) == ["lines[0].units"]


# All at once ----------------------------------------------------------------------------------------


def test_every_failure_is_reported_at_once_in_form_order() -> None:
    findings = run(
        ["E11", "O80", "E11"],
        [line("97140", "ZZ", units=0, pointers=(4,)), line("97530"), line("9921")],
        sex="M",
        age=30,
    )
    assert [(f.edit_id, f.field) for f in findings] == [
        ("ICD-NONBILLABLE", "diagnoses[0]"),
        ("SEX-CONFLICT", "diagnoses[1]"),
        ("DX-DUPLICATE", "diagnoses[2]"),
        ("ICD-NONBILLABLE", "diagnoses[2]"),
        ("NCCI-PTP", "lines[0].code"),
        ("MOD-UNKNOWN", "lines[0].modifiers[0]"),
        ("UNITS-RANGE", "lines[0].units"),
        ("PTR-INVALID", "lines[0].diagnosis_pointers[0]"),
        ("CPT-FORMAT", "lines[2].code"),
    ]
