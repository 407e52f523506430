"""835 parsing on remittances written by hand, and the refusals of bad or unbalanced files."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from billing_x12 import (
    Adjustment,
    ClaimPayment,
    ElementError,
    EnvelopeError,
    NotX12Error,
    Remittance,
    SegmentError,
    UnbalancedError,
    WrongTransactionError,
    X12Error,
    envelope_ref,
    iter_transaction_sets,
    parse_835,
    read_interchanges,
    read_remittance,
)

# A partial payment (PCN-A: contractual, deductible, coinsurance, one line denied as non-covered)
# and a full denial at claim level (PCN-D), one check of 144.00.
PAYMENT = """\
ISA*00*          *00*          *ZZ*DEMOCH         *ZZ*CLINIC01       *250310*0930*^*00501*000000501*0*P*:~
GS*HP*DEMOCH*CLINIC01*20250310*0930*501*X*005010X221A1~
ST*835*0001~
BPR*I*144*C*CHK************20250310~
TRN*1*EFT0001*1060000001~
DTM*405*20250310~
N1*PR*DEMO AETNA~
N3*151 FARMINGTON AVE~
N4*HARTFORD*CT*06156~
REF*2U*DEMO-AETNA~
PER*BL*EDI SUPPORT*TE*8005550100~
N1*PE*DEMO CLINIC*XX*1234567893~
REF*TJ*123456789~
LX*1~
CLP*PCN-A*1*430*144*136*12*ICN0001*11*1~
NM1*QC*1*DOE*JOHN****MI*MEMBER001~
DTM*232*20250301~
SVC*HC:99214:25*200*48**1~
DTM*472*20250301~
CAS*CO*45*40~
CAS*PR*1*100**2*12~
REF*6R*LA-1~
AMT*B6*160~
SVC*HC:20610*150*96**1~
DTM*472*20250301~
CAS*CO*45*30~
CAS*PR*2*24~
REF*6R*LA-2~
AMT*B6*120~
SVC*HC:97810*80*0**1~
DTM*472*20250301~
CAS*CO*96*80~
REF*6R*LA-3~
LQ*HE*N130~
CLP*PCN-D*4*75*0**12*ICN0002*11*1~
CAS*CO*29*75~
NM1*QC*1*ROE*JANE****MI*MEMBER002~
SE*36*0001~
GE*1*501~
IEA*1*000000501~
"""

# The reversal of PCN-A (CLP02 22, every amount negated), its replacement paid, and provider-level
# adjustments: interest paid (L6, negative: adds to the payment) and an overpayment recovered
# (WO, positive: taken from it). BPR02 = (-144 + 180) - (-3.50 + 20) = 19.50, by ACH.
REVERSAL = """\
ISA*00*          *00*          *ZZ*DEMOCH         *ZZ*CLINIC01       *250317*0930*^*00501*000000502*0*P*:~
GS*HP*DEMOCH*CLINIC01*20250317*0930*502*X*005010X221A1~
ST*835*0002~
BPR*I*19.5*C*ACH*CCP*01*999999999*DA*123456*1060000001**01*888888888*DA*654321*20250317~
TRN*1*EFT0002*1060000001~
N1*PR*DEMO AETNA~
N3*151 FARMINGTON AVE~
N4*HARTFORD*CT*06156~
PER*BL*EDI SUPPORT*TE*8005550100~
N1*PE*DEMO CLINIC*XX*1234567893~
LX*1~
CLP*PCN-A*22*-430*-144*-136*12*ICN0001*11*1~
NM1*QC*1*DOE*JOHN****MI*MEMBER001~
SVC*HC:99214:25*-200*-48**1~
CAS*CO*45*-40~
CAS*PR*1*-100**2*-12~
REF*6R*LA-1~
SVC*HC:20610*-150*-96**1~
CAS*CO*45*-30~
CAS*PR*2*-24~
REF*6R*LA-2~
SVC*HC:97810*-80*0**1~
CAS*CO*96*-80~
REF*6R*LA-3~
CLP*PCN-A*1*430*180*100*12*ICN0003*11*7~
NM1*QC*1*DOE*JOHN****MI*MEMBER001~
SVC*HC:99214:25*200*60**1~
CAS*CO*45*40~
CAS*PR*1*100~
REF*6R*LA-1~
SVC*HC:20610*150*120**1~
CAS*CO*45*30~
REF*6R*LA-2~
SVC*HC:97811*80*0**1~
CAS*CO*96*80~
REF*6R*LA-3~
PLB*1234567893*20251231*L6:INT01*-3.5*WO:ICN0001*20~
SE*36*0002~
GE*1*502~
IEA*1*000000502~
"""


def test_partial_payment_is_read_line_by_line_in_cents() -> None:
    (remittance,) = parse_835(PAYMENT)
    assert remittance.payment.amount_cents == 14400
    assert (remittance.payment.handling_code, remittance.payment.method) == ("I", "CHK")
    assert remittance.payment.payment_date == dt.date(2025, 3, 10)
    assert remittance.trace_number == "EFT0001"
    assert remittance.originating_company_id == "1060000001"
    assert remittance.payer_id == "DEMO-AETNA"
    assert remittance.payer.name == "DEMO AETNA"
    assert remittance.payer.address is not None and remittance.payer.address.city == "HARTFORD"
    assert (remittance.payee.id_qualifier, remittance.payee.identifier) == ("XX", "1234567893")
    assert remittance.production_date == dt.date(2025, 3, 10)
    assert remittance.envelope.interchange_control_number == "000000501"
    assert remittance.envelope.transaction_set_control_number == "0001"

    claim = remittance.claims[0]
    assert claim.patient_control_number == "PCN-A"
    assert claim.status_code == "1"
    assert (claim.charge_cents, claim.paid_cents, claim.patient_responsibility_cents) == (43000, 14400, 13600)
    assert claim.payer_claim_control_number == "ICN0001"
    assert claim.statement_from == dt.date(2025, 3, 1)
    assert claim.patient is not None and claim.patient.identifier == "MEMBER001"
    assert claim.header_number == 1

    first, second, third = claim.service_lines
    assert (first.code, first.modifiers, first.units) == ("99214", ("25",), Decimal(1))
    assert (first.charge_cents, first.paid_cents, first.allowed_cents) == (20000, 4800, 16000)
    assert first.adjustments == (
        Adjustment("CO", "45", 4000),
        Adjustment("PR", "1", 10000),
        Adjustment("PR", "2", 1200),
    )
    assert first.line_control_number == "LA-1"
    assert first.service_date == dt.date(2025, 3, 1)
    assert second.line_control_number == "LA-2"
    assert second.paid_cents == 9600
    assert third.adjustments == (Adjustment("CO", "96", 8000),)
    assert third.remark_codes == ("N130",)


def test_full_denial_carries_its_reason_at_claim_level() -> None:
    (remittance,) = parse_835(PAYMENT)
    denial = remittance.claims[1]
    assert denial.is_denied
    assert (denial.charge_cents, denial.paid_cents) == (7500, 0)
    assert denial.adjustments == (Adjustment("CO", "29", 7500),)
    assert denial.service_lines == ()


def test_reversal_amounts_are_negative_and_balance() -> None:
    (remittance,) = parse_835(REVERSAL)
    reversal, replacement = remittance.claims
    assert reversal.is_reversal
    assert (reversal.charge_cents, reversal.paid_cents, reversal.patient_responsibility_cents) == (
        -43000,
        -14400,
        -13600,
    )
    assert reversal.service_lines[0].adjustments == (
        Adjustment("CO", "45", -4000),
        Adjustment("PR", "1", -10000),
        Adjustment("PR", "2", -1200),
    )
    assert reversal.payer_claim_control_number == "ICN0001"
    assert (replacement.status_code, replacement.frequency_code, replacement.paid_cents) == ("1", "7", 18000)


def test_provider_level_adjustments_are_read_and_counted_against_the_payment() -> None:
    (remittance,) = parse_835(REVERSAL)
    (plb,) = remittance.provider_adjustments
    assert plb.provider_identifier == "1234567893"
    assert plb.fiscal_period_end == dt.date(2025, 12, 31)
    assert [(i.reason_code, i.reference, i.amount_cents) for i in plb.items] == [
        ("L6", "INT01", -350),
        ("WO", "ICN0001", 2000),
    ]
    assert remittance.provider_adjustment_total_cents == 1650
    assert remittance.payment.amount_cents == 1950
    assert remittance.payment.method == "ACH"
    assert len(remittance.payment.banking) == 10


def test_several_interchanges_in_one_file() -> None:
    first, second = parse_835(PAYMENT + REVERSAL)
    assert (first.trace_number, second.trace_number) == ("EFT0001", "EFT0002")
    assert (first.envelope.interchange_control_number, second.envelope.interchange_control_number) == (
        "000000501",
        "000000502",
    )


def test_several_transaction_sets_in_one_group() -> None:
    first_set = PAYMENT[PAYMENT.index("ST*835") : PAYMENT.index("GE*")]
    second_set = REVERSAL[REVERSAL.index("ST*835") : REVERSAL.index("GE*")]
    header = PAYMENT[: PAYMENT.index("ST*835")]
    text = header + first_set + second_set + "GE*2*501~\nIEA*1*000000501~\n"
    remittances = parse_835(text)
    assert [r.envelope.transaction_set_control_number for r in remittances] == ["0001", "0002"]
    assert [len(r.claims) for r in remittances] == [2, 2]
    assert {r.envelope.group_control_number for r in remittances} == {"501"}


def test_a_cas_segment_holds_up_to_six_reasons() -> None:
    text = PAYMENT.replace("CAS*PR*1*100**2*12~", "CAS*PR*1*50*1*2*12**3*10**1*20**1*10**2*10~")
    (remittance,) = parse_835(text)
    reasons = [
        (a.reason_code, a.amount_cents, a.quantity) for a in remittance.claims[0].service_lines[0].adjustments
    ]
    assert reasons == [
        ("45", 4000, None),
        ("1", 5000, Decimal(1)),
        ("2", 1200, None),
        ("3", 1000, None),
        ("1", 2000, None),
        ("1", 1000, None),
        ("2", 1000, None),
    ]


# ------------------------------------------------------------------------------------- refusals


def test_a_non_numeric_amount_names_segment_and_element() -> None:
    with pytest.raises(ElementError) as caught:
        parse_835(PAYMENT.replace("CLP*PCN-A*1*430*", "CLP*PCN-A*1*43O*"))
    assert str(caught.value) == "segment 15 CLP: CLP03 is not an amount"
    assert caught.value.element == "CLP03"


def test_an_amount_with_more_than_two_decimals_is_refused() -> None:
    with pytest.raises(ElementError, match=r"segment 20 CAS: CAS03 is not an amount"):
        parse_835(PAYMENT.replace("CAS*CO*45*40~", "CAS*CO*45*40.001~"))


def test_an_unbalanced_claim_is_refused() -> None:
    text = PAYMENT.replace("BPR*I*144*", "BPR*I*154*").replace("CLP*PCN-D*4*75*0*", "CLP*PCN-D*4*75*10*")
    with pytest.raises(UnbalancedError) as caught:
        parse_835(text)
    assert str(caught.value) == (
        "segment 35 CLP: claim does not balance: CLP03 - CLP04 = 65 but its adjustments total 75"
    )


def test_an_unbalanced_service_line_is_refused() -> None:
    with pytest.raises(UnbalancedError, match=r"^segment 18 SVC: service line does not balance"):
        parse_835(PAYMENT.replace("SVC*HC:99214:25*200*48*", "SVC*HC:99214:25*200*49*"))


def test_a_payment_that_does_not_match_claims_less_plb_is_refused() -> None:
    with pytest.raises(UnbalancedError) as caught:
        parse_835(REVERSAL.replace("BPR*I*19.5*", "BPR*I*36*"))
    assert str(caught.value) == (
        "segment 4 BPR: payment does not balance: BPR02 = 36 but the claims' payments less provider "
        "adjustments = 19.5"
    )


def test_a_reversal_with_a_wrong_sign_does_not_balance() -> None:
    with pytest.raises(UnbalancedError):
        parse_835(REVERSAL.replace("CAS*CO*45*-40~", "CAS*CO*45*40~"))


def test_balancing_can_be_left_to_the_caller() -> None:
    (remittance,) = parse_835(PAYMENT.replace("BPR*I*144*", "BPR*I*145*"), check_balance=False)
    assert remittance.payment.amount_cents == 14500


def test_an_837_is_not_an_835() -> None:
    text = (
        PAYMENT.replace("GS*HP*", "GS*HC*")
        .replace("005010X221A1", "005010X222A1")
        .replace("ST*835", "ST*837")
    )
    with pytest.raises(WrongTransactionError, match=r"^segment 3 ST: ST01 is not 835"):
        parse_835(text)


def test_broken_envelope_refuses_the_whole_file() -> None:
    with pytest.raises(EnvelopeError, match=r"SE01 does not match"):
        parse_835(PAYMENT + REVERSAL.replace("SE*36*0002", "SE*35*0002"))


def test_text_that_is_not_x12_is_refused() -> None:
    with pytest.raises(NotX12Error):
        parse_835("CLP*PCN-A*1*430*144~")


@pytest.mark.parametrize(
    ("old", "new", "error", "message"),
    [
        ("CLP*PCN-D*4*", "CLP*PCN-D*9*", ElementError, "segment 35 CLP: CLP02 is not a claim status code"),
        ("CAS*CO*29*75~", "CAS*XX*29*75~", ElementError, "segment 36 CAS: CAS01 is not a valid code"),
        ("BPR*I*144*C*CHK", "BPR*I*144*C*CASH", ElementError, "segment 4 BPR: BPR04 is not a valid code"),
        ("20250310~\nTRN", "2025031~\nTRN", ElementError, "segment 4 BPR: BPR16 is not a CCYYMMDD date"),
        ("TRN*1*EFT0001*1060000001~\n", "", SegmentError, "segment 4 BPR: an 835 needs a TRN segment"),
        ("LX*1~\nCLP*PCN-A", "LX*1~\nSVC*HC:1*1*1~\nCLP*PCN-A", SegmentError, "segment 15 SVC: SVC is not"),
    ],
)
def test_malformed_segments_are_refused_with_a_named_error(
    old: str, new: str, error: type[X12Error], message: str
) -> None:
    text = PAYMENT.replace(old, new)
    if new.count("~") != old.count("~"):
        text = text.replace("SE*36*0001", f"SE*{36 + new.count('~') - old.count('~')}*0001")
    with pytest.raises(error) as caught:
        parse_835(text)
    assert str(caught.value).startswith(message)


def test_errors_and_reprs_never_show_patient_data() -> None:
    (remittance,) = parse_835(PAYMENT)
    assert "DOE" not in repr(remittance)
    assert "MEMBER001" not in repr(remittance)
    with pytest.raises(ElementError) as caught:
        parse_835(PAYMENT.replace("NM1*QC*1*DOE*JOHN****MI*MEMBER001~\nDTM", "NM1~\nDTM"))
    assert "DOE" not in str(caught.value)


# ------------------------------------------------------------------------- hostile input (issue 16)


@pytest.mark.parametrize(
    "amount",
    ["\u0664\u0663\u0660", "4\uff130", "²", "9" * 5000, "1" * 14, "1e3"],
    ids=["arabic-indic", "fullwidth", "sup", "huge", "range", "exp"],
)
def test_only_ascii_amounts_of_a_sane_size_are_amounts(amount: str) -> None:
    with pytest.raises(ElementError) as refused:
        parse_835(PAYMENT.replace("CLP*PCN-A*1*430*", f"CLP*PCN-A*1*{amount}*"))
    assert refused.value.element == "CLP03"


def test_a_negative_payment_on_a_claim_that_is_not_a_reversal_is_refused() -> None:
    with pytest.raises(ElementError, match="CLP04 is negative on a claim that is not a reversal"):
        parse_835(PAYMENT.replace("CLP*PCN-A*1*430*144*", "CLP*PCN-A*1*430*-144*"))


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x7f"], ids=["nul", "escape", "del"])
def test_control_characters_in_an_element_are_refused_by_name(control: str) -> None:
    with pytest.raises(ElementError) as refused:
        parse_835(PAYMENT.replace("NM1*QC*1*DOE*JOHN", f"NM1*QC*1*DOE*JO{control}HN"))
    assert (refused.value.element, refused.value.reason) == ("NM104", "NM104 contains a control character")


def _streamed(text: str) -> list[tuple[Remittance, list[ClaimPayment]]]:
    """Each remittance of `text` read the streaming way: lazy bodies, claims handed over one by one."""
    read = []
    for interchange, group, transaction_set in iter_transaction_sets(
        read_interchanges(text, lazy_bodies=True)
    ):
        assert transaction_set.segments == ()  # nothing of the body is held
        claims: list[ClaimPayment] = []
        remittance = read_remittance(
            transaction_set,
            envelope_ref(interchange, group, transaction_set),
            group_version=group.version,
            on_claim=claims.append,
        )
        assert remittance.claims == ()
        read.append((remittance, claims))
    return read


@pytest.mark.parametrize(
    "text",
    [PAYMENT, REVERSAL, PAYMENT + REVERSAL, "\ufeff" + PAYMENT.replace("~\n", "~\r\n")],
    ids=["payment", "reversal", "two interchanges", "bom and crlf"],
)
def test_a_streamed_read_gives_what_the_whole_read_gives(text: str) -> None:
    whole = parse_835(text)
    streamed = _streamed(text)
    assert [dataclasses.replace(r, claims=()) for r in whole] == [r for r, _ in streamed]
    assert [list(r.claims) for r in whole] == [claims for _, claims in streamed]
    for interchange in read_interchanges(text):
        for group in interchange.groups:
            for transaction_set in group.transaction_sets:
                assert list(transaction_set.body()) == list(transaction_set.segments)


@pytest.mark.parametrize(
    "broken",
    [
        PAYMENT.replace("BPR*I*144*", "BPR*I*154*").replace("CLP*PCN-D*4*75*0*", "CLP*PCN-D*4*75*10*"),
        PAYMENT.replace("SVC*HC:99214:25*200*48*", "SVC*HC:99214:25*200*49*"),
        REVERSAL.replace("BPR*I*19.5*", "BPR*I*36*"),
        PAYMENT.replace("CAS*CO*45*40~", "CAS*CO*45*40.001~"),
        PAYMENT.replace("SE*", "SE*9"),
    ],
    ids=["claim", "line", "payment", "amount", "segment count"],
)
def test_a_streamed_read_refuses_what_the_whole_read_refuses_at_the_same_segment(broken: str) -> None:
    with pytest.raises(X12Error) as whole:
        parse_835(broken)
    with pytest.raises(X12Error) as streamed:
        _streamed(broken)
    assert (type(streamed.value), str(streamed.value)) == (type(whole.value), str(whole.value))
