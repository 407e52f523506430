"""The command context every registration entrypoint builds for one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request

from billing_events.store import Session
from billing_service.auth import Principal
from billing_service.commands import metadata_from
from billing_service.runtime import runtime_of
from registration.adapters.queries import PostgresViews
from registration.application.handlers import CommandContext


def command_context(request: Request, principal: Principal, session: Session) -> CommandContext:
    runtime = runtime_of(request)
    return CommandContext(
        session=session,
        views=PostgresViews(session.connection, session.cache),
        vault=runtime.vault,
        blind_index=runtime.blind_index,
        metadata=metadata_from(request, principal),
        today=datetime.now(UTC).date(),
    )
