"""FHIR Bulk Data ($export) requests and manifests (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from interop.domain.search import PATIENT_COMPARTMENT, SEARCHABLE, BadSearch, Bound, parse_instant

NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = {NDJSON, "application/ndjson", "ndjson"}


@dataclass(frozen=True)
class ExportRequest:
    level: str  # "system" or "patient"
    types: tuple[str, ...]
    since: datetime | None

    def since_bounds(self) -> tuple[Bound, ...]:
        """Resources changed after `_since` (Bulk Data: "their state has changed after the time")."""
        if self.since is None:
            return ()
        return (Bound("gt", self.since, self.since + timedelta(microseconds=1)),)


def export_request(
    level: str, types: str | None, since: str | None, output_format: str | None
) -> ExportRequest:
    allowed = PATIENT_COMPARTMENT if level == "patient" else SEARCHABLE
    if output_format is not None and output_format not in OUTPUT_FORMATS:
        raise BadSearch("_outputFormat", f"only {NDJSON} is supported")
    chosen: tuple[str, ...] = allowed
    if types:
        chosen = tuple(dict.fromkeys(t.strip() for t in types.split(",") if t.strip()))
        unknown = [t for t in chosen if t not in allowed]
        if unknown:
            raise BadSearch("_type", f"{', '.join(unknown)} cannot be exported at this level")
    moment = None
    if since is not None:
        moment, _ = parse_instant("_since", since)
        if moment > datetime.now(UTC):
            raise BadSearch("_since", "is in the future")
    return ExportRequest(level, chosen, moment)


def file_name(resource_type: str, part: int) -> str:
    return f"{resource_type}-{part}.ndjson"
