"""Reading 837P files (005010X222A1) as far as a payer adjudicates them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from billing_x12 import Diagnosis, ElementError, SegmentError, WrongTransactionError, parse_837p

# Written by hand; valid for pyx12 (see test_x12_pyx12.py). Two subscribers: DOE (the patient,
# DEMO-AETNA, with a secondary payer in loop 2320) and ROE, whose dependent is the patient of a
# replacement claim to DEMO-BCBS.
PROFESSIONAL = (Path(__file__).parent / "data" / "professional.837").read_text()


def test_claims_carry_their_envelope_payer_and_subscriber() -> None:
    first, second = parse_837p(PROFESSIONAL)
    assert first.envelope.interchange_control_number == "000000101"
    assert first.envelope.group_control_number == "101"
    assert first.envelope.transaction_set_control_number == "0001"
    assert (first.envelope.sender_id, first.envelope.receiver_id) == ("CLINIC01", "DEMOCH")
    assert first.batch_reference == "BATCH101"
    assert first.submitter is not None and first.submitter.identifier == "CLINIC01"
    assert first.payer_id == "DEMO-AETNA"  # 2010BB, not the secondary payer of loop 2330B
    assert first.member_id == "MEMBER001"
    assert (first.payer_responsibility, first.claim_filing_indicator) == ("P", "CI")
    assert first.patient is None
    assert first.billing_provider.identifier == "1234567893"
    assert first.billing_tax_id == "123456789"
    assert first.rendering_provider is not None and first.rendering_provider.identifier == "1245319599"
    assert second.payer_id == "DEMO-BCBS"
    assert second.member_id == "MEMBER002"
    assert second.patient is not None and second.patient.first_name == "JANE"
    assert second.relationship_code == "19"


def test_claim_amounts_frequency_and_diagnoses() -> None:
    first, second = parse_837p(PROFESSIONAL)
    assert (first.patient_control_number, first.charge_cents) == ("PCN-1001", 25000)
    assert (first.place_of_service, first.frequency_code, first.original_claim_number) == ("11", "1", None)
    assert first.diagnoses == (Diagnosis("ABK", "J069"), Diagnosis("ABF", "R05"))
    assert (second.frequency_code, second.original_claim_number) == ("7", "ICN-777")


def test_service_lines_with_modifiers_pointers_dates_and_control_numbers() -> None:
    first, second = parse_837p(PROFESSIONAL)
    visit, injection = first.lines
    assert (visit.line_number, visit.code, visit.modifiers) == (1, "99213", ("25",))
    assert (visit.charge_cents, visit.units, visit.unit_basis) == (15000, Decimal(1), "UN")
    assert visit.diagnosis_pointers == (1, 2)
    assert visit.service_date_from == visit.service_date_to == dt.date(2025, 2, 15)
    assert visit.line_control_number == "L1001-1"
    assert (injection.code, injection.modifiers, injection.line_control_number) == ("20610", (), "L1001-2")
    assert first.line_charge_total_cents == first.charge_cents
    (checkup,) = second.lines
    assert (checkup.service_date_from, checkup.service_date_to) == (
        dt.date(2025, 2, 10),
        dt.date(2025, 2, 11),
    )
    assert second.service_date_from == dt.date(2025, 2, 10)


def test_repr_of_a_claim_hides_names_and_member_ids() -> None:
    first, second = parse_837p(PROFESSIONAL)
    text = repr(first) + repr(second)
    for value in ("DOE", "JOHN", "MEMBER001", "ROE", "JANE", "MEMBER002"):
        assert value not in text


def _replace_counted(old: str, new: str) -> str:
    text = PROFESSIONAL.replace(old, new)
    delta = new.count("~") - old.count("~")
    return text.replace("SE*54*0001", f"SE*{54 + delta}*0001")


def test_a_claim_without_payer_is_refused() -> None:
    with pytest.raises(SegmentError, match=r"^segment 19 CLM: claim has no payer") as caught:
        parse_837p(_replace_counted("NM1*PR*2*DEMO AETNA*****PI*DEMO-AETNA~\n", ""))
    assert caught.value.ack_code == "3"


def test_a_non_numeric_charge_is_refused() -> None:
    with pytest.raises(ElementError, match=r"^segment 29 SV1: SV102 is not an amount"):
        parse_837p(PROFESSIONAL.replace("SV1*HC:99213:25*150*", "SV1*HC:99213:25*15O*"))


def test_an_institutional_claim_is_not_a_professional_one() -> None:
    with pytest.raises(
        WrongTransactionError, match=r"^segment 3 ST: the implementation is not 005010X222A1"
    ) as caught:
        parse_837p(PROFESSIONAL.replace("005010X222A1", "005010X223A2"))
    assert caught.value.element == "ST03"
