"""The printable statement: `GET /patients/{id}/statement` with `Accept: application/pdf`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from fastapi import Request, Response

from billing_events.contracts.base import Sealed
from billing_events.phi import KeyDestroyed, Vault
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


async def _opened(
    vault: Vault, sealed_name: Sealed | None, sealed_address: Sealed | None
) -> tuple[str | None, tuple[str, ...]]:
    """The name and address lines to print, opened for this response only. A forgotten patient
    (key destroyed) or one registration has not told us about gets a statement by account number."""
    try:
        name = await vault.open(sealed_name, "name") if sealed_name else None
        address = await vault.open(sealed_address, "address") if sealed_address else None
    except KeyDestroyed:
        return None, ()
    printed_name = None
    if isinstance(name, dict):
        printed_name = " ".join(str(name[part]) for part in ("given", "family") if name.get(part)) or None
    lines: tuple[str, ...] = ()
    if isinstance(address, dict):
        city = f"{address.get('city', '')}, {address.get('state', '')} {address.get('postal_code', '')}"
        lines = tuple(str(line) for line in (address.get("line1"), address.get("line2")) if line)
        lines += (city.strip(", "),)
    return printed_name, lines


async def pdf_response(request: Request, principal: Principal, patient_id: str) -> Response:
    today = datetime.now(UTC).date()
    runtime = runtime_of(request)
    async with runtime.pool.acquire() as connection:
        statement = await accounting_queries.printable_statement(
            connection, principal.tenant, patient_id, today
        )
        sealed_name, sealed_address = await accounting_queries.sealed_name_and_address(
            connection, principal.tenant, patient_id
        )
    if statement is None:
        raise not_found("patient account")
    name, address = await _opened(runtime.vault, sealed_name, sealed_address)
    statement = replace(statement, patient_name=name, address_lines=address)
    return Response(
        statement_pdf.render(statement),
        media_type="application/pdf",
        # It carries the patient's data: never kept by a shared cache.
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'inline; filename="statement-{today.isoformat()}.pdf"',
        },
    )
