"""The adjudication rules and the rule table, without files."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from billing_x12 import Adjustment, EnvelopeRef, Party, ProfessionalClaim
from billing_x12.professional_claim import ProfessionalServiceLine

from payer_simulator.adjudication import Denial, adjudicate, percent_of, reversal
from payer_simulator.config import PayerRules, Rules, RulesError, load_rules

TODAY = dt.date(2025, 3, 10)
DEMO_RULES = Path(__file__).parents[1] / "demo-rules.yaml"


def _rules(**changes: object) -> PayerRules:
    base: dict[str, object] = {
        "name": "TEST PAYER",
        "tax_id": "060000009",
        "address": {"line": "1 MAIN ST", "city": "TOWN", "state": "IL", "zip": "62701"},
        "allowed_percent": "62.5",
        "annual_deductible": "10.00",
        "coinsurance_percent": "20",
        "copays": {"99213": "5.00"},
        "timely_filing_days": 90,
        "non_covered": {"codes": ["97810"], "rarc": "N130"},
        "modifier_rules": [{"codes": ["99213"], "modifier": "25", "rarc": "M20"}],
    }
    base.update(changes)
    return PayerRules.model_validate(base)


def _line(
    number: int, code: str, cents: int, day: dt.date, modifiers: tuple[str, ...] = ()
) -> ProfessionalServiceLine:
    return ProfessionalServiceLine(
        line_number=number,
        code=code,
        modifiers=modifiers,
        charge_cents=cents,
        units=Decimal(1),
        service_date_from=day,
        service_date_to=day,
        line_control_number=f"L-{number}",
    )


def _claim(*lines: ProfessionalServiceLine, responsibility: str = "P") -> ProfessionalClaim:
    return ProfessionalClaim(
        envelope=EnvelopeRef("000000001", "1", "0001"),
        patient_control_number="PCN-1",
        charge_cents=sum(line.charge_cents for line in lines),
        place_of_service="11",
        frequency_code="1",
        payer=Party("PR", "2", "TEST PAYER", id_qualifier="PI", identifier="TEST"),
        subscriber=Party("IL", "1", "DOE", "JOHN", id_qualifier="MI", identifier="MEMBER001"),
        billing_provider=Party("85", "2", "CLINIC", id_qualifier="XX", identifier="1234567893"),
        payer_responsibility=responsibility,
        claim_filing_indicator="CI",
        lines=lines,
    )


@pytest.mark.parametrize(
    ("cents", "basis_points", "expected"),
    [(12, 6250, 8), (4, 6250, 3), (1234, 6250, 771), (3333, 8000, 2666), (10001, 6250, 6251), (0, 8000, 0)],
)
def test_percent_of_rounds_half_up_in_integers(cents: int, basis_points: int, expected: int) -> None:
    assert percent_of(cents, basis_points) == expected


def test_allowed_copay_deductible_and_coinsurance_by_hand() -> None:
    day = dt.date(2025, 3, 1)
    claim = _claim(_line(1, "99213", 10001, day, ("25",)), _line(2, "20610", 5000, day))
    result = adjudicate(claim, _rules(), payer_claim_control_number="ICN1", deductible_used={}, today=TODAY)
    visit, injection = result.payment.service_lines
    # 100.01 x 62.5% = 62.50625 -> 62.51 allowed; copay 5.00; deductible 10.00; 20% of 47.51 = 9.502 -> 9.50.
    assert visit.allowed_cents == 6251
    assert visit.adjustments == (
        Adjustment("CO", "45", 3750),
        Adjustment("PR", "1", 1000),
        Adjustment("PR", "2", 950),
        Adjustment("PR", "3", 500),
    )
    assert visit.paid_cents == 3801
    # 50.00 x 62.5% = 31.25 allowed; the deductible is met; 20% coinsurance = 6.25.
    assert injection.adjustments == (Adjustment("CO", "45", 1875), Adjustment("PR", "2", 625))
    assert injection.paid_cents == 2500
    payment = result.payment
    assert (payment.status_code, payment.charge_cents, payment.paid_cents) == ("1", 15001, 6301)
    assert payment.patient_responsibility_cents == 3075
    assert payment.charge_cents - payment.paid_cents == payment.adjustment_total_cents
    assert result.deductible_used == {2025: 1000}
    assert payment.claim_filing_indicator == "ZZ"  # CI is an 837 code with no 835 equivalent


def test_only_the_deductible_left_for_the_year_is_taken() -> None:
    day = dt.date(2025, 3, 1)
    claim = _claim(_line(1, "20610", 5000, day))
    result = adjudicate(
        claim, _rules(), payer_claim_control_number="ICN1", deductible_used={2025: 600}, today=TODAY
    )
    # allowed 31.25; 4.00 of deductible left; 20% of 27.25 = 5.45.
    assert result.payment.service_lines[0].adjustments == (
        Adjustment("CO", "45", 1875),
        Adjustment("PR", "1", 400),
        Adjustment("PR", "2", 545),
    )
    assert result.deductible_used == {2025: 400}


def test_denials_timely_filing_first_then_non_covered_then_modifier() -> None:
    old = dt.date(2024, 11, 1)  # 129 days before TODAY, limit 90
    day = dt.date(2025, 3, 1)
    claim = _claim(_line(1, "97810", 4000, old), _line(2, "97810", 4000, day), _line(3, "99213", 9000, day))
    lines = adjudicate(
        claim, _rules(), payer_claim_control_number="I", deductible_used={}, today=TODAY
    ).payment
    assert [(line.adjustments, line.remark_codes, line.paid_cents) for line in lines.service_lines] == [
        ((Adjustment("CO", "29", 4000),), (), 0),
        ((Adjustment("CO", "96", 4000),), ("N130",), 0),
        ((Adjustment("CO", "4", 9000),), ("M20",), 0),
    ]
    assert lines.status_code == "4"
    assert lines.patient_responsibility_cents == 0


def test_modifier_rule_applies_only_with_another_procedure_on_the_same_day() -> None:
    day = dt.date(2025, 3, 1)
    alone = _claim(_line(1, "99213", 9000, day))
    other_day = _claim(_line(1, "99213", 9000, day), _line(2, "20610", 5000, dt.date(2025, 3, 2)))
    for claim in (alone, other_day):
        payment = adjudicate(
            claim, _rules(), payer_claim_control_number="I", deductible_used={}, today=TODAY
        ).payment
        assert payment.service_lines[0].adjustments[0] == Adjustment("CO", "45", 3375)


def test_secondary_claims_are_processed_as_secondary() -> None:
    claim = _claim(_line(1, "20610", 5000, dt.date(2025, 3, 1)), responsibility="S")
    payment = adjudicate(
        claim, _rules(), payer_claim_control_number="I", deductible_used={}, today=TODAY
    ).payment
    assert payment.status_code == "2"


def test_deny_all_denies_every_line_with_one_reason() -> None:
    claim = _claim(_line(1, "20610", 5000, dt.date(2025, 3, 1)))
    payment = adjudicate(
        claim,
        _rules(),
        payer_claim_control_number="I",
        deductible_used={},
        today=TODAY,
        deny_all=Denial("18"),
    ).payment
    assert payment.service_lines[0].adjustments == (Adjustment("CO", "18", 5000),)
    assert payment.status_code == "4"


def test_reversal_negates_every_amount_and_still_balances() -> None:
    day = dt.date(2025, 3, 1)
    claim = _claim(_line(1, "99213", 10001, day, ("25",)), _line(2, "20610", 5000, day))
    original = adjudicate(
        claim, _rules(), payer_claim_control_number="ICN1", deductible_used={}, today=TODAY
    ).payment
    reversed_payment = reversal(original, original.parties)
    assert reversed_payment.status_code == "22"
    assert reversed_payment.payer_claim_control_number == "ICN1"
    assert (reversed_payment.charge_cents, reversed_payment.paid_cents) == (-15001, -6301)
    assert reversed_payment.patient_responsibility_cents == -3075
    assert reversed_payment.service_lines[0].adjustments[0] == Adjustment("CO", "45", -3750)
    assert (
        reversed_payment.charge_cents - reversed_payment.paid_cents == reversed_payment.adjustment_total_cents
    )
    for line in reversed_payment.service_lines:
        assert line.charge_cents - line.paid_cents == line.adjustment_total_cents


def test_demo_rules_configure_the_demo_payers_and_the_e2e_suites() -> None:
    rules = load_rules(DEMO_RULES)
    # The seed's three, and the two only the e2e suite registers (COB and remittance completeness).
    assert set(rules.payers) == {"DEMO-AETNA", "DEMO-MEDICARE", "DEMO-BCBS", "DEMO-MEDICAID", "DEMO-UHC"}
    assert rules.payers["DEMO-MEDICARE"].crossover_members == {"MCR-DUAL-0001": "DEMO-MEDICAID"}
    assert rules.payers["DEMO-UHC"].clp01_length == 10
    medicare = rules.payers["DEMO-MEDICARE"]
    assert (medicare.allowed_basis_points, medicare.annual_deductible_cents) == (6250, 25700)
    assert rules.payers["DEMO-BCBS"].copay_cents("99213") == 3000


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("allowed_percent", "80.125"),
        ("allowed_percent", "101"),
        ("coinsurance_percent", "-5"),
        ("annual_deductible", "100.001"),
        ("copays", {"99213": "1.234"}),
        ("tax_id", "12345"),
        ("unknown_rule", True),
    ],
)
def test_invalid_rules_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        _rules(**{field: value})


def test_a_broken_rule_table_is_a_rules_error(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("payers: [not, a, mapping]\n")
    with pytest.raises(RulesError):
        load_rules(path)
    assert Rules.model_validate({"payers": {}}).payers == {}
