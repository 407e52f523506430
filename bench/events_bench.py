"""libs/events micro-benchmarks, side by side with raw baselines on the same servers.

    python bench/events_bench.py [--quick]      (needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS)
    python bench/events_bench.py --edge [--quick]   the Kafka edge alone, FastStream against aiokafka
                                                    (needs only KAFKA_BOOTSTRAP_SERVERS)

Prints a table and returns the figures as a dict (bench/run.py writes them to JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka import __version__ as aiokafka_version
from aiokafka.admin import AIOKafkaAdminClient
from faststream import AckPolicy
from faststream.__about__ import __version__ as faststream_version
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.message import KafkaAckableMessage
from faststream.message import StreamMessage

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


# ---------------------------------------------------------------------------------------------------
# The Kafka edge: FastStream against aiokafka directly (issue 15). Same topic, same records, same batch
# sizes, same trivial per-batch work; only the client differs.

EDGE_BATCH_SIZES = (100, 500)
EDGE_RUNS = 5


def edge_records(count: int) -> list[EventEnvelope]:
    """Events as the relay publishes them (CloudEvents headers, canonical JSON), built without a database."""
    now = datetime.now(UTC)
    return [
        EventEnvelope(
            event_id=str(uuid.uuid4()),
            event_type="PayerRegistered",
            version=1,
            source="registration",
            stream_id=str(uuid.uuid4()),
            tenant="bench",
            occurred_at=now,
            payload=payer(i).model_dump(mode="json"),
            metadata={"actor": "bench", "correlation_id": str(uuid.uuid4())},
            position=i + 1,
            stream_version=1,
        )
        for i in range(count)
    ]


class Stopwatch:
    """Wall time and this process's CPU time (the client's own cost, which the other engineers' load
    on the shared machine disturbs far less than the wall clock)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def figures(self, events: int) -> tuple[float, float]:
        """(events per second, client CPU microseconds per event)."""
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        return events / wall, cpu * 1e6 / events


def edge_work(records: Sequence[ConsumerRecord[bytes, bytes]]) -> int:
    """The per-batch work of both consumers: read each record's ce_type header and value size."""
    size = 0
    for record in records:
        for key, value in record.headers:
            if key == "ce_type":
                size += len(value)
        size += len(record.value or b"")
    return size


async def aiokafka_produce(bootstrap: str, topic: str, envelopes: list[EventEnvelope]) -> tuple[float, float]:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        max_batch_size=256 * 1024,
    )
    await producer.start()
    try:
        watch = Stopwatch()
        futures = [
            await producer.send(topic, e.value(), key=e.stream_id.encode(), headers=e.headers())
            for e in envelopes
        ]
        await asyncio.gather(*futures)
        return watch.figures(len(envelopes))
    finally:
        await producer.stop()


async def faststream_produce(
    bootstrap: str, topic: str, envelopes: list[EventEnvelope]
) -> tuple[float, float]:
    broker = KafkaBroker(
        bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        max_batch_size=256 * 1024,
        logger=None,
    )
    publisher = broker.publisher(topic)
    await broker.start()
    try:
        watch = Stopwatch()
        futures = [
            await publisher.publish(
                e.value(),
                key=e.stream_id.encode(),
                headers={k: v.decode() for k, v in e.headers()},
                no_confirm=True,
            )
            for e in envelopes
        ]
        await asyncio.gather(*futures)
        return watch.figures(len(envelopes))
    finally:
        await broker.stop()


async def aiokafka_consume(
    bootstrap: str, topic: str, group: str, total: int, max_records: int
) -> tuple[float, float]:
    """getmany batches, manual commit of the batch's offsets after its work (the Consumer's loop)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        # The same fetch settings as the FastStream subscriber's (it builds an AIOKafkaConsumer).
        auto_offset_reset="earliest",
        max_poll_records=max_records,
        fetch_min_bytes=1,
        fetch_max_wait_ms=500,
    )
    await consumer.start()
    try:
        seen, watch = 0, Stopwatch()
        while seen < total:
            batches = await consumer.getmany(timeout_ms=500, max_records=max_records)
            records = [r for partition_records in batches.values() for r in partition_records]
            if not records:
                continue
            if not seen:
                watch = Stopwatch()
            edge_work(records)
            await consumer.commit({tp: rs[-1].offset + 1 for tp, rs in batches.items() if rs})
            seen += len(records)
        return watch.figures(seen)
    finally:
        await consumer.stop()


async def faststream_consume(
    bootstrap: str, topic: str, group: str, total: int, max_records: int
) -> tuple[float, float]:
    """A KafkaBroker batch subscriber with manual acknowledgement: one ack (offset commit) per batch,
    after its work. As the platform would use it: typed handler arguments, FastStream's own message;
    the decoder hands the records over as they came (the platform parses envelopes itself, so no JSON
    decoding of bodies) and per-message logging is off."""
    broker = KafkaBroker(bootstrap, logger=None)
    done = asyncio.Event()
    seen = [0]
    watch = [Stopwatch()]

    async def records_of(message: StreamMessage[Any]) -> Any:
        return message.raw_message

    @broker.subscriber(
        topic,
        batch=True,
        group_id=group,
        max_records=max_records,
        batch_timeout_ms=500,
        ack_policy=AckPolicy.MANUAL,
        decoder=records_of,
        auto_offset_reset="earliest",
        max_poll_records=max_records,
        fetch_min_bytes=1,
        fetch_max_wait_ms=500,
    )
    async def handle(records: Any, message: KafkaMessage) -> None:
        if not seen[0]:
            watch[0] = Stopwatch()
        edge_work(message.raw_message)
        await message.ack()
        seen[0] += len(message.raw_message)
        if seen[0] >= total:
            done.set()

    await broker.start()
    try:
        await asyncio.wait_for(done.wait(), 300)
        return watch[0].figures(seen[0])
    finally:
        await broker.stop()


async def faststream_bare_consume(
    bootstrap: str, topic: str, group: str, total: int, max_records: int
) -> tuple[float, float]:
    """FastStream stripped to its loop: no argument injection (`apply_types=False`) and a parser of our
    own that does not decode every record's headers into FastStream's message. What is left is its
    getmany/commit loop and middleware chain; also what is left of the reasons to adopt it (typed
    handlers, payload schemas in its AsyncAPI document)."""
    broker = KafkaBroker(bootstrap, logger=None, apply_types=False)
    done = asyncio.Event()
    seen = [0]
    watch = [Stopwatch()]
    subscriber = broker.subscriber(
        topic,
        batch=True,
        group_id=group,
        max_records=max_records,
        batch_timeout_ms=500,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        max_poll_records=max_records,
        fetch_min_bytes=1,
        fetch_max_wait_ms=500,
    )

    async def parse(records: Any, _default: Any) -> StreamMessage[Any]:
        return KafkaAckableMessage(
            body=records, headers={}, raw_message=records, consumer=subscriber.consumer, correlation_id=""
        )

    async def records_of(message: StreamMessage[Any], _default: Any) -> Any:
        return message.raw_message

    @subscriber(parser=parse, decoder=records_of)
    async def handle(records: Any) -> None:
        message = broker.context.get("message")
        if not seen[0]:
            watch[0] = Stopwatch()
        edge_work(records)
        await message.ack()
        seen[0] += len(records)
        if seen[0] >= total:
            done.set()

    await broker.start()
    try:
        await asyncio.wait_for(done.wait(), 300)
        return watch[0].figures(seen[0])
    finally:
        await broker.stop()


async def bench_kafka_edge(bootstrap: str, events: int, runs: int = EDGE_RUNS) -> dict[str, Any]:
    """Produce and consume the same records through aiokafka and through FastStream, runs interleaved
    (the order alternates, so drift of the shared machine falls on both); medians and spread."""
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    kafka = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=prefix)
    consume_topic, produce_topic = f"{prefix}edge.consume", f"{prefix}edge.produce"
    await ensure_topics(kafka, [consume_topic, produce_topic])
    envelopes = edge_records(events)
    produce = {"aiokafka": aiokafka_produce, "faststream": faststream_produce}
    consume = {
        "aiokafka": aiokafka_consume,
        "faststream": faststream_consume,
        "faststream_bare": faststream_bare_consume,
    }
    samples: dict[str, list[float]] = {}
    try:
        await aiokafka_produce(bootstrap, consume_topic, envelopes)
        for run in range(runs):
            order = ["aiokafka", "faststream", "faststream_bare"][:: 1 if run % 2 == 0 else -1]
            for client in [c for c in order if c in produce]:
                rate, cpu = await produce[client](bootstrap, produce_topic, envelopes)
                samples.setdefault(f"edge_produce_{client}", []).append(rate)
                samples.setdefault(f"edge_produce_{client}_cpu_us", []).append(cpu)
            for size in EDGE_BATCH_SIZES:
                for client in order:
                    group = f"{prefix}{client}.{size}.{run}"
                    rate, cpu = await consume[client](bootstrap, consume_topic, group, events, size)
                    samples.setdefault(f"edge_consume{size}_{client}", []).append(rate)
                    samples.setdefault(f"edge_consume{size}_{client}_cpu_us", []).append(cpu)
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([consume_topic, produce_topic])
        finally:
            await admin.close()
    results: dict[str, Any] = {"edge_events": events, "edge_runs": runs}
    for name, rates in samples.items():
        results[name] = statistics.median(rates)
        results[f"{name}_samples"] = sorted(rates)
    for name in [n for n in samples if n.startswith("edge_") and "faststream" in n and "_cpu_us" not in n]:
        # FastStream's cost: the extra time per event against aiokafka, from the median rates; and the
        # extra client CPU per event.
        base = name.replace("faststream_bare", "aiokafka").replace("faststream", "aiokafka")
        results[f"{name}_cost"] = results[base] / results[name] - 1
        results[f"{name}_cpu_cost"] = results[f"{name}_cpu_us"] / results[f"{base}_cpu_us"] - 1
    return results


def print_edge_table(results: dict[str, Any]) -> None:
    """One line per case and client: median rate (min-max of the runs), client CPU per event, and
    FastStream's cost against aiokafka (extra time per event from the median rates, extra CPU)."""
    print(
        f"Kafka edge: {results['edge_events']:,} events, median of {results['edge_runs']} runs "
        f"(aiokafka {aiokafka_version}, faststream {faststream_version})"
    )
    print(f"{'':44} {'events/s (min-max)':>26} {'us cpu/event':>13}  faststream cost: time, cpu")
    cases = [("produce, acks=all, idempotent", "produce")]
    cases += [(f"consume, batches of {size}, manual ack", f"consume{size}") for size in EDGE_BATCH_SIZES]
    for label, case in cases:
        print(label)
        for client in ("aiokafka", "faststream", "faststream_bare"):
            name = f"edge_{case}_{client}"
            if name not in results:
                continue
            rates = results[f"{name}_samples"]
            line = (
                f"  {client:42} {results[name]:>9,.0f} ({rates[0]:,.0f}-{rates[-1]:,.0f})"
                f" {results[f'{name}_cpu_us']:>10.1f}"
            )
            if client != "aiokafka":
                line += f"  {results[f'{name}_cost']:+.0%}, {results[f'{name}_cpu_cost']:+.0%}"
            print(line)


async def run(quick: bool = False) -> dict[str, Any]:
    server_url = os.environ["DATABASE_URL"]
    kafka = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    singles, batches, stream = (2000, 100, 10_000) if quick else (8000, 400, 40_000)
    results: dict[str, Any] = {}
    results.update(await bench_appends(server_url, singles, batches))
    results.update(await bench_relay_and_projection(server_url, kafka, stream))
    results.update(await bench_kafka_edge(kafka, stream))
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
    print_edge_table(results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--edge", action="store_true", help="only the Kafka edge: FastStream vs aiokafka")
    arguments = parser.parse_args()
    if arguments.edge:
        events = 10_000 if arguments.quick else 40_000
        print_edge_table(asyncio.run(bench_kafka_edge(os.environ["KAFKA_BOOTSTRAP_SERVERS"], events)))
    else:
        figures = asyncio.run(run(arguments.quick))
        print_table(figures)
