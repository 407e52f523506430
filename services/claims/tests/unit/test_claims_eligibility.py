"""Eligibility in claims without I/O: what a 271 means (status, benefits, reasons), the inquiry's
decider, the 270 the adapter writes (read back by x12sdk, an independent parser) and a 271 file
routed by the inbound reader."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from x12sdk.io import X12ModelReader

from billing_events.contracts.claims import (
    EligibilityInquiryFailed,
    EligibilityInquirySent,
    EligibilityResponseReceived,
    RejectionReason,
)
from claims.adapters.x12_eligibility import render_270, trace_originator
from claims.adapters.x12_inbound import read_inbound
from claims.application.eligibility import Unwritable
from claims.domain.eligibility import (
    BenefitRead,
    EligibilityResponseRead,
    FailInquiry,
    Inquiry,
    Inquiry270,
    Interchange270,
    Person270,
    Receiver270,
    RecordResponse,
    RejectionRead,
    SendInquiry,
    UnknownInquiry,
    inquiry_decider,
    interpret,
)

CHECK = "0b9f6c1e-7d2a-4c55-9a61-2f1e8d3c4b5a"
INQUIRY = Inquiry(CHECK, "cov-1", "pat-1", "payer-1")

ACTIVE = EligibilityResponseRead(
    check_id=CHECK,
    benefits=(
        BenefitRead("1", "IND", ("30",)),
        BenefitRead("C", "IND", ("30",), "23", 100000),  # the year's deductible, not what is left
        BenefitRead("C", "FAM", ("30",), "29", 180000),  # the family's, not the patient's
        BenefitRead("C", "IND", ("30",), "29", 200000, in_network="N"),  # out of network
        BenefitRead("C", "IND", ("30",), "29", 74250),
        BenefitRead("G", "IND", ("30",), "29", 325000),
        BenefitRead("B", "IND", ("30",), "27", 5000),  # the plan's copay, after the office visit's
        BenefitRead("B", "IND", ("98",), "27", 3000),
        BenefitRead("A", "IND", ("30",), percent=Decimal("0.125")),
    ),
    plan_begin=dt.date(2026, 1, 1),
    plan_end=dt.date(2026, 12, 31),
)


def test_an_active_271_gives_the_patients_in_network_benefits_left() -> None:
    answer = interpret(ACTIVE)
    assert answer.status == "active"
    assert (answer.plan_begin, answer.plan_end) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert answer.deductible_remaining_cents == 74250  # the IND, in-network, EB06 29 one
    assert answer.out_of_pocket_remaining_cents == 325000
    assert answer.copay_cents == 3000  # the office visit (98) before the plan's (30)
    assert answer.coinsurance_basis_points == 1250  # 0.125 x 10,000
    assert answer.reasons == ()


def test_benefits_the_payer_did_not_state_stay_absent() -> None:
    answer = interpret(EligibilityResponseRead(CHECK, benefits=(BenefitRead("1", "IND", ("30",)),)))
    assert answer.status == "active"
    assert answer.deductible_remaining_cents is None
    assert answer.copay_cents is None
    assert answer.coinsurance_basis_points is None
    assert answer.out_of_pocket_remaining_cents is None


def test_an_aaa_rejection_is_an_error_with_its_reason_code() -> None:
    rejected = EligibilityResponseRead(CHECK, rejections=(RejectionRead("2100C", "75", "C"),))
    answer = interpret(rejected)
    assert answer.status == "error"
    assert answer.reasons == (
        RejectionReason(code="AAA:75", description="subscriber/insured not found (2100C)"),
    )


def test_a_rejected_service_type_keeps_an_active_answer_and_says_why() -> None:
    partly = EligibilityResponseRead(
        CHECK,
        benefits=(BenefitRead("1", "IND", ("30",)),),
        rejections=(RejectionRead("2110C", "53", "C"),),
    )
    answer = interpret(partly)
    assert answer.status == "active"
    assert [r.code for r in answer.reasons] == ["AAA:53"]
    only_rejected = EligibilityResponseRead(CHECK, rejections=(RejectionRead("2110C", "53", "C"),))
    assert interpret(only_rejected).status == "error"


def test_an_inactive_271_is_inactive_with_its_eb_code() -> None:
    inactive = EligibilityResponseRead(
        CHECK, benefits=(BenefitRead("6", "IND", ("30",)),), plan_end=dt.date(2025, 12, 31)
    )
    answer = interpret(inactive)
    assert answer.status == "inactive"
    assert answer.plan_end == dt.date(2025, 12, 31)
    assert answer.reasons == (RejectionReason(code="EB:6", description="inactive"),)
    assert answer.deductible_remaining_cents is None


def test_a_271_without_any_eligibility_is_an_error() -> None:
    answer = interpret(
        EligibilityResponseRead(CHECK, benefits=(BenefitRead("C", "IND", ("30",), "29", 100),))
    )
    assert answer.status == "error"
    assert [r.code for r in answer.reasons] == ["EB:none"]


def test_an_inquiry_is_sent_once_and_answered_once() -> None:
    send = SendInquiry(INQUIRY, "270-000000001-x.x12", "000000001", "0001")
    sent = inquiry_decider.decide(send, inquiry_decider.initial)
    assert [type(e) for e in sent] == [EligibilityInquirySent]
    state = inquiry_decider.fold(sent)
    assert inquiry_decider.decide(send, state) == []
    assert inquiry_decider.decide(FailInquiry(INQUIRY, ()), state) == []

    answered = inquiry_decider.decide(RecordResponse(ACTIVE, "answer.x12"), state)
    (received,) = answered
    assert isinstance(received, EligibilityResponseReceived)
    assert (received.check_id, received.coverage_id, received.patient_id, received.payer_id) == (
        CHECK,
        "cov-1",
        "pat-1",
        "payer-1",
    )
    assert (received.status, received.deductible_remaining_cents, received.file_name) == (
        "active",
        74250,
        "answer.x12",
    )
    # A second 271 to the same inquiry changes nothing: the first answer stands.
    assert (
        inquiry_decider.decide(RecordResponse(ACTIVE, "again.x12"), inquiry_decider.fold(answered, state))
        == []
    )


def test_an_answer_to_an_inquiry_never_sent_is_refused() -> None:
    with pytest.raises(UnknownInquiry):
        inquiry_decider.decide(RecordResponse(ACTIVE, "answer.x12"), inquiry_decider.initial)


def test_a_failed_inquiry_is_never_sent_nor_answered() -> None:
    reasons = (RejectionReason(code="PHI:erased", description="the patient's data was erased"),)
    failed = inquiry_decider.decide(FailInquiry(INQUIRY, reasons), inquiry_decider.initial)
    assert [type(e) for e in failed] == [EligibilityInquiryFailed]
    state = inquiry_decider.fold(failed)
    assert inquiry_decider.decide(SendInquiry(INQUIRY, "f", "1", "0001"), state) == []
    with pytest.raises(UnknownInquiry):
        inquiry_decider.decide(RecordResponse(ACTIVE, "answer.x12"), state)


def interchange(*inquiries: Inquiry270) -> Interchange270:
    return Interchange270(
        sender_id="TENANTA7K2M9Q",
        receiver_id="DEMO-BCBS",
        control_number=42,
        created_at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
        inquiries=inquiries,
    )


def inquiry_270(**changes: object) -> Inquiry270:
    values: dict[str, object] = {
        "check_id": CHECK,
        "service_date": dt.date(2026, 3, 2),
        "payer_name": "DEMO BLUE CROSS BLUE SHIELD",
        "payer_edi_id": "DEMO-BCBS",
        "receiver": Receiver270("1234567893", "HARBOR FAMILY MEDICINE"),
        "member_id": "XJH123456789",
        "subscriber": Person270("GONZALEZ", "MARIA", dt.date(1984, 7, 9), "F"),
    }
    values.update(changes)
    return Inquiry270(**values)  # type: ignore[arg-type]


def test_the_270_carries_the_check_id_as_reference_and_trace() -> None:
    text = render_270(interchange(inquiry_270()))
    lines = text.splitlines()
    assert "GS*HS*TENANTA7K2M9Q*DEMO-BCBS*20260302*0930*42*X*005010X279A1~" in lines
    assert f"BHT*0022*13*{CHECK}*20260302*0930~" in lines
    assert "NM1*PR*2*DEMO BLUE CROSS BLUE SHIELD*****PI*DEMO-BCBS~" in lines
    assert "NM1*1P*2*HARBOR FAMILY MEDICINE*****XX*1234567893~" in lines
    # TRN03 is 10 characters: "9" and the first 9 of the submitter id.
    assert trace_originator("TENANTA7K2M9Q") == "9TENANTA7K"
    assert f"TRN*1*{CHECK}*9TENANTA7K~" in lines
    assert "NM1*IL*1*GONZALEZ*MARIA****MI*XJH123456789~" in lines
    assert "DMG*D8*19840709*F~" in lines
    assert "DTP*291*D8*20260302~" in lines


def test_a_dependent_patient_is_asked_about_under_the_subscriber(tmp_path: Path) -> None:
    child = inquiry_270(
        subscriber=Person270("GONZALEZ", "LUIS", dt.date(1980, 1, 2), "M"),
        dependent=Person270("GONZALEZ", "ANA", dt.date(2016, 5, 4), "F"),
        relationship="child",
    )
    text = render_270(interchange(child))
    lines = text.splitlines()
    start = lines.index("HL*3*2*22*1~")
    assert lines[start : start + 8] == [
        "HL*3*2*22*1~",
        "NM1*IL*1*GONZALEZ*LUIS****MI*XJH123456789~",
        "DMG*D8*19800102*M~",
        "HL*4*3*23*0~",
        f"TRN*1*{CHECK}*9TENANTA7K~",
        "NM1*03*1*GONZALEZ*ANA~",
        "DMG*D8*20160504*F~",
        "INS*N*19~",  # 19: child
    ]
    path = tmp_path / "270.x12"
    path.write_text(text)
    with X12ModelReader(str(path)) as reader:
        (model,) = list(reader.models())
    names = [(member.name, member.is_dependent) for member in model.members()]  # type: ignore[attr-defined]
    assert (("GONZALEZ", "ANA"), True) in names


def test_a_name_x12_cannot_carry_is_refused_without_its_value() -> None:
    with pytest.raises(Unwritable) as refused:
        render_270(interchange(inquiry_270(subscriber=Person270("O*BRIEN", "PAT"))))
    assert "O*BRIEN" not in str(refused.value)


SIMULATED_271 = "\n".join(
    [
        "ISA*00*          *00*          *ZZ*DEMO-BCBS      *ZZ*TENANTA7K2M9Q  "
        "*260302*0931*^*00501*000000003*0*P*:~",
        "GS*HB*DEMO-BCBS*TENANTA7K2M9Q*20260302*0931*3*X*005010X279A1~",
        "ST*271*0001*005010X279A1~",
        f"BHT*0022*11*{CHECK}*20260302*0931~",
        "HL*1**20*1~",
        "NM1*PR*2*DEMO BLUE CROSS BLUE SHIELD*****PI*DEMO-BCBS~",
        "HL*2*1*21*1~",
        "NM1*1P*2*HARBOR FAMILY MEDICINE*****XX*1234567893~",
        "HL*3*2*22*0~",
        f"TRN*2*{CHECK}*9TENANTA7K~",
        "NM1*IL*1*GONZALEZ*MARIA****MI*XJH123456789~",
        "DTP*346*D8*20260101~",
        "DTP*347*D8*20261231~",
        "EB*1*IND*30*C1*DEMO BLUE PPO~",
        "EB*C*IND*30***29*150~",
        "EB*A*IND*30*****0.1~",
        "SE*15*0001~",
        "GE*1*3~",
        "IEA*1*000000003~",
    ]
)


def test_the_inbound_reader_routes_a_271_and_keeps_no_patient_data() -> None:
    document = read_inbound(SIMULATED_271.encode())
    assert (document.kind, document.receiver_id, document.interchange_control_number) == (
        "271",
        "TENANTA7K2M9Q",
        "000000003",
    )
    (response,) = document.eligibility_responses
    assert response.check_id == CHECK
    assert response.interchange_control_number == "000000003"
    answer = interpret(response)
    assert (answer.status, answer.deductible_remaining_cents, answer.coinsurance_basis_points) == (
        "active",
        15000,  # $150 = 15000 cents
        1000,  # 0.1 = 10% = 1000 basis points
    )
    assert "GONZALEZ" not in repr(document)
    assert "XJH123456789" not in repr(document)


def test_an_unknown_sex_is_left_out_of_the_270(tmp_path: Path) -> None:
    text = render_270(
        interchange(inquiry_270(subscriber=Person270("GONZALEZ", "MARIA", dt.date(1984, 7, 9), "U")))
    )
    assert "DMG*D8*19840709~" in text.splitlines()
    path = tmp_path / "270.x12"
    path.write_text(text)
    with X12ModelReader(str(path)) as reader:
        assert len(list(reader.models())) == 1  # x12sdk knows DMG03 F and M only
