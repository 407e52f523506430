"""libs/events micro-benchmarks, side by side with raw baselines on the same servers.

    python bench/events_bench.py [--quick]      (needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS)

Prints a table and returns the figures as a dict (bench/run.py writes them to JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from billing_events.consumer import Consumer, Subscription, handlers
from billing_events.contracts.registration import PayerRegistered
from billing_events.envelope import EventEnvelope, Metadata
from billing_events.kafka import KafkaSettings, ensure_topics
from billing_events.relay import Relay
from billing_events.store import EventStore, Session, create_pool

META = Metadata(tenant="bench", actor="bench")
WRITERS = 16
RAW_INSERT = (
    "INSERT INTO raw_events (stream_id, version, event_id, event_type, tenant, occurred_at, payload, "
    "metadata) VALUES ($1, {version}, $2, 'PayerRegistered', 'bench', now(), $3, $4)"
)


def payer(i: int) -> PayerRegistered:
    return PayerRegistered(
        payer_id=f"p{i}", name=f"Payer {i}", edi_payer_id="B1", claim_filing_indicator="CI"
    )


def with_database(server_url: str, name: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


async def fresh_database(server_url: str, name: str) -> str:
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return with_database(server_url, name)


async def concurrently(total: int, writers: int, one: Callable[[int], Awaitable[None]]) -> float:
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(writers)))
    return time.perf_counter() - started


async def bench_appends(server_url: str, singles: int, batches: int) -> dict[str, float]:
    url = await fresh_database(server_url, "bench_events")
    pool = await create_pool(url, max_size=WRITERS + 2)
    store = EventStore(pool, "registration")
    await store.setup()
    results: dict[str, float] = {}

    async def single(i: int) -> None:
        await store.append(str(uuid.uuid4()), "payer", 0, [payer(i)], META)

    results["store_single_commands_per_s"] = singles / await concurrently(singles, WRITERS, single)

    async def transactional_command(i: int) -> None:
        # What an HTTP command does: read the stream, decide, append, all in one transaction.
        stream = str(uuid.uuid4())
        async with store.session() as session:
            history = await session.load(stream)
            await session.append(stream, "payer", len(history), [payer(i)], META)

    results["store_transactional_commands_per_s"] = singles / await concurrently(
        singles, WRITERS, transactional_command
    )

    async def batch(i: int) -> None:
        await store.append(str(uuid.uuid4()), "payer", 0, [payer(i * 100 + j) for j in range(100)], META)

    results["store_batch100_events_per_s"] = batches * 100 / await concurrently(batches, 4, batch)

    # Raw asyncpg: the same rows into a plain table with no version check, position lock or hash.
    async with pool.acquire() as connection:
        await connection.execute(
            "CREATE TABLE raw_events (id bigserial PRIMARY KEY, stream_id text, version int, event_id uuid, "
            "event_type text, tenant text, occurred_at timestamptz, payload jsonb, metadata jsonb)"
        )
    payload = payer(1).model_dump(mode="json")

    async def raw_single(i: int) -> None:
        async with pool.acquire() as connection:
            await connection.execute(
                RAW_INSERT.format(version="1"),
                str(uuid.uuid4()),
                uuid.uuid4(),
                payload,
                {"actor": "bench"},
            )

    results["raw_single_inserts_per_s"] = singles / await concurrently(singles, WRITERS, raw_single)

    async def raw_batch(i: int) -> None:
        stream = str(uuid.uuid4())
        async with pool.acquire() as connection, connection.transaction():
            await connection.executemany(
                RAW_INSERT.format(version="$5"),
                [(stream, uuid.uuid4(), payload, {"actor": "bench"}, j) for j in range(100)],
            )

    results["raw_batch100_events_per_s"] = batches * 100 / await concurrently(batches, 4, raw_batch)
    await pool.close()
    await fresh_database(server_url, "bench_eventsourcing")
    # The peer is synchronous (psycopg): run it in a thread so this loop stays free.
    results.update(await asyncio.to_thread(bench_eventsourcing_recorder, server_url, singles, batches))
    return results


def bench_eventsourcing_recorder(server_url: str, singles: int, batches: int) -> dict[str, float]:
    """The `eventsourcing` library's PostgreSQL recorder appending the same events (a peer)."""
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    parts = urlsplit(with_database(server_url, "bench_eventsourcing"))
    datastore = PostgresDatastore(
        dbname="bench_eventsourcing",
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "",
        password=parts.password or "",
        pool_size=WRITERS,
        max_overflow=0,
    )
    recorder = PostgresApplicationRecorder(datastore, events_table_name="bench_stored_events")
    recorder.create_table()
    state = json.dumps(payer(1).model_dump(mode="json")).encode()
    counter = iter(range(singles))
    lock = threading.Lock()

    def single_worker() -> None:
        while True:
            with lock:
                item = next(counter, None)
            if item is None:
                return
            recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "bench:PayerRegistered", state)])

    started = time.perf_counter()
    threads = [threading.Thread(target=single_worker) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    single_rate = singles / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(batches):
        stream = uuid.uuid4()
        recorder.insert_events(
            [StoredEvent(stream, j + 1, "bench:PayerRegistered", state) for j in range(100)]
        )
    batch_rate = batches * 100 / (time.perf_counter() - started)
    datastore.close()
    return {
        "eventsourcing_single_commands_per_s": single_rate,
        "eventsourcing_batch100_events_per_s": batch_rate,
    }


async def bench_relay_and_projection(server_url: str, kafka_bootstrap: str, events: int) -> dict[str, float]:
    url = await fresh_database(server_url, "bench_relay")
    pool = await create_pool(url, max_size=8)
    store = EventStore(pool, "registration")
    await store.setup("CREATE TABLE IF NOT EXISTS payer_view (payer_id text PRIMARY KEY, name text)")
    for start in range(0, events, 500):
        await store.append(str(uuid.uuid4()), "payer", 0, [payer(i) for i in range(start, start + 500)], META)
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=prefix)
    results: dict[str, float] = {}

    relay = Relay(store, kafka, batch_size=2000)
    await relay.start()
    started = time.perf_counter()
    published = await relay.publish_pending()
    results["relay_events_per_s"] = published / (time.perf_counter() - started)
    await relay.stop()

    envelopes = await store.read_all(after=0, limit=events)
    raw_topic = f"{prefix}raw.payer"
    await ensure_topics(kafka, [raw_topic])
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all", linger_ms=2
    )
    await producer.start()
    started = time.perf_counter()
    futures = [
        await producer.send(raw_topic, e.value(), key=e.stream_id.encode(), headers=e.headers())
        for e in envelopes
    ]
    await asyncio.gather(*futures)
    results["raw_producer_events_per_s"] = len(envelopes) / (time.perf_counter() - started)
    await producer.stop()

    async def project(session: Session, envelope: EventEnvelope) -> None:
        event = envelope.event()
        assert isinstance(event, PayerRegistered)
        await session.connection.execute(
            "INSERT INTO payer_view VALUES ($1, $2) ON CONFLICT DO NOTHING", envelope.event_id, event.name
        )

    consumer = Consumer(
        store,
        kafka,
        Subscription("bench-view", [("registration", "payer")], handlers((PayerRegistered, project))),
    )
    await consumer.start()
    started = time.perf_counter()
    applied = 0
    while applied < events:
        applied += await consumer.poll_once(timeout_ms=500)
    results["projection_events_per_s"] = applied / (time.perf_counter() - started)
    await consumer.stop()

    async with pool.acquire() as connection:
        await connection.execute("CREATE TABLE raw_view (id text PRIMARY KEY, name text)")
    raw = AIOKafkaConsumer(
        raw_topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"{prefix}raw",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=500,
    )
    await raw.start()
    started = time.perf_counter()
    seen = 0
    while seen < events:
        batches = await raw.getmany(timeout_ms=500, max_records=500)
        for tp, records in batches.items():
            # The same statements the projection's handler runs: one insert per event, one transaction
            # per batch, but no parsing into contracts, no de-duplication record, no spans.
            async with pool.acquire() as connection, connection.transaction():
                for r in records:
                    await connection.execute(
                        "INSERT INTO raw_view VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        dict(r.headers)["ce_id"].decode(),
                        json.loads(r.value)["name"],
                    )
            await raw.commit({tp: records[-1].offset + 1})
            seen += len(records)
    results["raw_consumer_events_per_s"] = seen / (time.perf_counter() - started)
    await raw.stop()
    await pool.close()
    return results


async def run(quick: bool = False) -> dict[str, Any]:
    server_url = os.environ["DATABASE_URL"]
    kafka = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    singles, batches, stream = (2000, 100, 10_000) if quick else (8000, 400, 40_000)
    results: dict[str, Any] = {}
    results.update(await bench_appends(server_url, singles, batches))
    results.update(await bench_relay_and_projection(server_url, kafka, stream))
    return results


def print_table(results: dict[str, Any]) -> None:
    rows = [
        (
            "append, single-event commands (16 writers)",
            "store_single_commands_per_s",
            "raw_single_inserts_per_s",
            "eventsourcing_single_commands_per_s",
        ),
        (
            "  as a command: load + append in a transaction",
            "store_transactional_commands_per_s",
            "raw_single_inserts_per_s",
            None,
        ),
        (
            "append, batches of 100 events",
            "store_batch100_events_per_s",
            "raw_batch100_events_per_s",
            "eventsourcing_batch100_events_per_s",
        ),
        ("relay to Kafka", "relay_events_per_s", "raw_producer_events_per_s", None),
        ("projection with de-duplication", "projection_events_per_s", "raw_consumer_events_per_s", None),
    ]
    print(f"{'libs/events (per second)':48} {'billing':>10} {'raw':>10} {'eventsourcing':>14}")
    for label, ours, raw, peer in rows:
        peer_value = f"{results[peer]:>14,.0f}" if peer else f"{'-':>14}"
        print(f"{label:48} {results[ours]:>10,.0f} {results[raw]:>10,.0f} {peer_value}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    figures = asyncio.run(run(parser.parse_args().quick))
    print_table(figures)
