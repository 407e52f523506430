"""HL7 v2 ADT intake: a message becomes registration's own register or update command, run through
the same handlers as the HTTP API, and its acknowledgement is logged under the message control id in
the same transaction. A resent control id answers the logged acknowledgement and changes nothing."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from registration.application import handlers
from registration.application.handlers import CommandContext
from registration.domain import adt
from registration.domain.adt import Ack, AdtMessage
from registration.domain.errors import DomainError, InvalidInput


@dataclass(frozen=True)
class LoggedAck:
    message_hash: str
    ack: Ack


class AdtLog(Protocol):
    async def lock(self, tenant: str, control_id: str) -> None: ...
    async def find(self, tenant: str, control_id: str) -> LoggedAck | None: ...
    async def record(
        self, tenant: str, control_id: str, message_hash: str, trigger: str, ack: Ack, patient_id: str | None
    ) -> None: ...
    def savepoint(self) -> AbstractAsyncContextManager[object]:
        """A nested transaction: what runs in it is undone alone if it raises."""
        ...


REUSED = Ack("AR", "the message control id (MSH-10) was already used for a different message")


def _refused(error: DomainError) -> Ack:
    if isinstance(error, InvalidInput):
        return Ack("AE", "; ".join(adt.refusal(issue.field, issue.message) for issue in error.issues))
    # Registration's error messages name rules, never the values given.
    return Ack("AE", str(error))


async def _apply(ctx: CommandContext, decision: adt.Register | adt.Update) -> tuple[Ack, str | None]:
    fields = decision.fields
    mrn_index = ctx.blind_index(ctx.tenant, "mrn", fields.mrn)
    await ctx.views.lock(ctx.tenant, "mrn", mrn_index)
    known = await ctx.views.patient_by_mrn_index(
        ctx.tenant, ctx.blind_index.lookups(ctx.tenant, "mrn", fields.mrn)
    )
    if known is None:
        if isinstance(decision, adt.Update):
            return Ack("AE", "PID-3: no patient with this medical record number is registered"), None
        patient_id = await handlers.register_patient(
            ctx,
            mrn=fields.mrn,
            name=fields.name,
            birth_date=fields.birth_date,
            sex=fields.sex,
            address=fields.address,
            phone=fields.phone,
        )
        return Ack("AA", "patient registered"), patient_id
    patient_id = str(known["patient_id"])
    before = int(known["version"])
    after = await handlers.update_demographics(
        ctx,
        patient_id,
        expected_version=None,
        name=fields.name,
        birth_date=fields.birth_date,
        sex=fields.sex,
        address=fields.address,
        phone=fields.phone,
    )
    return Ack("AA", "patient updated" if after != before else "patient unchanged"), patient_id


async def receive(ctx: CommandContext, log: AdtLog, message: AdtMessage, message_hash: str) -> Ack:
    """Decide, run and log one well-formed message (inside the caller's transaction)."""
    decision = adt.decide(message)
    if isinstance(decision, Ack):
        return decision  # rejected: nothing is stored, so nothing changes
    await log.lock(ctx.tenant, message.control_id)
    logged = await log.find(ctx.tenant, message.control_id)
    if logged is not None:
        return logged.ack if logged.message_hash == message_hash else REUSED
    patient_id: str | None = None
    try:
        # A savepoint: a refused command leaves nothing behind but its logged acknowledgement.
        async with log.savepoint():
            ack, patient_id = await _apply(ctx, decision)
    except DomainError as error:
        ack = _refused(error)
    await log.record(ctx.tenant, message.control_id, message_hash, message.trigger, ack, patient_id)
    return ack
