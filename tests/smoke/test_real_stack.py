"""The platform's foundation against the real servers: Kafka, PostgreSQL and an authenticated HTTP app."""

from __future__ import annotations

import uuid
from typing import Annotated

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import APIRouter, Depends

from billing_service.auth import Principal, Role, issue_token, require
from billing_service.http import create_app
from billing_service.settings import ServiceSettings


async def test_keyed_message_with_headers_round_trips_through_the_broker(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}billing.smoke.thing"
    key = str(uuid.uuid4()).encode()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b'{"n": 1}', key=key, headers=[("ce_type", b"smoke.v1")])
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=f"{topic_prefix}smoke",
    )
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=10_000)
    finally:
        await consumer.stop()
    records = [record for records in batch.values() for record in records]
    assert [(r.key, r.value, list(r.headers)) for r in records] == [
        (key, b'{"n": 1}', [("ce_type", b"smoke.v1")])
    ]


async def test_rows_written_to_the_database_are_read_back(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("CREATE TABLE ledger (id int PRIMARY KEY, amount_cents bigint NOT NULL)")
        await connection.executemany("INSERT INTO ledger VALUES ($1, $2)", [(1, 12_345), (2, -345)])
        total = await connection.fetchval("SELECT sum(amount_cents) FROM ledger")
    finally:
        await connection.close()
    assert total == 12_000


async def test_requests_need_a_valid_token_with_an_allowed_role(tmp_path: object) -> None:
    settings = ServiceSettings(service_name="smoke", BILLING_STATE_DIR=str(tmp_path))
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(principal: Annotated[Principal, Depends(require(Role.BILLER))]) -> dict[str, str]:
        return {"tenant": principal.tenant, "sub": principal.subject}

    app = create_app(settings, title="smoke", routers=[router])
    biller = issue_token(settings, tenant="acme", roles=["biller"], subject="u1")
    coder = issue_token(settings, tenant="acme", roles=["coder"], subject="u2")
    expired = issue_token(settings, tenant="acme", roles=["biller"], subject="u1", ttl_seconds=-10)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        anonymous = await client.get("/whoami")
        forged = await client.get("/whoami", headers={"Authorization": f"Bearer {biller[:-4]}AAAA"})
        stale = await client.get("/whoami", headers={"Authorization": f"Bearer {expired}"})
        wrong_role = await client.get("/whoami", headers={"Authorization": f"Bearer {coder}"})
        allowed = await client.get("/whoami", headers={"Authorization": f"Bearer {biller}"})
        health = await client.get("/healthz")

    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.json()["status"] == 401
    assert forged.status_code == 401
    assert stale.status_code == 401
    assert wrong_role.status_code == 403
    assert allowed.status_code == 200
    assert allowed.json() == {"tenant": "acme", "sub": "u1"}
    assert health.status_code == 200
