"""Relay and consumers against the real broker and database: nothing lost, nothing applied twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaProducer

from billing_events.consumer import (
    Consumer,
    Subscription,
    dead_letters,
    handlers,
    is_transient,
    redrive,
    replay,
)
from billing_events.contracts.base import UnknownEventType
from billing_events.contracts.registration import PayerRegistered
from billing_events.envelope import EventEnvelope, Metadata
from billing_events.errors import VersionConflict
from billing_events.kafka import KafkaSettings
from billing_events.relay import Relay
from billing_events.store import EventStore, Session, create_pool
from billing_testing.harness import read_topic

META = Metadata(tenant="acme", actor="admin-1", correlation_id="corr-1")
VIEW = """
CREATE TABLE IF NOT EXISTS payer_names (payer_id text PRIMARY KEY, tenant text NOT NULL, name text NOT NULL);
CREATE TABLE IF NOT EXISTS payer_counts (tenant text PRIMARY KEY, n integer NOT NULL);
"""


@dataclass
class Stack:
    store: EventStore
    kafka: KafkaSettings


@pytest.fixture
async def stack(database_url: str, kafka_bootstrap: str, topic_prefix: str) -> AsyncIterator[Stack]:
    pool = await create_pool(database_url, max_size=10)
    store = EventStore(pool, "registration")
    await store.setup(VIEW)
    yield Stack(store, KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix))
    await pool.close()


async def remember_payer(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, PayerRegistered)
    if event.name == "poison":
        raise ValueError("this payer can never be projected")
    await session.connection.execute(
        "INSERT INTO payer_names VALUES ($1, $2, $3)", event.payer_id, envelope.tenant, event.name
    )
    # Not idempotent on its own: only the processed-event record keeps redeliveries from counting twice.
    await session.connection.execute(
        "INSERT INTO payer_counts VALUES ($1, 1) ON CONFLICT (tenant) DO UPDATE SET n = payer_counts.n + 1",
        envelope.tenant,
    )


def payer_view(name: str = "payer-view") -> Subscription:
    return Subscription(
        name=name,
        topics=[("registration", "payer")],
        handlers=handlers((PayerRegistered, remember_payer)),
        owned_tables=["payer_names", "payer_counts"],
    )


async def append_payers(store: EventStore, names: list[str]) -> None:
    for name in names:
        payer_id = str(uuid.uuid4())
        event = PayerRegistered(payer_id=payer_id, name=name, edi_payer_id="P1", claim_filing_indicator="CI")
        await store.append(payer_id, "payer", 0, [event], META)


async def drain(consumer: Consumer, quiet: int = 3) -> None:
    calm = 0
    while calm < quiet:
        handled = await consumer.poll_once(timeout_ms=300)
        calm = calm + 1 if handled == 0 and consumer.ready.is_set() else 0


async def view(store: EventStore) -> tuple[list[str], int]:
    async with store.pool.acquire() as connection:
        names = [r["name"] for r in await connection.fetch("SELECT name FROM payer_names ORDER BY name")]
        count = await connection.fetchval("SELECT coalesce(sum(n), 0) FROM payer_counts")
    return names, int(count)


async def test_relay_publishes_in_order_with_cloudevents_headers(stack: Stack) -> None:
    await append_payers(stack.store, [f"payer {i:02}" for i in range(10)])
    relay = Relay(stack.store, stack.kafka)
    await relay.start()
    try:
        assert await relay.publish_pending() == 10
        assert await relay.publish_pending() == 0
    finally:
        await relay.stop()

    records = await read_topic(
        stack.kafka.bootstrap_servers, stack.kafka.topic("registration", "payer"), expect=10
    )
    assert len(records) == 10
    headers = dict(records[0].headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"billing.registration.PayerRegistered.v1"
    assert headers["ce_source"] == b"/billing/registration"
    assert headers["ce_tenant"] == b"acme"
    assert headers["ce_actor"] == b"admin-1"
    assert headers["ce_correlationid"] == b"corr-1"
    assert headers["content-type"] == b"application/json"
    assert records[0].key == headers["ce_subject"]
    positions = sorted(int(dict(r.headers)["ce_position"]) for r in records)
    assert positions == list(range(1, 11))


async def test_relay_crash_before_checkpoint_republishes_and_consumers_absorb_duplicates(
    stack: Stack,
) -> None:
    await append_payers(stack.store, [f"payer {i}" for i in range(6)])
    crashed = Relay(stack.store, stack.kafka)
    await crashed.start()

    async def die_before_marking(position: int) -> None:
        raise SystemExit("killed between publishing and marking")

    crashed._save_checkpoint = die_before_marking  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        await crashed.publish_pending()
    await crashed.stop()
    assert await crashed.checkpoint() == 0

    restarted = Relay(stack.store, stack.kafka)
    await restarted.start()
    assert await restarted.publish_pending() == 6
    await restarted.stop()

    records = await read_topic(
        stack.kafka.bootstrap_servers, stack.kafka.topic("registration", "payer"), expect=12
    )
    assert len(records) == 12  # every event twice on the topic: nothing lost
    consumer = Consumer(stack.store, stack.kafka, payer_view())
    await consumer.start()
    try:
        await drain(consumer)
    finally:
        await consumer.stop()
    names, count = await view(stack.store)
    assert count == 6
    assert len(names) == 6


async def test_poison_message_goes_to_the_dlq_and_later_messages_are_processed(stack: Stack) -> None:
    await append_payers(stack.store, ["before", "poison", "after"])
    relay = Relay(stack.store, stack.kafka)
    await relay.start()
    await relay.publish_pending()
    await relay.stop()
    # A record that is not an event at all, on the same topic.
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka.bootstrap_servers)
    await producer.start()
    await producer.send_and_wait(stack.kafka.topic("registration", "payer"), b"not json", key=b"x")
    await producer.stop()

    consumer = Consumer(stack.store, stack.kafka, payer_view(), retry_backoff=0.01)
    await consumer.start()
    try:
        await drain(consumer)
    finally:
        await consumer.stop()

    names, _ = await view(stack.store)
    assert names == ["after", "before"]
    dead = await read_topic(
        stack.kafka.bootstrap_servers, stack.kafka.topic("registration", "payer") + ".dlq", expect=2
    )
    reasons = sorted(dict(r.headers)["dlq_reason"].decode() for r in dead)
    assert reasons[0].startswith("MalformedMessage")
    assert reasons[1] == "ValueError"  # the type only: messages may carry patient data
    poison = next(r for r in dead if dict(r.headers).get("ce_type"))
    assert dict(poison.headers)["ce_tenant"] == b"acme"  # original headers kept


async def test_consumer_killed_mid_batch_ends_identical_to_an_uninterrupted_run(stack: Stack) -> None:
    await append_payers(stack.store, [f"payer {i:03}" for i in range(120)])
    relay = Relay(stack.store, stack.kafka)
    await relay.start()
    await relay.publish_pending()
    await relay.stop()

    calls = 0

    async def dies_on_the_50th(session: Session, envelope: EventEnvelope) -> None:
        nonlocal calls
        calls += 1
        if calls == 50:
            raise asyncio.CancelledError  # the process is killed: no handling, no commit
        await remember_payer(session, envelope)

    flaky = Subscription(
        "payer-view", [("registration", "payer")], handlers((PayerRegistered, dies_on_the_50th))
    )
    consumer = Consumer(stack.store, stack.kafka, flaky, max_records=40)
    await consumer.start()
    with pytest.raises(asyncio.CancelledError):
        await drain(consumer)
    await consumer.stop()

    survivor = Consumer(stack.store, stack.kafka, payer_view())
    await survivor.start()
    try:
        await drain(survivor)
    finally:
        await survivor.stop()
    names, count = await view(stack.store)
    assert names == [f"payer {i:03}" for i in range(120)]
    assert count == 120


async def test_rebuilt_projection_equals_the_live_one(stack: Stack) -> None:
    await append_payers(stack.store, [f"payer {i}" for i in range(30)])
    relay = Relay(stack.store, stack.kafka)
    await relay.start()
    await relay.publish_pending()
    await relay.stop()
    live = Consumer(stack.store, stack.kafka, payer_view())
    await live.start()
    await drain(live)
    await live.stop()
    before = await view(stack.store)

    seen: list[tuple[int, int]] = []
    replayed = await replay(stack.store, stack.kafka, payer_view(), progress=lambda d, t: seen.append((d, t)))

    assert replayed == 30
    assert seen[-1] == (30, 30)
    assert await view(stack.store) == before
    # The group resumes after the replay: nothing is applied a second time.
    resumed = Consumer(stack.store, stack.kafka, payer_view())
    await resumed.start()
    await drain(resumed)
    await resumed.stop()
    assert await view(stack.store) == before


async def test_transient_errors_are_retried_and_never_dead_lettered(stack: Stack) -> None:
    await append_payers(stack.store, ["a", "b"])
    relay = Relay(stack.store, stack.kafka)
    await relay.start()
    await relay.publish_pending()
    await relay.stop()
    failures = 0

    async def database_away_twice(session: Session, envelope: EventEnvelope) -> None:
        nonlocal failures
        if failures < 5:  # more than the 3 attempts a permanent error gets
            failures += 1
            raise ConnectionResetError("the database went away")
        await remember_payer(session, envelope)

    flaky = Subscription(
        "payer-view", [("registration", "payer")], handlers((PayerRegistered, database_away_twice))
    )
    consumer = Consumer(stack.store, stack.kafka, flaky, retry_backoff=0.01, max_backoff=0.05)
    await consumer.start()
    try:
        # A failed poll returns nothing applied too, so "quiet" cannot tell retrying from done: poll
        # until every failure was spent, then until quiet.
        async with asyncio.timeout(30):
            while failures < 5:
                await consumer.poll_once(timeout_ms=300)
        await drain(consumer)
    finally:
        await consumer.stop()

    assert await view(stack.store) == (["a", "b"], 2)
    assert await dead_letters(stack.store) == []
    assert is_transient(VersionConflict("s", 1))
    assert is_transient(UnknownEventType("PayerRegistered v9"))  # a contract from a newer release
    assert not is_transient(ValueError("bad data"))


async def test_a_dead_letter_is_listed_without_its_data_and_redriven_exactly_once_after_a_fix(
    stack: Stack,
) -> None:
    await append_payers(stack.store, ["before", "poison", "after"])
    relay = Relay(stack.store, stack.kafka)
    await relay.start()
    await relay.publish_pending()
    await relay.stop()
    consumer = Consumer(stack.store, stack.kafka, payer_view(), retry_backoff=0.01)
    await consumer.start()
    try:
        await drain(consumer)
    finally:
        await consumer.stop()
    assert await view(stack.store) == (["after", "before"], 2)

    listed = await dead_letters(stack.store, "payer-view")
    assert [(d.event_type, d.error_class, d.reason) for d in listed] == [
        ("PayerRegistered", "ValueError", "ValueError")
    ]
    assert "poison" not in repr(listed)  # the payer's name is the event's data: never listed

    # The fix: the projection now accepts the payer. The redrive applies it once; a second does nothing.
    fixed = Subscription(
        "payer-view", [("registration", "payer")], handlers((PayerRegistered, accept_any_payer))
    )
    first = await redrive(stack.store, fixed)
    assert (first.applied, first.already_processed, first.still_failing) == (1, 0, [])
    assert await view(stack.store) == (["after", "before", "poison"], 3)
    again = await redrive(stack.store, fixed)
    assert (again.applied, again.already_processed) == (0, 0)
    assert await dead_letters(stack.store) == []

    # Kafka delivering the same record again (a new consumer group member) changes nothing either.
    replayed = Consumer(stack.store, stack.kafka, payer_view("payer-view"), retry_backoff=0.01)
    await replayed.start()
    try:
        assert replayed._consumer is not None
        await drain(replayed)
        for partition in replayed._consumer.assignment():
            replayed._consumer.seek(partition, 0)
        await drain(replayed)
    finally:
        await replayed.stop()
    assert await view(stack.store) == (["after", "before", "poison"], 3)


async def accept_any_payer(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, PayerRegistered)
    await session.connection.execute(
        "INSERT INTO payer_names VALUES ($1, $2, $3)", event.payer_id, envelope.tenant, event.name
    )
    await session.connection.execute(
        "INSERT INTO payer_counts VALUES ($1, 1) ON CONFLICT (tenant) DO UPDATE SET n = payer_counts.n + 1",
        envelope.tenant,
    )
