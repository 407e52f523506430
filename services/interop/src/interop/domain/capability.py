"""The server's CapabilityStatement (GET /fhir/metadata): what it reads, searches and exports."""

from __future__ import annotations

from fhir.resources.R4B.resource import Resource

from interop.domain.resources import validated
from interop.domain.search import PATIENT_COMPARTMENT, SEARCHABLE

BULK_DATA = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition"
PUBLISHED = "2026-11-27"


def _searches(resource_type: str) -> list[dict[str, str]]:
    params = [
        {"name": "_id", "type": "token"},
        {"name": "_lastUpdated", "type": "date"},
        {"name": "_count", "type": "number"},
    ]
    if resource_type in PATIENT_COMPARTMENT and resource_type != "Patient":
        params.append({"name": "patient", "type": "reference"})
    return params


def capability_statement(base_url: str) -> Resource:
    return validated(
        "CapabilityStatement",
        {
            "status": "active",
            "date": PUBLISHED,
            "kind": "instance",
            "publisher": "billing platform",
            "software": {"name": "billing interop"},
            "implementation": {"description": "Billing platform FHIR API", "url": f"{base_url}/fhir"},
            "fhirVersion": "4.0.1",
            "format": ["application/fhir+json", "json"],
            "instantiates": ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"],
            "rest": [
                {
                    "mode": "server",
                    "security": {"description": "Bearer JWT: tenant, role front_desk, biller or auditor"},
                    "resource": [
                        {
                            "type": resource_type,
                            "interaction": [{"code": "read"}, {"code": "search-type"}],
                            "searchParam": _searches(resource_type),
                        }
                        for resource_type in SEARCHABLE
                    ],
                    "operation": [
                        {"name": "export", "definition": f"{BULK_DATA}/export"},
                        {"name": "patient-export", "definition": f"{BULK_DATA}/patient-export"},
                    ],
                }
            ],
        },
    )
