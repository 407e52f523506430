"""A realistic mix of encounters against the real April 2026 ICD-10-CM release (simple-icd-10-cm) and
the demo tables shipped with the service (MCE lists, modifiers, HCPCS, illustrative NCCI and MUE)."""

from __future__ import annotations

from datetime import date

import pytest

from billing_events.contracts.coding import EncounterCoded, EncounterRecoded
from coding.adapters.reference import load_reference
from coding.domain.codesets import CodeSets, MceList
from coding.domain.encounter_coding import DECIDER, CodeEncounter, decide
from coding.domain.errors import CodingRejected
from coding.domain.values import EncounterFacts, ProposedCoding, ProposedLine, Sex
from coding.settings import PACKAGED_REFERENCE_DIR

REFERENCE = load_reference(PACKAGED_REFERENCE_DIR)
DAY = date(2026, 5, 12)  # inside the April 2026 release


def encounter(sex: Sex, age: int) -> EncounterFacts:
    return EncounterFacts("enc-1", "pat-1", DAY, sex, age, "org-1", "doc-1", "11")


def code(
    facts: EncounterFacts, diagnoses: list[str], lines: list[ProposedLine], state: object = None
) -> list[object]:
    command = CodeEncounter(facts, ProposedCoding.normalized(diagnoses, lines), CodeSets(REFERENCE))
    return list(decide(command, DECIDER.initial if state is None else state))  # type: ignore[arg-type]


def refused(facts: EncounterFacts, diagnoses: list[str], lines: list[ProposedLine]) -> list[tuple[str, str]]:
    with pytest.raises(CodingRejected) as error:
        code(facts, diagnoses, lines)
    return [(f.edit_id, f.field) for f in error.value.errors]


def line(code_: str, *modifiers: str, units: int = 1, pointers: tuple[int, ...] = (1,)) -> ProposedLine:
    return ProposedLine(code_, modifiers, units, pointers)


def test_an_office_visit_with_labs_is_coded_cleanly() -> None:
    events = code(
        encounter("M", 54),
        ["E11.9", "I10", "E78.5"],
        [
            line("99214", pointers=(1, 2, 3)),
            line("36415", pointers=(1,)),
            line("80053", pointers=(1, 3)),
            line("83036", pointers=(1,)),
        ],
    )
    assert len(events) == 1
    coded = events[0]
    assert isinstance(coded, EncounterCoded)
    assert coded.diagnoses == ("E11.9", "I10", "E78.5")
    assert [(li.line_number, li.code, li.code_system) for li in coded.lines] == [
        (1, "99214", "CPT"),
        (2, "36415", "CPT"),
        (3, "80053", "CPT"),
        (4, "83036", "CPT"),
    ]
    assert coded.warnings == ()


def test_labs_that_bundle_or_exceed_their_units_are_refused() -> None:
    assert refused(
        encounter("M", 54),
        ["E11.9"],
        [line("99214"), line("80053"), line("80048"), line("36415", units=3)],
    ) == [("NCCI-PTP", "lines[2].code"), ("MUE", "lines[3].units")]


def test_a_visit_with_a_joint_injection_needs_modifier_25_on_the_visit() -> None:
    diagnoses = ["M17.11"]
    injection = [line("20610", "RT"), line("J3301", units=4)]
    assert refused(encounter("F", 67), diagnoses, [line("99213"), *injection]) == [
        ("NCCI-PTP", "lines[0].code")
    ]
    coded = code(encounter("F", 67), diagnoses, [line("99213", "25"), *injection])[0]
    assert isinstance(coded, EncounterCoded)
    assert [(li.code, li.code_system, li.modifiers) for li in coded.lines] == [
        ("99213", "CPT", ("25",)),
        ("20610", "CPT", ("RT",)),
        ("J3301", "HCPCS", ()),
    ]


def test_therapy_services_on_the_same_day_need_modifier_59() -> None:
    diagnoses = ["M54.50"]
    assert refused(encounter("M", 45), diagnoses, [line("97530", units=2), line("97140", units=2)]) == [
        ("NCCI-PTP", "lines[1].code")
    ]
    assert code(encounter("M", 45), diagnoses, [line("97530", units=2), line("97140", "59", units=2)])


def test_a_pediatric_well_child_visit_with_a_sick_visit() -> None:
    child = encounter("F", 4)
    lines = [line("99392", pointers=(1,)), line("99213", "25", pointers=(2,)), line("90460", pointers=(1,))]
    assert code(child, ["Z00.129", "J06.9"], lines)
    assert refused(encounter("F", 34), ["Z00.129", "J06.9"], lines) == [("AGE-PEDIATRIC", "diagnoses[0]")]


def test_a_prenatal_visit_is_maternity_and_female_only() -> None:
    diagnoses = ["Z34.82", "Z3A.24"]
    lines = [line("99213", pointers=(1, 2)), line("76805", pointers=(1, 2)), line("81025", pointers=(1,))]
    assert code(encounter("F", 29), diagnoses, lines)
    assert refused(encounter("M", 29), diagnoses, lines) == [
        ("SEX-CONFLICT", "diagnoses[0]"),
        ("SEX-CONFLICT", "diagnoses[1]"),
    ]
    assert refused(encounter("F", 70), diagnoses, lines) == [
        ("AGE-MATERNITY", "diagnoses[0]"),
        ("AGE-MATERNITY", "diagnoses[1]"),
    ]


def test_a_newborn_code_on_a_toddler_is_stored_with_a_warning() -> None:
    coded = code(encounter("M", 2), ["P59.9"], [line("99213")])[0]
    assert isinstance(coded, EncounterCoded)
    assert [(w.edit_id, w.severity, w.field) for w in coded.warnings] == [
        ("AGE-NEWBORN", "warning", "diagnoses[0]")
    ]


def test_a_male_only_code_for_a_female_and_a_header_code_are_refused_together() -> None:
    assert refused(encounter("F", 61), ["N40.0", "E11"], [line("99213", pointers=(1, 2))]) == [
        ("SEX-CONFLICT", "diagnoses[0]"),
        ("ICD-NONBILLABLE", "diagnoses[1]"),
    ]


def test_recoding_a_visit_gives_the_next_version() -> None:
    facts = encounter("M", 54)
    first = code(facts, ["E11.9"], [line("99213")])
    state = DECIDER.fold(first)  # type: ignore[arg-type]
    second = code(facts, ["E11.65", "I10"], [line("99214", pointers=(1, 2))], state)
    assert isinstance(second[0], EncounterRecoded)
    assert (second[0].coding_version, second[0].previous_version) == (2, 1)
    assert second[0].diagnoses == ("E11.65", "I10")


@pytest.mark.parametrize("name", ["newborn", "pediatric", "maternity", "adult", "female", "male"])
def test_every_shipped_mce_entry_names_codes_of_the_release(name: str) -> None:
    mce: MceList = getattr(REFERENCE.mce, name)
    release = REFERENCE.icd10cm.releases[-1]
    assert mce.prefixes or mce.ranges
    for prefix in mce.prefixes:
        assert any(c.startswith(prefix) for c in release.codes), prefix
    for first, last in mce.ranges:
        assert first in release.codes and last in release.codes, (first, last)
