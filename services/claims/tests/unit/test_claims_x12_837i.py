"""The 837I writer: fields hand-checked against one inpatient stay and one outpatient visit, and
every file valid for pyx12 (its 005010X223A2 map) with zero errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from billing_testing.x12 import pyx12_errors
from claims.adapters.x12_837i import check_institutional_claim, write_837i
from claims.domain import scrubber
from claims.domain.outbound import (
    Address837,
    Claim837,
    CodedDiagnosis837,
    Institutional837,
    InstitutionalLine837,
    Interchange837,
    Payer837,
    Person837,
    Procedure837,
    Provider837,
    Submitter837,
)

HOSPITAL = Provider837(
    npi="1234567893",
    taxonomy_code="282N00000X",
    organization_name="Harbor General Hospital",
    tax_id="04-7654321",
    address=Address837("1 Harbor Way", "Boston", "MA", "02110-2001"),
)
ATTENDING = Provider837(npi="1245319599", taxonomy_code="207R00000X", family_name="Lopez", given_name="Ana")
MEDICARE = Payer837("Medicare Part A", "MCRA1", "MA")
MARIA = Person837(
    "Gonzalez", "Maria", date(1950, 7, 9), "F", Address837("12 Elm Street", "Cambridge", "MA", "02139")
)

# A three-night stay, admitted Mar 2 2026 21:40 as an emergency (type 1) from a non-health-care
# point of origin (source 1), discharged home (status 01) Mar 5 at 11:15. Room and board 0120,
# 3 days at 2,000.00; operating room 0360 with HCPCS 27130, 1 unit at 8,500.50; pharmacy 0250,
# 10 units at 12.25 = 122.50. CLM02 = 6,000.00 + 8,500.50 + 122.50 = 14,623.00.
INPATIENT = Institutional837(
    type_of_bill="11",
    statement_from=date(2026, 3, 2),
    statement_to=date(2026, 3, 5),
    admitted_at=datetime(2026, 3, 2, 21, 40),
    discharged_at=datetime(2026, 3, 5, 11, 15),
    admission_type="1",
    admission_source="1",
    patient_status="01",
    principal_diagnosis=CodedDiagnosis837("M16.11", "Y"),
    admitting_diagnosis="M25.551",
    other_diagnoses=(
        CodedDiagnosis837("I10", "Y"),
        CodedDiagnosis837("E11.9", "N"),
        CodedDiagnosis837("Z79.4"),
    ),
    procedures=(Procedure837("0SR9019", date(2026, 3, 3)), Procedure837("0SB9XZZ", date(2026, 3, 3))),
    drg="470",
    attending_provider=ATTENDING,
    service_facility=HOSPITAL,
    lines=(
        InstitutionalLine837(1, "CTL-1", "0120", 3, 600000, service_date=date(2026, 3, 2)),
        InstitutionalLine837(2, "CTL-2", "0360", 1, 850050, hcpcs="27130", service_date=date(2026, 3, 3)),
        InstitutionalLine837(3, "CTL-3", "0250", 10, 12250, service_date=date(2026, 3, 3)),
    ),
)

# An outpatient visit (type of bill 13): an emergency room line 0450 with 99284 and a lab line
# 0300 with 80053: 950.00 + 45.00 = 995.00. No admission, no DRG.
OUTPATIENT = Institutional837(
    type_of_bill="13",
    statement_from=date(2026, 4, 1),
    statement_to=date(2026, 4, 1),
    patient_status="01",
    admission_type="1",
    principal_diagnosis=CodedDiagnosis837("R07.9"),
    attending_provider=ATTENDING,
    lines=(
        InstitutionalLine837(1, "OUT-1", "0450", 1, 95000, hcpcs="99284", service_date=date(2026, 4, 1)),
        InstitutionalLine837(2, "OUT-2", "0300", 1, 4500, hcpcs="80053", service_date=date(2026, 4, 1)),
    ),
)


def claim(bill: Institutional837 = INPATIENT, **changes: object) -> Claim837:
    base = Claim837(
        patient_control_number="9F8E7D6C5B4A3921",
        total_charge_cents=sum(line.charge_cents for line in bill.lines),
        place_of_service="",
        frequency_code="1",
        diagnoses=(),
        lines=(),
        billing_provider=HOSPITAL,
        payer=MEDICARE,
        priority="P",
        relationship="self",
        member_id="1EG4TE5MK73",
        subscriber=MARIA,
        institutional=bill,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def interchange(*claims: Claim837) -> Interchange837:
    return Interchange837(
        sender_id="TENANTA1B2C3D",
        receiver_id="MCRA1",
        receiver_name="Medicare Part A",
        control_number=7,
        created_at=datetime(2026, 3, 10, 14, 5),
        submitter=Submitter837("Harbor Billing", "TENANTA1B2C3D", "Billing Office", "(617) 555-0100"),
        claims=claims,
        reference="batch-7",
    )


def segments(x12: str) -> list[str]:
    return [s.strip() for s in x12.split("~") if s.strip()]


def with_id(x12: str, *prefixes: str) -> list[str]:
    return [s for s in segments(x12) if s.startswith(prefixes)]


def test_the_inpatient_claim_carries_the_stay_as_the_guide_lays_it_out() -> None:
    x12 = write_837i(interchange(claim()))
    assert "GS*HC*TENANTA1B2C3D*MCRA1*20260310*1405*7*X*005010X223A2" in segments(x12)
    assert "ST*837*0007*005010X223A2" in segments(x12)
    # CLM02 = 14,623.00 (hand sum above); CLM05 = 11 (inpatient hospital) : A (UB-04 bill type) : 1.
    assert with_id(x12, "CLM*") == ["CLM*9F8E7D6C5B4A3921*14623***11:A:1**A*Y*Y"]
    assert with_id(x12, "DTP*096", "DTP*434", "DTP*435") == [
        "DTP*096*TM*1115",
        "DTP*434*RD8*20260302-20260305",
        "DTP*435*DT*202603022140",
    ]
    assert with_id(x12, "CL1*") == ["CL1*1*1*01"]
    assert with_id(x12, "HI*") == [
        "HI*ABK:M1611:::::::Y",
        "HI*ABJ:M25551",
        "HI*DR:470",
        "HI*ABF:I10:::::::Y*ABF:E119:::::::N*ABF:Z794",
        "HI*BBR:0SR9019:D8:20260303",
        "HI*BBQ:0SB9XZZ:D8:20260303",
    ]
    assert with_id(x12, "NM1*71*") == ["NM1*71*1*LOPEZ*ANA****XX*1245319599"]
    # The service facility is the billing provider: no 2310E loop.
    assert with_id(x12, "NM1*77*") == []
    assert with_id(x12, "SV2*") == [
        "SV2*0120**6000*UN*3",
        "SV2*0360*HC:27130*8500.5*UN*1",
        "SV2*0250**122.5*UN*10",
    ]


def test_the_revenue_code_lines_sum_to_clm02() -> None:
    x12 = write_837i(interchange(claim()))
    clm02 = with_id(x12, "CLM*")[0].split("*")[2]
    line_charges = [s.split("*")[3] for s in with_id(x12, "SV2*")]
    # 6000 + 8500.5 + 122.5 = 14623
    assert sum(float(c) * 100 for c in line_charges) == float(clm02) * 100 == 1462300


def test_the_outpatient_claim_has_no_admission_hour_discharge_hour_or_drg() -> None:
    x12 = write_837i(interchange(claim(OUTPATIENT)))
    assert with_id(x12, "CLM*") == ["CLM*9F8E7D6C5B4A3921*995***13:A:1**A*Y*Y"]
    assert with_id(x12, "DTP*096", "DTP*435", "HI*DR") == []
    assert with_id(x12, "DTP*434") == ["DTP*434*RD8*20260401-20260401"]
    assert with_id(x12, "SV2*") == ["SV2*0450*HC:99284*950*UN*1", "SV2*0300*HC:80053*45*UN*1"]


def test_a_late_charge_claim_names_the_claim_it_adds_to() -> None:
    late = claim(frequency_code="5", payer_claim_control_number="MCR-123456")
    x12 = write_837i(interchange(late))
    assert with_id(x12, "CLM*")[0].split("*")[5] == "11:A:5"
    assert with_id(x12, "REF*F8") == ["REF*F8*MCR-123456"]


def test_a_distinct_service_facility_gets_its_own_loop() -> None:
    clinic = Provider837(
        npi="1679576722",
        taxonomy_code="261QE0700X",
        organization_name="Harbor Outpatient Center",
        address=Address837("20 Dock Street", "Boston", "MA", "02110-3000"),
    )
    x12 = write_837i(interchange(claim(replace(OUTPATIENT, service_facility=clinic))))
    assert with_id(x12, "NM1*77*") == ["NM1*77*2*HARBOR OUTPATIENT CENTER*****XX*1679576722"]
    assert pyx12_errors(x12) == []


CASES = {
    "inpatient": interchange(claim()),
    "outpatient": interchange(claim(OUTPATIENT)),
    "both in one file": interchange(claim(), claim(OUTPATIENT, patient_control_number="1122334455667788")),
    "replacement": interchange(claim(frequency_code="7", payer_claim_control_number="MCR-1")),
    "value, occurrence and condition codes": interchange(
        claim(
            replace(
                INPATIENT,
                value_codes=(("80", 300),),
                occurrence_codes=(("11", date(2026, 3, 1)),),
                condition_codes=("07",),
            )
        )
    ),
    "thirty other diagnoses": interchange(
        claim(replace(INPATIENT, other_diagnoses=tuple(CodedDiagnosis837("I10", "Y") for _ in range(30))))
    ),
    "a dependent patient": interchange(
        claim(
            relationship="child",
            patient=Person837("Gonzalez", "Lucia", date(2015, 5, 6), "F", MARIA.address),
            subscriber=Person837("Gonzalez", "Carlos"),
        )
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_generated_837i_validates_with_pyx12_with_zero_errors(case: str) -> None:
    assert pyx12_errors(write_837i(CASES[case])) == []


def test_pyx12_does_refuse_an_837i_without_its_cl1() -> None:
    x12 = write_837i(interchange(claim()))
    broken = x12.replace("CL1*1*1*01~", "")
    assert pyx12_errors(broken) != []


def test_the_checks_name_what_an_837i_lacks() -> None:
    bad = claim(
        replace(INPATIENT, admitted_at=None, statement_to=date(2026, 3, 1)),
        total_charge_cents=1,
    )
    edits = {(problem.field, problem.edit_id) for problem in check_institutional_claim(bad)}
    assert edits == {
        ("total_charge_cents", scrubber.CLM02_SUM),
        ("statement_to", scrubber.STATEMENT_DATES),
        ("admitted_at", scrubber.ADMISSION),
    }
    assert check_institutional_claim(claim()) == []
