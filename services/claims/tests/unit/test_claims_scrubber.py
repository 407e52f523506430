"""Each scrubber edit: a claim it holds back and the same claim, fixed, that it lets go."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from billing_events.contracts.claims import ClaimLine
from billing_events.contracts.coding import DrgAssignment, InstitutionalDiagnosis, InstitutionalProcedure
from billing_events.contracts.invoicing import InstitutionalBill, InstitutionalLine
from billing_events.identifiers import is_valid_npi
from claims.domain import scrubber
from claims.domain.model import (
    ClaimContent,
    CoverageFacts,
    PatientFacts,
    PayerFacts,
    ProviderFacts,
    ScrubContext,
)

SERVICE_DATE = date(2026, 3, 2)
TODAY = date(2026, 3, 10)


def claim_line(number: int, charge: int = 12500, **changes: object) -> ClaimLine:
    values: dict[str, object] = {
        "line_number": number,
        "line_control_number": f"PCN-{number}",
        "code": "99213",
        "modifiers": (),
        "units": 1,
        "charge_cents": charge,
        "diagnosis_pointers": (1,),
    }
    values.update(changes)
    return ClaimLine.model_validate(values)


CLAIM = ClaimContent(
    claim_id="claim-1",
    patient_control_number="PCN",
    invoice_id="invoice-1",
    encounter_id="encounter-1",
    patient_id="patient-1",
    coverage_id="coverage-1",
    payer_id="payer-1",
    billing_provider_id="billing-1",
    rendering_provider_id="rendering-1",
    place_of_service="11",
    service_date=SERVICE_DATE,
    diagnoses=("E11.9", "I10"),
    lines=(
        claim_line(1, 12500, modifiers=("25",), diagnosis_pointers=(1, 2)),
        claim_line(2, 1500, code="81002"),
    ),
    total_charge_cents=14000,
)
BILLING = ProviderFacts(
    npi="1234567893", taxonomy_code="207Q00000X", tax_id="04-1234567", postal_code="02110-1234"
)
CONTEXT = ScrubContext(
    billing_provider=BILLING,
    rendering_provider=ProviderFacts("1245319599", "207R00000X", None, "02110"),
    payer=PayerFacts(edi_payer_id="ACME1", claim_filing_indicator="CI", timely_filing_days=90),
    coverage=CoverageFacts(
        payer_id="payer-1",
        patient_id="patient-1",
        has_member_id=True,
        relationship="self",
        has_subscriber=False,
        effective_from=date(2025, 1, 1),
        effective_to=None,
    ),
    patient=PatientFacts(has_name=True, has_birth_date=True, has_address=True),
)


def edits(claim: ClaimContent = CLAIM, context: ScrubContext = CONTEXT, today: date = TODAY) -> list[str]:
    return [finding.edit_id for finding in scrubber.scrub(claim, context, today)]


def test_a_complete_claim_passes_every_edit() -> None:
    assert edits() == []


def coverage(**changes: object) -> ScrubContext:
    assert CONTEXT.coverage is not None
    return replace(CONTEXT, coverage=replace(CONTEXT.coverage, **changes))  # type: ignore[arg-type]


def billing(**changes: object) -> ScrubContext:
    return replace(CONTEXT, billing_provider=replace(BILLING, **changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("edit_id", "failing", "fixed"),
    [
        ("SCRUB-BILLING-NPI", billing(npi="1234567890"), billing(npi="1245319599")),
        ("SCRUB-BILLING-NPI", replace(CONTEXT, billing_provider=None), CONTEXT),
        ("SCRUB-TAXONOMY", billing(taxonomy_code="207Q0000"), billing(taxonomy_code="363LF0000X")),
        ("SCRUB-TAX-ID", billing(tax_id=None), billing(tax_id="041234567")),
        ("SCRUB-TAX-ID", billing(tax_id="04-12345"), billing(tax_id="04-1234567")),
        ("SCRUB-ZIP9", billing(postal_code="02110"), billing(postal_code="021101234")),
        (
            "SCRUB-RENDERING-NPI",
            replace(CONTEXT, rendering_provider=ProviderFacts("1245319590", "207R00000X", None, None)),
            replace(CONTEXT, rendering_provider=ProviderFacts("1245319599", "207R00000X", None, None)),
        ),
        ("SCRUB-SUBSCRIBER", replace(CONTEXT, coverage=None), CONTEXT),
        ("SCRUB-SUBSCRIBER", coverage(has_member_id=False), coverage(has_member_id=True)),
        (
            "SCRUB-SUBSCRIBER",
            coverage(relationship="child", has_subscriber=False),
            coverage(relationship="child", has_subscriber=True),
        ),
        ("SCRUB-SUBSCRIBER", coverage(patient_id="someone-else"), coverage(patient_id="patient-1")),
        (
            "SCRUB-PATIENT",
            replace(CONTEXT, patient=PatientFacts(has_name=True, has_birth_date=False, has_address=True)),
            CONTEXT,
        ),
        ("SCRUB-PATIENT", replace(CONTEXT, patient=None), CONTEXT),
        (
            "SCRUB-COVERAGE-DATES",
            coverage(effective_to=date(2026, 3, 1)),
            coverage(effective_to=date(2026, 3, 2)),
        ),
        (
            "SCRUB-COVERAGE-DATES",
            coverage(effective_from=date(2026, 3, 3)),
            coverage(effective_from=SERVICE_DATE),
        ),
        ("SCRUB-PAYER-ID", replace(CONTEXT, payer=None), CONTEXT),
        ("SCRUB-PAYER-ID", replace(CONTEXT, payer=PayerFacts("", "CI", 90)), CONTEXT),
        ("SCRUB-PAYER-ID", replace(CONTEXT, payer=PayerFacts("ACME1", "XX", 90)), CONTEXT),
        ("SCRUB-PAYER-ID", coverage(payer_id="payer-2"), coverage(payer_id="payer-1")),
        ("SCRUB-DUPLICATE", replace(CONTEXT, duplicate_of="claim-0"), CONTEXT),
    ],
)
def test_each_edit_holds_back_a_failing_claim_and_lets_the_fixed_one_go(
    edit_id: str, failing: ScrubContext, fixed: ScrubContext
) -> None:
    assert edits(context=failing) == [edit_id]
    assert edits(context=fixed) == []


@pytest.mark.parametrize(
    ("edit_id", "failing", "fixed"),
    [
        (
            "SCRUB-CLM02-SUM",
            replace(CLAIM, total_charge_cents=14001),
            replace(CLAIM, total_charge_cents=14000),
        ),
        (
            "SCRUB-DX-POINTER",
            replace(CLAIM, lines=(claim_line(1, 14000, diagnosis_pointers=(3,)),)),
            replace(CLAIM, lines=(claim_line(1, 14000, diagnosis_pointers=(2,)),)),
        ),
        (
            "SCRUB-DX-POINTER",
            replace(CLAIM, lines=(claim_line(1, 14000, diagnosis_pointers=()),)),
            replace(CLAIM, lines=(claim_line(1, 14000, diagnosis_pointers=(1, 2)),)),
        ),
        (
            "SCRUB-DX-POINTER",
            replace(CLAIM, lines=(claim_line(1, 14000, diagnosis_pointers=(1, 1)),)),
            replace(CLAIM, lines=(claim_line(1, 14000, diagnosis_pointers=(1,)),)),
        ),
        ("SCRUB-DX-POINTER", replace(CLAIM, diagnoses=("E11.9", "NOT A CODE")), CLAIM),
        (
            "SCRUB-SERVICE-LINE",
            replace(CLAIM, lines=(claim_line(1, 14000, modifiers=("250",)),)),
            replace(CLAIM, lines=(claim_line(1, 14000, modifiers=("25", "59")),)),
        ),
        (
            "SCRUB-PLACE-OF-SERVICE",
            replace(CLAIM, place_of_service="1"),
            replace(CLAIM, place_of_service="22"),
        ),
    ],
)
def test_each_claim_level_edit_holds_back_a_failing_claim_and_lets_the_fixed_one_go(
    edit_id: str, failing: ClaimContent, fixed: ClaimContent
) -> None:
    assert edits(claim=failing) == [edit_id]
    assert edits(claim=fixed) == []


def test_more_than_twelve_diagnoses_do_not_fit_the_837() -> None:
    thirteen = (*(f"E11.{i}" for i in range(10)), "I10", "J45.909", "R05.9")
    assert edits(claim=replace(CLAIM, diagnoses=thirteen)) == ["SCRUB-DX-POINTER"]
    assert edits(claim=replace(CLAIM, diagnoses=thirteen[:12])) == []


def test_timely_filing_counts_the_payers_days_from_the_service_date() -> None:
    # The payer allows 90 days: 2026-03-02 + 90 days = 2026-05-31 is the last day to file.
    assert edits(today=date(2026, 5, 31)) == []
    assert edits(today=date(2026, 6, 1)) == ["SCRUB-TIMELY-FILING"]


def test_timely_filing_defaults_to_365_days_when_the_payer_is_unknown() -> None:
    unknown_payer = replace(CONTEXT, payer=None)
    # 2026-03-02 + 365 days = 2027-03-02.
    assert edits(context=unknown_payer, today=date(2027, 3, 2)) == ["SCRUB-PAYER-ID"]
    assert edits(context=unknown_payer, today=date(2027, 3, 3)) == ["SCRUB-PAYER-ID", "SCRUB-TIMELY-FILING"]


def test_findings_name_the_field_and_never_a_value() -> None:
    findings = scrubber.scrub(CLAIM, billing(npi="1234567890", tax_id="98-7654"), TODAY)
    assert [(f.edit_id, f.field) for f in findings] == [
        ("SCRUB-BILLING-NPI", "billing_provider.npi"),
        ("SCRUB-TAX-ID", "billing_provider.tax_id"),
    ]
    assert not any("1234567890" in f.message or "98-7654" in f.message for f in findings)


@pytest.mark.parametrize(
    ("npi", "valid"), [("1234567893", True), ("1245319599", True), ("1245319598", False)]
)
def test_npi_check_digit(npi: str, valid: bool) -> None:
    assert is_valid_npi(npi) is valid


@pytest.mark.parametrize(
    ("edi_payer_id", "valid"), [("DEMO-AETNA", True), ("60054", True), ("-AETNA", False), ("A", False)]
)
def test_edi_payer_ids_may_carry_hyphens_as_x12_an_elements_allow(edi_payer_id: str, valid: bool) -> None:
    context = replace(CONTEXT, payer=PayerFacts(edi_payer_id, "CI", 90))
    assert ("SCRUB-PAYER-ID" not in edits(context=context)) is valid


# The institutional (837I) edits: a hospital claim each holds back, and the same claim fixed; a
# hospital claim is not held by the professional form's edits (diagnosis pointers, 5-character codes).


def hospital_edits(claim: ClaimContent) -> list[str]:
    return [finding.edit_id for finding in scrubber.scrub(claim, CONTEXT, TODAY)]


BILL = InstitutionalBill(
    facility_id="billing-1",
    setting="inpatient",
    type_of_bill="11",
    statement_from=date(2026, 3, 2),
    statement_to=date(2026, 3, 5),
    admitted_at=datetime(2026, 3, 2, 21, 40, tzinfo=UTC),
    discharged_at=datetime(2026, 3, 5, 11, 15, tzinfo=UTC),
    admission_type="1",
    admission_source="1",
    discharge_status="01",
    attending_provider_id="rendering-1",
    principal_diagnosis=InstitutionalDiagnosis(code="M16.11", poa="Y"),
    admitting_diagnosis="M25.551",
    diagnoses=(InstitutionalDiagnosis(code="I10", poa="Y"),),
    procedures=(InstitutionalProcedure(code="0SR9019", date=date(2026, 3, 3)),),
    drg=DrgAssignment(code="470", weight="1.9000", description="Hip", mdc="08", grouper="test"),
    lines=(
        InstitutionalLine(
            line_number=1, charge_code="RB", revenue_code="0120", service_date=date(2026, 3, 2)
        ),
        InstitutionalLine(
            line_number=2, charge_code="OR", revenue_code="0360", hcpcs="27130", service_date=date(2026, 3, 3)
        ),
    ),
)
# Revenue-code lines carry no diagnosis pointers and a 4-digit code: the 837P's edits would refuse them.
STAY = replace(
    CLAIM,
    place_of_service="21",
    lines=(
        claim_line(1, 600000, code="0120", units=3, diagnosis_pointers=()),
        claim_line(2, 850050, code="27130", diagnosis_pointers=()),
    ),
    total_charge_cents=1450050,
    institutional=BILL,
)


def bill(**changes: object) -> ClaimContent:
    return replace(STAY, institutional=BILL.model_copy(update=changes))


def test_a_complete_stay_passes_every_edit() -> None:
    assert hospital_edits(STAY) == []
    assert STAY.kind == "institutional" and CLAIM.kind == "professional"


def test_each_institutional_edit_holds_back_what_an_837i_cannot_carry() -> None:
    assert hospital_edits(bill(type_of_bill="81")) == [scrubber.TYPE_OF_BILL]
    assert hospital_edits(bill(discharge_status="1")) == [scrubber.TYPE_OF_BILL]
    assert hospital_edits(bill(statement_to=date(2026, 3, 1))) == [scrubber.STATEMENT_DATES]
    line = InstitutionalLine(
        line_number=1, charge_code="RB", revenue_code="120", service_date=date(2026, 3, 2)
    )
    assert hospital_edits(bill(lines=(line, BILL.lines[1]))) == [scrubber.REVENUE_CODE]
    assert hospital_edits(bill(admitting_diagnosis=None)) == [scrubber.PRINCIPAL_DX]
    assert hospital_edits(bill(diagnoses=(InstitutionalDiagnosis(code="I10"),))) == [scrubber.POA]
    assert hospital_edits(bill(drg=None)) == [scrubber.DRG]


def test_an_outpatient_visit_needs_neither_poa_nor_admitting_diagnosis_nor_drg() -> None:
    visit = bill(
        setting="outpatient",
        type_of_bill="13",
        admitting_diagnosis=None,
        drg=None,
        principal_diagnosis=InstitutionalDiagnosis(code="R07.9"),
        diagnoses=(),
    )
    assert hospital_edits(visit) == []


def test_the_lines_must_still_sum_to_the_claim_total() -> None:
    assert hospital_edits(replace(STAY, total_charge_cents=1450051)) == [scrubber.CLM02_SUM]
