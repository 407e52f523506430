"""Reading the payer's files and matching them to claims: 835s written here by hand (partial payment,
denial, reversal, PLB, several claims, several payments in one interchange), malformed and
unbalanced ones, and 999/277CA acknowledgements."""

from __future__ import annotations

import datetime as dt
from datetime import date

import pytest
from billing_x12 import (
    ClaimAck,
    ClaimAcknowledgement,
    EnvelopeRef,
    GroupResponse,
    Party,
    SegmentNote,
    StatusCode,
    StatusInfo,
    TransactionSetResponse,
    write_277ca,
    write_999,
)
from billing_x12.implementation_ack import ElementNote

from billing_events.contracts.claims import ClaimLine
from claims.adapters.x12_inbound import read_inbound
from claims.application.ports import FileRefused
from claims.domain.model import ClaimContent
from claims.domain.remittance import adjudication, match_lines, outcome_of

PCN = "0A1B2C3D4E5F6G7H"
OTHER = "1B2C3D4E5F6G7H8J"
RECEIVER = "TENANTA1B2C3D"
CONTENT = ClaimContent(
    claim_id="claim-1",
    patient_control_number=PCN,
    invoice_id="invoice-1",
    encounter_id="encounter-1",
    patient_id="patient-1",
    coverage_id="coverage-1",
    payer_id="payer-1",
    billing_provider_id="billing-1",
    rendering_provider_id="rendering-1",
    place_of_service="11",
    service_date=date(2026, 3, 2),
    diagnoses=("E11.9",),
    lines=(
        ClaimLine(
            line_number=1,
            line_control_number=f"{PCN}-1",
            code="99213",
            modifiers=("25",),
            units=1,
            charge_cents=12500,
            diagnosis_pointers=(1,),
        ),
        ClaimLine(
            line_number=2,
            line_control_number=f"{PCN}-2",
            code="81002",
            units=2,
            charge_cents=1500,
            diagnosis_pointers=(1,),
        ),
    ),
    total_charge_cents=14000,
)


def x12(
    functional_id: str, version: str, sets: list[list[str]], *, number: int = 5, receiver: str = RECEIVER
) -> str:
    """An interchange with one group; SE01 counts ST..SE as the standard says."""
    out = [
        f"ISA*00*{' ' * 10}*00*{' ' * 10}*ZZ*{'ACME1':<15}*ZZ*{receiver:<15}*260320*0900*^*00501*"
        f"{number:09d}*0*P*:",
        f"GS*{functional_id}*ACME1*{receiver}*20260320*0900*{number}*X*{version}",
    ]
    for index, body in enumerate(sets, start=1):
        control = f"{index:04d}"
        segments = [f"ST*{(functional_id == 'HP' and '835') or '999'}*{control}", *body]
        out += [*segments, f"SE*{len(segments) + 1}*{control}"]
    out += [f"GE*{len(sets)}*{number}", f"IEA*1*{number:09d}"]
    return "~\n".join(out) + "~\n"


def payment(amount: str, trace: str, claims: list[str], plb: list[str] | None = None) -> list[str]:
    return [
        f"BPR*I*{amount}*C*CHK************20260320",
        f"TRN*1*{trace}*1999999999",
        "DTM*405*20260320",
        "N1*PR*ACME HEALTH",
        "N3*1 PAYER WAY",
        "N4*HARTFORD*CT*06101",
        "REF*2U*ACME1",
        "N1*PE*HARBOR FAMILY MEDICINE*XX*1234567893",
        "LX*1",
        *claims,
        *(plb or []),
    ]


# 125.00 - 80.00 = 45.00 = CO-45 25.00 + PR-2 20.00; 15.00 - 0 = CO-97 15.00; CLP 140 - 80 = 60.
PARTIAL = [
    f"CLP*{PCN}*1*140*80*20*12*ICN0001",
    "NM1*QC*1*GONZALEZ*MARIA****MI*XJH123456789",
    "SVC*HC:99213:25*125*80**1",
    "DTM*472*20260302",
    "CAS*CO*45*25",
    "CAS*PR*2*20",
    f"REF*6R*{PCN}-1",
    "SVC*HC:81002*15*0**2",
    "DTM*472*20260302",
    "CAS*CO*97*15",
    "LQ*HE*M80",
]
DENIED = [
    f"CLP*{OTHER}*4*90*0**12*ICN0002",
    "CAS*CO*29*90",
    "MOA***MA130",
]
REVERSAL = [
    f"CLP*{PCN}*22*-140*-80*-20*12*ICN0001",
    "SVC*HC:99213:25*-125*-80**1",
    "CAS*CO*45*-25",
    "CAS*PR*2*-20",
    f"REF*6R*{PCN}-1",
    "SVC*HC:81002*-15*0**2",
    "CAS*CO*97*-15",
    f"REF*6R*{PCN}-2",
]


def test_a_partial_payment_lands_on_its_lines_by_line_control_number_and_by_code_date_and_charge() -> None:
    document = read_inbound(x12("HP", "005010X221A1", [payment("80", "T1", PARTIAL)]).encode())
    (remittance,) = document.remittances
    assert (document.kind, document.receiver_id, document.interchange_control_number) == (
        "835",
        RECEIVER,
        "000000005",
    )
    assert (remittance.payer_key, remittance.trace_number, remittance.payment_cents) == ("ACME1", "T1", 8000)
    (advice,) = remittance.claims
    command = adjudication(advice, CONTENT, "remittance-1", remittance.payment_date)
    assert command.outcome == "partially_paid"
    assert (command.paid_cents, command.patient_responsibility_cents) == (8000, 2000)
    assert command.payer_claim_control_number == "ICN0001"
    first, second = command.lines
    # Line 1 by its REF*6R; line 2 has none and is found by code, date and charge.
    assert (first.line_number, first.paid_cents) == (1, 8000)
    assert [(a.group, a.reason_code, a.amount_cents) for a in first.adjustments] == [
        ("CO", "45", 2500),
        ("PR", "2", 2000),
    ]
    assert (second.line_number, second.line_control_number, second.paid_cents) == (2, f"{PCN}-2", 0)
    assert second.remark_codes == ("M80",)


def test_a_full_denial_several_claims_and_a_provider_adjustment() -> None:
    # BPR = sum of CLP04 - PLB: 80.00 + 0 - 5.00 = 75.00.
    plb = ["PLB*1234567893*20261231*L6:INTEREST*-2.5*WO:OVERPAY*7.5"]
    document = read_inbound(x12("HP", "005010X221A1", [payment("75", "T2", PARTIAL + DENIED, plb)]).encode())
    (remittance,) = document.remittances
    assert [c.patient_control_number for c in remittance.claims] == [PCN, OTHER]
    assert remittance.provider_adjustment_cents == 500
    denied = remittance.claims[1]
    assert outcome_of(denied, ()) == "denied"
    assert [(a.group, a.reason_code, a.amount_cents) for a in denied.adjustments] == [("CO", "29", 9000)]
    assert denied.remark_codes == ("MA130",)


def test_a_reversal_carries_negative_amounts_and_the_outcome_reversed() -> None:
    # The payer takes back 80.00 and pays 80.00 again in the same payment: BPR = -80 + 80 = 0.
    repaid = [f"CLP*{PCN}*1*140*80*20*12*ICN0003", "CAS*CO*45*40", "CAS*PR*2*20"]
    document = read_inbound(x12("HP", "005010X221A1", [payment("0", "T3", REVERSAL + repaid)]).encode())
    reversal, again = document.remittances[0].claims
    undo = adjudication(reversal, CONTENT, "remittance-3", date(2026, 3, 20))
    assert undo.outcome == "reversed"
    assert (undo.paid_cents, undo.patient_responsibility_cents) == (-8000, -2000)
    assert [line.line_number for line in undo.lines] == [1, 2]
    redo = adjudication(again, CONTENT, "remittance-3", date(2026, 3, 20))
    assert (redo.outcome, redo.paid_cents, redo.lines) == ("paid", 8000, ())


def test_several_payments_in_one_interchange() -> None:
    text = x12("HP", "005010X221A1", [payment("80", "T4", PARTIAL), payment("0", "T5", DENIED)])
    document = read_inbound(text.encode())
    assert [(r.trace_number, r.payment_cents) for r in document.remittances] == [("T4", 8000), ("T5", 0)]


@pytest.mark.parametrize(
    ("case", "data", "reason"),
    [
        ("not X12", b"Dear provider, please find our payment enclosed.", "not a readable X12 file"),
        (
            "a line that does not balance",
            x12(
                "HP", "005010X221A1", [payment("80", "T6", [*PARTIAL[:4], "CAS*CO*45*24", *PARTIAL[5:]])]
            ).encode(),
            "service line does not balance",
        ),
        (
            "a payment that does not balance",
            x12("HP", "005010X221A1", [payment("81", "T7", PARTIAL)]).encode(),
            "payment does not balance",
        ),
        (
            "a broken trailer",
            x12("HP", "005010X221A1", [payment("80", "T8", PARTIAL)])
            .replace("IEA*1*000000005", "IEA*1*000000006")
            .encode(),
            "not a readable X12 file",
        ),
        (
            "an 837 sent back",
            x12("HC", "005010X222A1", [["BHT*0019*00*1*20260320*0900*CH"]])
            .replace("ST*999", "ST*837")
            .encode(),
            "not an 835, 999, 277CA or 271",
        ),
    ],
)
def test_a_bad_file_is_refused_whole_with_a_reason_that_names_no_value(
    case: str, data: bytes, reason: str
) -> None:
    with pytest.raises(FileRefused) as refused:
        read_inbound(data)
    assert reason in refused.value.reason
    assert "GONZALEZ" not in refused.value.reason and "XJH123456789" not in refused.value.reason


def test_lines_fall_back_to_code_date_and_charge_and_keep_unknown_lines() -> None:
    from claims.domain.inbound import LinePayment

    unknown = LinePayment("99499", (), 1000, 0, date(2026, 3, 2), None)
    by_code = LinePayment("81002", (), 1500, 1200, date(2026, 3, 2), None)
    wrong_date = LinePayment("99213", (), 12500, 9000, date(2026, 3, 3), None)
    lines = match_lines(CONTENT, (unknown, by_code, wrong_date))
    assert [line.line_number for line in lines] == [0, 2, 0]


def ack_999(status: str, notes: tuple[SegmentNote, ...] = (), errors: tuple[str, ...] = ()) -> bytes:
    group = GroupResponse(
        functional_id="HC",
        group_control_number="7",
        status=status,
        included_count=1,
        received_count=1,
        accepted_count=1 if status == "A" else 0,
        version="005010X222A1",
        transaction_sets=(TransactionSetResponse("837", "0007", status, "005010X222A1", errors, notes),),
    )
    return write_999(
        [group],
        sender_id="ACME1",
        receiver_id=RECEIVER,
        interchange_control_number=31,
        group_control_number=31,
        first_transaction_set_control_number=1,
        created=dt.datetime(2026, 3, 11, 8, 0),
    ).encode()


def test_a_999_answers_our_group_and_transaction_set_by_control_number() -> None:
    (group,) = read_inbound(ack_999("A")).groups
    assert (group.group_control_number, group.accepted, group.interchange_control_number) == (
        "7",
        True,
        "000000031",
    )
    assert [(ts.control_number, ts.accepted) for ts in group.transaction_sets] == [("0007", True)]


def test_a_rejecting_999_gives_reasons_without_the_bad_value() -> None:
    note = SegmentNote("NM1", 12, "8", "2010BA", (ElementNote(9, "6", None, "67", bad_value="XJH 123#"),))
    (group,) = read_inbound(ack_999("R", (note,), ("5",))).groups
    (answer,) = group.transaction_sets
    assert answer.accepted is False
    assert [(r.code, r.description) for r in answer.reasons] == [
        ("IK5:5", "one or more segments in error"),
        ("IK3:NM1:8", "NM1 at 12: segment has data element errors"),
        ("IK4:NM109:6", "NM109: invalid character in data element"),
    ]
    assert "XJH" not in str(answer.reasons)


def ack_277(status: StatusCode, payer_number: str | None) -> bytes:
    claim = ClaimAck(
        patient_control_number=PCN,
        statuses=(StatusInfo((status,), date(2026, 3, 11), "WQ" if status.category == "A2" else "U", 14000),),
        payer_claim_control_number=payer_number,
        service_date_from=date(2026, 3, 2),
        service_date_to=date(2026, 3, 2),
        patient=Party("QC", "1", "GONZALEZ", "MARIA", id_qualifier="MI", identifier="XJH123456789"),
        billing_provider=Party(
            "85", "2", "HARBOR FAMILY MEDICINE", id_qualifier="XX", identifier="1234567893"
        ),
    )
    acknowledgement = ClaimAcknowledgement(
        envelope=EnvelopeRef("000000032", "32", "0001"),
        reference_id="277CA1",
        created=dt.datetime(2026, 3, 11, 8, 0),
        payer=Party("PR", "2", "ACME HEALTH", id_qualifier="PI", identifier="ACME1"),
        receiver=Party("41", "2", "HARBOR BILLING", id_qualifier="46", identifier=RECEIVER),
        receiver_trace_number="batch-1",
        receiver_statuses=(StatusInfo((StatusCode("A1", "19", "PR"),), date(2026, 3, 11), "WQ", 14000),),
        received_date=date(2026, 3, 11),
        processed_date=date(2026, 3, 11),
        claims=(claim,),
    )
    return write_277ca(
        [acknowledgement],
        sender_id="ACME1",
        receiver_id=RECEIVER,
        interchange_control_number=32,
        group_control_number=32,
        created=dt.datetime(2026, 3, 11, 8, 0),
    ).encode()


def test_a_277ca_accepts_a_claim_with_the_payers_claim_control_number() -> None:
    (answer,) = read_inbound(ack_277(StatusCode("A2", "20", "PR"), "ICN0001")).claim_statuses
    assert (answer.patient_control_number, answer.disposition, answer.payer_claim_control_number) == (
        PCN,
        "accepted",
        "ICN0001",
    )


def test_a_277ca_rejection_names_the_status_codes() -> None:
    (answer,) = read_inbound(ack_277(StatusCode("A7", "562", "85"), None)).claim_statuses
    assert answer.disposition == "rejected"
    assert [(r.code, r.description) for r in answer.reasons] == [
        ("A7:562:85", "rejected for invalid information (claim status code 562)")
    ]
