"""The simulator answers 270 files with 271s from its rule table: active with the benefits, inactive,
or subscriber not found; amounts by hand from the rules below and the member's deductible met so far.
Every 271 is also read by x12sdk, a parser independent of ours."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from billing_x12.eligibility import parse_271
from x12sdk.io import X12ModelReader

from payer_simulator.config import Rules, load_rules
from payer_simulator.processor import Simulator
from payer_simulator.state import SimulatorState, member_key, save_state

NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.UTC)

RULES = """\
payers:
  DEMO-BCBS:
    name: DEMO BLUE CROSS BLUE SHIELD
    tax_id: "060000003"
    address: {line: 225 N MICHIGAN AVE, city: CHICAGO, state: IL, zip: "60601"}
    allowed_percent: "85"
    annual_deductible: "250.00"
    coinsurance_percent: "12.5"
    copays: {"99213": "30.00"}
    eligibility:
      plan_description: BLUE PPO
      out_of_pocket_max: "3000.00"
      inactive_members: ["GONE001"]
      unknown_members: ["NOBODY01"]
"""


def x270(control: int, members: list[tuple[str, str]]) -> str:
    """A 270 file by hand: one transaction set per (trace, member id), asked on 2025-03-10."""
    sets = []
    for index, (trace, member_id) in enumerate(members, start=1):
        body = [
            f"ST*270*{index:04d}*005010X279A1",
            f"BHT*0022*13*{trace}*20250310*1150",
            "HL*1**20*1",
            "NM1*PR*2*DEMO BLUE CROSS BLUE SHIELD*****PI*DEMO-BCBS",
            "HL*2*1*21*1",
            "NM1*1P*2*DEMO CLINIC*****XX*1234567893",
            "HL*3*2*22*0",
            f"TRN*1*{trace}*9CLINIC001",
            f"NM1*IL*1*DOE*JOHN****MI*{member_id}",
            "DMG*D8*19800101*M",
            "DTP*291*D8*20250310",
            "EQ*30",
        ]
        body.append(f"SE*{len(body) + 1}*{index:04d}")
        sets.extend(body)
    lines = [
        f"ISA*00*          *00*          *ZZ*CLINIC01       *ZZ*DEMO-BCBS      *250310*1150*^*00501*"
        f"{control:09d}*0*T*:",
        f"GS*HS*CLINIC01*DEMO-BCBS*20250310*1150*{control}*X*005010X279A1",
        *sets,
        f"GE*{len(members)}*{control}",
        f"IEA*1*{control:09d}",
    ]
    return "~\n".join(lines) + "~\n"


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


def run(clearinghouse: Path, rules: Rules) -> list[Path]:
    return Simulator(clearinghouse, rules, clock=lambda: NOW, settle_seconds=0).run_once()


def test_a_270_file_gets_one_271_file_with_an_answer_per_inquiry(clearinghouse: Path, rules: Rules) -> None:
    # MEMBER01's claims met $40.00 of the 2025 deductible already.
    state = SimulatorState()
    state.add_deductible("DEMO-BCBS", member_key("DEMO-BCBS", "MEMBER01"), {2025: 4000})
    save_state(clearinghouse, state)
    (clearinghouse / "outbound" / "270-000000005.x12").write_text(
        x270(5, [("CHECK-1", "MEMBER01"), ("CHECK-2", "GONE001"), ("CHECK-3", "NOBODY01")])
    )
    written = run(clearinghouse, rules)

    assert [p.name for p in written] == ["270-000000005.271.000000001.x12"]
    assert not list((clearinghouse / "outbound").glob("*.x12"))  # moved to processed
    active, inactive, unknown = parse_271(written[0].read_text())
    assert [a.reference_id for a in (active, inactive, unknown)] == ["CHECK-1", "CHECK-2", "CHECK-3"]
    assert active.trace_numbers == ("CHECK-1",)
    assert active.trace_originator == "9CLINIC001"
    assert (active.plan_begin, active.plan_end) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert [(b.code, b.service_types, b.time_period, b.amount_cents, b.percent) for b in active.benefits] == [
        ("1", ("30",), "", None, None),
        ("C", ("30",), "23", 25000, None),  # the annual deductible: $250.00
        ("C", ("30",), "29", 21000, None),  # 25000 - 4000 met = 21000
        ("G", ("30",), "23", 300000, None),  # out-of-pocket maximum $3,000.00
        ("G", ("30",), "29", 296000, None),  # 300000 - 4000 (the deductible met counts) = 296000
        ("B", ("98",), "27", 3000, None),  # the 99213 copay, $30.00 per office visit
        ("A", ("30",), "", None, Decimal("0.125")),  # 12.5% coinsurance = 0.125
    ]
    assert active.benefits[0].plan_description == "BLUE PPO"
    assert active.rejections == ()

    assert [b.code for b in inactive.benefits] == ["6"]
    assert (inactive.plan_begin, inactive.plan_end) == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))

    assert unknown.benefits == ()
    assert [(r.loop, r.valid_request, r.reason_code, r.follow_up) for r in unknown.rejections] == [
        ("2100C", True, "75", "C")
    ]
    text = written[0].read_text()
    assert "AAA*Y**75*C~" in text
    assert "EB*A*IND*30*****0.125~" in text


def test_x12sdk_reads_the_simulators_271(clearinghouse: Path, rules: Rules) -> None:
    # x12sdk 2.2.0 refuses AAA 75 in 2100C (see libs/x12's tests), so the file holds the answers it
    # knows: active and inactive.
    (clearinghouse / "outbound" / "270-7.x12").write_text(x270(7, [("A", "MEMBER02"), ("B", "GONE001")]))
    (written,) = run(clearinghouse, rules)
    with X12ModelReader(str(written)) as reader:
        models = list(reader.models())
    assert [type(m).__name__ for m in models] == ["EligibilityBenefit", "EligibilityBenefit"]
    active = next(models[0].members())  # type: ignore[attr-defined]
    assert active.member_id == "MEMBER02"
    codes = [
        (benefit.eb_segment.eligibility_benefit_information, benefit.eb_segment.benefit_amount)
        for benefit in active.benefits
    ]
    # A member with nothing met: the whole $250.00 remains.
    assert ("C", Decimal("250")) in codes
    inactive = next(models[1].members())  # type: ignore[attr-defined]
    assert [b.eb_segment.eligibility_benefit_information for b in inactive.benefits] == ["6"]


def test_inquiries_to_other_payers_are_left_in_place_and_answered_once(
    clearinghouse: Path, rules: Rules
) -> None:
    other = x270(8, [("X", "MEMBER01")]).replace("PI*DEMO-BCBS", "PI*OTHER-PAYER")
    (clearinghouse / "outbound" / "270-8.x12").write_text(other)
    assert run(clearinghouse, rules) == []
    assert (clearinghouse / "outbound" / "270-8.x12").exists()

    (clearinghouse / "outbound" / "270-9.x12").write_text(x270(9, [("Y", "MEMBER01")]))
    assert len(run(clearinghouse, rules)) == 1
    assert run(clearinghouse, rules) == []
