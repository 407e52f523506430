"""Running one Bulk Data export: stream each type's rows through a server-side cursor, render them a
batch at a time and append them to NDJSON files, so memory holds one batch whatever the export's size.
Patient data leaving in the files is audited per batch, under the export's id."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from billing_events.consumer import describe_error
from interop.application.ports import Filter, Views, ViewsFactory
from interop.application.reads import Phi, Reader, audit, documents
from interop.domain.export import ExportRequest, file_name
from interop.domain.resources import validated_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportJob:
    export_id: str
    reader: Reader
    request: ExportRequest
    folder: Path
    batch_size: int = 500
    max_file_resources: int = 100_000


async def write_type(
    views: Views,
    vault: Phi,
    job: ExportJob,
    resource_type: str,
    beat: Callable[[], Awaitable[None]] | None = None,
) -> list[dict[str, Any]]:
    """Write one type's resources; returns the manifest's output entries (file, count)."""
    outputs: list[dict[str, Any]] = []
    part, count, handle = 0, 0, None
    wanted = Filter(last_updated=job.request.since_bounds())
    try:
        async for rows in views.stream(resource_type, job.reader.tenant, wanted, job.batch_size):
            if beat is not None:
                await beat()
            await audit(views, job.reader, resource_type, rows, f"bulk-export:{job.export_id}")
            for kind, data in await documents(views, vault, job.reader.tenant, resource_type, rows):
                if handle is None or count >= job.max_file_resources:
                    if handle is not None:
                        handle.close()
                        outputs.append(
                            {"type": resource_type, "name": file_name(resource_type, part), "count": count}
                        )
                    part, count = part + 1, 0
                    handle = (job.folder / file_name(resource_type, part)).open("w", encoding="utf-8")
                handle.write(validated_json(kind, data))
                handle.write("\n")
                count += 1
    finally:
        if handle is not None:
            handle.close()
    if handle is not None:
        outputs.append({"type": resource_type, "name": file_name(resource_type, part), "count": count})
    return outputs


async def run_export(views_on: ViewsFactory, vault: Phi, job: ExportJob) -> None:
    outputs: list[dict[str, Any]] = []
    try:
        job.folder.mkdir(parents=True, exist_ok=True)

        async def beat() -> None:
            # On a connection of its own: the type's reading transaction commits only at its end.
            async with views_on() as views:
                await views.beat(job.export_id)

        for resource_type in job.request.types:
            async with views_on(transaction=True) as views:
                outputs += await write_type(views, vault, job, resource_type, beat)
    except Exception as error:
        # The reason names the error's type and fields only: rows may hold patient data.
        reason = describe_error(error)
        log.error("export failed", extra={"export_id": job.export_id, "error": reason})
        shutil.rmtree(job.folder, ignore_errors=True)
        async with views_on() as views:
            await views.finish_export(job.export_id, "failed", [], reason)
        return
    async with views_on() as views:
        await views.finish_export(job.export_id, "completed", outputs, None)
    log.info("export completed", extra={"export_id": job.export_id, "files": len(outputs)})


def manifest(row: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The Bulk Data completion manifest (files are fetched with the same bearer token)."""
    transaction_time: datetime = row["transaction_time"]
    return {
        "transactionTime": transaction_time.isoformat().replace("+00:00", "Z"),
        "request": row["request_url"],
        "requiresAccessToken": True,
        "output": [
            {
                "type": entry["type"],
                "url": f"{base_url}/fhir/$export-file/{row['export_id']}/{entry['name']}",
                "count": entry["count"],
            }
            for entry in row["output"]
        ],
        "error": [],
    }
