"""RFC 9457 problem details. Errors are named values in the domain; this is the one place they become HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from billing_events.decider import StreamOfAnotherTenant
from billing_events.errors import FieldError as FieldError
from billing_events.phi import KeyDestroyed
from billing_events.store import VersionConflict
from billing_service.pages import InvalidPage

PROBLEM_JSON = "application/problem+json"


@dataclass
class Problem(Exception):
    """An error with an HTTP meaning. Messages must never contain patient data."""

    status: int
    title: str
    detail: str = ""
    type: str = "about:blank"
    errors: Sequence[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"


def invalid(errors: Sequence[FieldError], detail: str = "The request has invalid fields.") -> Problem:
    return Problem(422, "Unprocessable Content", detail, "/problems/validation", errors)


def not_found(what: str) -> Problem:
    return Problem(404, "Not Found", f"No such {what} in this tenant.", "/problems/not-found")


def conflict(detail: str, kind: str = "conflict") -> Problem:
    return Problem(409, "Conflict", detail, f"/problems/{kind}")


def problem_response(problem: Problem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem.type,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in problem.errors]
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(location: Sequence[int | str]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        # pydantic's `input` is left out on purpose: it would echo patient data back and into logs.
        errors = [FieldError(_field_path(e["loc"]), str(e["msg"])) for e in exc.errors()]
        return problem_response(invalid(errors))

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        # FastAPI answers 400 for a JSON body it could not parse; these are invalid input (422).
        if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
            return problem_response(invalid([FieldError("body", "JSON nested too deeply")]))
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            reason = "a number is too long" if "digits" in str(exc.__cause__) else "not valid JSON"
            return problem_response(invalid([FieldError("body", reason)]))
        try:
            title = HTTPStatus(exc.status_code).phrase
        except ValueError:
            title = str(exc.detail)
        return problem_response(Problem(exc.status_code, title, str(exc.detail)))

    async def on_invalid_page(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, InvalidPage)
        return problem_response(invalid(exc.errors))

    async def on_version_conflict(_: Request, exc: Exception) -> JSONResponse:
        return problem_response(
            conflict("The record changed since you read it; reload and try again.", "version-conflict")
        )

    async def on_key_destroyed(_: Request, exc: Exception) -> JSONResponse:
        return problem_response(
            Problem(410, "Gone", "This patient's data was erased.", "/problems/patient-data-erased")
        )

    async def on_other_tenant(_: Request, exc: Exception) -> JSONResponse:
        # Another tenant's record is as absent as no record: nothing about it is told.
        return problem_response(Problem(404, "Not Found", "Not found.", "/problems/not-found"))

    async def on_unstorable_text(_: Request, exc: Exception) -> JSONResponse:
        # PostgreSQL refuses NUL in text and jsonb (22P05, 22021): the client sent it, not a fault.
        return problem_response(
            invalid(
                [FieldError("body", "contains a character that cannot be stored (NUL or a control)")],
                "The request holds a character that is not allowed.",
            )
        )

    app.add_exception_handler(asyncpg.UntranslatableCharacterError, on_unstorable_text)
    app.add_exception_handler(asyncpg.CharacterNotInRepertoireError, on_unstorable_text)
    app.add_exception_handler(VersionConflict, on_version_conflict)
    app.add_exception_handler(StreamOfAnotherTenant, on_other_tenant)
    app.add_exception_handler(KeyDestroyed, on_key_destroyed)
    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(InvalidPage, on_invalid_page)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
