"""The printable statement: `GET /patients/{id}/statement` with `Accept: application/pdf`."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request, Response

from billing_service.auth import Principal
from billing_service.problems import not_found
from billing_service.runtime import runtime_of
from invoicing.adapters import accounting_queries, statement_pdf


def wants_pdf(request: Request) -> bool:
    """The PDF when the client prefers it to JSON (by q, then by order); JSON stays the default."""
    best: tuple[float, int, str] | None = None
    for index, part in enumerate(request.headers.get("accept", "").split(",")):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        if media.lower() not in ("application/pdf", "application/json"):
            continue
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0 and (best is None or (q, -index) > (best[0], -best[1])):
            best = (q, index, media.lower())
    return best is not None and best[2] == "application/pdf"


async def pdf_response(request: Request, principal: Principal, patient_id: str) -> Response:
    today = datetime.now(UTC).date()
    async with runtime_of(request).pool.acquire() as connection:
        statement = await accounting_queries.printable_statement(
            connection, principal.tenant, patient_id, today
        )
    if statement is None:
        raise not_found("patient account")
    return Response(
        statement_pdf.render(statement),
        media_type="application/pdf",
        # It carries the patient's data: never kept by a shared cache.
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'inline; filename="statement-{today.isoformat()}.pdf"',
        },
    )
