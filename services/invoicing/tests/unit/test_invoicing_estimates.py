"""Estimates: charges from the fee schedule, allowed from the payer contract, the patient's share from
the plan's benefits; good-faith estimates without coverage. Amounts worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from billing_events.contracts.invoicing import ContractRateRow, FeeScheduleRow
from invoicing.domain.errors import InvalidInput
from invoicing.domain.estimates import Benefits, RequestedLine, good_faith_estimate, insured_estimate
from invoicing.domain.payer_contract import ContractRates
from invoicing.domain.pricing import PriceList

ON = date(2026, 3, 2)
PRICES = PriceList.of(
    "standard",
    date(2026, 1, 1),
    [
        FeeScheduleRow(code="99213", amount_cents=12500),
        FeeScheduleRow(code="81002", amount_cents=1500),
        FeeScheduleRow(code="99396", amount_cents=20000),
        FeeScheduleRow(code="93000", amount_cents=6000),
    ],
)
CONTRACT = ContractRates.of(
    "payer-1",
    date(2026, 1, 1),
    [
        ContractRateRow(code="99213", allowed_cents=10000),
        ContractRateRow(code="81002", allowed_cents=1000),
        ContractRateRow(code="99396", allowed_cents=16000),
    ],
)
VISIT = [RequestedLine("99213", 1), RequestedLine("81002", 2)]


def test_copay_then_deductible_then_coinsurance() -> None:
    benefits = Benefits(deductible_remaining_cents=5000, copay_cents=3000, coinsurance_basis_points=2000)
    estimate = insured_estimate(VISIT, PRICES, ON, CONTRACT, benefits)
    # 99213: charge 12500, allowed 10000; copay 3000; deductible min(7000, 5000) = 5000;
    #        coinsurance 20% of 2000 = 400; patient 8400, payer 1600.
    # 81002 x2: charge 3000, allowed 2000; no copay; deductible left 0; coinsurance 20% of 2000 = 400;
    #        patient 400, payer 1600.
    assert [
        (ln.allowed_cents, ln.patient_estimate_cents, ln.expected_payer_cents) for ln in estimate.lines
    ] == [
        (10000, 8400, 1600),
        (2000, 400, 1600),
    ]
    assert estimate.total_charge_cents == 15500
    assert estimate.patient_estimate_cents == 8800
    assert estimate.expected_payer_cents == 3200


def test_the_out_of_pocket_maximum_caps_the_patients_share() -> None:
    benefits = Benefits(5000, 3000, 2000, out_of_pocket_remaining_cents=6000)
    estimate = insured_estimate(VISIT, PRICES, ON, CONTRACT, benefits)
    # Uncapped 8400 + 400 = 8800; cap 6000: 2800 comes off, the last line's 400 first, then 2400
    # of the first: 6000 and 0; the payer takes what the patient does not.
    assert [ln.patient_estimate_cents for ln in estimate.lines] == [6000, 0]
    assert estimate.expected_payer_cents == 12000 - 6000


def test_an_in_network_preventive_visit_costs_the_patient_nothing() -> None:
    benefits = Benefits(5000, 3000, 2000)
    estimate = insured_estimate([RequestedLine("99396", 1)], PRICES, ON, CONTRACT, benefits)
    assert estimate.patient_estimate_cents == 0
    assert estimate.expected_payer_cents == 16000
    assert estimate.lines[0].preventive


def test_a_code_without_a_contracted_rate_is_allowed_at_its_charge() -> None:
    benefits = Benefits(0, 0, 2000)
    estimate = insured_estimate([RequestedLine("93000", 1)], PRICES, ON, CONTRACT, benefits)
    # allowed = charge 6000 (no rate): coinsurance 20% = 1200.
    assert estimate.lines[0].allowed_basis == "charge"
    assert estimate.patient_estimate_cents == 1200


def test_without_benefits_the_patient_is_estimated_the_whole_allowed_amount() -> None:
    estimate = insured_estimate(VISIT, PRICES, ON, CONTRACT, None)
    assert estimate.patient_estimate_cents == 10000 + 2000


def test_a_good_faith_estimate_itemises_the_charges() -> None:
    estimate = good_faith_estimate(VISIT, PRICES, ON)
    assert [(ln.code, ln.charge_cents, ln.patient_estimate_cents) for ln in estimate.lines] == [
        ("99213", 12500, 12500),
        ("81002", 3000, 3000),  # 1500 x 2
    ]
    assert estimate.expected_payer_cents == 0


def test_a_code_without_a_price_is_refused_with_its_line() -> None:
    with pytest.raises(InvalidInput) as refused:
        good_faith_estimate([RequestedLine("99213", 1), RequestedLine("70450", 1)], PRICES, ON)
    assert [e.field for e in refused.value.errors] == ["lines.1.code"]


def test_a_screening_colonoscopy_is_preventive_only_with_its_screening_diagnosis() -> None:
    prices = PriceList.of("standard", date(2026, 1, 1), [FeeScheduleRow(code="45378", amount_cents=150000)])
    contract = ContractRates.of(
        "payer-1", date(2026, 1, 1), [ContractRateRow(code="45378", allowed_cents=90000)]
    )
    benefits = Benefits(deductible_remaining_cents=100000, copay_cents=0, coinsurance_basis_points=2000)
    screening = insured_estimate([RequestedLine("45378", 1)], prices, ON, contract, benefits, ("Z12.11",))
    diagnostic = insured_estimate([RequestedLine("45378", 1)], prices, ON, contract, benefits, ("K92.1",))
    assert screening.patient_estimate_cents == 0
    # Diagnostic: the whole 90000 allowed goes to the deductible (100000 left).
    assert diagnostic.patient_estimate_cents == 90000
