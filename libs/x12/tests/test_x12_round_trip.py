"""Writers -> parsers: what the 835, 999 and 277CA writers produce reads back equal, and pyx12
(the validator the platform relies on) finds no error in it nor in the hand-written 837P."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
from decimal import Decimal
from pathlib import Path

import pytest
import pyx12.params
import pyx12.x12n_document
from billing_x12 import (
    Address,
    Adjustment,
    Amount,
    ClaimAck,
    ClaimAcknowledgement,
    ClaimPayment,
    Contact,
    ElementNote,
    Entity,
    EnvelopeRef,
    GroupResponse,
    LineAck,
    Party,
    PaymentInfo,
    ProviderAdjustment,
    ProviderAdjustmentItem,
    Reference,
    Remittance,
    SegmentNote,
    ServicePayment,
    StatusCode,
    StatusInfo,
    TransactionSetResponse,
    parse_277ca,
    parse_835,
    parse_999,
    write_277ca,
    write_835,
    write_999,
)

CREATED = dt.datetime(2025, 3, 10, 9, 30)
PATIENT = Party("QC", "1", "DOE", "JOHN", id_qualifier="MI", identifier="MEMBER001")
PROVIDER = Party("85", "2", "DEMO CLINIC", id_qualifier="XX", identifier="1234567893")


def pyx12_errors(path: Path) -> list[str]:
    """Run pyx12's validator in-process (what `x12valid` runs) and return what it reports."""
    logger = logging.getLogger("pyx12")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        valid = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=str(path), fd_997=None, fd_html=None, fd_xmldoc=None
        )
    finally:
        logger.removeHandler(handler)
    return [] if valid else stream.getvalue().splitlines() or ["invalid"]


def _remittance(plb_items: int = 7) -> Remittance:
    visit = ServicePayment(
        code="99214",
        modifiers=("25", "GT"),
        charge_cents=20000,
        paid_cents=4800,
        units=Decimal(1),
        service_date=dt.date(2025, 3, 1),
        adjustments=(Adjustment("CO", "45", 4000), Adjustment("PR", "1", 10000), Adjustment("PR", "2", 1200)),
        line_control_number="LA-1",
        amounts=(Amount("B6", 16000),),
    )
    # Seven reasons of one group: written as two CAS segments (six triplets at most per segment).
    split = ServicePayment(
        code="20610",
        charge_cents=1400,
        paid_cents=0,
        units=Decimal("2.5"),
        service_period_start=dt.date(2025, 3, 1),
        service_period_end=dt.date(2025, 3, 2),
        adjustments=tuple(Adjustment("CO", str(reason), 200) for reason in (45, 59, 97, 16, 18, 50, 151)),
        line_control_number="LA-2",
        remark_codes=("N130", "M20"),
    )
    paid = ClaimPayment(
        patient_control_number="PCN-A",
        status_code="1",
        charge_cents=21400,
        paid_cents=4800,
        patient_responsibility_cents=11200,
        claim_filing_indicator="12",
        payer_claim_control_number="ICN0001",
        facility_code="11",
        frequency_code="1",
        parties=(PATIENT, Party("82", "1", "SMITH", "ANNA", id_qualifier="XX", identifier="1245319599")),
        remark_codes=("MA01",),
        references=(Reference("EA", "MRN-5"),),
        statement_from=dt.date(2025, 3, 1),
        statement_to=dt.date(2025, 3, 2),
        received_date=dt.date(2025, 3, 5),
        amounts=(Amount("AU", 16000),),
        service_lines=(visit, split),
        header_number=1,
    )
    reversed_claim = ClaimPayment(
        patient_control_number="PCN-B",
        status_code="22",
        charge_cents=-5000,
        paid_cents=-4000,
        claim_filing_indicator="12",
        payer_claim_control_number="ICN0000",
        facility_code="11",
        frequency_code="1",
        adjustments=(Adjustment("CO", "45", -1000),),
        parties=(PATIENT,),
        header_number=2,
    )
    items = tuple(ProviderAdjustmentItem("WO", 100, f"ICN{n}") for n in range(plb_items))
    return Remittance(
        envelope=EnvelopeRef("000000201", "201", "0001"),
        payment=PaymentInfo("I", 4800 - 4000 - 100 * plb_items, "C", "CHK", dt.date(2025, 3, 10)),
        trace_number="CHK0001",
        originating_company_id="1060000001",
        payer=Entity(
            "PR",
            "DEMO AETNA",
            address=Address(("151 FARMINGTON AVE",), "HARTFORD", "CT", "06156"),
            references=(Reference("2U", "DEMO-AETNA"),),
            contacts=(Contact("BL", "EDI SUPPORT", (("TE", "8005551212"),)),),
        ),
        payee=Entity("PE", "DEMO CLINIC", "XX", "1234567893", references=(Reference("TJ", "123456789"),)),
        claims=(paid, reversed_claim),
        provider_adjustments=(ProviderAdjustment("1234567893", dt.date(2025, 12, 31), items),),
        production_date=dt.date(2025, 3, 10),
    )


def _groups() -> list[GroupResponse]:
    accepted = GroupResponse(
        "HC",
        "101",
        "A",
        1,
        1,
        1,
        "005010X222A1",
        (TransactionSetResponse("837", "0001", "A", "005010X222A1"),),
    )
    note = SegmentNote("CLM", 22, "8", elements=(ElementNote(2, "6", element_reference="782"),))
    partly = GroupResponse(
        "HC",
        "102",
        "P",
        2,
        2,
        1,
        "005010X222A1",
        (
            TransactionSetResponse("837", "0001", "A", "005010X222A1"),
            TransactionSetResponse("837", "0002", "R", "005010X222A1", ("5",), (note,)),
        ),
    )
    rejected = GroupResponse(
        "HC",
        "103",
        "R",
        2,
        1,
        0,
        "005010X222A1",
        (TransactionSetResponse("837", "0001", "R", None, ("4",)),),
        ("5",),
    )
    return [accepted, partly, rejected]


def _claim_acknowledgement() -> ClaimAcknowledgement:
    day = dt.date(2025, 3, 2)
    accepted = ClaimAck(
        "PCN-1001",
        (StatusInfo((StatusCode("A2", "20", "PR"),), day, "WQ", 25000),),
        payer_claim_control_number="ICN0001",
        service_date_from=dt.date(2025, 2, 15),
        service_date_to=dt.date(2025, 2, 15),
        patient=PATIENT,
        billing_provider=PROVIDER,
    )
    line = LineAck(
        "99213",
        10000,
        (StatusInfo((StatusCode("A7", "454"),), day, "U"),),
        units=Decimal(1),
        line_control_number="L2-1",
        service_date_from=dt.date(2025, 2, 10),
        service_date_to=dt.date(2025, 2, 10),
    )
    rejected = ClaimAck(
        "PCN-1002",
        (StatusInfo((StatusCode("A7", "562", "85"), StatusCode("A7", "128", "85")), day, "U", 10000, "NPI"),),
        clearinghouse_trace_number="CH0002",
        service_date_from=dt.date(2025, 2, 10),
        service_date_to=dt.date(2025, 2, 12),
        patient=PATIENT,
        billing_provider=PROVIDER,
        lines=(line,),
    )
    return ClaimAcknowledgement(
        envelope=EnvelopeRef("000000401", "401", "0001"),
        reference_id="BATCH101",
        created=dt.datetime(2025, 3, 2, 9, 30),
        payer=Party("PR", "2", "DEMO AETNA", id_qualifier="PI", identifier="DEMO-AETNA"),
        claims=(accepted, rejected),
        receiver=Party("41", "2", "DEMO CLINIC", id_qualifier="46", identifier="CLINIC01"),
        receiver_trace_number="BATCH101",
        receiver_statuses=(StatusInfo((StatusCode("A1", "19", "PR"),), day, "WQ", 35000),),
        received_date=dt.date(2025, 3, 1),
        processed_date=day,
        source_trace_number="TRACE1",
    )


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_835_round_trip() -> None:
    remittance = _remittance()
    text = write_835(
        [remittance],
        sender_id="DEMOCH",
        receiver_id="CLINIC01",
        interchange_control_number=201,
        group_control_number=201,
        created=CREATED,
    )
    assert text.count("\nCAS*CO*") >= 3  # the seven CO reasons needed two segments
    assert "\nPLB*" in text and text.count("\nPLB*") == 2  # seven PLB items: two segments
    (back,) = parse_835(text)
    envelope = dataclasses.replace(remittance.envelope, sender_id="DEMOCH", receiver_id="CLINIC01")
    # Each PLB segment reads back as one provider adjustment: the seven items come as six and one.
    (plb,) = remittance.provider_adjustments
    split = (dataclasses.replace(plb, items=plb.items[:6]), dataclasses.replace(plb, items=plb.items[6:]))
    assert back == dataclasses.replace(remittance, envelope=envelope, provider_adjustments=split)


def test_written_835_is_valid_for_pyx12(tmp_path: Path) -> None:
    # pyx12's map allows a single PLB segment (the 835 guide allows more), so three items here.
    text = write_835(
        [_remittance(plb_items=3)],
        sender_id="DEMOCH",
        receiver_id="CLINIC01",
        interchange_control_number=201,
        group_control_number=201,
        created=CREATED,
    )
    assert text.count("\nPLB*") == 1
    assert pyx12_errors(_write(tmp_path, "remit.835", text)) == []


def test_999_round_trip(tmp_path: Path) -> None:
    groups = _groups()
    text = write_999(
        groups,
        sender_id="DEMOCH",
        receiver_id="CLINIC01",
        interchange_control_number=301,
        group_control_number=301,
        first_transaction_set_control_number=7,
        created=CREATED,
    )
    acks = parse_999(text)
    assert [a.group for a in acks] == groups
    assert [a.envelope.transaction_set_control_number for a in acks] == ["0007", "0008", "0009"]
    assert pyx12_errors(_write(tmp_path, "ack.999", text)) == []


def test_277ca_round_trip(tmp_path: Path) -> None:
    acknowledgement = _claim_acknowledgement()
    text = write_277ca(
        [acknowledgement],
        sender_id="DEMOCH",
        receiver_id="CLINIC01",
        interchange_control_number=401,
        group_control_number=401,
        created=CREATED,
    )
    (back,) = parse_277ca(text)
    envelope = dataclasses.replace(acknowledgement.envelope, sender_id="DEMOCH", receiver_id="CLINIC01")
    assert back == dataclasses.replace(acknowledgement, envelope=envelope)
    assert [c.disposition for c in back.claims] == ["accepted", "rejected"]
    assert pyx12_errors(_write(tmp_path, "ack.277", text)) == []


def test_the_hand_written_837p_is_valid_for_pyx12() -> None:
    assert pyx12_errors(Path(__file__).parent / "data" / "professional.837") == []


def test_pyx12_does_report_an_invalid_file(tmp_path: Path) -> None:
    # The check above is only worth something if the validator fails bad files: CI is an 837
    # claim filing indicator, not an 835 one.
    good = _remittance(plb_items=3)
    bad = dataclasses.replace(good.claims[0], claim_filing_indicator="CI")
    remittance = dataclasses.replace(good, claims=(bad, good.claims[1]))
    text = write_835(
        [remittance],
        sender_id="A",
        receiver_id="B",
        interchange_control_number=1,
        group_control_number=1,
        created=CREATED,
    )
    assert pyx12_errors(_write(tmp_path, "bad.835", text)) != []


@pytest.mark.parametrize("value", ["O*BRIEN", "A~B", "X:Y", "P^Q"])
def test_writers_refuse_delimiters_in_values(value: str) -> None:
    from billing_x12 import X12WriteError

    remittance = dataclasses.replace(_remittance(), trace_number=value)
    with pytest.raises(X12WriteError):
        write_835(
            [remittance],
            sender_id="A",
            receiver_id="B",
            interchange_control_number=1,
            group_control_number=1,
            created=CREATED,
        )
