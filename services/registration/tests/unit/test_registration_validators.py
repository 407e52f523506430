"""The field rules: NPI check digit, code lists, formats and the age at a date."""

from __future__ import annotations

from datetime import date

import pytest

from billing_events.identifiers import is_valid_npi, luhn_check_digit
from registration.domain.errors import InvalidInput
from registration.domain.validation import (
    CLAIM_FILING_INDICATORS,
    PLACE_OF_SERVICE_CODES,
    STATE_CODES,
    Issues,
    age_in_years,
)
from registration.domain.values import AddressInput, NameInput

TODAY = date(2025, 6, 15)


def messages(issues: Issues) -> dict[str, str]:
    return {i.field: i.message for i in issues.items}


@pytest.mark.parametrize("npi", ["1234567893", "1003000126", "1245319599"])
def test_npis_with_the_luhn_digit_over_the_80840_prefix_are_valid(npi: str) -> None:
    assert is_valid_npi(npi)


@pytest.mark.parametrize("npi", ["1234567890", "1234567894", "123456789", "12345678931", "12345678a3", ""])
def test_npis_with_a_wrong_digit_or_length_are_refused(npi: str) -> None:
    assert not is_valid_npi(npi)


def test_the_npi_check_digit_includes_the_80840_prefix() -> None:
    # Luhn over the nine digits alone would give another digit: the prefix adds 24 to the sum.
    assert luhn_check_digit("80840" + "123456789") == 3
    assert luhn_check_digit("123456789") != 3


def test_npi_issues_tell_length_from_check_digit() -> None:
    issues = Issues()
    issues.npi("a", "12345")
    issues.npi("b", "1234567890")
    issues.npi("c", None)
    assert messages(issues) == {"a": "must be 10 digits", "b": "has a wrong check digit", "c": "is required"}


@pytest.mark.parametrize("code", ["207Q00000X", "363LF0000X", "261QM1300X", "1223G0001X", "207q00000x"])
def test_taxonomy_codes_of_ten_characters_ending_in_x_are_accepted(code: str) -> None:
    issues = Issues()
    assert issues.taxonomy_code("t", code) == code.upper()
    assert not issues


@pytest.mark.parametrize("code", ["207Q00000", "207Q000000", "207Q00000Y", "A07Q00000X", "207Q-0000X"])
def test_taxonomy_codes_of_another_shape_are_refused(code: str) -> None:
    issues = Issues()
    assert issues.taxonomy_code("t", code) is None
    assert messages(issues)["t"].startswith("must be a 10-character")


def test_state_codes_cover_states_dc_territories_and_military() -> None:
    assert {"CA", "NY", "DC", "PR", "GU", "AE"} <= STATE_CODES
    assert len(STATE_CODES) == 59
    issues = Issues()
    assert issues.us_state("s", "il") == "IL"
    assert issues.us_state("x", "ZZ") is None
    assert issues.us_state("y", "Illinois") is None
    assert set(messages(issues)) == {"x", "y"}


@pytest.mark.parametrize(
    ("given", "kept"), [("62701", "62701"), ("627011234", "627011234"), ("62701-1234", "627011234")]
)
def test_zip_codes_of_five_or_nine_digits_are_kept_as_digits(given: str, kept: str) -> None:
    issues = Issues()
    assert issues.postal_code("z", given) == kept
    assert not issues


@pytest.mark.parametrize("given", ["6270", "627011", "62701-123", "6270A", "62701 1234", "62701--1234"])
def test_zip_codes_of_other_lengths_are_refused(given: str) -> None:
    issues = Issues()
    assert issues.postal_code("z", given) is None
    assert messages(issues) == {"z": "must be a ZIP code of 5 or 9 digits"}


def test_place_of_service_is_the_cms_two_digit_list() -> None:
    assert {"11", "12", "21", "22", "23", "02", "10", "81", "99"} <= set(PLACE_OF_SERVICE_CODES)
    for unassigned in (
        "00",
        "28",
        "29",
        "30",
        "35",
        "40",
        "43",
        "48",
        "59",
        "63",
        "64",
        "67",
        "70",
        "80",
        "98",
    ):
        assert unassigned not in PLACE_OF_SERVICE_CODES
    assert all(len(code) == 2 and code.isdigit() for code in PLACE_OF_SERVICE_CODES)


def test_claim_filing_indicators_are_the_sbr09_list() -> None:
    assert {"CI", "MB", "MC", "BL", "HM", "MA", "CH", "VA", "WC", "ZZ", "11", "16"} <= set(
        CLAIM_FILING_INDICATORS
    )
    assert "XX" not in CLAIM_FILING_INDICATORS
    assert "18" not in CLAIM_FILING_INDICATORS


def test_birth_dates_are_refused_in_the_future_and_before_1900() -> None:
    issues = Issues()
    assert issues.birth_date("ok", "1900-01-01", today=TODAY) == date(1900, 1, 1)
    assert issues.birth_date("today", "2025-06-15", today=TODAY) == TODAY
    assert issues.birth_date("future", "2025-06-16", today=TODAY) is None
    assert issues.birth_date("old", "1899-12-31", today=TODAY) is None
    assert issues.birth_date("bad", "15/06/2025", today=TODAY) is None
    assert issues.birth_date("short", "2025-6-1", today=TODAY) is None
    assert messages(issues) == {
        "future": "must not be in the future",
        "old": "must not be before 1900-01-01",
        "bad": "must be a date as YYYY-MM-DD",
        "short": "must be a date as YYYY-MM-DD",
    }


@pytest.mark.parametrize(
    ("given", "kept"),
    [("2175550100", "2175550100"), ("(217) 555-0100", "2175550100"), ("+1 217 555 0100", "2175550100")],
)
def test_phone_numbers_are_kept_as_ten_digits(given: str, kept: str) -> None:
    issues = Issues()
    assert issues.phone("p", given) == kept
    assert not issues


@pytest.mark.parametrize("given", ["555-0100", "0175550100", "217555010012", "call me"])
def test_phone_numbers_that_are_not_us_numbers_are_refused(given: str) -> None:
    issues = Issues()
    assert issues.phone("p", given) is None
    assert messages(issues) == {"p": "must be a US phone number of 10 digits"}


def test_tax_ids_are_nine_digits_and_required_only_when_asked() -> None:
    issues = Issues()
    assert issues.tax_id("a", "12-3456789", required=True) == "123456789"
    assert issues.tax_id("b", None, required=False) is None
    assert issues.tax_id("c", None, required=True) is None
    assert issues.tax_id("d", "1234", required=False) is None
    assert messages(issues) == {
        "c": "is required for a billing provider",
        "d": "must be 9 digits (NN-NNNNNNN)",
    }


def test_an_address_lists_every_broken_part() -> None:
    issues = Issues()
    address = issues.address("address", AddressInput(line1=" ", city="x" * 31, state="QQ", postal_code="1"))
    assert address is None
    assert set(messages(issues)) == {"address.line1", "address.city", "address.state", "address.postal_code"}


def test_names_need_given_and_family_and_whitespace_is_collapsed() -> None:
    issues = Issues()
    name = issues.name("name", NameInput(given="  Mary   Ann ", family="Smith"))
    assert name is not None and name.given == "Mary Ann"
    issues.name("other", NameInput(given="Jo"))
    assert messages(issues) == {"other.family": "is required"}


def test_raise_if_any_refuses_with_every_issue() -> None:
    issues = Issues()
    issues.add("a", "is required")
    issues.add("b", "is required")
    with pytest.raises(InvalidInput) as refused:
        issues.raise_if_any()
    assert [i.field for i in refused.value.issues] == ["a", "b"]


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(1980, 6, 15), date(2025, 6, 15), 45),
        (date(1980, 6, 16), date(2025, 6, 15), 44),
        (date(2000, 2, 29), date(2025, 2, 28), 24),
        (date(2000, 2, 29), date(2025, 3, 1), 25),
        (date(2025, 6, 15), date(2025, 6, 15), 0),
    ],
)
def test_age_is_in_completed_years_at_the_date(born: date, on: date, age: int) -> None:
    assert age_in_years(born, on) == age
