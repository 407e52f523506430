"""Registration's reads. Patient data is opened here for the roles allowed to see it, and every read
of a patient's record is written to the audit (who, which patient, when, through which door) in the
same transaction as the read: no audit row, no answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from billing_events.contracts.base import Sealed
from billing_events.phi import BlindIndex
from billing_service.pages import Page, PageRequest
from registration.application.ports import Phi, Row, Views
from registration.domain.errors import NotRegistered


@dataclass(frozen=True)
class Reader:
    """Who reads, for the audit."""

    tenant: str
    actor: str
    roles: list[str]
    correlation_id: str | None


@dataclass(frozen=True)
class QueryContext:
    views: Views
    vault: Phi
    blind_index: BlindIndex
    reader: Reader

    @property
    def tenant(self) -> str:
        return self.reader.tenant

    async def audit(self, patient_id: str, access: str) -> None:
        reader = self.reader
        await self.views.record_read(
            reader.tenant,
            patient_id,
            actor=reader.actor,
            roles=reader.roles,
            access=access,
            correlation_id=reader.correlation_id,
        )


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


async def _open(vault: Phi, value: dict[str, Any] | None, field: str) -> Any:
    return None if value is None else await vault.open(Sealed.model_validate(value), field)


# reference data: no patient data, no audit


def payer_json(row: Row) -> dict[str, Any]:
    return {
        "payer_id": row["payer_id"],
        "name": row["name"],
        "edi_payer_id": row["edi_payer_id"],
        "claim_filing_indicator": row["claim_filing_indicator"],
        "address": row["address"],
        "timely_filing_days": row["timely_filing_days"],
        "registered_at": _json(row["registered_at"]),
    }


def provider_json(row: Row) -> dict[str, Any]:
    name: str | dict[str, str] = row["organization_name"] or {
        "given": row["given_name"],
        "family": row["family_name"],
    }
    return {
        "provider_id": row["provider_id"],
        "npi": row["npi"],
        "role": row["role"],
        "name": name,
        "taxonomy_code": row["taxonomy_code"],
        "tax_id": row["tax_id"],
        "address": row["address"],
        "enrolled_at": _json(row["enrolled_at"]),
    }


async def get_payer(ctx: QueryContext, payer_id: str) -> dict[str, Any]:
    row = await ctx.views.payer(ctx.tenant, payer_id)
    if row is None:
        raise NotRegistered("payer")
    return payer_json(row)


async def list_payers(ctx: QueryContext, page: PageRequest) -> Page[dict[str, Any]]:
    return (await ctx.views.payers(ctx.tenant, page)).map(payer_json)


async def get_provider(ctx: QueryContext, provider_id: str) -> dict[str, Any]:
    row = await ctx.views.provider(ctx.tenant, provider_id)
    if row is None:
        raise NotRegistered("provider")
    return provider_json(row)


async def list_providers(
    ctx: QueryContext, page: PageRequest, *, role: str | None, npi: str | None
) -> Page[dict[str, Any]]:
    return (await ctx.views.providers(ctx.tenant, page, role=role, npi=npi)).map(provider_json)


# patients: opened, and audited


async def _patient_json(ctx: QueryContext, row: Row, access: str) -> dict[str, Any]:
    await ctx.audit(row["patient_id"], access)
    vault = ctx.vault
    return {
        "patient_id": row["patient_id"],
        "mrn": await _open(vault, row["mrn"], "mrn"),
        "name": await _open(vault, row["name"], "name"),
        "birth_date": await _open(vault, row["birth_date"], "birth_date"),
        "sex": row["sex"],
        "address": await _open(vault, row["address"], "address"),
        "phone": await _open(vault, row["phone"], "phone"),
        "version": row["version"],
        "registered_at": _json(row["registered_at"]),
        "updated_at": _json(row["updated_at"]),
    }


async def get_patient(ctx: QueryContext, patient_id: str) -> dict[str, Any]:
    row = await ctx.views.patient(ctx.tenant, patient_id)
    if row is None:
        raise NotRegistered("patient")
    return await _patient_json(ctx, row, "patient")


async def find_patients(ctx: QueryContext, *, mrn: str | None, page: PageRequest) -> Page[dict[str, Any]]:
    """By MRN (through its blind index: at most one), or every patient of the tenant, page by page."""
    if mrn is not None:
        row = await ctx.views.patient_by_mrn_index(ctx.tenant, ctx.blind_index(ctx.tenant, "mrn", mrn))
        return Page([await _patient_json(ctx, row, "patient_by_mrn")] if row is not None else [])
    rows = await ctx.views.patients(ctx.tenant, page)
    return rows.replace([await _patient_json(ctx, row, "patient_list") for row in rows.items])


async def _coverage_json(ctx: QueryContext, row: Row, eligibility: Row | None) -> dict[str, Any]:
    terminated = row["terminated_at"] is not None
    return {
        "coverage_id": row["coverage_id"],
        "patient_id": row["patient_id"],
        "payer_id": row["payer_id"],
        "member_id": await _open(ctx.vault, row["member_id"], "member_id"),
        "group_number": row["group_number"],
        "priority": row["priority"],
        "relationship_to_subscriber": row["relationship_to_subscriber"],
        "subscriber": await _open(ctx.vault, row["subscriber"], "subscriber"),
        "effective_from": _json(row["effective_from"]),
        "effective_to": _json(row["effective_to"]),
        "status": "terminated" if terminated else "active",
        "terminated_at": _json(row["terminated_at"]),
        "added_at": _json(row["added_at"]),
        # The payer's latest answer to an eligibility check of this coverage (null before one).
        "eligibility": None if eligibility is None else eligibility_json(eligibility),
    }


def _percent(basis_points: int | None) -> int | float | None:
    """Coinsurance for people: 2000 basis points is 20, 1250 is 12.5."""
    if basis_points is None:
        return None
    whole, rest = divmod(basis_points, 100)
    return whole if rest == 0 else basis_points / 100


def eligibility_json(row: Row) -> dict[str, Any]:
    status = row["status"]
    benefits = None
    if status == "active":
        benefits = {
            "deductible_remaining_cents": row["deductible_remaining_cents"],
            "copay_cents": row["copay_cents"],
            "coinsurance_percent": _percent(row["coinsurance_basis_points"]),
            "coinsurance_basis_points": row["coinsurance_basis_points"],
            "out_of_pocket_remaining_cents": row["out_of_pocket_remaining_cents"],
        }
    return {
        "check_id": row["check_id"],
        "coverage_id": row["coverage_id"],
        "patient_id": row["patient_id"],
        "payer_id": row["payer_id"],
        "provider_id": row["provider_id"],
        "service_date": _json(row["service_date"]),
        "status": status,
        "requested_at": _json(row["requested_at"]),
        "answered_at": _json(row["answered_at"]),
        "plan_begin_on": _json(row["plan_begin_on"]),
        "plan_end_on": _json(row["plan_end_on"]),
        "benefits": benefits,
        "reasons": list(row["reasons"] or []),
    }


async def get_eligibility_check(ctx: QueryContext, check_id: str) -> dict[str, Any]:
    row = await ctx.views.eligibility_check(ctx.tenant, check_id)
    if row is None:
        raise NotRegistered("eligibility check")
    # Whether a person is insured is about that person: audited like a read of the coverage.
    await ctx.audit(row["patient_id"], "eligibility_check")
    return eligibility_json(row)


async def coverages_of(ctx: QueryContext, patient_id: str, page: PageRequest) -> Page[dict[str, Any]]:
    if await ctx.views.patient(ctx.tenant, patient_id) is None:
        raise NotRegistered("patient")
    await ctx.audit(patient_id, "coverages")
    rows = await ctx.views.coverages_of(ctx.tenant, patient_id, page)
    # The latest answers of the page's coverages in one query.
    answers = await ctx.views.latest_eligibility(ctx.tenant, [row["coverage_id"] for row in rows.items])
    return rows.replace(
        [await _coverage_json(ctx, row, answers.get(row["coverage_id"])) for row in rows.items]
    )


async def get_coverage(ctx: QueryContext, coverage_id: str) -> dict[str, Any]:
    row = await ctx.views.coverage(ctx.tenant, coverage_id)
    if row is None:
        raise NotRegistered("coverage")
    await ctx.audit(row["patient_id"], "coverage")
    answers = await ctx.views.latest_eligibility(ctx.tenant, [coverage_id])
    return await _coverage_json(ctx, row, answers.get(coverage_id))


def encounter_json(row: Row) -> dict[str, Any]:
    return {
        "encounter_id": row["encounter_id"],
        "patient_id": row["patient_id"],
        "billing_provider_id": row["billing_provider_id"],
        "rendering_provider_id": row["rendering_provider_id"],
        "service_date": _json(row["service_date"]),
        "place_of_service": row["place_of_service"],
        "patient_sex": row["patient_sex"],
        "patient_age_years": row["patient_age_years"],
        "opened_at": _json(row["opened_at"]),
    }


async def get_encounter(ctx: QueryContext, encounter_id: str) -> dict[str, Any]:
    row = await ctx.views.encounter(ctx.tenant, encounter_id)
    if row is None:
        raise NotRegistered("encounter")
    await ctx.audit(row["patient_id"], "encounter")
    return encounter_json(row)


async def list_encounters(
    ctx: QueryContext, *, patient_id: str | None, page: PageRequest
) -> Page[dict[str, Any]]:
    rows = await ctx.views.encounters(ctx.tenant, page, patient_id=patient_id)
    for patient in dict.fromkeys(row["patient_id"] for row in rows.items):
        await ctx.audit(patient, "encounter_list")
    return rows.map(encounter_json)


def read_json(row: Row) -> dict[str, Any]:
    return {
        "patient_id": row["patient_id"],
        "actor": row["actor"],
        "roles": list(row["roles"]),
        "access": row["access"],
        "correlation_id": row["correlation_id"],
        "read_at": _json(row["read_at"]),
    }


async def patient_reads(
    ctx: QueryContext, *, patient_id: str | None, actor: str | None, page: PageRequest
) -> Page[dict[str, Any]]:
    return (await ctx.views.reads(ctx.tenant, page, patient_id=patient_id, actor=actor)).map(read_json)
