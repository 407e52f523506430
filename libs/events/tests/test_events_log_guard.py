"""The relay refuses to publish when the log lost events it had already published (issue 16).

A log that lost its tail (a crash of a non-durable PostgreSQL, a restore from an older backup) is
played by a second, younger database behind the same topics."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from billing_events.contracts.registration import PayerRegistered
from billing_events.envelope import Metadata
from billing_events.kafka import KafkaSettings
from billing_events.log_guard import LogBehindTopics, PublishedMark, check_log_not_behind
from billing_events.metrics import RELAY_LOG_BEHIND
from billing_events.relay import Relay
from billing_events.store import EventStore, create_pool
from billing_testing.harness import envelopes, read_topic
from billing_testing.plugin import database_url_for

META = Metadata(tenant="acme", actor="admin-1", correlation_id="corr-1")


async def append_payers(store: EventStore, count: int) -> None:
    for i in range(count):
        payer_id = str(uuid.uuid4())
        event = PayerRegistered(
            payer_id=payer_id, name=f"p{i}", edi_payer_id="P1", claim_filing_indicator="CI"
        )
        await store.append(payer_id, "payer", 0, [event], META)


@pytest.fixture
async def younger_store(database_server_url: str) -> AsyncIterator[EventStore]:
    """A second log of the same service: what the first one looks like after losing its tail."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(database_server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    pool = await create_pool(database_url_for(database_server_url, name))
    store = EventStore(pool, "registration")
    await store.setup()
    yield store
    await pool.close()
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    pool = await create_pool(database_url)
    store = EventStore(pool, "registration")
    await store.setup()
    yield store
    await pool.close()


def behind_metric() -> float:
    value = RELAY_LOG_BEHIND.labels("registration")._value.get()
    return float(value)


async def publish(store: EventStore, kafka: KafkaSettings) -> int:
    relay = Relay(store, kafka)
    await relay.start()
    try:
        return await relay.publish_pending()
    finally:
        await relay.stop()


@pytest.mark.parametrize("younger_events", [2, 7], ids=["head-behind", "positions-reused"])
async def test_a_log_that_lost_published_events_is_refused_and_nothing_more_is_published(
    store: EventStore,
    younger_store: EventStore,
    kafka_bootstrap: str,
    topic_prefix: str,
    younger_events: int,
) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix)
    await append_payers(store, 5)
    assert await publish(store, kafka) == 5
    assert behind_metric() == 0

    # The "same" log after a crash lost its tail, then took new appends (2: head behind the topic;
    # 7: positions 1-5 reused by other events, and 6-7 never published).
    await append_payers(younger_store, younger_events)
    with pytest.raises(LogBehindTopics, match="refuses to publish"):
        await publish(younger_store, kafka)
    assert behind_metric() == 1

    on_topic = envelopes(await read_topic(kafka_bootstrap, kafka.topic("registration", "payer"), expect=5))
    assert sorted(e.position or 0 for e in on_topic) == [1, 2, 3, 4, 5]


async def test_a_checkpoint_ahead_of_the_head_is_refused(store: EventStore, kafka_bootstrap: str) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:10]}.")
    await append_payers(store, 3)
    async with store.pool.acquire() as connection:
        await connection.execute("INSERT INTO relay_checkpoint VALUES ('kafka', 9)")
    with pytest.raises(LogBehindTopics, match="checkpoint 9 > log head 3"):
        await publish(store, kafka)


def test_the_guard_lets_a_healthy_log_through() -> None:
    check_log_not_behind("s", head=10, checkpoint=10, mark=PublishedMark(10, "e10"), event_id_at_mark="e10")
    check_log_not_behind("s", head=10, checkpoint=4, mark=None, event_id_at_mark=None)
    # A relay that crashed before its checkpoint republishes the tail: behind the head, allowed.
    check_log_not_behind("s", head=10, checkpoint=4, mark=PublishedMark(8, "e8"), event_id_at_mark="e8")
    with pytest.raises(LogBehindTopics):
        check_log_not_behind("s", head=10, checkpoint=4, mark=PublishedMark(8, "e8"), event_id_at_mark="x")
