"""Readers of the CMS file layouts and the operators' importer, on small files written here."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from coding.adapters import cms
from coding.adapters.reference import load_reference
from coding.domain.codesets import IcdCode
from coding.entrypoints import codesets


def order_record(number: int, code: str, billable: int, short: str, long: str) -> str:
    """A record at the order file's documented positions: 1-5, 7-13, 15, 17-76, 78-."""
    record = [" "] * 77
    record[0:5] = f"{number:05d}"
    record[6 : 6 + len(code)] = code
    record[14] = str(billable)
    record[16 : 16 + len(short)] = short
    return "".join(record) + long


T2DM = "Type 2 diabetes mellitus"
ORDER_FILE = [
    order_record(1, "E11", 0, T2DM, T2DM),
    order_record(2, "E119", 1, f"{T2DM} without complications", f"{T2DM} without complications"),
    order_record(3, "R05", 1, "Cough", "Cough"),
    "",
]


def test_the_icd10cm_order_file_gives_codes_billable_flags_and_descriptions() -> None:
    codes = list(cms.read_icd10cm_order(ORDER_FILE))
    assert codes == [
        IcdCode("E11", False, "Type 2 diabetes mellitus", "Type 2 diabetes mellitus"),
        IcdCode(
            "E119",
            True,
            "Type 2 diabetes mellitus without complications",
            "Type 2 diabetes mellitus without complications",
        ),
        IcdCode("R05", True, "Cough", "Cough"),
    ]
    assert codes[1].display == "E11.9"


def test_the_order_file_writer_reads_back_the_same_codes() -> None:
    codes = list(cms.read_icd10cm_order(ORDER_FILE))
    out = io.StringIO()
    assert cms.write_icd10cm_order(codes, out) == 3
    assert out.getvalue().splitlines()[1] == ORDER_FILE[1]
    assert list(cms.read_icd10cm_order(out.getvalue().splitlines())) == codes


def test_a_line_out_of_layout_is_refused_by_number() -> None:
    with pytest.raises(cms.ImportProblem, match="line 2"):
        list(cms.read_icd10cm_order([ORDER_FILE[0], "E119 Type 2 diabetes"]))


def hcpcs_record(
    code: str, record_id: str, long: str, short: str = "", added: str = "", term: str = ""
) -> str:
    """An ANWEB record at its documented positions: code 1-5, record id 11, long 12-91, short 92-119,
    added 269-276, termination 285-292 (320 characters)."""
    record = [" "] * 320
    for start, value in (
        (1, code),
        (6, "00100"),
        (11, record_id),
        (12, long),
        (92, short),
        (269, added),
        (285, term),
    ):
        record[start - 1 : start - 1 + len(value)] = value
    return "".join(record)


def test_the_hcpcs_fixed_width_file_joins_continuations_and_collects_modifiers() -> None:
    loaded = cms.read_hcpcs(
        [
            hcpcs_record(
                "G0438",
                "3",
                "Annual wellness visit; includes a personalized prevention plan of",
                "AWV",
                "20110101",
            ),
            hcpcs_record("G0438", "4", "service, initial visit"),
            hcpcs_record("G0001", "3", "Test code that ended", "Ended", "20000101", "20241231"),
            hcpcs_record("XS", "7", "Separate structure", "", "20150101"),
            hcpcs_record("XS", "8", "continued modifier text"),
        ]
    )
    assert loaded.codes["G0438"].description == (
        "Annual wellness visit; includes a personalized prevention plan of service, initial visit"
    )
    assert loaded.codes["G0438"].added == date(2011, 1, 1)
    assert loaded.codes["G0438"].terminated is None
    assert loaded.codes["G0001"].terminated == date(2024, 12, 31)
    assert loaded.modifiers == {"XS": None}


def test_the_hcpcs_csv_layout_is_read_by_its_headers() -> None:
    loaded = cms.read_hcpcs(
        [
            "HCPC,SEQNUM,RECID,LONG DESCRIPTION,SHORT DESCRIPTION,ADD DT,ACT EFF DT,TERM DT,ACTION CD",
            'J1100,00100,3,"Injection, dexamethasone sodium phosphate, 1 mg",Dexamethasone,'
            "20000101,20000101,,N",
            "LT,00200,7,Left side,Left side,20000101,20000101,,N",
        ]
    )
    assert loaded.codes["J1100"].description == "Injection, dexamethasone sodium phosphate, 1 mg"
    assert loaded.codes["J1100"].added == date(2000, 1, 1)
    assert set(loaded.modifiers) == {"LT"}


def test_an_unknown_hcpcs_record_id_is_refused() -> None:
    with pytest.raises(cms.ImportProblem, match="line 1: record id"):
        cms.read_hcpcs([hcpcs_record("J1100", "5", "x")])


PTP_FILE = [
    "CPT only copyright 2025 American Medical Association. All rights reserved.",
    "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date *=no data\t"
    "Modifier 0=not allowed 1=allowed 9=not applicable\tPTP Edit Rationale",
    "97530\t97140\t\t20200101\t*\t1\tMutually exclusive procedures",
    "80053\t80048\t*\t19960101\t20260101\t0\tMisuse of column two code with column one code",
]


def test_ncci_ptp_rows_are_read_and_header_lines_skipped() -> None:
    edits = list(cms.read_ncci_ptp(PTP_FILE))
    assert [(e.column1, e.column2, e.effective, e.deleted, e.modifier_indicator) for e in edits] == [
        ("97530", "97140", date(2020, 1, 1), None, "1"),
        ("80053", "80048", date(1996, 1, 1), date(2026, 1, 1), "0"),
    ]


def test_a_ptp_row_without_a_modifier_indicator_is_refused() -> None:
    with pytest.raises(cms.ImportProblem, match="line 1"):
        list(cms.read_ncci_ptp(["97530\t97140\t\t20200101\t*\t7\tx"]))


def test_mue_rows_give_values_and_adjudication_indicators() -> None:
    limits = list(
        cms.read_mue(
            [
                '"HCPCS/CPT Code","Practitioner Services MUE Values",'
                '"MUE Adjudication Indicator","MUE Rationale"',
                '36415,2,"3 Date of Service Edit: Clinical","Clinical: Data"',
                '20610,2,"1 Line Edit","Anatomic consideration"',
            ]
        )
    )
    assert [(m.code, m.units, m.adjudication) for m in limits] == [("36415", 2, 3), ("20610", 2, 1)]


def test_a_code_list_reads_codes_ranges_ages_and_ignores_text() -> None:
    parsed = cms.read_code_list(
        ["# maternity", "@age 9 64", "O00-O9A", "Z34   Encounter for supervision", ""]
    )
    assert parsed == cms.CodeList(("O00-O9A", "Z34"), 9, 64)
    with pytest.raises(cms.ImportProblem, match="line 1"):
        cms.read_code_list(["pregnancy"])


@pytest.mark.parametrize(
    ("name", "effective"),
    [
        ("icd10cm_order_2027.txt", date(2026, 10, 1)),
        ("icd10cm_order_2026.txt", date(2025, 10, 1)),
        ("icd10cm-order-April-2026.txt", date(2026, 4, 1)),
    ],
)
def test_the_icd10cm_release_date_comes_from_the_cms_file_name(name: str, effective: date) -> None:
    assert codesets.icd10cm_effective(name) == effective


def test_dated_file_names() -> None:
    assert codesets.dated_name("HCPC2026_OCT_ANWEB_v2.txt") == date(2026, 10, 1)
    assert codesets.dated_name("MCR_MUE_PractitionerServices_Eff_07-01-2026.csv") == date(2026, 7, 1)
    assert codesets.dated_name("ptp.txt") is None


def test_an_operator_imports_every_kind_into_a_folder_the_service_loads(tmp_path: Path) -> None:
    source = tmp_path / "downloads"
    source.mkdir()
    (source / "icd10cm_order_2026.txt").write_text("\n".join(ORDER_FILE))
    (source / "HCPC2026_JAN_ANWEB.txt").write_text(
        hcpcs_record("J1100", "3", "Injection", "Inj", "20000101") + "\n"
    )
    (source / "ccipra-v321r0-f1.txt").write_text("\n".join(PTP_FILE))
    (source / "mue.csv").write_text('36415,2,"3 Date of Service Edit: Clinical","x"\n')
    (source / "maternity.txt").write_text("O00-O9A\nZ34\n")
    into = tmp_path / "reference"

    outputs = [
        codesets.run(["init", "--into", str(into)]),
        codesets.run(["icd10cm", str(source / "icd10cm_order_2026.txt"), "--into", str(into)]),
        codesets.run(["hcpcs", str(source / "HCPC2026_JAN_ANWEB.txt"), "--into", str(into)]),
        codesets.run(["ncci-ptp", str(source / "ccipra-v321r0-f1.txt"), "--into", str(into)]),
        codesets.run(["mue", str(source / "mue.csv"), "--effective", "2026-01-01", "--into", str(into)]),
        codesets.run(["mce", "maternity", str(source / "maternity.txt"), "--into", str(into)]),
    ]

    assert outputs[1] == "ICD-10-CM release 2025-10-01: 3 codes, 2 billable"
    assert outputs[4] == "MUE 2026-01-01: 1 codes"
    reference = load_reference(into, bundled_icd10cm=False)
    assert [r.effective for r in reference.icd10cm.releases] == [date(2025, 10, 1)]
    assert reference.icd10cm.releases[0].get("E11.9") is not None
    assert set(reference.hcpcs.codes) == {"J1100"}
    assert {"25", "59", "XS"} <= reference.modifiers  # from the shipped list copied by init
    assert reference.ptp.edit_for("97530", "97140", date(2026, 1, 1)) is not None
    assert reference.mue.for_date(date(2026, 2, 1)) is not None
    assert reference.mce.maternity.contains("Z34.82")
    assert (reference.mce.maternity.min_age, reference.mce.maternity.max_age) == (9, 64)


def test_the_importer_refuses_a_release_date_that_is_not_april_or_october_first(tmp_path: Path) -> None:
    order = tmp_path / "order.txt"
    order.write_text("\n".join(ORDER_FILE))
    assert codesets.main(["icd10cm", str(order), "--effective", "2026-05-01", "--into", str(tmp_path)]) == 1
    assert not (tmp_path / "icd10cm").exists()
