"""The 837I reader, and the 835's MIA and MOA: what a hospital's claim and its payment carry."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from billing_x12 import (
    Address,
    Adjustment,
    ClaimPayment,
    CodedDiagnosis,
    Contact,
    Entity,
    EnvelopeRef,
    InpatientAdjudication,
    OutpatientAdjudication,
    Party,
    PaymentInfo,
    Procedure,
    Remittance,
    SegmentError,
    WrongTransactionError,
    parse_835,
    parse_837i,
    parse_837p,
    write_835,
)

from billing_testing.x12 import pyx12_errors

DATA = Path(__file__).parent / "data"
# Written by the claims service's 837I writer for one three-night stay and one outpatient visit,
# then checked segment by segment against the 005010X223A2 guide; pyx12 finds no error in it.
INSTITUTIONAL = (DATA / "institutional.837").read_text()


def test_the_837i_file_is_valid_for_pyx12() -> None:
    assert pyx12_errors(INSTITUTIONAL) == []


def test_the_inpatient_claim_reads_with_its_stay_and_coding() -> None:
    inpatient, outpatient = parse_837i(INSTITUTIONAL)
    assert inpatient.patient_control_number == "9F8E7D6C5B4A3921"
    assert inpatient.charge_cents == 1462300
    assert (inpatient.type_of_bill, inpatient.frequency_code) == ("11", "1")
    assert inpatient.is_inpatient and not outpatient.is_inpatient
    assert (inpatient.statement_from, inpatient.statement_to) == (dt.date(2026, 3, 2), dt.date(2026, 3, 5))
    # Mar 2 to Mar 5: three nights, three covered days.
    assert inpatient.covered_days == 3
    assert inpatient.admitted_at == dt.datetime(2026, 3, 2, 21, 40)
    assert (inpatient.admission_type, inpatient.admission_source, inpatient.patient_status) == (
        "1",
        "1",
        "01",
    )
    assert inpatient.diagnoses == (
        CodedDiagnosis("ABK", "M1611", "Y"),
        CodedDiagnosis("ABJ", "M25551"),
        CodedDiagnosis("ABF", "I10", "Y"),
        CodedDiagnosis("ABF", "E119", "N"),
        CodedDiagnosis("ABF", "Z794"),
    )
    assert inpatient.procedures == (
        Procedure("BBR", "0SR9019", dt.date(2026, 3, 3)),
        Procedure("BBQ", "0SB9XZZ", dt.date(2026, 3, 3)),
    )
    assert inpatient.drg == "470"
    assert inpatient.attending_provider is not None
    assert inpatient.attending_provider.identifier == "1245319599"
    assert inpatient.payer_id == "MCRA1"
    assert [(line.revenue_code, line.hcpcs, line.charge_cents, line.units) for line in inpatient.lines] == [
        ("0120", None, 600000, Decimal(3)),
        ("0360", "27130", 850050, Decimal(1)),
        ("0250", None, 12250, Decimal(10)),
    ]
    assert inpatient.line_charge_total_cents == inpatient.charge_cents
    assert [line.line_control_number for line in outpatient.lines] == ["OUT-1", "OUT-2"]
    assert outpatient.drg is None and outpatient.admitted_at is None


def test_the_837p_reader_still_refuses_an_837i() -> None:
    with pytest.raises(WrongTransactionError):
        parse_837p(INSTITUTIONAL)


def test_an_837i_without_statement_dates_is_refused_by_segment_not_by_value() -> None:
    # The segment count in SE01 follows the removal, so only the missing DTP*434 is wrong.
    broken = INSTITUTIONAL.replace("DTP*434*RD8*20260401-20260401~\n", "").replace("SE*65*", "SE*64*")
    with pytest.raises(SegmentError, match="DTP\\*434"):
        parse_837i(broken)


def _remittance(*claims: ClaimPayment) -> Remittance:
    return Remittance(
        envelope=EnvelopeRef("000000301", "301", "0001"),
        payment=PaymentInfo("I", sum(c.paid_cents for c in claims), "C", "CHK", dt.date(2026, 3, 20)),
        trace_number="CHK0301",
        originating_company_id="1060000001",
        payer=Entity(
            "PR",
            "MEDICARE PART A",
            address=Address(("PO BOX 1",), "BOSTON", "MA", "02110"),
            contacts=(Contact("BL", "EDI SUPPORT", (("TE", "8005551212"),)),),
        ),
        payee=Entity("PE", "HARBOR GENERAL HOSPITAL", "XX", "1234567893"),
        claims=claims,
    )


PATIENT = Party("QC", "1", "GONZALEZ", "MARIA", id_qualifier="MI", identifier="1EG4TE5MK73")
# DRG 470 at weight 1.9000 x a 6,000.00 base rate = 11,400.00 (MIA04); charge 14,623.00, the rest
# CO-45 3,223.00 at claim level: 14,623.00 - 11,400.00 = 3,223.00.
STAY = ClaimPayment(
    patient_control_number="9F8E7D6C5B4A3921",
    status_code="1",
    charge_cents=1462300,
    paid_cents=1140000,
    claim_filing_indicator="MA",
    payer_claim_control_number="SIM0000000001",
    facility_code="11",
    frequency_code="1",
    adjustments=(Adjustment("CO", "45", 322300),),
    parties=(PATIENT,),
    inpatient=InpatientAdjudication(covered_days=3, drg_amount_cents=1140000),
    header_number=1,
)
VISIT = ClaimPayment(
    patient_control_number="1122334455667788",
    status_code="1",
    charge_cents=99500,
    paid_cents=99500,
    claim_filing_indicator="MA",
    payer_claim_control_number="SIM0000000002",
    facility_code="13",
    frequency_code="1",
    parties=(PATIENT,),
    outpatient=OutpatientAdjudication(hcpcs_payable_cents=99500),
    remark_codes=("MA01",),
    header_number=1,
)


def test_mia_and_moa_are_written_read_back_and_valid_for_pyx12() -> None:
    remittance = _remittance(STAY, VISIT)
    text = write_835(
        [remittance],
        sender_id="MCRA1",
        receiver_id="TENANTA1B2C3D",
        interchange_control_number=301,
        group_control_number=301,
        created=dt.datetime(2026, 3, 20, 9, 0),
    )
    assert "MIA*3***11400~" in text
    assert "MOA**995*MA01~" in text
    assert pyx12_errors(text) == []
    (back,) = parse_835(text)
    stay, visit = back.claims
    assert stay.inpatient == InpatientAdjudication(covered_days=3, drg_amount_cents=1140000)
    assert visit.outpatient == OutpatientAdjudication(hcpcs_payable_cents=99500)
    assert visit.remark_codes == ("MA01",)
    assert dataclasses.replace(stay, position=0) == dataclasses.replace(STAY, position=0)
