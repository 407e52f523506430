"""The EncounterCoding aggregate: given events, when a coder codes, then events (or a refusal)."""

from __future__ import annotations

from datetime import date

import pytest

from billing_events.contracts.coding import CodedLine, EditFinding, EncounterCoded, EncounterRecoded
from coding.domain.codesets import (
    CodeSets,
    IcdCatalog,
    IcdCode,
    IcdRelease,
    MceList,
    MceLists,
    PtpEdit,
    PtpTable,
    ReferenceData,
)
from coding.domain.encounter_coding import DECIDER, CodeEncounter, EncounterCoding, decide
from coding.domain.errors import CodingRejected
from coding.domain.values import EncounterFacts, ProposedCoding, ProposedLine

RELEASE = IcdRelease(
    date(2026, 4, 1),
    "test",
    {
        "E119": IcdCode("E119", True, "test diabetes"),
        "E11": IcdCode("E11", False, "test header"),
        "I10": IcdCode("I10", True, "test hypertension"),
        "P599": IcdCode("P599", True, "test neonatal jaundice"),
    },
)
CODE_SETS = CodeSets(
    ReferenceData(
        icd10cm=IcdCatalog([RELEASE]),
        modifiers=frozenset({"25", "59"}),
        ptp=PtpTable.of([PtpEdit("20610", "99213", date(2020, 1, 1), None, "1")]),
        mce=MceLists(newborn=MceList.parse_entries("newborn", ["P00-P96"], 0, 0)),
    )
)
FACTS = EncounterFacts(
    encounter_id="enc-1",
    patient_id="pat-1",
    service_date=date(2026, 5, 12),
    patient_sex="M",
    patient_age_years=3,
    billing_provider_id="org-1",
    rendering_provider_id="doc-1",
    place_of_service="11",
)


def command(diagnoses: list[str], lines: list[ProposedLine], reason: str | None = None) -> CodeEncounter:
    return CodeEncounter(FACTS, ProposedCoding.normalized(diagnoses, lines, reason), CODE_SETS)


VISIT = [ProposedLine("99213", ("25",), 1, (1, 2)), ProposedLine("20610", (), 1, (1,))]
ONE_LINE = [ProposedLine("99213", (), 1, (1,))]


def test_the_first_coding_is_encounter_coded_version_1_with_everything_downstream_needs() -> None:
    events = decide(command(["e119", "I10"], VISIT), DECIDER.initial)

    assert events == [
        EncounterCoded(
            encounter_id="enc-1",
            patient_id="pat-1",
            coding_version=1,
            service_date=date(2026, 5, 12),
            billing_provider_id="org-1",
            rendering_provider_id="doc-1",
            place_of_service="11",
            diagnoses=("E11.9", "I10"),
            lines=(
                CodedLine(
                    line_number=1,
                    code="99213",
                    code_system="CPT",
                    modifiers=("25",),
                    units=1,
                    diagnosis_pointers=(1, 2),
                ),
                CodedLine(
                    line_number=2,
                    code="20610",
                    code_system="CPT",
                    modifiers=(),
                    units=1,
                    diagnosis_pointers=(1,),
                ),
            ),
            warnings=(),
        )
    ]


def test_recoding_is_encounter_recoded_with_the_next_version_and_the_reason() -> None:
    given = DECIDER.fold(decide(command(["E11.9", "I10"], VISIT), DECIDER.initial))
    again = DECIDER.fold(decide(command(["E11.9"], [ProposedLine("99213", (), 1, (1,))]), given), given)

    events = decide(command(["I10"], [ProposedLine("J1100", (), 4, (1,))], "dose corrected"), again)

    assert len(events) == 1
    recoded = events[0]
    assert isinstance(recoded, EncounterRecoded)
    assert (recoded.coding_version, recoded.previous_version) == (3, 2)
    assert recoded.reason == "dose corrected"
    assert recoded.diagnoses == ("I10",)
    assert recoded.lines[0].code_system == "HCPCS"
    assert DECIDER.fold(events, again).version == 3


def test_the_same_coding_again_changes_nothing() -> None:
    given = DECIDER.fold(decide(command(["E11.9", "I10"], VISIT), DECIDER.initial))
    assert decide(command(["E119", "i10"], VISIT), given) == []


def test_errors_refuse_the_coding_and_list_every_finding() -> None:
    lines = [ProposedLine("99213", (), 1, (3,)), ProposedLine("20610", (), 1, (1,))]
    with pytest.raises(CodingRejected) as refused:
        decide(command(["E11", "X00"], lines), DECIDER.initial)

    assert [(f.edit_id, f.field) for f in refused.value.errors] == [
        ("ICD-NONBILLABLE", "diagnoses[0]"),
        ("ICD-INVALID", "diagnoses[1]"),
        ("NCCI-PTP", "lines[0].code"),
        ("PTR-INVALID", "lines[0].diagnosis_pointers[0]"),
    ]
    assert refused.value.warnings == ()


def test_errors_on_a_recoding_leave_the_coded_version_as_it_was() -> None:
    given = DECIDER.fold(decide(command(["E11.9"], ONE_LINE), DECIDER.initial))
    with pytest.raises(CodingRejected):
        decide(command(["E11"], ONE_LINE), given)
    assert given.version == 1


def test_warnings_are_stored_with_the_coding() -> None:
    events = decide(command(["P59.9"], [ProposedLine("99213", (), 1, (1,))]), DECIDER.initial)

    assert events[0].warnings == (  # type: ignore[attr-defined]
        EditFinding(
            edit_id="AGE-NEWBORN",
            severity="warning",
            message="P59.9 is a newborn diagnosis (age 0); the patient's age at service is outside "
            "that range.",
            field="diagnoses[0]",
        ),
    )


def test_evolve_keeps_the_latest_coding() -> None:
    first = decide(command(["E11.9"], ONE_LINE), DECIDER.initial)
    state = DECIDER.fold(first)
    second = decide(command(["I10"], ONE_LINE, "wrong diagnosis"), state)

    assert DECIDER.fold([*first, *second]) == EncounterCoding(
        encounter_id="enc-1",
        version=2,
        service_date=date(2026, 5, 12),
        diagnoses=("I10",),
        lines=second[0].lines,  # type: ignore[attr-defined]
        warnings=(),
        reason="wrong diagnosis",
    )
