"""The 837P writer: every file validates with pyx12 with zero errors, across the claims a clinic sends."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
import pyx12.params
import pyx12.x12n_document
from billing_x12 import format_cents as money
from billing_x12 import parse_837p

from claims.adapters.x12_837 import check_claim, text, write_837
from claims.domain.outbound import (
    Address837,
    Adjustment837,
    Claim837,
    Interchange837,
    Line837,
    LineAdjudication837,
    OtherCoverage837,
    Payer837,
    PayerAdjudication837,
    Person837,
    Provider837,
    Submitter837,
)

SERVICE_DATE = date(2026, 3, 2)
CLINIC_ADDRESS = Address837("100 Main Street", "Boston", "MA", "02110-1234")
CLINIC = Provider837(
    npi="1234567893",
    taxonomy_code="207Q00000X",
    organization_name="Harbor Family Medicine",
    tax_id="04-1234567",
    address=CLINIC_ADDRESS,
)
DOCTOR = Provider837(npi="1245319599", taxonomy_code="207R00000X", family_name="Lopez", given_name="Ana")
ACME = Payer837("Acme Health", "ACME1", "CI")
HOME = Address837("12 Elm Street", "Cambridge", "MA", "02139", line2="Apt 3")
MARIA = Person837("Gonzalez", "Maria", date(1984, 7, 9), "F", HOME)
CARLOS = Person837("Gonzalez", "Carlos", date(1980, 2, 29), "M", HOME)
LUCIA = Person837("Gonzalez", "Lucia", date(2015, 5, 6), "F", HOME)


# fmt: off
TWELVE_DIAGNOSES = (
    "E11.9", "I10", "J45.909", "R05.9", "Z00.00", "M54.50",
    "K21.9", "E78.5", "F41.1", "G47.00", "N39.0", "R51.9",
)
# fmt: on


def service_line(number: int, code: str = "99213", charge: int = 12500, **changes: object) -> Line837:
    line = Line837(number, f"0A1B2C3D4E5F6G7H-{number}", code, (), 1, charge, (1,), SERVICE_DATE)
    return replace(line, **changes)  # type: ignore[arg-type]


def claim(**changes: object) -> Claim837:
    lines = (service_line(1, modifiers=("25",)), service_line(2, "81002", 1500, units=2))
    base = Claim837(
        patient_control_number="0A1B2C3D4E5F6G7H",
        total_charge_cents=14000,
        place_of_service="11",
        frequency_code="1",
        diagnoses=("E11.9", "I10"),
        lines=lines,
        billing_provider=CLINIC,
        payer=ACME,
        priority="P",
        relationship="self",
        member_id="XJH123456789",
        subscriber=MARIA,
        group_number="GRP-001",
        rendering_provider=DOCTOR,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def interchange(*claims: Claim837, number: int = 42) -> Interchange837:
    return Interchange837(
        sender_id="TENANTA1B2C3D",
        receiver_id="ACME1",
        receiver_name="Acme Health",
        control_number=number,
        created_at=datetime(2026, 3, 10, 14, 5),
        submitter=Submitter837("Harbor Billing", "TENANTA1B2C3D", "Billing Office", "(617) 555-0100"),
        claims=claims,
        reference="batch-1",
    )


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def pyx12_errors(x12: str) -> list[str]:
    """Validate with pyx12's own validator (what `x12valid` runs); the errors it reports."""
    handler = _Errors()
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    try:
        valid = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=io.StringIO(x12), fd_997=None, fd_html=None
        )
    finally:
        logger.removeHandler(handler)
    return handler.messages if handler.messages or valid else ["pyx12 found the file invalid"]


def segments(x12: str) -> list[str]:
    return [s.strip() for s in x12.split("~") if s.strip()]


GLOBEX = Payer837("Globex Care", "GLBX2", "BL")
STATE_PLAN = Payer837("State Medicaid", "SMCD9", "MC")
REMITTED_ON = date(2026, 3, 20)
# Acme (primary) on 140.00: line 1 of 125.00 paid 80.00, CO-45 25.00, PR-2 20.00 (coinsurance);
# line 2 of 15.00 paid 10.00, PR-3 5.00 (copay). Paid 90.00, the patient's share 25.00.
ACME_ANSWER = PayerAdjudication837(
    paid_cents=9000,
    remaining_patient_liability_cents=2500,
    adjudicated_on=REMITTED_ON,
    lines=(
        LineAdjudication837(
            1, "99213", ("25",), 1, 8000, (Adjustment837("CO", "45", 2500), Adjustment837("PR", "2", 2000))
        ),
        LineAdjudication837(2, "81002", (), 2, 1000, (Adjustment837("PR", "3", 500),)),
    ),
)
# Globex (secondary) on the 25.00 left: pays 15.00 of line 1 and 5.00 of line 2; 5.00 stays PR-2.
GLOBEX_ANSWER = PayerAdjudication837(
    paid_cents=2000,
    remaining_patient_liability_cents=500,
    adjudicated_on=date(2026, 4, 2),
    lines=(
        LineAdjudication837(
            1,
            "99213",
            ("25",),
            1,
            1500,
            (Adjustment837("OA", "23", 10500), Adjustment837("PR", "2", 500)),
        ),
        LineAdjudication837(2, "81002", (), 2, 500, (Adjustment837("OA", "23", 1000),)),
    ),
)
ACME_PRIMARY = OtherCoverage837("P", "self", "XJH123456789", MARIA, ACME, "GRP-001", ACME_ANSWER)


def secondary_claim() -> Claim837:
    """The same service billed to Globex after Acme's answer."""
    return claim(
        payer=GLOBEX,
        priority="S",
        member_id="ZK998877",
        group_number="G-77",
        other_coverages=(ACME_PRIMARY,),
    )


def tertiary_claim() -> Claim837:
    return claim(
        payer=STATE_PLAN,
        priority="T",
        member_id="MCD-5566",
        group_number=None,
        other_coverages=(
            ACME_PRIMARY,
            OtherCoverage837("S", "self", "ZK998877", MARIA, GLOBEX, "G-77", GLOBEX_ANSWER),
        ),
    )


VARIED: dict[str, Interchange837] = {
    "patient is the subscriber": interchange(claim(rendering_provider=None)),
    "child of the subscriber": interchange(
        claim(relationship="child", subscriber=CARLOS, patient=LUCIA, member_id="xjh-123.456/7")
    ),
    "spouse with no subscriber address": interchange(
        claim(relationship="spouse", subscriber=replace(CARLOS, address=None, birth_date=None), patient=MARIA)
    ),
    "four modifiers and fifty lines": interchange(
        claim(
            diagnoses=TWELVE_DIAGNOSES,
            lines=tuple(
                service_line(
                    n, "97110", 4000, modifiers=("GP", "59", "XU", "KX"), diagnosis_pointers=(1, 2, 3, 12)
                )
                for n in range(1, 51)
            ),
            total_charge_cents=50 * 4000,
        )
    ),
    "secondary coverage on file": interchange(
        claim(
            other_coverages=(
                OtherCoverage837(
                    "S", "spouse", "ZK998877", CARLOS, Payer837("Globex Care", "GLBX2", "BL"), "G-77"
                ),
            )
        )
    ),
    "secondary claim with the primary's adjudication": interchange(secondary_claim()),
    "tertiary claim with two payers' adjudications": interchange(tertiary_claim()),
    "secondary claim after a claim-level answer and a tertiary coverage on file": interchange(
        claim(
            payer=GLOBEX,
            priority="S",
            member_id="ZK998877",
            other_coverages=(
                replace(
                    ACME_PRIMARY,
                    adjudication=PayerAdjudication837(
                        paid_cents=0,
                        remaining_patient_liability_cents=14000,
                        adjudicated_on=REMITTED_ON,
                        claim_adjustments=(Adjustment837("PR", "1", 14000),),
                    ),
                ),
                OtherCoverage837("T", "self", "MCD-5566", MARIA, STATE_PLAN),
            ),
        )
    ),
    "replacement claim": interchange(claim(frequency_code="7", payer_claim_control_number="2026070000123")),
    "void": interchange(claim(frequency_code="8", payer_claim_control_number="2026070000123")),
    "individual billing provider, accents and apostrophes": interchange(
        claim(
            billing_provider=replace(CLINIC, organization_name=None, family_name="O'Brien", given_name="Zoë"),
            subscriber=replace(MARIA, family_name="Núñez-D'Arcy", given_name="José*María~"),
            rendering_provider=None,
        )
    ),
    "several claims and two billing providers in one file": interchange(
        claim(),
        claim(
            patient_control_number="1B2C3D4E5F6G7H8J", relationship="child", subscriber=CARLOS, patient=LUCIA
        ),
        claim(
            patient_control_number="2C3D4E5F6G7H8J9K",
            billing_provider=replace(
                CLINIC, npi="1003000001", address=replace(CLINIC_ADDRESS, postal_code="021111234")
            ),
        ),
    ),
}


@pytest.mark.parametrize("case", list(VARIED))
def test_every_generated_837p_validates_with_pyx12_with_zero_errors(case: str) -> None:
    x12 = write_837(VARIED[case])
    assert pyx12_errors(x12) == []


def test_the_x12valid_command_accepts_a_file_of_varied_claims(tmp_path: Path) -> None:
    path = tmp_path / "varied.x12"
    path.write_text(write_837(VARIED["several claims and two billing providers in one file"]))
    x12valid = Path(sys.executable).with_name("x12valid")
    result = subprocess.run([str(x12valid), str(path)], capture_output=True, text=True, check=False)
    assert f"{path}: OK" in result.stderr, result.stderr
    assert "ERROR" not in result.stderr


def test_the_envelope_carries_one_control_number_everywhere() -> None:
    found = segments(write_837(interchange(claim(), number=1234)))
    assert found[0].split("*")[13] == "000001234"  # ISA13
    assert found[1].split("*")[6] == "1234"  # GS06
    assert found[2] == "ST*837*1234*005010X222A1"
    assert found[-3].startswith("SE*") and found[-3].endswith("*1234")
    assert found[-2:] == ["GE*1*1234", "IEA*1*000001234"]
    # SE01 counts the segments from ST to SE.
    assert int(found[-3].split("*")[1]) == len(found) - 2 - 2


def test_the_claim_carries_what_the_payer_needs_to_match_its_answers() -> None:
    found = segments(
        write_837(interchange(claim(frequency_code="7", payer_claim_control_number="2026070000123")))
    )
    assert "CLM*0A1B2C3D4E5F6G7H*140***11:B:7*Y*A*Y*Y" in found
    assert "REF*F8*2026070000123" in found
    assert "HI*ABK:E119*ABF:I10" in found
    assert "SV1*HC:99213:25*125*UN*1***1" in found
    assert "SV1*HC:81002*15*UN*2***1" in found
    assert found.count("DTP*472*D8*20260302") == 2
    assert [s for s in found if s.startswith("REF*6R")] == [
        "REF*6R*0A1B2C3D4E5F6G7H-1",
        "REF*6R*0A1B2C3D4E5F6G7H-2",
    ]
    assert "SBR*P*18*GRP-001******CI" in found
    assert "NM1*85*2*HARBOR FAMILY MEDICINE*****XX*1234567893" in found
    assert "N4*BOSTON*MA*021101234" in found
    assert "REF*EI*041234567" in found
    assert "PRV*BI*PXC*207Q00000X" in found
    assert "NM1*82*1*LOPEZ*ANA****XX*1245319599" in found
    assert "NM1*PR*2*ACME HEALTH*****PI*ACME1" in found


def test_the_patient_loop_appears_only_when_the_patient_is_not_the_subscriber() -> None:
    own = segments(write_837(interchange(claim())))
    assert "HL*2*1*22*0" in own
    assert not any(s.startswith(("PAT*", "NM1*QC")) for s in own)
    child = segments(write_837(interchange(claim(relationship="child", subscriber=CARLOS, patient=LUCIA))))
    assert "HL*2*1*22*1" in child
    assert "SBR*P**GRP-001******CI" in child  # SBR02 is 18 only when the patient is the subscriber
    assert child[child.index("HL*3*2*23*0") + 1] == "PAT*19"
    assert "NM1*QC*1*GONZALEZ*LUCIA" in child
    assert "NM1*IL*1*GONZALEZ*CARLOS****MI*XJH123456789" in child


def test_a_secondary_coverage_on_file_is_reported_for_coordination_of_benefits() -> None:
    other = OtherCoverage837(
        "S", "spouse", "ZK998877", CARLOS, Payer837("Globex Care", "GLBX2", "BL"), "G-77"
    )
    found = segments(write_837(interchange(claim(other_coverages=(other,)))))
    start = found.index("SBR*S*01*G-77******BL")
    assert found[start : start + 4] == [
        "SBR*S*01*G-77******BL",
        "OI***Y***Y",
        "NM1*IL*1*GONZALEZ*CARLOS****MI*ZK998877",
        "NM1*PR*2*GLOBEX CARE*****PI*GLBX2",
    ]


def test_the_file_reads_back_with_the_platforms_own_837p_reader() -> None:
    x12 = write_837(VARIED["several claims and two billing providers in one file"])
    claims = parse_837p(x12)
    assert [c.patient_control_number for c in claims] == [
        "0A1B2C3D4E5F6G7H",
        "1B2C3D4E5F6G7H8J",
        "2C3D4E5F6G7H8J9K",
    ]
    assert [c.charge_cents for c in claims] == [14000, 14000, 14000]
    assert [line.line_control_number for line in claims[0].lines] == [
        "0A1B2C3D4E5F6G7H-1",
        "0A1B2C3D4E5F6G7H-2",
    ]
    assert claims[1].patient is not None and claims[1].relationship_code == "19"


def test_text_is_upper_case_ascii_without_separators() -> None:
    assert text("José*María~ O'Brien:Jr^", 60) == "JOSE MARIA O'BRIEN JR"
    assert text("x" * 80, 60) == "X" * 60


@pytest.mark.parametrize(
    ("cents", "x12"), [(14000, "140"), (12550, "125.5"), (12505, "125.05"), (5, "0.05"), (-2500, "-25")]
)
def test_money_is_written_without_needless_zeros(cents: int, x12: str) -> None:
    assert money(cents) == x12


def invalid_cases() -> Iterator[tuple[str, Claim837, str]]:
    yield (
        "billing ZIP",
        claim(billing_provider=replace(CLINIC, address=replace(CLINIC_ADDRESS, postal_code="02110"))),
        "billing_provider.address.postal_code",
    )
    yield (
        "patient state",
        claim(subscriber=replace(MARIA, address=replace(HOME, state="XX"))),
        "patient.address.state",
    )
    yield (
        "patient birth date",
        claim(relationship="child", subscriber=CARLOS, patient=replace(LUCIA, birth_date=None)),
        "patient.birth_date",
    )
    yield "member id", claim(member_id="**"), "coverage.member_id"
    yield "patient name", claim(subscriber=replace(MARIA, family_name="*~")), "patient.name"


@pytest.mark.parametrize(("case", "bad", "field"), list(invalid_cases()))
def test_decrypted_data_that_an_837_cannot_carry_is_named_by_field(
    case: str, bad: Claim837, field: str
) -> None:
    assert [p.field for p in check_claim(bad)] == [field]
    assert check_claim(claim()) == []


EDIT_OF_CASE = {
    "billing ZIP": "SCRUB-ZIP9",
    "patient state": "SCRUB-PATIENT",
    "patient birth date": "SCRUB-PATIENT",
    "member id": "SCRUB-SUBSCRIBER",
    "patient name": "SCRUB-PATIENT",
}


@pytest.mark.parametrize(("case", "bad", "field"), list(invalid_cases()))
def test_each_problem_names_the_work_queue_edit_a_biller_fixes(case: str, bad: Claim837, field: str) -> None:
    assert [p.edit_id for p in check_claim(bad)] == [EDIT_OF_CASE[case]]


def test_a_secondary_claim_reports_the_primarys_adjudication_in_2320_and_2430() -> None:
    found = segments(write_837(interchange(secondary_claim())))
    assert "SBR*S*18*G-77******BL" in found  # 2000B: the payer billed now, and its filing indicator
    assert "NM1*PR*2*GLOBEX CARE*****PI*GLBX2" in found
    assert "CLM*0A1B2C3D4E5F6G7H*140***11:B:1*Y*A*Y*Y" in found  # an original claim to this payer
    start = found.index("SBR*P*18*GRP-001******CI")  # 2320: the primary, with its own indicator
    assert found[start : start + 6] == [
        "SBR*P*18*GRP-001******CI",
        "AMT*D*90",
        "AMT*EAF*25",
        "OI***Y***Y",
        "NM1*IL*1*GONZALEZ*MARIA****MI*XJH123456789",
        "NM1*PR*2*ACME HEALTH*****PI*ACME1",
    ]
    line_1 = found.index("REF*6R*0A1B2C3D4E5F6G7H-1")
    assert found[line_1 + 1 : line_1 + 4] == [
        "SVD*ACME1*80*HC:99213:25**1",
        "CAS*CO*45*25",
        "CAS*PR*2*20",
    ]
    assert found[line_1 + 4] == "DTP*573*D8*20260320"
    line_2 = found.index("REF*6R*0A1B2C3D4E5F6G7H-2")
    assert found[line_2 + 1 : line_2 + 4] == ["SVD*ACME1*10*HC:81002**2", "CAS*PR*3*5", "DTP*573*D8*20260320"]
    # Each line balances: its charge is what the primary paid plus its adjustments.
    assert 8000 + 2500 + 2000 == 12500 and 1000 + 500 == 1500


def test_a_tertiary_claim_reports_both_earlier_payers() -> None:
    found = segments(write_837(interchange(tertiary_claim())))
    assert "SBR*T*18*******MC" in found
    assert "SBR*P*18*GRP-001******CI" in found and "SBR*S*18*G-77******BL" in found
    assert [s for s in found if s.startswith("AMT*D*")] == ["AMT*D*90", "AMT*D*20"]
    line_1 = found.index("REF*6R*0A1B2C3D4E5F6G7H-1")
    assert found[line_1 + 1 : line_1 + 9] == [
        "SVD*ACME1*80*HC:99213:25**1",
        "CAS*CO*45*25",
        "CAS*PR*2*20",
        "DTP*573*D8*20260320",
        "SVD*GLBX2*15*HC:99213:25**1",
        "CAS*OA*23*105",
        "CAS*PR*2*5",
        "DTP*573*D8*20260402",
    ]


def test_claim_level_adjustments_go_in_2320_and_the_remittance_date_in_2330b() -> None:
    x12 = write_837(VARIED["secondary claim after a claim-level answer and a tertiary coverage on file"])
    found = segments(x12)
    start = found.index("SBR*P*18*GRP-001******CI")
    assert found[start + 1 : start + 4] == ["CAS*PR*1*140", "AMT*D*0", "AMT*EAF*140"]
    assert found[start + 6 : start + 8] == ["NM1*PR*2*ACME HEALTH*****PI*ACME1", "DTP*573*D8*20260320"]
    assert not any(s.startswith("SVD*") for s in found)
    tertiary = found.index("SBR*T*18*******MC")
    assert found[tertiary + 1] == "OI***Y***Y"  # no answer from a payer after this one


def test_the_secondary_claim_reads_back_with_each_lines_prior_payments() -> None:
    (read,) = parse_837p(write_837(interchange(tertiary_claim())))
    assert read.payer_responsibility == "T"
    first = read.lines[0].prior_payments
    assert [(p.payer_id, p.paid_cents) for p in first] == [("ACME1", 8000), ("GLBX2", 1500)]
    assert [(a.group, a.reason_code, a.amount_cents) for a in first[0].adjustments] == [
        ("CO", "45", 2500),
        ("PR", "2", 2000),
    ]
    assert [(p.payer_id, p.paid_cents) for p in read.lines[1].prior_payments] == [
        ("ACME1", 1000),
        ("GLBX2", 500),
    ]
