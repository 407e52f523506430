"""The platform's records as FHIR R4 resources, built and validated by `fhir.resources` (pure: no I/O).

`fhir.resources` 8.3 ships FHIR R4B (4.3.0) models, which are R4 (4.0.1) for every resource built here
(R4B changed only medication-definition and subscription resources). A record that cannot become a
valid resource raises InvalidResource naming the failing elements, never their values (PHI).

Each builder takes the rows of the interop read model (a Mapping) and, for patient data, the values
already opened by the application.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.claim import Claim
from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.explanationofbenefit import ExplanationOfBenefit
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from interop.domain import codes
from interop.domain.codes import coding, money

Row = Mapping[str, Any]
RESOURCE_TYPES: dict[str, type[Resource]] = {
    "Patient": Patient,
    "Coverage": Coverage,
    "Encounter": Encounter,
    "Claim": Claim,
    "ClaimResponse": ClaimResponse,
    "ExplanationOfBenefit": ExplanationOfBenefit,
    "Organization": Organization,
    "Practitioner": Practitioner,
    "Bundle": Bundle,
    "CapabilityStatement": CapabilityStatement,
}


class InvalidResource(ValueError):
    """A resource failed FHIR validation. The message names elements and error types only."""


def validated(resource_type: str, data: dict[str, Any]) -> Resource:
    model = RESOURCE_TYPES[resource_type]
    try:
        return model.model_validate({"resourceType": resource_type, **clean(data)})
    except ValidationError as error:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['type']}" for e in error.errors(include_input=False)
        )
        raise InvalidResource(f"{resource_type}: {where}") from None


def _number(value: Any) -> float:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


def validated_json(resource_type: str, data: dict[str, Any]) -> str:
    """The document as FHIR JSON once the fhir.resources model accepted it. For Bulk export: the
    model's own serialiser costs more than its validation, and the document is what it validated."""
    document = {"resourceType": resource_type, **clean(data)}
    validated(resource_type, data)
    return json.dumps(document, default=_number, separators=(",", ":"), ensure_ascii=False)


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _meta(row: Row) -> dict[str, Any]:
    return {"lastUpdated": _instant(row["last_updated"])}


def ref(resource_type: str, resource_id: str | None) -> dict[str, str] | None:
    return None if resource_id is None else {"reference": f"{resource_type}/{resource_id}"}


def _address(address: Mapping[str, Any] | None, use: str | None = None) -> dict[str, Any] | None:
    if not address:
        return None
    lines = [line for line in (address.get("line1"), address.get("line2")) if line]
    result: dict[str, Any] = {
        "line": lines,
        "city": address.get("city"),
        "state": address.get("state"),
        "postalCode": address.get("postal_code"),
        "country": "US",
    }
    if use:
        result["use"] = use
    return {k: v for k, v in result.items() if v}


# reference data


def provider_type(row: Row) -> str:
    """An enrolled provider with an organisation name is an Organization, a person a Practitioner."""
    return "Organization" if row.get("organization_name") else "Practitioner"


def payer_organization_data(row: Row) -> dict[str, Any]:
    return {
        "id": row["payer_id"],
        "meta": _meta(row),
        "active": True,
        "identifier": [{"system": codes.PAYER_ID_SYSTEM, "value": row["edi_payer_id"]}],
        "type": [coding(codes.ORGANIZATION_TYPE, "pay", "Payer")],
        "name": row["name"],
        "address": [a] if (a := _address(row["address"])) else None,
    }


def _provider_identifiers(row: Row) -> list[dict[str, Any]]:
    identifiers: list[dict[str, Any]] = [{"system": codes.NPI, "value": row["npi"]}]
    if row.get("tax_id"):
        identifiers.append(
            {
                "system": codes.TAX_ID,
                "value": row["tax_id"],
                "type": coding(codes.IDENTIFIER_TYPE, "TAX"),
            }
        )
    return identifiers


def provider_organization_data(row: Row) -> dict[str, Any]:
    return {
        "id": row["provider_id"],
        "meta": _meta(row),
        "active": True,
        "identifier": _provider_identifiers(row),
        "type": [coding(codes.ORGANIZATION_TYPE, "prov", "Healthcare Provider")],
        "name": row["organization_name"],
        "address": [_address(row["address"])],
    }


def practitioner_data(row: Row) -> dict[str, Any]:
    return {
        "id": row["provider_id"],
        "meta": _meta(row),
        "active": True,
        "identifier": _provider_identifiers(row),
        "name": [{"family": row["family_name"], "given": [row["given_name"]] if row["given_name"] else []}],
        "address": [_address(row["address"])],
        "qualification": [{"code": coding(codes.NUCC_TAXONOMY, row["taxonomy_code"])}],
    }


def provider_resource(row: Row) -> Resource:
    return provider_organization(row) if provider_type(row) == "Organization" else practitioner(row)


# patient data (opened values are passed in by the application, which audits the read)


def patient_data(row: Row, opened: Mapping[str, Any]) -> dict[str, Any]:
    name = opened["name"]
    return {
        "id": row["patient_id"],
        "meta": _meta(row),
        "active": True,
        "identifier": [
            {
                "use": "usual",
                "type": coding(codes.IDENTIFIER_TYPE, "MR", "Medical record number"),
                "system": codes.MRN_SYSTEM,
                "value": opened["mrn"],
            }
        ],
        "name": [{"use": "official", "family": name["family"], "given": [name["given"]]}],
        "gender": codes.GENDER.get(row["sex"], "unknown"),
        "birthDate": opened["birth_date"],
        "address": [_address(opened["address"], "home")],
        "telecom": [{"system": "phone", "value": opened["phone"]}] if opened.get("phone") else None,
    }


def coverage_data(row: Row, member_id: str) -> dict[str, Any]:
    relationship = row["relationship_to_subscriber"]
    data: dict[str, Any] = {
        "id": row["coverage_id"],
        "meta": _meta(row),
        "status": "active",
        "identifier": [{"type": coding(codes.IDENTIFIER_TYPE, "MB", "Member Number"), "value": member_id}],
        "subscriberId": member_id,
        "beneficiary": ref("Patient", row["patient_id"]),
        "relationship": coding(codes.SUBSCRIBER_RELATIONSHIP, relationship),
        "period": {
            "start": row["effective_from"].isoformat(),
            "end": row["effective_to"].isoformat() if row["effective_to"] else None,
        },
        "payor": [ref("Organization", row["payer_id"])],
        "order": codes.PRIORITY_ORDER.get(row["priority"]),
    }
    if relationship == "self":
        data["subscriber"] = ref("Patient", row["patient_id"])
    if row["group_number"]:
        data["class"] = [{"type": coding(codes.COVERAGE_CLASS, "group"), "value": row["group_number"]}]
    return data


def encounter_data(row: Row, providers: Mapping[str, Row]) -> dict[str, Any]:
    service_date: date | None = row["service_date"]
    rendering = row.get("rendering_provider_id")
    billing = row.get("billing_provider_id")
    data: dict[str, Any] = {
        "id": row["encounter_id"],
        "meta": _meta(row),
        "status": "finished",
        "class": {"system": codes.ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "subject": ref("Patient", row["patient_id"]),
        "reasonCode": [coding(codes.ICD10CM, code) for code in row.get("diagnoses") or []] or None,
    }
    if service_date is not None:
        data["period"] = {"start": service_date.isoformat(), "end": service_date.isoformat()}
    if rendering:
        data["participant"] = [{"individual": ref("Practitioner", rendering)}]
    if billing and billing in providers and provider_type(providers[billing]) == "Organization":
        data["serviceProvider"] = ref("Organization", billing)
    if row.get("place_of_service"):
        data["type"] = [coding(codes.PLACE_OF_SERVICE, row["place_of_service"])]
    return data


# claims, the payer's answers, and the explanation of benefit


def _provider_ref(provider_id: str | None, providers: Mapping[str, Row]) -> dict[str, str] | None:
    if provider_id is None:
        return None
    found = providers.get(provider_id)
    return ref(provider_type(found) if found else "Organization", provider_id)


def _type() -> dict[str, Any]:
    return coding(codes.CLAIM_TYPE, "professional", "Professional")


def _diagnoses(claim: Row) -> list[dict[str, Any]]:
    return [
        {"sequence": n, "diagnosisCodeableConcept": coding(codes.ICD10CM, code)}
        for n, code in enumerate(claim["diagnoses"], start=1)
    ]


def _product(line: Mapping[str, Any]) -> dict[str, Any]:
    return coding(codes.procedure_system(line["code"]), line["code"])


def _modifiers(line: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    return [coding(codes.CPT, m) for m in line.get("modifiers") or []] or None


def _care_team(claim: Row, providers: Mapping[str, Row]) -> list[dict[str, Any]] | None:
    rendering = claim.get("rendering_provider_id")
    if not rendering:
        return None
    return [
        {
            "sequence": 1,
            "provider": _provider_ref(rendering, providers),
            "role": coding(codes.CARE_TEAM_ROLE, "primary"),
        }
    ]


def _claim_items(claim: Row) -> list[dict[str, Any]]:
    items = []
    for line in claim["lines"]:
        unit = line["charge_cents"] // line["units"] if line["units"] else line["charge_cents"]
        items.append(
            {
                "sequence": line["line_number"],
                "diagnosisSequence": list(line.get("diagnosis_pointers") or []) or None,
                "productOrService": _product(line),
                "modifier": _modifiers(line),
                "servicedDate": claim["service_date"].isoformat(),
                "locationCodeableConcept": coding(codes.PLACE_OF_SERVICE, claim["place_of_service"])
                if claim.get("place_of_service")
                else None,
                "quantity": {"value": line["units"]},
                "unitPrice": money(unit),
                "net": money(line["charge_cents"]),
            }
        )
    return items


def claim_data(row: Row, providers: Mapping[str, Row]) -> dict[str, Any]:
    return {
        "id": row["claim_id"],
        "meta": _meta(row),
        "status": row["status"],
        "type": _type(),
        "use": "claim",
        "patient": ref("Patient", row["patient_id"]),
        "billablePeriod": {
            "start": row["service_date"].isoformat(),
            "end": row["service_date"].isoformat(),
        },
        "created": _instant(row["created_at"]),
        "insurer": ref("Organization", row["payer_id"]),
        "provider": _provider_ref(
            row.get("billing_provider_id") or row.get("rendering_provider_id"), providers
        )
        or ref("Organization", row["payer_id"]),
        "priority": coding(codes.PROCESS_PRIORITY, "normal"),
        "careTeam": _care_team(row, providers),
        "diagnosis": _diagnoses(row),
        "insurance": [{"sequence": 1, "focal": True, "coverage": ref("Coverage", row["coverage_id"])}],
        "item": _claim_items(row),
        "total": money(row["total_charge_cents"]),
    }


def _adjustment_entries(adjustments: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One adjudication entry per CAS adjustment: its CARIN category, CARC reason and amount."""
    entries = []
    for adjustment in adjustments:
        system, category = codes.adjustment_category(adjustment["group"], adjustment["reason_code"])
        entries.append(
            {
                "category": coding(system, category),
                "reason": coding(codes.CARC, adjustment["reason_code"]),
                "amount": money(adjustment["amount_cents"]),
            }
        )
    return entries


def claim_response_data(adjudication: Row, claim_row: Row) -> dict[str, Any]:
    """The payer's latest answer on a claim (its 835 CLP and SVC loops), id = the claim's id."""
    denied = adjudication["outcome"] == "denied"
    items = []
    for line in adjudication["lines"]:
        items.append(
            {
                "itemSequence": line["line_number"],
                "noteNumber": None,
                "adjudication": [
                    {
                        "category": coding(codes.ADJUDICATION, "submitted"),
                        "amount": money(line["charge_cents"]),
                    },
                    {"category": coding(codes.ADJUDICATION, "benefit"), "amount": money(line["paid_cents"])},
                    *_adjustment_entries(line.get("adjustments") or []),
                ],
            }
        )
    return {
        "id": claim_row["claim_id"],
        "meta": {"lastUpdated": _instant(adjudication["recorded_at"])},
        "identifier": [
            {
                "system": codes.PAYER_CLAIM_CONTROL_NUMBER,
                "value": adjudication["payer_claim_control_number"],
            }
        ],
        "status": "active",
        "type": _type(),
        "use": "claim",
        "patient": ref("Patient", claim_row["patient_id"]),
        "created": adjudication["adjudicated_on"].isoformat(),
        "insurer": ref("Organization", adjudication["payer_id"]),
        "request": ref("Claim", claim_row["claim_id"]),
        "outcome": "complete",
        "disposition": "denied" if denied else adjudication["outcome"].replace("_", " "),
        "item": items or None,
        "adjudication": _adjustment_entries(adjudication["claim_adjustments"]) or None,
        "total": [
            {
                "category": coding(codes.ADJUDICATION, "submitted"),
                "amount": money(adjudication["total_charge_cents"]),
            },
            {
                "category": coding(codes.ADJUDICATION, "benefit"),
                "amount": money(adjudication["paid_cents"]),
            },
        ],
        "payment": {
            "type": coding(codes.PAYMENT_TYPE, "complete"),
            "date": adjudication["adjudicated_on"].isoformat(),
            "amount": money(adjudication["paid_cents"]),
        },
        "processNote": [
            {"number": n, "text": f"RARC {code}"}
            for n, code in enumerate(adjudication["remark_codes"], start=1)
        ]
        or None,
    }


def _sum(values: Iterable[int]) -> int:
    return sum(values, 0)


def eob_amounts(claim_row: Row, postings: Sequence[Row]) -> dict[str, Any]:
    """The EOB's money, net of reversals, from the ledger's postings: what the platform reports.

    Per line: submitted (the charge), eligible (the allowed amount: paid plus the patient's share),
    paid to provider, member liability, and each (group, CARC) adjustment summed over the postings.
    """
    lines: dict[int, dict[str, Any]] = {
        line["line_number"]: {"charge": line["charge_cents"], "paid": 0, "adjustments": {}}
        for line in claim_row["lines"]
    }
    for posting in postings:
        for posted in posting["lines"]:
            line = lines.setdefault(posted["line_number"], {"charge": 0, "paid": 0, "adjustments": {}})
            line["paid"] += posted["paid_cents"]
            for adjustment in posted.get("adjustments") or []:
                key = (adjustment["group"], adjustment["reason_code"])
                line["adjustments"][key] = line["adjustments"].get(key, 0) + adjustment["amount_cents"]
    for line in lines.values():
        line["member"] = _sum(a for (group, _), a in line["adjustments"].items() if group == "PR")
    return {
        "lines": lines,
        "paid": _sum(p["paid_cents"] for p in postings),
        "patient": _sum(p["patient_responsibility_cents"] for p in postings),
        "contractual": _sum(p["contractual_adjustment_cents"] for p in postings),
        "other": _sum(p["other_adjustment_cents"] for p in postings),
        "denial_reasons": list(
            dict.fromkeys(r for p in postings if p["denied"] for r in p["denial_reasons"])
        ),
        "denied": any(p["denied"] for p in postings) and _sum(p["paid_cents"] for p in postings) == 0,
    }


def _denial_entries(reasons: Iterable[str]) -> list[dict[str, Any]]:
    entries = []
    for reason in reasons:
        group, _, carc = reason.partition("-")
        if not carc or group not in {"CO", "PR", "OA", "PI", "CR", "OI"}:
            continue
        entries.append(
            {"category": coding(codes.C4BB_DISCRIMINATOR, "denialreason"), "reason": coding(codes.CARC, carc)}
        )
    return entries


def explanation_of_benefit_data(
    claim_row: Row,
    adjudication: Row | None,
    postings: Sequence[Row],
    providers: Mapping[str, Row],
) -> dict[str, Any]:
    """CARIN BB-shaped professional EOB of a claim, id = the claim's id; amounts from the postings."""
    amounts = eob_amounts(claim_row, postings)
    updated = max([claim_row["last_updated"], *(p["recorded_at"] for p in postings)])
    paid_status = "denied" if amounts["denied"] else "paid"
    items = []
    for line in claim_row["lines"]:
        figures = amounts["lines"][line["line_number"]]
        adjustments = [
            {"group": group, "reason_code": reason, "amount_cents": amount}
            for (group, reason), amount in sorted(figures["adjustments"].items())
        ]
        items.append(
            {
                "sequence": line["line_number"],
                "diagnosisSequence": list(line.get("diagnosis_pointers") or []) or None,
                "productOrService": _product(line),
                "modifier": _modifiers(line),
                "servicedDate": claim_row["service_date"].isoformat(),
                "locationCodeableConcept": coding(codes.PLACE_OF_SERVICE, claim_row["place_of_service"])
                if claim_row.get("place_of_service")
                else None,
                "quantity": {"value": line["units"]},
                "net": money(line["charge_cents"]),
                "adjudication": [
                    {"category": coding(codes.ADJUDICATION, "submitted"), "amount": money(figures["charge"])},
                    {
                        "category": coding(codes.ADJUDICATION, "eligible"),
                        "amount": money(figures["paid"] + figures["member"]),
                    },
                    {
                        "category": coding(codes.C4BB_ADJUDICATION, "paidtoprovider"),
                        "amount": money(figures["paid"]),
                    },
                    {"category": coding(codes.ADJUDICATION, "benefit"), "amount": money(figures["paid"])},
                    {
                        "category": coding(codes.C4BB_ADJUDICATION, "memberliability"),
                        "amount": money(figures["member"]),
                    },
                    {"category": coding(codes.C4BB_PAYER_ADJUDICATION_STATUS, paid_status)},
                    *_adjustment_entries(adjustments),
                ],
            }
        )
    identifiers = [{"type": coding(codes.C4BB_IDENTIFIER_TYPE, "uc"), "value": claim_row["claim_id"]}]
    if adjudication is not None:
        identifiers.append(
            {"system": codes.PAYER_CLAIM_CONTROL_NUMBER, "value": adjudication["payer_claim_control_number"]}
        )
    posted_on = max((p["posted_on"] for p in postings), default=None)
    return {
        "id": claim_row["claim_id"],
        "meta": {"lastUpdated": _instant(updated)},
        "identifier": identifiers,
        "status": "cancelled" if claim_row["status"] == "cancelled" else "active",
        "type": _type(),
        "use": "claim",
        "patient": ref("Patient", claim_row["patient_id"]),
        "billablePeriod": {
            "start": claim_row["service_date"].isoformat(),
            "end": claim_row["service_date"].isoformat(),
        },
        "created": _instant(claim_row["created_at"]),
        "insurer": ref("Organization", claim_row["payer_id"]),
        "provider": _provider_ref(
            claim_row.get("billing_provider_id") or claim_row.get("rendering_provider_id"), providers
        )
        or ref("Organization", claim_row["payer_id"]),
        "claim": ref("Claim", claim_row["claim_id"]),
        "claimResponse": ref("ClaimResponse", claim_row["claim_id"]) if adjudication is not None else None,
        "outcome": "complete" if postings else "queued",
        "disposition": paid_status if postings else None,
        "careTeam": _care_team(claim_row, providers),
        "diagnosis": _diagnoses(claim_row),
        "insurance": [{"focal": True, "coverage": ref("Coverage", claim_row["coverage_id"])}],
        "item": items,
        "adjudication": _denial_entries(amounts["denial_reasons"]) or None,
        "total": [
            {
                "category": coding(codes.ADJUDICATION, "submitted"),
                "amount": money(claim_row["total_charge_cents"]),
            },
            {
                "category": coding(codes.ADJUDICATION, "eligible"),
                "amount": money(amounts["paid"] + amounts["patient"]),
            },
            {
                "category": coding(codes.C4BB_ADJUDICATION, "paidtoprovider"),
                "amount": money(amounts["paid"]),
            },
            {"category": coding(codes.ADJUDICATION, "benefit"), "amount": money(amounts["paid"])},
            {
                "category": coding(codes.C4BB_ADJUDICATION, "memberliability"),
                "amount": money(amounts["patient"]),
            },
            {
                "category": coding(codes.C4BB_ADJUDICATION, "discount"),
                "amount": money(amounts["contractual"]),
            },
            {
                "category": coding(codes.C4BB_ADJUDICATION, "noncovered"),
                "amount": money(amounts["other"]),
            },
        ],
        "payment": {
            "type": coding(codes.PAYMENT_TYPE, "complete"),
            "date": posted_on.isoformat() if posted_on else None,
            "amount": money(amounts["paid"]),
        }
        if postings
        else None,
    }


def clean(data: Any) -> Any:
    """Drop None values (FHIR has no nulls) before validation; models accept absent elements."""
    if isinstance(data, dict):
        return {k: clean(v) for k, v in data.items() if v is not None and v != []}
    if isinstance(data, list):
        return [clean(v) for v in data if v is not None]
    return data


# The builders: each validates its document with the fhir.resources model of its type.


def payer_organization(row: Row) -> Resource:
    return validated("Organization", payer_organization_data(row))


def provider_organization(row: Row) -> Resource:
    return validated("Organization", provider_organization_data(row))


def practitioner(row: Row) -> Resource:
    return validated("Practitioner", practitioner_data(row))


def patient(row: Row, opened: Mapping[str, Any]) -> Resource:
    return validated("Patient", patient_data(row, opened))


def coverage(row: Row, member_id: str) -> Resource:
    return validated("Coverage", coverage_data(row, member_id))


def encounter(row: Row, providers: Mapping[str, Row]) -> Resource:
    return validated("Encounter", encounter_data(row, providers))


def claim(row: Row, providers: Mapping[str, Row]) -> Resource:
    return validated("Claim", claim_data(row, providers))


def claim_response(adjudication: Row, claim_row: Row) -> Resource:
    return validated("ClaimResponse", claim_response_data(adjudication, claim_row))


def explanation_of_benefit(
    claim_row: Row,
    adjudication: Row | None,
    postings: Sequence[Row],
    providers: Mapping[str, Row],
) -> Resource:
    return validated(
        "ExplanationOfBenefit", explanation_of_benefit_data(claim_row, adjudication, postings, providers)
    )
