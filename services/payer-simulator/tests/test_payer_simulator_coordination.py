"""The simulator as a secondary or tertiary payer: each line coordinated with the earlier payers'
answers of loop 2430 (standard COB, or carve-out). Amounts computed by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from billing_x12 import Adjustment, EnvelopeRef, Party, ProfessionalClaim
from billing_x12.professional_claim import PriorLinePayment, ProfessionalServiceLine

from payer_simulator.adjudication import adjudicate, balance_left
from payer_simulator.config import PayerRules

TODAY = dt.date(2025, 3, 10)
DAY = dt.date(2025, 3, 1)


def rules(**changes: object) -> PayerRules:
    base: dict[str, object] = {
        "name": "GLOBEX CARE",
        "tax_id": "060000019",
        "address": {"line": "2 MAIN ST", "city": "TOWN", "state": "IL", "zip": "62701"},
        "allowed_percent": "80",
        "coinsurance_percent": "20",
        "non_covered": {"codes": ["97810"], "rarc": "N130"},
    }
    base.update(changes)
    return PayerRules.model_validate(base)


def line(number: int, code: str, cents: int, *prior: PriorLinePayment) -> ProfessionalServiceLine:
    return ProfessionalServiceLine(
        line_number=number,
        code=code,
        charge_cents=cents,
        units=Decimal(1),
        service_date_from=DAY,
        service_date_to=DAY,
        line_control_number=f"L-{number}",
        prior_payments=prior,
    )


def acme(paid: int, *adjustments: tuple[str, str, int]) -> PriorLinePayment:
    return PriorLinePayment("ACME1", paid, tuple(Adjustment(g, r, a) for g, r, a in adjustments))


def claim(*lines: ProfessionalServiceLine, responsibility: str = "S") -> ProfessionalClaim:
    return ProfessionalClaim(
        envelope=EnvelopeRef("000000001", "1", "0001"),
        patient_control_number="PCN-2",
        charge_cents=sum(line.charge_cents for line in lines),
        place_of_service="11",
        frequency_code="1",
        payer=Party("PR", "2", "GLOBEX CARE", id_qualifier="PI", identifier="GLBX2"),
        subscriber=Party("IL", "1", "DOE", "JOHN", id_qualifier="MI", identifier="MEMBER002"),
        billing_provider=Party("85", "2", "CLINIC", id_qualifier="XX", identifier="1234567893"),
        payer_responsibility=responsibility,
        claim_filing_indicator="BL",
        lines=lines,
    )


def cas(service_line: object) -> list[tuple[str, str, int]]:
    return [(a.group, a.reason_code, a.amount_cents) for a in service_line.adjustments]  # type: ignore[attr-defined]


# Acme paid 80.00 of 125.00 (CO-45 25.00, PR-2 20.00) and 10.00 of 15.00 (PR-3 5.00).
ACME_ANSWERED = claim(
    line(1, "99213", 12500, acme(8000, ("CO", "45", 2500), ("PR", "2", 2000))),
    line(2, "81002", 1500, acme(1000, ("PR", "3", 500))),
)


def test_standard_cob_pays_the_lesser_of_its_benefit_and_the_balance_left() -> None:
    assert [balance_left(line) for line in ACME_ANSWERED.lines] == [2000, 500]
    result = adjudicate(
        ACME_ANSWERED, rules(), payer_claim_control_number="G1", deductible_used={}, today=TODAY
    )
    first, second = result.payment.service_lines
    # Normal benefit: 125.00 allowed 100.00, 20% coinsurance, 80.00; the balance left is 20.00.
    assert (first.paid_cents, cas(first)) == (2000, [("OA", "23", 10500)])
    # 15.00 allowed 12.00, pays 9.60 normally; the balance left is 5.00.
    assert (second.paid_cents, cas(second)) == (500, [("OA", "23", 1000)])
    payment = result.payment
    assert (payment.status_code, payment.paid_cents, payment.patient_responsibility_cents) == ("2", 2500, 0)
    # Every line balances: charge = paid + adjustments.
    assert all(
        s.charge_cents == s.paid_cents + sum(a.amount_cents for a in s.adjustments)
        for s in payment.service_lines
    )


def test_carve_out_pays_its_benefit_less_what_the_primary_paid() -> None:
    result = adjudicate(
        ACME_ANSWERED,
        rules(cob_rule="carve_out"),
        payer_claim_control_number="G1",
        deductible_used={},
        today=TODAY,
    )
    first, second = result.payment.service_lines
    # 80.00 - 80.00 = 0 on line 1; 9.60 - 10.00 < 0 on line 2: the patient keeps the balance (PR-2).
    assert (first.paid_cents, cas(first)) == (0, [("OA", "23", 10500), ("PR", "2", 2000)])
    assert (second.paid_cents, cas(second)) == (0, [("OA", "23", 1000), ("PR", "2", 500)])
    assert result.payment.patient_responsibility_cents == 2500


def test_a_shortfall_keeps_the_secondarys_own_copay_deductible_and_coinsurance_in_order() -> None:
    # Acme paid 20.00 of 125.00, CO-45 25.00, the rest 80.00 its deductible (PR-1): 80.00 is left.
    answered = claim(line(1, "99213", 12500, acme(2000, ("CO", "45", 2500), ("PR", "1", 8000))))
    globex = rules(annual_deductible="10.00", copays={"99213": "5.00"})
    result = adjudicate(answered, globex, payer_claim_control_number="G2", deductible_used={}, today=TODAY)
    (only,) = result.payment.service_lines
    # Normally: allowed 100.00, copay 5.00, deductible 10.00, coinsurance 20% of 85.00 = 17.00, pays 68.00.
    # The balance left is 80.00: pays 68.00; 12.00 is the patient's: copay 5.00, then deductible 7.00.
    assert (only.paid_cents, cas(only)) == (6800, [("OA", "23", 4500), ("PR", "3", 500), ("PR", "1", 700)])
    assert dict(result.deductible_used) == {2025: 700}


def test_a_denied_line_denies_only_the_balance_left() -> None:
    answered = claim(line(1, "97810", 3000, acme(1000, ("PR", "1", 2000))))
    (only,) = adjudicate(
        answered, rules(), payer_claim_control_number="G3", deductible_used={}, today=TODAY
    ).payment.service_lines
    assert (only.paid_cents, cas(only)) == (0, [("OA", "23", 1000), ("CO", "96", 2000)])


def test_a_primary_claim_is_adjudicated_as_before() -> None:
    primary = replace(ACME_ANSWERED, payer_responsibility="P")
    result = adjudicate(primary, rules(), payer_claim_control_number="P1", deductible_used={}, today=TODAY)
    assert [s.paid_cents for s in result.payment.service_lines] == [8000, 960]
