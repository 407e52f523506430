"""The simulator on a real folder: 837P files written by hand in, 999/277CA/835 out, each answer
checked against amounts computed by hand from the rule table below."""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import re
from pathlib import Path

import pytest
import pyx12.params
import pyx12.x12n_document
from billing_x12 import StatusCode, parse_277ca, parse_835, parse_999

from payer_simulator.config import Rules, load_rules
from payer_simulator.main import main
from payer_simulator.processor import Simulator
from payer_simulator.state import load_state

NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.UTC)

RULES = """\
payers:
  DEMO-AETNA:
    name: DEMO AETNA
    tax_id: "060000001"
    address: {line: 151 FARMINGTON AVE, city: HARTFORD, state: CT, zip: "06156"}
    allowed_percent: "80"
    annual_deductible: "100.00"
    coinsurance_percent: "20"
    timely_filing_days: 90
    claim_filing_indicator: "12"
    non_covered: {codes: ["97810"], rarc: N130}
    modifier_rules:
      - {codes: ["99213", "99214"], modifier: "25", rarc: M20}
"""


def x837(control: int, body: str) -> str:
    """An 837P interchange around `body` (the subscriber loops), with SE01 counted."""
    header = f"""\
ST*837*0001*005010X222A1~
BHT*0019*00*BATCH{control}*20250305*1200*CH~
NM1*41*2*DEMO CLINIC*****46*CLINIC01~
PER*IC*BILLING OFFICE*TE*5555550100~
NM1*40*2*DEMO CLEARINGHOUSE*****46*DEMOCH~
HL*1**20*1~
NM1*85*2*DEMO CLINIC*****XX*1234567893~
N3*100 MAIN ST~
N4*SPRINGFIELD*IL*627010001~
REF*EI*123456789~
"""
    transaction = header + body
    count = transaction.count("~") + 1
    return (
        f"ISA*00*          *00*          *ZZ*CLINIC01       *ZZ*DEMOCH         *250305*1200*^*00501*"
        f"{control:09d}*1*T*:~\n"
        f"GS*HC*CLINIC01*DEMOCH*20250305*1200*{control}*X*005010X222A1~\n"
        f"{transaction}SE*{count}*0001~\nGE*1*{control}~\nIEA*1*{control:09d}~\n"
    )


SUBSCRIBER_DOE = """\
HL*2*1*22*0~
SBR*P*18*GRP100******CI~
NM1*IL*1*DOE*JOHN****MI*MEMBER001~
N3*1 ELM ST~
N4*SPRINGFIELD*IL*62701~
DMG*D8*19800101*M~
NM1*PR*2*DEMO AETNA*****PI*DEMO-AETNA~
"""

# PCN-A: an E/M with modifier 25, a procedure and a non-covered code on 2025-03-01.
# PCN-B: an E/M without modifier 25 beside a procedure, and a line older than 90 days.
# PCN-C: the dependent of another subscriber; CLM02 (100.00) is not the sum of its lines (90.00).
FIRST_BATCH = x837(
    101,
    SUBSCRIBER_DOE
    + """\
CLM*PCN-A*430***11:B:1*Y*A*Y*Y~
HI*ABK:M1711~
LX*1~
SV1*HC:99214:25*200*UN*1***1~
DTP*472*D8*20250301~
REF*6R*LA-1~
LX*2~
SV1*HC:20610*150*UN*1***1~
DTP*472*D8*20250301~
REF*6R*LA-2~
LX*3~
SV1*HC:97810*80*UN*1***1~
DTP*472*D8*20250301~
REF*6R*LA-3~
CLM*PCN-B*166.78***11:B:1*Y*A*Y*Y~
HI*ABK:J069~
LX*1~
SV1*HC:99213*123.45*UN*1***1~
DTP*472*D8*20250302~
REF*6R*LB-1~
LX*2~
SV1*HC:36415*33.33*UN*1***1~
DTP*472*D8*20250302~
REF*6R*LB-2~
LX*3~
SV1*HC:81002*10*UN*1***1~
DTP*472*D8*20241101~
REF*6R*LB-3~
HL*3*1*22*1~
SBR*P********CI~
NM1*IL*1*ROE*RICHARD****MI*MEMBER002~
N3*2 OAK ST~
N4*SPRINGFIELD*IL*62701~
DMG*D8*19750505*M~
NM1*PR*2*DEMO AETNA*****PI*DEMO-AETNA~
HL*4*3*23*0~
PAT*19~
NM1*QC*1*ROE*JANE~
N3*2 OAK ST~
N4*SPRINGFIELD*IL*62701~
DMG*D8*20100303*F~
CLM*PCN-C*100***11:B:1*Y*A*Y*Y~
HI*ABK:Z0000~
LX*1~
SV1*HC:99213:25*90*UN*1***1~
DTP*472*D8*20250303~
REF*6R*LC-1~
""",
)

OTHER_PAYER = x837(
    102,
    """\
HL*2*1*22*0~
SBR*P*18*GRP9******CI~
NM1*IL*1*POE*ANN****MI*OTHER001~
NM1*PR*2*SOME OTHER PAYER*****PI*OTHER-PAYER~
CLM*PCN-X*50***11:B:1*Y*A*Y*Y~
HI*ABK:J069~
LX*1~
SV1*HC:99212*50*UN*1***1~
DTP*472*D8*20250301~
""",
)

VOID_A = x837(
    103,
    SUBSCRIBER_DOE
    + """\
CLM*PCN-A*430***11:B:8*Y*A*Y*Y~
REF*F8*SIM0000000001~
HI*ABK:M1711~
LX*1~
SV1*HC:99214:25*200*UN*1***1~
DTP*472*D8*20250301~
REF*6R*LA-1~
LX*2~
SV1*HC:20610*150*UN*1***1~
DTP*472*D8*20250301~
REF*6R*LA-2~
LX*3~
SV1*HC:97810*80*UN*1***1~
DTP*472*D8*20250301~
REF*6R*LA-3~
""",
)

NEW_CLAIM_E = x837(
    104,
    SUBSCRIBER_DOE
    + """\
CLM*PCN-E*300***11:B:1*Y*A*Y*Y~
HI*ABK:M1711~
LX*1~
SV1*HC:99214:25*300*UN*1***1~
DTP*472*D8*20250305~
REF*6R*LE-1~
""",
)

REPLACE_B = x837(
    105,
    SUBSCRIBER_DOE
    + """\
CLM*PCN-B*166.78***11:B:7*Y*A*Y*Y~
REF*F8*SIM0000000002~
HI*ABK:J069~
LX*1~
SV1*HC:99213:25*123.45*UN*1***1~
DTP*472*D8*20250302~
REF*6R*LB-1~
LX*2~
SV1*HC:36415*33.33*UN*1***1~
DTP*472*D8*20250302~
REF*6R*LB-2~
LX*3~
SV1*HC:81002*10*UN*1***1~
DTP*472*D8*20241101~
REF*6R*LB-3~
""",
)


def pyx12_errors(path: Path) -> list[str]:
    """pyx12's validator in-process (what `x12valid` runs): what it reports, [] when valid."""
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


@pytest.fixture
def rules(tmp_path: Path) -> Rules:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return load_rules(path)


@pytest.fixture
def clearinghouse(tmp_path: Path) -> Path:
    directory = tmp_path / "clearinghouse"
    (directory / "outbound").mkdir(parents=True)
    return directory


def _send(clearinghouse: Path, name: str, text: str) -> Path:
    path = clearinghouse / "outbound" / name
    path.write_text(text)
    return path


def _answers(written: list[Path], kind: str) -> list[Path]:
    return sorted(p for p in written if f".{kind}." in p.name)


def _run(clearinghouse: Path, rules: Rules) -> list[Path]:
    return Simulator(clearinghouse, rules, clock=lambda: NOW, settle_seconds=0).run_once()


def test_the_hand_written_837_files_are_valid(tmp_path: Path) -> None:
    for name, text in [
        ("first", FIRST_BATCH),
        ("void", VOID_A),
        ("new", NEW_CLAIM_E),
        ("replace", REPLACE_B),
    ]:
        path = tmp_path / f"{name}.837"
        path.write_text(text)
        assert pyx12_errors(path) == [], name


def test_a_batch_gets_a_999_one_277ca_for_its_claims_and_a_balancing_835(
    clearinghouse: Path, rules: Rules
) -> None:
    _send(clearinghouse, "batch-101.x12", FIRST_BATCH)
    written = _run(clearinghouse, rules)
    assert all(p.parent == clearinghouse / "inbound" and p.exists() for p in written)
    for path in written:
        assert pyx12_errors(path) == [], path.name

    (ack_file,) = _answers(written, "999")
    (ack,) = parse_999(ack_file.read_text())
    assert (ack.group.group_control_number, ack.group.status, ack.group.accepted_count) == ("101", "A", 1)
    assert [(t.control_number, t.accepted) for t in ack.transaction_sets] == [("0001", True)]

    (claim_ack_file,) = _answers(written, "277ca")
    (claim_ack,) = parse_277ca(claim_ack_file.read_text())
    by_claim = {claim.patient_control_number: claim for claim in claim_ack.claims}
    assert list(by_claim) == ["PCN-A", "PCN-B", "PCN-C"]
    assert by_claim["PCN-A"].disposition == "accepted"
    assert by_claim["PCN-A"].payer_claim_control_number == "SIM0000000001"
    assert by_claim["PCN-B"].payer_claim_control_number == "SIM0000000002"
    assert by_claim["PCN-C"].disposition == "rejected"
    assert by_claim["PCN-C"].status_codes == (StatusCode("A7", "400"),)
    assert by_claim["PCN-C"].payer_claim_control_number is None
    assert claim_ack.receiver_trace_number == "BATCH101"
    # The batch as received: 430.00 + 166.78 + 100.00 (the one out of balance is counted too).
    assert [info.amount_cents for info in claim_ack.receiver_statuses] == [69678]

    (remit_file,) = _answers(written, "835")
    text = remit_file.read_text()
    (remittance,) = parse_835(text)  # balanced, or this raises
    assert remittance.payer_id == "DEMO-AETNA"
    assert remittance.payee.identifier == "1234567893"
    assert remittance.payment.amount_cents == 16533
    assert "BPR*I*165.33*C*CHK************20250310~" in text
    claim_a, claim_b = remittance.claims
    # PCN-A: allowed 160.00 and 120.00; the 100.00 deductible is taken on the first line, 20% of
    # 60.00 and of 120.00 as coinsurance; the acupuncture line is not covered.
    assert "CLP*PCN-A*1*430*144*136*12*SIM0000000001*11*1~" in text
    assert [(s.code, s.paid_cents, s.allowed_cents) for s in claim_a.service_lines] == [
        ("99214", 4800, 16000),
        ("20610", 9600, 12000),
        ("97810", 0, None),
    ]
    assert "CAS*PR*1*100**2*12~" in text
    assert "CAS*CO*96*80~" in text and "LQ*HE*N130~" in text
    # PCN-B: the E/M lacks modifier 25 (CO-4, M20); 33.33 x 80% = 26.664 -> 26.66 allowed, 20% of it
    # 5.332 -> 5.33 coinsurance; the 2024-11-01 line is past the 90 days (CO-29).
    assert "CLP*PCN-B*1*166.78*21.33*5.33*12*SIM0000000002*11*1~" in text
    lines = [
        (
            s.line_control_number,
            s.paid_cents,
            [(a.group, a.reason_code, a.amount_cents) for a in s.adjustments],
        )
        for s in claim_b.service_lines
    ]
    assert lines == [
        ("LB-1", 0, [("CO", "4", 12345)]),
        ("LB-2", 2133, [("CO", "45", 667), ("PR", "2", 533)]),
        ("LB-3", 0, [("CO", "29", 1000)]),
    ]
    assert claim_b.service_lines[0].remark_codes == ("M20",)

    assert not (clearinghouse / "outbound" / "batch-101.x12").exists()
    assert (clearinghouse / "outbound" / "processed" / "batch-101.x12").read_text() == FIRST_BATCH
    assert list((clearinghouse / ".simulator-tmp").iterdir()) == []


def test_a_second_run_answers_nothing_twice(clearinghouse: Path, rules: Rules) -> None:
    _send(clearinghouse, "batch-101.x12", FIRST_BATCH)
    first = _run(clearinghouse, rules)
    assert len(first) == 3  # a 999, one 277CA, one 835
    assert _run(clearinghouse, rules) == []
    # The same bytes sent again under another name are the same file: not answered again either.
    _send(clearinghouse, "batch-101-again.x12", FIRST_BATCH)
    assert _run(clearinghouse, rules) == []
    assert sorted(p.name for p in (clearinghouse / "inbound").iterdir()) == sorted(p.name for p in first)
    assert (clearinghouse / "outbound" / "processed" / "batch-101-again.x12").exists()
    assert len(load_state(clearinghouse).processed) == 1


def test_claims_to_other_payers_are_left_in_place(clearinghouse: Path, rules: Rules) -> None:
    _send(clearinghouse, "other.x12", OTHER_PAYER)
    assert _run(clearinghouse, rules) == []
    assert (clearinghouse / "outbound" / "other.x12").exists()
    assert list((clearinghouse / "inbound").iterdir()) == []


def test_a_broken_envelope_is_rejected_in_the_999_and_nothing_else(clearinghouse: Path, rules: Rules) -> None:
    broken = re.sub(r"SE\*(\d+)\*0001", lambda m: f"SE*{int(m.group(1)) + 1}*0001", NEW_CLAIM_E)
    assert broken != NEW_CLAIM_E
    _send(clearinghouse, "broken.x12", broken)
    written = _run(clearinghouse, rules)
    assert [p.name.split(".")[1] for p in written] == ["999"]
    text = written[0].read_text()
    assert "IK5*R*4~" in text and "AK9*R*1*1*0~" in text
    (ack,) = parse_999(text)
    assert not ack.transaction_sets[0].accepted
    assert ack.transaction_sets[0].error_codes == ("4",)


def test_a_broken_interchange_rejects_every_transaction_set(clearinghouse: Path, rules: Rules) -> None:
    _send(clearinghouse, "broken.x12", NEW_CLAIM_E.replace("IEA*1*000000104", "IEA*1*000000999"))
    written = _run(clearinghouse, rules)
    assert [p.name.split(".")[1] for p in written] == ["999"]
    (ack,) = parse_999(written[0].read_text())
    assert (ack.group.status, ack.group.accepted_count) == ("R", 0)
    assert [t.accepted for t in ack.transaction_sets] == [False]


def test_a_bad_amount_is_rejected_in_the_999_with_the_segment_in_error(
    clearinghouse: Path, rules: Rules
) -> None:
    _send(clearinghouse, "bad.x12", NEW_CLAIM_E.replace("SV1*HC:99214:25*300*", "SV1*HC:99214:25*3OO*"))
    (written,) = _run(clearinghouse, rules)
    (ack,) = parse_999(written.read_text())
    (response,) = ack.transaction_sets
    assert (response.status, response.error_codes) == ("R", ("5",))
    (note,) = response.segment_notes
    # SV1 is the 21st segment of the transaction set (ST = 1).
    assert (note.segment_id, note.segment_position, note.error_code) == ("SV1", 21, "8")
    assert [(e.element_position, e.error_code) for e in note.elements] == [(2, "6")]


def test_a_void_reverses_the_paid_claim_and_carries_the_negative_balance_forward(
    clearinghouse: Path, rules: Rules
) -> None:
    _send(clearinghouse, "batch-101.x12", FIRST_BATCH)
    _run(clearinghouse, rules)

    _send(clearinghouse, "void-103.x12", VOID_A)
    written = _run(clearinghouse, rules)
    (claim_ack,) = [parse_277ca(p.read_text())[0].claims[0] for p in _answers(written, "277ca")]
    assert (claim_ack.disposition, claim_ack.payer_claim_control_number) == ("accepted", "SIM0000000001")
    (remit_file,) = _answers(written, "835")
    text = remit_file.read_text()
    (remittance,) = parse_835(text)
    (reversed_claim,) = remittance.claims
    assert "CLP*PCN-A*22*-430*-144*-136*12*SIM0000000001*11*1~" in text
    assert "CAS*PR*1*-100**2*-12~" in text
    assert [s.paid_cents for s in reversed_claim.service_lines] == [-4800, -9600, 0]
    # Nothing to pay: the 144.00 taken back is carried forward as a provider-level balance.
    assert "PLB*1234567893*20251231*FB:SIM0000000001*-144~" in text
    assert "BPR*H*0*C*NON************20250310~" in text

    # The void gave the deductible back: the next claim meets it again, and the 144.00 owed is
    # recovered from its payment. 300.00 x 80% = 240.00 allowed; 100.00 deductible; 20% of 140.00 =
    # 28.00; 112.00 paid, all of it kept against the balance.
    _send(clearinghouse, "new-104.x12", NEW_CLAIM_E)
    written = _run(clearinghouse, rules)
    text = _answers(written, "835")[0].read_text()
    (remittance,) = parse_835(text)
    assert "CLP*PCN-E*1*300*112*128*12*SIM0000000003*11*1~" in text
    assert "PLB*1234567893*20251231*FB:BALANCE*112~" in text
    assert remittance.payment.amount_cents == 0
    assert load_state(clearinghouse).balances == {"DEMO-AETNA|1234567893": 3200}


def test_a_void_of_an_unknown_claim_is_rejected(clearinghouse: Path, rules: Rules) -> None:
    _send(clearinghouse, "void-103.x12", VOID_A)
    written = _run(clearinghouse, rules)
    assert _answers(written, "835") == []
    (claim_ack,) = [parse_277ca(p.read_text())[0].claims[0] for p in _answers(written, "277ca")]
    assert claim_ack.disposition == "rejected"
    assert claim_ack.status_codes == (StatusCode("A4", "35"),)


def test_a_replacement_is_adjudicated_and_supersedes_the_original(clearinghouse: Path, rules: Rules) -> None:
    _send(clearinghouse, "batch-101.x12", FIRST_BATCH)
    _run(clearinghouse, rules)
    _send(clearinghouse, "replace-105.x12", REPLACE_B)
    written = _run(clearinghouse, rules)
    text = _answers(written, "835")[0].read_text()
    (remittance,) = parse_835(text)
    # With modifier 25 the E/M is paid: 123.45 x 80% = 98.76 allowed, deductible already met by
    # PCN-A, 20% = 19.752 -> 19.75 coinsurance, 79.01 paid; the other lines as before.
    assert "CLP*PCN-B*1*166.78*100.34*25.08*12*SIM0000000003*11*7~" in text
    assert [s.paid_cents for s in remittance.claims[0].service_lines] == [7901, 2133, 0]
    state = load_state(clearinghouse)
    replaced, replacement = (state.find_claim("DEMO-AETNA", f"SIM000000000{n}") for n in (2, 3))
    assert replaced is not None and replaced.superseded
    assert replacement is not None and not replacement.superseded


def test_a_second_original_with_the_same_patient_control_number_is_a_duplicate(
    clearinghouse: Path, rules: Rules
) -> None:
    _send(clearinghouse, "new-104.x12", NEW_CLAIM_E)
    _run(clearinghouse, rules)
    _send(clearinghouse, "new-106.x12", NEW_CLAIM_E.replace("BATCH104", "BATCH106"))
    text = _answers(_run(clearinghouse, rules), "835")[0].read_text()
    assert "CLP*PCN-E*4*300*0**12*SIM0000000002*11*1~" in text
    assert "CAS*CO*18*300~" in text


def test_answers_of_a_run_stopped_after_its_state_was_saved_are_finished_by_the_next(
    clearinghouse: Path, rules: Rules, monkeypatch: pytest.MonkeyPatch
) -> None:
    _send(clearinghouse, "batch-101.x12", FIRST_BATCH)
    real_replace = os.replace
    calls = {"n": 0}

    def crash_on_second_rename(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        if "inbound" in str(target):
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt("stopped")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", crash_on_second_rename)
    with pytest.raises(KeyboardInterrupt):
        _run(clearinghouse, rules)
    monkeypatch.setattr(os, "replace", real_replace)
    assert len(list((clearinghouse / "inbound").iterdir())) == 1
    written = _run(clearinghouse, rules)
    assert len(written) == 2
    assert len(list((clearinghouse / "inbound").iterdir())) == 3
    assert (clearinghouse / "outbound" / "processed" / "batch-101.x12").exists()
    assert load_state(clearinghouse).pending == []


def test_the_command_answers_once_with_the_demo_rules(tmp_path: Path) -> None:
    directory = tmp_path / "clearinghouse"
    (directory / "outbound").mkdir(parents=True)
    day = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=5)).strftime("%Y%m%d")
    claim = x837(
        201,
        """\
HL*2*1*22*0~
SBR*P*18*GRP7******BL~
NM1*IL*1*DOE*JOHN****MI*BCBS001~
NM1*PR*2*DEMO BCBS*****PI*DEMO-BCBS~
CLM*PCN-Z*2000***11:B:1*Y*A*Y*Y~
HI*ABK:M1711~
LX*1~
SV1*HC:20610*2000*UN*1***1~
"""
        + f"DTP*472*D8*{day}~\n",
    )
    (directory / "outbound" / "z.837").write_text(claim)
    assert main(["--dir", str(directory), "--once", "--settle-seconds", "0"]) == 0
    inbound = sorted(p.name.split(".")[1] for p in (directory / "inbound").iterdir())
    assert inbound == ["277ca", "835", "999"]
    (remit,) = [p for p in (directory / "inbound").iterdir() if ".835." in p.name]
    (remittance,) = parse_835(remit.read_text())
    # DEMO-BCBS: 85% of 2000.00 = 1700.00 allowed; 100.00 deductible; 10% of 1600.00 = 160.00;
    # the payer pays 1700.00 - 100.00 - 160.00 = 1440.00.
    assert remittance.claims[0].paid_cents == 144000
    assert remittance.payment.amount_cents == 144000


def test_the_command_refuses_a_missing_folder_or_rule_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLEARINGHOUSE_DIR", raising=False)
    assert main(["--once"]) == 2
    assert main(["--dir", str(tmp_path), "--config", str(tmp_path / "missing.yaml"), "--once"]) == 2


SUPPLEMENTAL = """\
  GAP1:
    name: DEMO MEDIGAP
    tax_id: "060000009"
    address: {line: 1 GAP WAY, city: DES MOINES, state: IA, zip: "50309"}
    allowed_percent: "80"
"""


def test_a_member_enrolled_for_crossover_is_forwarded_and_no_one_else(tmp_path: Path) -> None:
    def run(members: str) -> str:
        path = tmp_path / f"rules-{members}.yaml"
        path.write_text(RULES + f"    crossover_members: {{{members}: GAP1}}\n" + SUPPLEMENTAL)
        directory = tmp_path / members
        (directory / "outbound").mkdir(parents=True)
        _send(directory, "batch-101.x12", FIRST_BATCH)
        written = _run(directory, load_rules(path))
        return " ".join(p.name + "\n" + p.read_text() for p in _answers(written, "835"))

    forwarded = run("MEMBER001")
    # MEMBER001's claims leave a share (PCN-A 136.00, PCN-B 5.33): CLP02 19 with MA18, and the
    # supplemental payer answers both in an 835 of its own.
    assert "CLP*PCN-A*19*430*144*136*12*" in forwarded and "MOA***MA18~" in forwarded
    assert ".835.GAP1." in forwarded and "CLP*PCN-A*2*430*" in forwarded
    kept = run("MEMBER999")
    assert "CLP*PCN-A*1*430*144*136*12*" in kept and ".835.GAP1." not in kept


def test_a_payer_that_keeps_part_of_clm01_echoes_only_that_in_clp01(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES + "    clp01_length: 4\n")
    directory = tmp_path / "clearinghouse"
    (directory / "outbound").mkdir(parents=True)
    _send(directory, "batch-101.x12", FIRST_BATCH)
    written = _run(directory, load_rules(path))
    (remit_file,) = _answers(written, "835")
    text = remit_file.read_text()
    # PCN-A and PCN-B both come back as PCN-: only a biller can tell them apart.
    assert "CLP*PCN-*1*430*144*136*12*SIM0000000001*11*1~" in text
    assert "CLP*PCN-*1*166.78*21.33*5.33*12*SIM0000000002*11*1~" in text
    # The 277CA still names the claim whole (only the 835 is cut).
    assert all(
        "PCN-A" in p.read_text() or "PCN-B" in p.read_text() or "PCN-C" in p.read_text()
        for p in _answers(written, "277ca")
    )
