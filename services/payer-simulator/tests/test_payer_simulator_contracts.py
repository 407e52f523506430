"""Contracted allowed amounts (the file invoicing imports as the payer's contract) and the ACA's
no-cost-sharing preventive services, in the simulator's adjudication. Amounts by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from billing_x12 import EnvelopeRef, Party, ProfessionalClaim
from billing_x12.professional_claim import ProfessionalServiceLine

from payer_simulator.adjudication import adjudicate
from payer_simulator.config import PayerRules, RulesError, load_rules, read_contract

TODAY = dt.date(2026, 3, 10)
DAY = dt.date(2026, 3, 2)
DEMO_RULES = Path(__file__).parents[1] / "demo-rules.yaml"


def rules(**changes: object) -> PayerRules:
    base: dict[str, object] = {
        "name": "TEST PAYER",
        "tax_id": "060000009",
        "address": {"line": "1 MAIN ST", "city": "TOWN", "state": "IL", "zip": "62701"},
        "allowed_percent": "80",
        "annual_deductible": "50.00",
        "coinsurance_percent": "20",
        "contract_allowed_cents": {"99213": 9000, "99213:25": 9500, "36415": 700},
    }
    base.update(changes)
    return PayerRules.model_validate(base)


def line(
    number: int, code: str, cents: int, *, units: int = 1, modifiers: tuple[str, ...] = ()
) -> ProfessionalServiceLine:
    return ProfessionalServiceLine(
        line_number=number,
        code=code,
        modifiers=modifiers,
        charge_cents=cents,
        units=Decimal(units),
        service_date_from=DAY,
        service_date_to=DAY,
        line_control_number=f"L-{number}",
    )


def claim(*lines: ProfessionalServiceLine) -> ProfessionalClaim:
    return ProfessionalClaim(
        envelope=EnvelopeRef("000000001", "1", "0001"),
        patient_control_number="PCN-1",
        charge_cents=sum(ln.charge_cents for ln in lines),
        place_of_service="11",
        frequency_code="1",
        payer=Party("PR", "2", "TEST PAYER", id_qualifier="PI", identifier="TEST"),
        subscriber=Party("IL", "1", "DOE", "JOHN", id_qualifier="MI", identifier="MEMBER001"),
        billing_provider=Party("85", "2", "CLINIC", id_qualifier="XX", identifier="1234567893"),
        payer_responsibility="P",
        claim_filing_indicator="CI",
        lines=lines,
    )


def test_a_contracted_code_is_allowed_its_rate_times_units_and_others_keep_the_percentage() -> None:
    answer = adjudicate(
        claim(
            line(1, "99213", 12000, modifiers=("25",)),
            line(2, "36415", 3000, units=2),
            line(3, "81002", 1000),
        ),
        rules(),
        payer_claim_control_number="ICN1",
        deductible_used={},
        today=TODAY,
    )
    visit, draws, urine = answer.payment.service_lines
    # 99213-25: the modifier's rate 9500 (not 9000); CO-45 2500; deductible 5000; 20% of 4500 = 900.
    assert visit.allowed_cents == 9500
    assert [(a.group, a.reason_code, a.amount_cents) for a in visit.adjustments] == [
        ("CO", "45", 2500),
        ("PR", "1", 5000),
        ("PR", "2", 900),
    ]
    # 36415 x2: 700 x 2 = 1400 allowed; 81002: no rate, 80% of 1000 = 800.
    assert (draws.allowed_cents, urine.allowed_cents) == (1400, 800)


def test_a_rate_above_the_charge_allows_the_charge() -> None:
    answer = adjudicate(
        claim(line(1, "99213", 8000)),
        rules(),
        payer_claim_control_number="I",
        deductible_used={},
        today=TODAY,
    )
    assert answer.payment.service_lines[0].allowed_cents == 8000


def test_a_no_cost_sharing_code_is_paid_in_full_and_leaves_the_deductible_alone() -> None:
    payer = rules(no_cost_sharing_codes=["99396"], contract_allowed_cents={"99396": 16000})
    answer = adjudicate(
        claim(line(1, "99396", 20000)), payer, payer_claim_control_number="I", deductible_used={}, today=TODAY
    )
    preventive = answer.payment.service_lines[0]
    assert (preventive.paid_cents, answer.payment.patient_responsibility_cents) == (16000, 0)
    assert answer.deductible_used == {}


def test_the_demo_bcbs_contract_is_the_file_invoicing_imports() -> None:
    bcbs = load_rules(DEMO_RULES).payers["DEMO-BCBS"]
    assert bcbs.contract_rate_cents("99213", ()) == 10200  # 85% of the demo fee 120.00
    assert "99396" in bcbs.no_cost_sharing_codes
    assert load_rules(DEMO_RULES).payers["DEMO-AETNA"].contract_allowed_cents == {}


def test_a_contract_with_a_bad_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("code,modifier,allowed_cents\n99213,,abc\n")
    with pytest.raises(RulesError, match="line 2"):
        read_contract(path)
