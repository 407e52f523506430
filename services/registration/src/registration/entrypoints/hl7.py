"""HL7 v2 ADT intake: `POST /hl7/v2` for interface engines that post messages over HTTPS (front_desk
role; the tenant is the token's) and an MLLP listener (asyncio) for those that keep a socket open
(one tenant per listener, see RegistrationSettings). Both answer with an HL7 ACK; the outcome is in
MSA-1 (AA/AE/AR), so HTTP answers 200 with the ACK whenever a message was read at all.

Logs carry the control id, trigger and ACK code only: the message is patient data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from hl7.mllp import start_hl7_server
from hl7.mllp.exceptions import InvalidBlockError

from billing_events.envelope import Metadata
from billing_service.auth import Principal, Role, require
from billing_service.commands import current_traceparent
from billing_service.runtime import Runtime, runtime_of
from registration.adapters.adt_log import PostgresAdtLog
from registration.adapters.hl7v2 import Malformed, digest, parse
from registration.adapters.queries import PostgresViews
from registration.application import adt as intake
from registration.application.handlers import CommandContext
from registration.domain.adt import Ack, acknowledgement
from registration.settings import registration_settings

log = logging.getLogger(__name__)
router = APIRouter()
ER7 = "x-application/hl7-v2+er7"
FrontDesk = Annotated[Principal, Depends(require(Role.FRONT_DESK))]
# A message larger than this is refused unread (an ADT message is a few kilobytes).
MAX_MESSAGE_BYTES = 1_000_000


async def handle_message(runtime: Runtime, tenant: str, actor: str, raw: str) -> str:
    """One message in, its ACK out (ER7)."""
    now = datetime.now(UTC)
    ack_id = uuid.uuid4().hex[:20]
    try:
        message = parse(raw)
    except Malformed as error:
        log.info("hl7 message rejected", extra={"ack": "AR", "reason": error.reason})
        return acknowledgement(
            None, Ack("AR", error.reason), control_id=ack_id, now=now, received_control_id=error.control_id
        )
    metadata = Metadata(
        tenant=tenant,
        actor=actor,
        correlation_id=f"hl7:{message.control_id}"[:128],
        traceparent=current_traceparent(),
    )
    async with runtime.store.session() as session:
        ctx = CommandContext(
            session=session,
            views=PostgresViews(session.connection),
            vault=runtime.vault,
            blind_index=runtime.blind_index,
            metadata=metadata,
            today=now.date(),
        )
        ack = await intake.receive(ctx, PostgresAdtLog(session.connection), message, digest(raw))
    log.info(
        "hl7 message acknowledged",
        extra={"control_id": message.control_id[:64], "trigger": message.trigger, "ack": ack.code},
    )
    return acknowledgement(message, ack, control_id=ack_id, now=now)


@router.post(
    "/hl7/v2",
    tags=["hl7"],
    response_class=Response,
    responses={200: {"content": {ER7: {}}, "description": "The HL7 ACK (MSA-1 AA, AE or AR)"}},
)
async def receive_hl7(request: Request, principal: FrontDesk) -> Response:
    body = await request.body()
    raw = "" if len(body) > MAX_MESSAGE_BYTES else body.decode("utf-8", errors="replace")
    answer = await handle_message(runtime_of(request), principal.tenant, principal.subject, raw)
    return Response(answer, media_type=ER7)


Worker = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def mllp_listener(runtime: Runtime, *, port: int | None = None, tenant: str | None = None) -> Worker | None:
    """The MLLP listener as a worker (runs until `stop`), or None when no port/tenant is configured."""
    settings = registration_settings()
    port = port if port is not None else settings.hl7_mllp_port
    tenant = tenant or settings.hl7_tenant
    if port is None or not tenant:
        return None
    served_tenant: str = tenant

    async def connected(reader: Any, writer: Any) -> None:
        try:
            while not reader.at_eof():
                try:
                    block = await reader.readblock()
                except (InvalidBlockError, ValueError):
                    # Unframed or oversized: answered unread.
                    writer.writeblock(
                        acknowledgement(
                            None,
                            Ack("AR", "the MLLP block is not framed correctly"),
                            control_id=uuid.uuid4().hex[:20],
                            now=datetime.now(UTC),
                        ).encode()
                    )
                    await writer.drain()
                    continue
                except asyncio.IncompleteReadError:
                    break
                raw = block.decode("utf-8", errors="replace")
                try:
                    answer = await handle_message(runtime, served_tenant, settings.hl7_actor, raw)
                except Exception as error:
                    # Nothing was committed (the transaction rolled back): the engine may resend it.
                    log.error("hl7 message failed", extra={"error": type(error).__name__})
                    answer = acknowledgement(
                        None,
                        Ack("AE", "the message could not be processed now; send it again"),
                        control_id=uuid.uuid4().hex[:20],
                        now=datetime.now(UTC),
                    )
                writer.writeblock(answer.encode())
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def serve(stop: asyncio.Event) -> None:
        server = await start_hl7_server(connected, settings.hl7_mllp_host, port, limit=MAX_MESSAGE_BYTES)
        log.info("hl7 mllp listening", extra={"port": port})
        async with server:
            await stop.wait()

    return serve


def workers(runtime: Runtime) -> list[Callable[[asyncio.Event], object]]:
    listener = mllp_listener(runtime)
    return [listener] if listener is not None else []
