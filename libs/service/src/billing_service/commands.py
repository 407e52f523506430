"""Running a command from an HTTP request: metadata for its events, and Idempotency-Key replay.

The stored response is written in the command's own transaction, so a retried request with the same
key and body gets the first answer and creates nothing twice; the same key with another body is 422.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from opentelemetry.propagate import inject

from billing_events.envelope import EventEnvelope, Metadata
from billing_events.store import Session
from billing_service.auth import Principal
from billing_service.problems import FieldError, Problem, invalid
from billing_service.runtime import runtime_of

Action = Callable[[Session], Awaitable[tuple[int, dict[str, Any]]]]


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent")


def metadata_from(request: Request, principal: Principal) -> Metadata:
    correlation = request.headers.get("x-correlation-id") or str(uuid.uuid4())
    return Metadata(
        tenant=principal.tenant,
        actor=principal.subject,
        correlation_id=correlation[:128],
        traceparent=current_traceparent(),
    )


def metadata_caused_by(envelope: EventEnvelope, actor: str | None = None) -> Metadata:
    """Metadata for events a consumed event causes: same tenant and flow, the event as the cause."""
    # Inside a consumer span, the caused events continue the trace as children of that span.
    return Metadata(
        tenant=envelope.tenant, actor=actor or "system", traceparent=current_traceparent()
    ).caused_by(envelope, actor)


# How long an Idempotency-Key is remembered: a client retrying the same request within this time gets
# the first answer; after it, the key is forgotten and may be used again (the record is replaced).
IDEMPOTENCY_RETENTION = timedelta(days=7)


async def idempotent(
    request: Request, principal: Principal, action: Action, *, key_required: bool = False
) -> JSONResponse:
    """Run `action` once per Idempotency-Key (per tenant, within IDEMPOTENCY_RETENTION). With
    `key_required` (money that must never move twice, such as a patient's payment) a request without
    the header is refused with 428 before anything happens."""
    runtime = runtime_of(request)
    key = request.headers.get("idempotency-key")
    if key_required and not key:
        raise Problem(
            428,
            "Precondition Required",
            "This request moves money: send an Idempotency-Key header (a UUID per payment) so that a "
            "retried request never posts it twice.",
            "/problems/idempotency-key-required",
            [FieldError("Idempotency-Key", "is required")],
        )
    body = await request.body()
    request_hash = hashlib.sha256(
        request.method.encode() + request.url.path.encode() + b"\n" + body
    ).hexdigest()
    async with runtime.store.session() as session:
        connection = session.connection
        if key:
            await connection.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{principal.tenant}\x1f{key}"
            )
            stored = await connection.fetchrow(
                "SELECT request_hash, status, body FROM idempotency_keys "
                "WHERE tenant = $1 AND key = $2 AND created_at > now() - $3::interval",
                principal.tenant,
                key,
                IDEMPOTENCY_RETENTION,
            )
            if stored is not None:
                if stored["request_hash"] != request_hash:
                    raise invalid(
                        [FieldError("Idempotency-Key", "was already used for a different request")],
                        "An Idempotency-Key can be reused only for the same request.",
                    )
                return JSONResponse(
                    stored["body"], status_code=stored["status"], headers={"Idempotent-Replay": "true"}
                )
        status, response = await action(session)
        if key:
            await connection.execute(
                "INSERT INTO idempotency_keys (tenant, key, request_hash, status, body) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, key) DO UPDATE SET "
                "request_hash = excluded.request_hash, status = excluded.status, body = excluded.body, "
                "created_at = now()",
                principal.tenant,
                key,
                request_hash,
                status,
                response,
            )
    return JSONResponse(response, status_code=status)
