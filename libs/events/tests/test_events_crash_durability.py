"""PostgreSQL SIGKILLed mid-workload on a durable cluster: afterwards the topic and the log are equal,
event for event, and every acknowledged append is in the log (issue 16).

Writers append (retrying, as clients with an Idempotency-Key do) while the relay publishes; the test
kills the postmaster and every backend at once, restarts the server, and lets the workload go on.
The cluster is the test's own (billing_testing.private_postgres): the session's server is shared.

BILLING_CRASH_TEST_FAST=1 runs the same test on a BILLING_PG_FAST=1 cluster, to watch it catch the
loss (it is expected to fail then).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import asyncpg
import pytest

from billing_events.contracts.registration import PayerRegistered
from billing_events.envelope import Metadata
from billing_events.kafka import KafkaSettings
from billing_events.relay import Relay
from billing_events.store import EventStore, Session, VersionConflict, create_pool, ensure_database
from billing_testing.harness import envelopes, read_topic
from billing_testing.plugin import database_url_for, require_durable
from billing_testing.private_postgres import PrivatePostgres, private_postgres

META = Metadata(tenant="acme", actor="admin-1", correlation_id="corr-1")
FAST = os.environ.get("BILLING_CRASH_TEST_FAST") == "1"
TRANSIENT = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


@pytest.fixture
def crashable_postgres() -> Iterator[PrivatePostgres]:
    with private_postgres(fast=FAST) as server:
        yield server


@pytest.mark.timeout(60)
async def test_postgres_killed_mid_workload_loses_nothing_and_topic_equals_log(
    crashable_postgres: PrivatePostgres, kafka_bootstrap: str, topic_prefix: str
) -> None:
    server = crashable_postgres
    if not FAST:
        await require_durable(server.url)
    url = database_url_for(server.url, "crash_registration")
    await ensure_database(url)
    pool = await create_pool(url, max_size=12)
    store = EventStore(pool, "registration")
    await store.setup()
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix)
    stop = asyncio.Event()
    acknowledged: list[str] = []
    after_restart = 0
    restarted = False

    async def append(payer_id: str, event: PayerRegistered, in_a_transaction: bool) -> None:
        if not in_a_transaction:
            await store.append(payer_id, "payer", 0, [event], META)
            return
        async with store.session() as session:  # a command's or a consumer's transaction
            await session.load(payer_id)
            await session.append(payer_id, "payer", 0, [event], META)

    async def writer(in_a_transaction: bool) -> None:
        nonlocal after_restart
        while not stop.is_set():
            payer_id = str(uuid.uuid4())
            event = PayerRegistered(
                payer_id=payer_id, name="p", edi_payer_id="P1", claim_filing_indicator="CI"
            )
            while not stop.is_set():
                try:
                    await append(payer_id, event, in_a_transaction)
                except VersionConflict:
                    pass  # an earlier attempt committed but its answer was lost in the crash
                except TRANSIENT:
                    await asyncio.sleep(0.05)
                    continue
                acknowledged.append(payer_id)
                after_restart += restarted
                break

    async def relay() -> None:
        while not stop.is_set():  # a supervisor restarting the relay, as Kubernetes would
            try:
                await Relay(store, kafka, idle_wait=0.05).run(stop)
            except TRANSIENT:
                await asyncio.sleep(0.2)

    tasks = [asyncio.create_task(writer(n % 2 == 1)) for n in range(6)] + [asyncio.create_task(relay())]
    try:
        await asyncio.sleep(2.0)
        before_kill = len(acknowledged)
        await asyncio.to_thread(server.kill)
        await asyncio.sleep(0.3)
        await asyncio.to_thread(server.start)
        restarted = True
        await asyncio.sleep(2.5)
    finally:
        stop.set()
        _, pending = await asyncio.wait(tasks, timeout=30)
        for task in pending:
            task.cancel()
    assert before_kill > 0 and after_restart > 0, "the workload did not span the crash"

    # A fresh relay (its guard included) publishes whatever the crashed one had not.
    final = Relay(store, kafka)
    await final.start()
    try:
        await final.publish_pending()
    finally:
        await final.stop()

    async with pool.acquire() as connection:
        rows = await connection.fetch("SELECT position, event_id, stream_id FROM events ORDER BY position")
    log = {int(r["position"]): str(r["event_id"]) for r in rows}
    assert set(acknowledged) <= {r["stream_id"] for r in rows}, "acknowledged appends were lost"
    assert list(log) == list(range(1, len(log) + 1))
    assert (await store.verify_chain()).intact

    records = await read_topic(kafka_bootstrap, kafka.topic("registration", "payer"), expect=len(log))
    published: dict[int, set[str]] = {}
    for envelope in envelopes(records):
        published.setdefault(int(envelope.position or 0), set()).add(envelope.event_id)
    reused = {p: ids for p, ids in published.items() if len(ids) > 1}
    assert not reused, f"positions published with different events: {sorted(reused)[:10]}"
    assert {p: ids.pop() for p, ids in published.items()} == log
    await pool.close()


class Crashed(Exception):
    """The relay's process died: here, the moment PostgreSQL was killed."""


@pytest.mark.timeout(60)
async def test_the_relay_publishes_only_appends_already_on_disk(
    crashable_postgres: PrivatePostgres, kafka_bootstrap: str, topic_prefix: str
) -> None:
    """An append commits before its flush (group commit: billing_append); its writer then waits for
    the flush. The relay may read it in between. If it published that event and the server died
    before anything flushed the WAL, the topic would carry an event the log lost, and the position
    would be reused by another. So the relay flushes what it read before it publishes."""
    server = crashable_postgres
    await require_durable(server.url)
    admin = await asyncpg.connect(server.url)
    try:  # nothing else flushes the WAL for the test's few seconds (the default is 200 ms)
        await admin.execute("ALTER SYSTEM SET wal_writer_delay = '10s'")
        await admin.execute("SELECT pg_reload_conf()")
    finally:
        await admin.close()
    url = database_url_for(server.url, "crash_relay")
    await ensure_database(url)
    pool = await create_pool(url, max_size=4)
    store = EventStore(pool, "registration")
    await store.setup()
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix)
    payer_id = str(uuid.uuid4())
    event = PayerRegistered(payer_id=payer_id, name="p", edi_payer_id="P1", claim_filing_indicator="CI")
    # The writer's transaction, committed; its wait for the flush has not run yet.
    async with pool.acquire() as connection, connection.transaction():
        await Session(connection, "registration").append(payer_id, "payer", 0, [event], META)

    relay = Relay(store, kafka)

    async def die_before_the_checkpoint(position: int) -> None:
        await asyncio.to_thread(server.kill)  # the checkpoint's own commit would flush the WAL
        raise Crashed()

    relay._save_checkpoint = die_before_the_checkpoint  # type: ignore[method-assign]
    await relay.start()
    try:
        with pytest.raises(Crashed):
            await relay.publish_pending()
    finally:
        await relay.stop()
    await pool.close()
    await asyncio.to_thread(server.start)

    pool = await create_pool(url, max_size=2)
    async with pool.acquire() as connection:
        logged = [
            r["stream_id"] for r in await connection.fetch("SELECT stream_id FROM events ORDER BY position")
        ]
    await pool.close()
    records = await read_topic(kafka_bootstrap, kafka.topic("registration", "payer"), expect=1)
    assert [e.stream_id for e in envelopes(records)] == [payer_id]
    assert logged == [payer_id], "the relay published an event the crash took back"
