"""The log of HL7 v2 messages registration acknowledged: one row per (tenant, message control id), so a
resent message gets its first acknowledgement and changes nothing. Holds no patient data: the control
id, a hash of the message, the ACK code and its reason (field names only) and the patient's platform id."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

import asyncpg

from registration.application.adt import LoggedAck
from registration.domain.adt import Ack

HL7_SQL = """
CREATE TABLE IF NOT EXISTS reg_hl7_messages (
    tenant text NOT NULL,
    control_id text NOT NULL,
    message_hash text NOT NULL,
    trigger text NOT NULL,
    ack_code text NOT NULL,
    ack_text text NOT NULL,
    patient_id text,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant, control_id)
);
"""


class PostgresAdtLog:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    def savepoint(self) -> AbstractAsyncContextManager[object]:
        return self.connection.transaction()  # type: ignore[no-any-return]

    async def lock(self, tenant: str, control_id: str) -> None:
        await self.connection.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"hl7\x1f{tenant}\x1f{control_id}"
        )

    async def find(self, tenant: str, control_id: str) -> LoggedAck | None:
        row = await self.connection.fetchrow(
            "SELECT message_hash, ack_code, ack_text FROM reg_hl7_messages "
            "WHERE tenant = $1 AND control_id = $2",
            tenant,
            control_id,
        )
        if row is None:
            return None
        return LoggedAck(row["message_hash"], Ack(row["ack_code"], row["ack_text"]))

    async def record(
        self, tenant: str, control_id: str, message_hash: str, trigger: str, ack: Ack, patient_id: str | None
    ) -> None:
        await self.connection.execute(
            "INSERT INTO reg_hl7_messages (tenant, control_id, message_hash, trigger, ack_code, ack_text, "
            "patient_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            tenant,
            control_id,
            message_hash,
            trigger,
            ack.code,
            ack.text,
            patient_id,
        )
