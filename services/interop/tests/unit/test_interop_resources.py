"""The FHIR builders and search parsing, without I/O: amounts to the cent, reversals netted, codes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from interop.domain import codes, resources
from interop.domain.export import export_request
from interop.domain.search import BadSearch, parse_count, parse_last_updated

NOW = datetime(2026, 3, 21, 12, 0, tzinfo=UTC)
CLAIM: dict[str, Any] = {
    "claim_id": "c-1",
    "patient_id": "p-1",
    "coverage_id": "cov-1",
    "payer_id": "payer-1",
    "service_date": date(2026, 3, 2),
    "diagnoses": ["E11.9"],
    "lines": [
        {"line_number": 1, "code": "99213", "modifiers": ["25"], "units": 1, "charge_cents": 15000,
         "diagnosis_pointers": [1]},
        {"line_number": 2, "code": "J3420", "modifiers": [], "units": 2, "charge_cents": 3001,
         "diagnosis_pointers": [1]},
    ],
    "total_charge_cents": 18001,
    "billing_provider_id": "bp",
    "rendering_provider_id": "rp",
    "place_of_service": "11",
    "status": "active",
    "created_at": NOW,
    "last_updated": NOW,
}  # fmt: skip
PROVIDERS: dict[str, dict[str, Any]] = {
    "bp": {"organization_name": "Clinic"},
    "rp": {"organization_name": None},
}


def posting(
    paid: int, patient: int, *, reversal: bool = False, denied: bool = False, **extra: Any
) -> dict[str, Any]:
    sign = -1 if reversal else 1
    return {
        "lines": [
            {"line_number": 1, "paid_cents": sign * paid,
             "adjustments": [{"group": "PR", "reason_code": "3", "amount_cents": sign * patient}]},
        ],
        "paid_cents": sign * paid,
        "patient_responsibility_cents": sign * patient,
        "contractual_adjustment_cents": 0,
        "other_adjustment_cents": 0,
        "denied": denied,
        "reversal": reversal,
        "denial_reasons": extra.get("denial_reasons", []),
        "recorded_at": NOW,
        "posted_on": date(2026, 3, 21),
    }  # fmt: skip


def total(eob: Any, code: str) -> Decimal:
    return Decimal(next(t.amount.value for t in eob.total if t.category.coding[0].code == code))


def test_money_is_exact_cents() -> None:
    assert codes.money(3001) == {"value": Decimal("30.01"), "currency": "USD"}
    assert codes.money(-5) == {"value": Decimal("-0.05"), "currency": "USD"}


def test_procedure_codes_name_cpt_or_hcpcs() -> None:
    assert codes.procedure_system("99213") == codes.CPT
    assert codes.procedure_system("0001F") == codes.CPT
    assert codes.procedure_system("J3420") == codes.HCPCS


def test_a_claim_is_a_valid_professional_claim_with_its_lines() -> None:
    claim = resources.claim(CLAIM, PROVIDERS)
    data = claim.model_dump(mode="json")
    assert data["provider"] == {"reference": "Organization/bp"}
    assert data["item"][1]["productOrService"]["coding"][0]["system"] == codes.HCPCS
    assert Decimal(str(data["item"][1]["unitPrice"]["value"])) == Decimal("15.00")
    assert Decimal(str(data["total"]["value"])) == Decimal("180.01")


def test_a_reversed_and_repaid_claim_nets_to_the_last_payment() -> None:
    postings = [posting(8000, 2000), posting(8000, 2000, reversal=True), posting(7000, 3000)]
    eob: Any = resources.explanation_of_benefit(CLAIM, None, postings, PROVIDERS)
    assert eob.payment.amount.value == Decimal("70.00")
    assert total(eob, "paidtoprovider") == Decimal("70.00")
    assert total(eob, "memberliability") == Decimal("30.00")
    copay = [a for a in eob.item[0].adjudication if a.category.coding[0].code == "copay"]
    assert copay[0].amount.value == Decimal("30.00")
    assert copay[0].reason.coding[0].system == codes.CARC


def test_a_denied_claim_carries_its_carc_reasons_and_pays_nothing() -> None:
    denied = posting(0, 0, denied=True, denial_reasons=["CO-50", "N130"])
    eob: Any = resources.explanation_of_benefit(CLAIM, None, [denied], PROVIDERS)
    assert eob.disposition == "denied"
    assert [a.reason.coding[0].code for a in eob.adjudication] == ["50"]
    assert eob.payment.amount.value == Decimal("0.00")


def test_an_invalid_record_names_the_element_not_its_value() -> None:
    with pytest.raises(resources.InvalidResource) as raised:
        resources.validated("Patient", {"id": "p", "birthDate": "Secret-Value"})
    assert "birthDate" in str(raised.value)
    assert "Secret-Value" not in str(raised.value)


def test_last_updated_prefixes_and_dates() -> None:
    (day,) = parse_last_updated(["ge2026-03-02"])
    assert (day.prefix, day.low, day.high) == (
        "ge",
        datetime(2026, 3, 2, tzinfo=UTC),
        datetime(2026, 3, 3, tzinfo=UTC),
    )
    (moment,) = parse_last_updated(["2026-03-02T10:00:00Z"])
    assert moment.prefix == "eq"
    with pytest.raises(BadSearch):
        parse_last_updated(["2026-03-02T10:00:00"])  # no zone
    assert parse_count("1000", maximum=500) == 500
    with pytest.raises(BadSearch):
        parse_count("0")


def test_patient_level_exports_hold_only_the_patient_compartment() -> None:
    assert "Organization" not in export_request("patient", None, None, None).types
    with pytest.raises(BadSearch):
        export_request("patient", "Organization", None, None)
    with pytest.raises(BadSearch):
        export_request("system", None, None, "text/csv")


async def test_an_export_that_cannot_write_its_files_ends_as_failed(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only export folder (or any error) ends the job `failed` with a reason free of values."""
    from interop.application import export as exporting
    from interop.application.reads import Reader

    finished: list[tuple[str, str | None]] = []

    class Views:
        async def finish_export(self, export_id: str, status: str, output: Any, error: str | None) -> None:
            finished.append((status, error))

    @asynccontextmanager
    async def views_on(*, transaction: bool = False) -> AsyncIterator[Any]:
        yield Views()

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    job = exporting.ExportJob(
        "e-1",
        Reader("t", "a", ["auditor"], None),
        export_request("system", "Patient", None, None),
        blocker / "e-1",
    )
    await exporting.run_export(views_on, None, job)  # type: ignore[arg-type]
    assert finished == [("failed", "NotADirectoryError")]


def test_the_export_document_is_the_resource_the_model_validated() -> None:
    """Bulk export writes the validated document itself; read back by fhir.resources it equals the
    model the API serialises, for every builder."""
    patient_row = {"patient_id": "p-1", "sex": "F", "last_updated": NOW}
    opened = {
        "mrn": "M1",
        "name": {"given": "Ada", "family": "Lovelace"},
        "birth_date": "1985-12-10",
        "address": {"line1": "1 Elm", "line2": None, "city": "Boston", "state": "MA", "postal_code": "02110"},
        "phone": "6175550100",
    }
    coverage_row = {
        "coverage_id": "cov-1", "patient_id": "p-1", "payer_id": "payer-1",
        "relationship_to_subscriber": "self", "effective_from": date(2026, 1, 1), "effective_to": None,
        "priority": "primary", "group_number": "G",
        "last_updated": NOW,
    }  # fmt: skip
    adjudication = {
        "outcome": "paid", "recorded_at": NOW, "payer_claim_control_number": "PCN",
        "adjudicated_on": date(2026, 3, 20),
        "payer_id": "payer-1", "claim_adjustments": [], "total_charge_cents": 18001, "paid_cents": 8000,
        "remark_codes": ["N130"],
        "lines": [{"line_number": 1, "charge_cents": 15000, "paid_cents": 8000,
                   "adjustments": [{"group": "CO", "reason_code": "45", "amount_cents": 7000}]}],
    }  # fmt: skip
    provider = {
        "provider_id": "rp", "npi": "1245319599", "tax_id": None, "given_name": "Ann", "family_name": "Doe",
        "organization_name": None, "address": {"line1": "1 Main", "city": "Boston", "state": "MA",
                                                "postal_code": "02110"},
        "taxonomy_code": "207Q00000X", "last_updated": NOW,
    }  # fmt: skip
    built = [
        ("Patient", resources.patient_data(patient_row, opened)),
        ("Coverage", resources.coverage_data(coverage_row, "W123")),
        ("Claim", resources.claim_data(CLAIM, PROVIDERS)),
        ("ClaimResponse", resources.claim_response_data(adjudication, CLAIM)),
        (
            "ExplanationOfBenefit",
            resources.explanation_of_benefit_data(CLAIM, adjudication, [posting(8000, 2000)], PROVIDERS),
        ),
        ("Practitioner", resources.practitioner_data(provider)),
    ]
    for resource_type, data in built:
        model = resources.validated(resource_type, data)
        written = resources.validated_json(resource_type, data)
        assert type(model).model_validate_json(written) == model, resource_type
        assert json.loads(written)["resourceType"] == resource_type
