"""Interop's HTTP API (port 8007): FHIR R4 (`application/fhir+json`) under /fhir and Bulk Data $export.

Roles: front_desk, biller and auditor read resources (the roles that read patient data in
registration); biller and auditor run Bulk exports. Every resource is of the caller's tenant; another
tenant's id answers 404. Errors are the platform's problem details.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fhir.resources.R4B.resource import Resource

from billing_service.auth import Principal, Role, require
from billing_service.problems import FieldError, Problem, invalid, not_found
from billing_service.runtime import Runtime, runtime_of
from interop.adapters.queries import InteropViews, views_on
from interop.application import reads
from interop.application.export import ExportJob, manifest, run_export
from interop.application.ports import Filter
from interop.domain import capability
from interop.domain.export import NDJSON, export_request
from interop.domain.resources import validated
from interop.domain.search import (
    SEARCHABLE,
    BadSearch,
    parse_count,
    parse_last_updated,
    patient_id,
)
from interop.settings import interop_settings

router = APIRouter()

FHIR_JSON = "application/fhir+json"
FhirReader = Annotated[Principal, Depends(require(Role.FRONT_DESK, Role.BILLER, Role.AUDITOR))]
Exporter = Annotated[Principal, Depends(require(Role.BILLER, Role.AUDITOR))]
Auditor = Annotated[Principal, Depends(require(Role.AUDITOR))]
_EXPORT_TASKS = "interop_export_tasks"


def fhir(resource: Resource, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(resource.model_dump_json(), status_code=status, media_type=FHIR_JSON, headers=headers)


def _reader(request: Request, principal: Principal) -> reads.Reader:
    return reads.Reader(
        tenant=principal.tenant,
        actor=principal.subject,
        roles=sorted(principal.roles),
        correlation_id=(request.headers.get("x-correlation-id") or "")[:128] or None,
    )


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _bad(error: BadSearch) -> Problem:
    return invalid(
        [FieldError(error.parameter, error.message)], "The FHIR search or export request is invalid."
    )


def _resource_type(resource_type: str) -> str:
    if resource_type not in SEARCHABLE:
        raise Problem(
            404, "Not Found", "This server does not serve that resource type.", "/problems/not-found"
        )
    return resource_type


@router.get("/fhir/metadata", tags=["fhir"])
async def metadata(request: Request, principal: FhirReader) -> Response:
    return fhir(capability.capability_statement(_base(request)))


# Bulk Data (registered before /fhir/{type}/{id}, which would otherwise take Patient/$export)


async def _kick_off(request: Request, principal: Principal, level: str) -> Response:
    params = request.query_params
    try:
        wanted = export_request(level, params.get("_type"), params.get("_since"), params.get("_outputFormat"))
    except BadSearch as error:
        raise _bad(error) from None
    runtime = runtime_of(request)
    settings = interop_settings()
    export_id = str(uuid.uuid4())
    async with runtime.pool.acquire() as connection:
        await InteropViews(connection).create_export(
            export_id=export_id,
            tenant=principal.tenant,
            requested_by=principal.subject,
            request_url=str(request.url),
            level=level,
            types=wanted.types,
            since=wanted.since,
            transaction_time=datetime.now(UTC),
        )
    folder = export_root(runtime) / principal.tenant / export_id
    job = ExportJob(
        export_id=export_id,
        reader=_reader(request, principal),
        request=wanted,
        folder=folder,
        batch_size=settings.export_batch_size,
        max_file_resources=settings.export_file_resources,
    )
    tasks: set[asyncio.Task[None]] = runtime.extras.setdefault(_EXPORT_TASKS, set())  # type: ignore[assignment]
    task = asyncio.create_task(run_export(partial(views_on, runtime.pool), runtime.vault, job))
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    location = f"{_base(request)}/fhir/$export-status/{export_id}"
    return Response(status_code=202, headers={"Content-Location": location})


def export_root(runtime: Runtime) -> Path:
    return interop_settings().export_dir or Path(runtime.settings.state_dir) / "interop-exports"


@router.get("/fhir/$export", tags=["bulk data"], status_code=202)
async def system_export(request: Request, principal: Exporter) -> Response:
    """Every resource type of the tenant (`_type` to choose, `_since` for changes after a time)."""
    return await _kick_off(request, principal, "system")


@router.get("/fhir/Patient/$export", tags=["bulk data"], status_code=202)
async def patient_export(request: Request, principal: Exporter) -> Response:
    """The resources of every patient's compartment (Patient, Coverage, Encounter, claims, EOBs)."""
    return await _kick_off(request, principal, "patient")


async def _job(request: Request, principal: Principal, export_id: str) -> dict[str, Any]:
    async with runtime_of(request).pool.acquire() as connection:
        row = await InteropViews(connection).export(principal.tenant, export_id)
    if row is None:
        raise not_found("export")
    return row


@router.get("/fhir/$export-status/{export_id}", tags=["bulk data"])
async def export_status(request: Request, export_id: str, principal: Exporter) -> Response:
    row = await _job(request, principal, export_id)
    if row["status"] == "in-progress":
        async with runtime_of(request).pool.acquire() as connection:
            views = InteropViews(connection)
            if await views.fail_if_stalled(
                principal.tenant, export_id, interop_settings().export_stall_seconds
            ):
                row = await _job(request, principal, export_id)
    if row["status"] == "in-progress":
        return Response(status_code=202, headers={"X-Progress": "in progress", "Retry-After": "1"})
    if row["status"] == "failed":
        raise Problem(500, "Export failed", row["error"] or "The export failed.", "/problems/export-failed")
    return JSONResponse(manifest(row, _base(request)))


@router.delete("/fhir/$export-status/{export_id}", tags=["bulk data"], status_code=202)
async def delete_export(request: Request, export_id: str, principal: Exporter) -> Response:
    runtime = runtime_of(request)
    async with runtime.pool.acquire() as connection:
        deleted = await InteropViews(connection).delete_export(principal.tenant, export_id)
    if not deleted:
        raise not_found("export")
    folder = export_root(runtime) / principal.tenant / export_id
    for path in folder.glob("*.ndjson"):
        path.unlink(missing_ok=True)
    return Response(status_code=202)


@router.get("/fhir/$export-file/{export_id}/{name}", tags=["bulk data"])
async def export_file(request: Request, export_id: str, name: str, principal: Exporter) -> Response:
    row = await _job(request, principal, export_id)
    # Only names the manifest lists, so no path can leave the export's own folder.
    if name not in {entry["name"] for entry in row["output"]}:
        raise not_found("export file")
    path = export_root(runtime_of(request)) / principal.tenant / export_id / name
    return FileResponse(path, media_type=NDJSON)


# read and search


@router.get("/fhir/{resource_type}/{resource_id}", tags=["fhir"])
async def read_resource(
    request: Request, resource_type: str, resource_id: str, principal: FhirReader
) -> Response:
    resource_type = _resource_type(resource_type)
    runtime = runtime_of(request)
    async with runtime.store.session() as session:
        found = await reads.read(
            InteropViews(session.connection),
            runtime.vault,
            _reader(request, principal),
            resource_type,
            resource_id,
        )
    if found is None:
        raise not_found(resource_type)
    return fhir(found)


@router.get("/fhir/{resource_type}", tags=["fhir"])
async def search_resources(
    request: Request,
    resource_type: str,
    principal: FhirReader,
    patient: Annotated[str | None, Query(description="Patient/<id> or <id>")] = None,
    ids: Annotated[str | None, Query(alias="_id", description="ids, comma-separated")] = None,
    last_updated: Annotated[list[str] | None, Query(alias="_lastUpdated")] = None,
    count: Annotated[str | None, Query(alias="_count")] = None,
    cursor: Annotated[str | None, Query(alias="_cursor", description="from the Bundle's next link")] = None,
) -> Response:
    resource_type = _resource_type(resource_type)
    settings = interop_settings()
    try:
        wanted = Filter(
            ids=[i.strip() for i in ids.split(",") if i.strip()] if ids is not None else None,
            patient_id=patient_id(patient),
            last_updated=parse_last_updated(last_updated or []),
            after=cursor,
        )
        limit = parse_count(count, default=settings.page_size, maximum=settings.max_page_size)
    except BadSearch as error:
        raise _bad(error) from None
    runtime = runtime_of(request)
    async with runtime.store.session() as session:
        page = await reads.search(
            InteropViews(session.connection),
            runtime.vault,
            _reader(request, principal),
            resource_type,
            wanted,
            limit,
        )
    base = _base(request)
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "_cursor"]
    links = [{"relation": "self", "url": str(request.url)}]
    if page.next_after is not None:
        links.append(
            {
                "relation": "next",
                "url": f"{base}/fhir/{resource_type}?{urlencode([*query, ('_cursor', page.next_after)])}",
            }
        )
    bundle = validated(
        "Bundle",
        {
            "type": "searchset",
            "link": links,
            "entry": [
                {
                    "fullUrl": f"{base}/fhir/{resource_type}/{resource.id}",
                    "resource": resource,
                    "search": {"mode": "match"},
                }
                for resource in page.resources
            ],
        },
    )
    return fhir(bundle)


# the audit of patient-data reads (as registration's)


@router.get("/audit/patient-reads", tags=["audit"])
async def patient_reads(
    request: Request,
    principal: Auditor,
    patient_id: str | None = None,
    actor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> dict[str, Any]:
    if cursor is not None and not cursor.isdigit():
        raise invalid([FieldError("cursor", "is not a cursor this API returned")])
    async with runtime_of(request).pool.acquire() as connection:
        rows = await InteropViews(connection).reads(
            principal.tenant, int(cursor or 0), limit + 1, patient_id=patient_id, actor=actor
        )
    items = [
        {
            "patient_id": row["patient_id"],
            "actor": row["actor"],
            "roles": list(row["roles"]),
            "access": row["access"],
            "correlation_id": row["correlation_id"],
            "read_at": row["read_at"].isoformat(),
        }
        for row in rows[:limit]
    ]
    return {"items": items, "next_cursor": str(rows[limit - 1]["seq"]) if len(rows) > limit else None}
