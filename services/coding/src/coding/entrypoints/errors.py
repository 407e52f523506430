"""Coding's domain errors as HTTP answers, in one place."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from billing_service.problems import PROBLEM_JSON, Problem, not_found
from coding.domain.errors import CodingRejected, DomainError, EncounterUnknown, NotCoded
from coding.metrics import EDIT_FINDINGS


def rejected(error: CodingRejected) -> JSONResponse:
    """422 with every failed edit in `errors` (the API's {field, message} plus edit_id and severity)
    and the warnings beside them, so the coder fixes everything in one pass."""
    return JSONResponse(rejection(error), status_code=422, media_type=PROBLEM_JSON)


def rejection(error: CodingRejected) -> dict[str, Any]:
    for finding in error.findings:
        EDIT_FINDINGS.labels(finding.edit_id, finding.severity, "rejected").inc()
    body = {
        "type": "/problems/coding-edits",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": f"{len(error.errors)} coding edits failed; nothing was stored.",
        "errors": [f.as_json() for f in error.errors],
        "warnings": [f.as_json() for f in error.warnings],
    }
    return body


def problem_of(error: DomainError) -> Problem:
    if isinstance(error, EncounterUnknown):
        return Problem(
            404,
            "Not Found",
            "No such encounter in this tenant. Coding learns encounters from registration's "
            "EncounterOpened events; a newly opened encounter may take a moment to arrive.",
            "/problems/encounter-unknown",
        )
    if isinstance(error, NotCoded):
        return not_found("coding for this encounter")
    return Problem(400, "Bad Request", str(error))
