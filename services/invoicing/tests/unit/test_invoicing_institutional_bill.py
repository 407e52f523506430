"""A stay's bill: final at discharge plus the bill hold, its UB-04 fields from the admission and the
coding, its lines from the charges; a recoding with the same codes bills the same."""

from __future__ import annotations

from datetime import UTC, date, datetime

from billing_events.contracts.coding import (
    DrgAssignment,
    InstitutionalDiagnosis,
    InstitutionalEncounterCoded,
    InstitutionalProcedure,
)
from billing_events.contracts.invoicing import CapturedCharge
from billing_events.contracts.registration import AdmissionDischarged, AdmissionOpened
from invoicing.domain.institutional_bill import Stay, bill_of, same_coding

ADMITTED = datetime(2026, 3, 2, 21, 40, tzinfo=UTC)
OPENED = AdmissionOpened(
    encounter_id="stay-1",
    patient_id="patient-1",
    facility_id="facility-1",
    attending_provider_id="dr-1",
    setting="inpatient",
    admitted_at=ADMITTED,
    admission_type="1",
    admission_source="1",
    patient_sex="F",
    patient_age_years=75,
)
DISCHARGED = AdmissionDischarged(
    encounter_id="stay-1",
    patient_id="patient-1",
    facility_id="facility-1",
    setting="inpatient",
    admitted_at=ADMITTED,
    discharged_at=datetime(2026, 3, 5, 11, 15, tzinfo=UTC),
    discharge_status="01",
)
CODED = InstitutionalEncounterCoded(
    encounter_id="stay-1",
    patient_id="patient-1",
    coding_version=1,
    facility_id="facility-1",
    attending_provider_id="dr-1",
    setting="inpatient",
    admitted_at=ADMITTED,
    principal_diagnosis=InstitutionalDiagnosis(code="M16.11", poa="Y"),
    admitting_diagnosis="M25.551",
    diagnoses=(InstitutionalDiagnosis(code="I10", poa="Y"),),
    procedures=(InstitutionalProcedure(code="0SR9019", date=date(2026, 3, 3)),),
    drg=DrgAssignment(code="470", weight="1.9000", description="Hip", mdc="08", grouper="test"),
)


def charge(
    number: int, code: str, revenue: str, units: int, price: int, hcpcs: str | None = None
) -> CapturedCharge:
    return CapturedCharge(
        line_number=number,
        charge_code=code,
        revenue_code=revenue,
        hcpcs=hcpcs,
        units=units,
        unit_price_cents=price,
        charge_cents=units * price,
        service_date=date(2026, 3, 3),
        chargemaster_effective_from=date(2026, 1, 1),
    )


CHARGES = [charge(1, "RB", "0120", 3, 200000), charge(2, "OR", "0360", 1, 850050, "27130")]


def test_the_bill_is_final_at_discharge_plus_the_hold_and_only_once_coded() -> None:
    stay = Stay(OPENED, DISCHARGED, CODED)
    assert stay.final_on(0) == date(2026, 3, 5) and stay.final_on(3) == date(2026, 3, 8)
    assert stay.ready(date(2026, 3, 5), 0)
    assert not stay.ready(date(2026, 3, 7), 3) and stay.ready(date(2026, 3, 8), 3)
    assert not Stay(OPENED, DISCHARGED).ready(date(2026, 3, 9), 0)  # not coded
    assert not Stay(OPENED, None, CODED).ready(date(2026, 3, 9), 0)  # not discharged


def test_the_bill_carries_the_stay_the_coding_and_the_priced_lines() -> None:
    bill = bill_of(Stay(OPENED, DISCHARGED, CODED), CHARGES)
    ub04 = bill.institutional
    assert (ub04.type_of_bill, ub04.frequency_code, ub04.discharge_status) == ("11", "1", "01")
    assert (ub04.statement_from, ub04.statement_to) == (date(2026, 3, 2), date(2026, 3, 5))
    assert ub04.drg is not None and ub04.drg.code == "470"
    # The invoice line's code is the HCPCS where there is one, else the revenue code.
    assert [(line.code, line.charge_cents) for line in bill.lines] == [("0120", 600000), ("27130", 850050)]
    # 3 x 2,000.00 + 8,500.50 = 14,500.50
    assert bill.total_charge_cents == 1450050
    assert bill.diagnoses == ("M16.11", "I10") and bill.place_of_service == "21"


def test_an_outpatient_visit_is_a_13x_bill_without_a_drg() -> None:
    visit = OPENED.model_copy(update={"setting": "outpatient"})
    bill = bill_of(Stay(visit, DISCHARGED, CODED), CHARGES[:1])
    assert (bill.institutional.type_of_bill, bill.institutional.drg, bill.place_of_service) == (
        "13",
        None,
        "22",
    )


def test_late_charges_bill_under_their_own_frequency_naming_the_bill_before() -> None:
    late = bill_of(Stay(OPENED, DISCHARGED, CODED), CHARGES[1:], frequency="5", replaces_invoice_id="inv-1")
    assert (late.institutional.frequency_code, late.institutional.replaces_invoice_id) == ("5", "inv-1")
    assert [line.line_number for line in late.lines] == [1]


def test_a_recoding_bills_the_same_unless_a_code_or_the_drg_changed() -> None:
    stay = Stay(OPENED, DISCHARGED, CODED)
    billed = bill_of(stay, CHARGES).institutional
    again = bill_of(Stay(OPENED, DISCHARGED, CODED.model_copy(update={"coding_version": 2})), CHARGES)
    assert same_coding(billed, again.institutional)
    assert CODED.drg is not None
    other = CODED.model_copy(update={"drg": CODED.drg.model_copy(update={"code": "469"})})
    assert not same_coding(billed, bill_of(Stay(OPENED, DISCHARGED, other), CHARGES).institutional)
