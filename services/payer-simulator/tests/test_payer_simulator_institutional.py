"""The simulator answers a hospital's 837I: the inpatient stay paid by DRG with MIA, the outpatient
visit by fee schedule with MOA, every amount computed by hand from the rule table below."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from billing_x12 import (
    Adjustment,
    InpatientAdjudication,
    OutpatientAdjudication,
    parse_835,
    parse_837i,
    parse_999,
)

from billing_testing.x12 import pyx12_errors
from payer_simulator.config import Rules, load_rules
from payer_simulator.institutional import adjudicate_institutional, drg_amount_cents, shares
from payer_simulator.processor import Simulator

# One three-night stay (DRG 470, charges 6,000.00 + 8,500.50 + 122.50 = 14,623.00) and one
# outpatient visit (0450 99284 950.00, 0300 80053 45.00 = 995.00), both to MCRA1 for the same member,
# as the claims service writes them (see libs/x12/tests/test_x12_institutional_claim.py).
INSTITUTIONAL = (Path(__file__).parents[3] / "libs/x12/tests/data/institutional.837").read_text()
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)

RULES = """\
payers:
  MCRA1:
    name: MEDICARE PART A
    tax_id: "060000009"
    address: {line: PO BOX 1, city: BOSTON, state: MA, zip: "02110"}
    allowed_percent: "50"
    annual_deductible: "1000.00"
    coinsurance_percent: "20"
    claim_filing_indicator: MA
    drg_base_rate: "6000.00"
    drg_weights: {"470": "1.9000", "871": "1.8564"}
    outpatient_fees: {"99284": "600.00"}
"""


@pytest.fixture
def rules(tmp_path: Path) -> Rules:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return load_rules(path)


def test_the_drg_amount_is_weight_times_base_rate_rounded_half_up() -> None:
    # 6,000.00 x 1.9000 = 11,400.00 exactly; 6,000.00 x 1.8564 = 11,138.40;
    # 1,234.57 x 1.2345 = 1,524.077... -> 1,524.08 (123457 x 12345 = 1,524,076,665; + 5,000, // 10,000).
    assert drg_amount_cents(600000, 19000) == 1140000
    assert drg_amount_cents(600000, 18564) == 1113840
    assert drg_amount_cents(123457, 12345) == 152408


def test_shares_sum_exactly_and_the_largest_remainder_gets_the_cent() -> None:
    # 1,140,000 over 600,000 / 850,050 / 12,250 (of 1,462,300): 467,756.27 / 662,693.70 / 9,550.02;
    # the floors sum to 1,139,999, the cent goes to the largest remainder (the second).
    assert shares(1140000, [600000, 850050, 12250]) == [467756, 662694, 9550]
    assert shares(0, [5, 5]) == [0, 0]
    assert shares(10, [1, 1, 1]) == [4, 3, 3]


def test_the_inpatient_stay_is_paid_by_drg_line_by_line(rules: Rules) -> None:
    stay, _ = parse_837i(INSTITUTIONAL)
    answer = adjudicate_institutional(
        stay, rules.payers["MCRA1"], payer_claim_control_number="SIM1", deductible_used={}, today=NOW.date()
    )
    payment = answer.payment
    # Allowed = min(14,623.00, 11,400.00) = 11,400.00; deductible 1,000.00 (PR-1); coinsurance 20% of
    # 10,400.00 = 2,080.00 (PR-2); paid 11,400.00 - 1,000.00 - 2,080.00 = 8,320.00.
    assert payment.paid_cents == 832000
    assert payment.patient_responsibility_cents == 308000
    assert payment.inpatient == InpatientAdjudication(covered_days=3, drg_amount_cents=1140000)
    assert (payment.facility_code, payment.frequency_code) == ("11", "1")
    assert answer.deductible_used == {2026: 100000}
    # Line shares of the allowed amount 467,756 / 662,694 / 9,550 (see above); the patient's
    # 1,000.00 + 2,080.00 come off line 1: 467,756 - 308,000 = 159,756.
    assert [line.paid_cents for line in payment.service_lines] == [159756, 662694, 9550]
    assert payment.service_lines[0].adjustments == (
        Adjustment("CO", "45", 132244),  # 600,000 - 467,756
        Adjustment("PR", "1", 100000),
        Adjustment("PR", "2", 208000),
    )
    assert payment.service_lines[1].adjustments == (Adjustment("CO", "45", 187356),)  # 850,050 - 662,694
    # Lines come back by revenue code (NU) or HCPCS with the revenue code in SVC04, and REF*6R.
    assert [(s.procedure_qualifier, s.code, s.revenue_code) for s in payment.service_lines] == [
        ("NU", "0120", None),
        ("HC", "27130", "0360"),
        ("NU", "0250", None),
    ]
    assert payment.charge_cents - payment.paid_cents == payment.adjustment_total_cents


def test_a_stay_with_a_drg_the_payer_does_not_know_is_denied_for_missing_information(rules: Rules) -> None:
    stay, _ = parse_837i(INSTITUTIONAL.replace("HI*DR:470~", "HI*DR:999~"))
    payment = adjudicate_institutional(
        stay, rules.payers["MCRA1"], payer_claim_control_number="SIM1", deductible_used={}, today=NOW.date()
    ).payment
    assert payment.status_code == "4" and payment.paid_cents == 0
    assert {a.reason_code for line in payment.service_lines for a in line.adjustments} == {"16"}


def test_a_late_charge_claim_on_a_drg_stay_pays_nothing_more(rules: Rules) -> None:
    stay, _ = parse_837i(INSTITUTIONAL.replace("11:A:1", "11:A:5"))
    payment = adjudicate_institutional(
        stay, rules.payers["MCRA1"], payer_claim_control_number="SIM2", deductible_used={}, today=NOW.date()
    ).payment
    assert payment.paid_cents == 0 and payment.patient_responsibility_cents == 0
    assert payment.adjustment_total_cents == 1462300  # all CO-45


def test_the_clearinghouse_answers_an_837i_with_a_999_and_an_835_carrying_mia_and_moa(
    tmp_path: Path, rules: Rules
) -> None:
    directory = tmp_path / "clearinghouse"
    (directory / "outbound").mkdir(parents=True)
    (directory / "outbound" / "hospital.837").write_text(INSTITUTIONAL)
    written = Simulator(directory, rules, clock=lambda: NOW, settle_seconds=0).run_once()
    (ack_file,) = [p for p in written if ".999." in p.name]
    (ack,) = parse_999(ack_file.read_text())
    assert ack.group.status == "A"
    (remit_file,) = [p for p in written if ".835." in p.name]
    text = remit_file.read_text()
    assert pyx12_errors(text) == []
    (remittance,) = parse_835(text)
    stay, visit = remittance.claims
    assert stay.inpatient == InpatientAdjudication(covered_days=3, drg_amount_cents=1140000)
    assert stay.paid_cents == 832000
    # The visit, after the stay used the whole 1,000.00 deductible of 2026:
    # 99284: allowed min(950.00, 600.00) = 600.00, coinsurance 120.00, paid 480.00;
    # 80053 (no fee): allowed 50% of 45.00 = 22.50, coinsurance 4.50, paid 18.00. Paid 498.00.
    assert [line.paid_cents for line in visit.service_lines] == [48000, 1800]
    assert visit.paid_cents == 49800
    assert visit.patient_responsibility_cents == 12450
    assert visit.outpatient == OutpatientAdjudication(hcpcs_payable_cents=48000)
    # BPR02 = 8,320.00 + 498.00.
    assert remittance.payment.amount_cents == 881800
