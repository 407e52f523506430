"""FHIR reads: rows of the read model become resources; patient data is opened here and every read of
a patient's data (any resource of the patient's compartment) is written to the audit in the same
transaction as the read, as registration does: no audit row, no answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from fhir.resources.R4B.resource import Resource

from billing_events.contracts.base import Sealed
from billing_events.phi import KeyDestroyed
from interop.application.ports import Filter, Row, Views
from interop.domain import resources
from interop.domain.search import PATIENT_COMPARTMENT


class Phi(Protocol):
    async def open(self, sealed: Sealed, field: str) -> Any: ...


@dataclass(frozen=True)
class Reader:
    """Who reads, for the audit."""

    tenant: str
    actor: str
    roles: list[str]
    correlation_id: str | None


async def _open(vault: Phi, value: dict[str, Any] | None, field: str) -> Any:
    return None if value is None else await vault.open(Sealed.model_validate(value), field)


async def _opened_patient(vault: Phi, row: Row) -> dict[str, Any]:
    return {
        "mrn": await _open(vault, row["mrn"], "mrn"),
        "name": await _open(vault, row["name"], "name"),
        "birth_date": await _open(vault, row["birth_date"], "birth_date"),
        "address": await _open(vault, row["address"], "address"),
        "phone": await _open(vault, row["phone"], "phone"),
    }


async def _patient(vault: Phi, row: Row) -> Resource:
    return resources.patient(row, await _opened_patient(vault, row))


Document = tuple[str, dict[str, Any]]


async def documents(
    views: Views, vault: Phi, tenant: str, resource_type: str, rows: Sequence[Row]
) -> list[Document]:
    """The FHIR documents (type, elements) of a page of rows, loading what they reference in one
    query each. A patient whose key was destroyed (crypto-shredding) has no Patient or Coverage."""
    built: list[Document] = []
    providers: dict[str, Row] = {}
    if resource_type in ("Claim", "ClaimResponse", "ExplanationOfBenefit", "Encounter"):
        wanted = [
            provider
            for row in rows
            for provider in (row.get("billing_provider_id"), row.get("rendering_provider_id"))
            if provider
        ]
        providers = await views.providers(tenant, wanted)
    claim_ids = [row["claim_id"] for row in rows] if "claim_id" in (rows[0] if rows else {}) else []
    adjudications = await views.latest_adjudications(tenant, claim_ids) if claim_ids else {}
    postings = (
        await views.postings(tenant, claim_ids)
        if claim_ids and resource_type == "ExplanationOfBenefit"
        else {}
    )
    for row in rows:
        try:
            if resource_type == "Patient":
                data = resources.patient_data(row, await _opened_patient(vault, row))
            elif resource_type == "Coverage":
                member_id = await _open(vault, row["member_id"], "member_id")
                data = resources.coverage_data(row, member_id)
            elif resource_type == "Encounter":
                data = resources.encounter_data(row, providers)
            elif resource_type == "Claim":
                data = resources.claim_data(row, providers)
            elif resource_type == "ClaimResponse":
                data = resources.claim_response_data(adjudications[row["claim_id"]], row)
            elif resource_type == "ExplanationOfBenefit":
                data = resources.explanation_of_benefit_data(
                    row, adjudications.get(row["claim_id"]), postings.get(row["claim_id"], []), providers
                )
            elif resource_type == "Practitioner":
                data = resources.practitioner_data(row)
            elif row.get("kind") == "payer":
                data = resources.payer_organization_data(row)
            else:
                data = resources.provider_organization_data(row)
        except KeyDestroyed:
            continue
        built.append((resource_type, data))
    return built


async def render(
    views: Views, vault: Phi, tenant: str, resource_type: str, rows: Sequence[Row]
) -> list[Resource]:
    """Resources of one type from a page of rows, each validated by its fhir.resources model."""
    found = await documents(views, vault, tenant, resource_type, rows)
    return [resources.validated(kind, data) for kind, data in found]


async def audit(views: Views, reader: Reader, resource_type: str, rows: Sequence[Row], access: str) -> None:
    if resource_type not in PATIENT_COMPARTMENT:
        return
    await views.record_reads(
        reader.tenant,
        [row["patient_id"] for row in rows],
        actor=reader.actor,
        roles=reader.roles,
        access=access,
        correlation_id=reader.correlation_id,
    )


async def read(
    views: Views, vault: Phi, reader: Reader, resource_type: str, resource_id: str
) -> Resource | None:
    rows = await views.page(resource_type, reader.tenant, Filter(ids=[resource_id]), 1)
    if not rows:
        return None
    await audit(views, reader, resource_type, rows, f"fhir-read:{resource_type}")
    if resource_type in ("Patient", "Coverage"):
        # Read by id: an erased patient answers 410 Gone (KeyDestroyed reaches the problem handler).
        row = rows[0]
        if resource_type == "Patient":
            return await _patient(vault, row)
        return resources.coverage(row, await _open(vault, row["member_id"], "member_id"))
    found = await render(views, vault, reader.tenant, resource_type, rows)
    return found[0] if found else None


@dataclass(frozen=True)
class SearchPage:
    resources: list[Resource]
    next_after: str | None


async def search(
    views: Views, vault: Phi, reader: Reader, resource_type: str, wanted: Filter, count: int
) -> SearchPage:
    rows = await views.page(resource_type, reader.tenant, wanted, count + 1)
    more = len(rows) > count
    rows = rows[:count]
    await audit(views, reader, resource_type, rows, f"fhir-search:{resource_type}")
    found = await render(views, vault, reader.tenant, resource_type, rows)
    return SearchPage(found, views.id_of(resource_type, rows[-1]) if more and rows else None)
