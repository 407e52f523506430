"""Live rebuild throughput (`billing replay`): events rebuilt per second, blue/green.

    nice -n 10 python bench/replay_bench.py [--events N]   (needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS)

Two measures, each on a fresh database and fresh topics, with nothing else consuming:
- from topics: reporting's projections rebuilt from N events on invoicing's invoice topic (invoices
  issued, two patient payments each; all applied by reporting's handlers);
- from the own log: registration's views rebuilt from N events in its log (payers, providers).
Both include building the copy, the catch-up and the swap; they exclude putting the events there.
Prints the figures as JSON (the issue "Throughput" asks for 20,000 events/s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from events_bench import fresh_database

from billing_events.contracts.base import Event
from billing_events.envelope import EventEnvelope, Metadata
from billing_events.kafka import ensure_topics
from billing_service.rebuild import projections, rebuild_live
from billing_service.runtime import Runtime, ServiceDefinition, open_runtime, tune_garbage_collection
from billing_service.settings import ServiceSettings
from billing_testing import builders


def settings(definition: ServiceDefinition, database_url: str, prefix: str, state: str) -> ServiceSettings:
    return ServiceSettings(
        service_name=definition.name,
        database_url=database_url,
        kafka_bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"],
        BILLING_TOPIC_PREFIX=prefix,
        BILLING_STATE_DIR=state,
        BILLING_DEVELOPMENT=True,
        phi_keys_database_url=database_url,
        kafka_topic_partitions=3,
    )


def invoicing_history(count: int) -> list[Event]:
    """Per invoice: issued and two patient payments: three events reporting applies."""
    events: list[Event] = []
    for i in range(count // 3):
        issued = builders.invoice_issued(f"inv-{i}", encounter_id=f"enc-{i}", patient_id=f"pat-{i}")
        events.append(issued)
        events.append(
            builders.patient_payment_received(
                f"pay-{i}", f"pat-{i}", f"inv-{i}", 1000, received_on=date(2025, 3, 1)
            )
        )
        events.append(
            builders.patient_payment_received(
                f"pay-{i}-2", f"pat-{i}", f"inv-{i}", 500, received_on=date(2025, 4, 1)
            )
        )
    return events


async def publish(kafka_bootstrap: str, prefix: str, events: list[Event]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        sent = []
        for event in events:
            envelope = EventEnvelope(
                event_id=str(uuid.uuid4()),
                event_type=event.event_type,
                version=event.version,
                source=event.service,
                stream_id=event.subject(),
                tenant="bench",
                occurred_at=datetime.now(UTC),
                payload=event.model_dump(mode="json"),
                metadata={"actor": "bench"},
            )
            sent.append(
                await producer.send(
                    envelope.topic(prefix),
                    envelope.value(),
                    key=envelope.stream_id.encode(),
                    headers=envelope.headers(),
                )
            )
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def delete_topics(kafka_bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if topics:
            await admin.delete_topics(topics)
    finally:
        await admin.close()


async def measure(runtime: Runtime) -> dict[str, Any]:
    started = time.perf_counter()
    report = await rebuild_live(runtime)
    seconds = time.perf_counter() - started
    return {
        "events": report.events,
        "seconds": round(seconds, 2),
        "events_per_s": round(report.events / seconds),
        "swap_ms": {part.part: round(part.swap_seconds * 1000) for part in report.parts},
    }


async def from_topics(server_url: str, kafka_bootstrap: str, count: int, state: str) -> dict[str, Any]:
    from reporting.entrypoints import SERVICE

    prefix = f"bench-replay-{uuid.uuid4().hex[:8]}."
    url = await fresh_database(server_url, "bench_replay_reporting")
    runtime = await open_runtime(SERVICE, settings(SERVICE, url, prefix, state))
    try:
        # Every topic the service reads exists, as on a running platform (a topic created by the
        # rebuild itself would cost its leader election in the measure).
        await ensure_topics(
            runtime.kafka,
            [runtime.kafka.topic(s, a) for sub in projections(runtime) for s, a in sub.topics],
        )
        await publish(kafka_bootstrap, prefix, invoicing_history(count))
        # The events published are garbage by now, as they would be in a rebuild's own process;
        # `billing replay` tunes its collector as this does.
        tune_garbage_collection()
        return await measure(runtime)
    finally:
        await runtime.close()
        await delete_topics(kafka_bootstrap, prefix)


async def from_own_log(server_url: str, count: int, state: str) -> dict[str, Any]:
    from registration.entrypoints import SERVICE

    url = await fresh_database(server_url, "bench_replay_registration")
    runtime = await open_runtime(SERVICE, settings(SERVICE, url, "bench-replay-unused.", state))
    try:
        meta = Metadata(tenant="bench", actor="bench")
        for start in range(0, count, 500):
            payers = [
                builders.payer_registered(f"payer-{i}", name=f"Payer {i}", edi_payer_id=f"P{i}")
                for i in range(start, min(start + 500, count))
            ]
            for payer in payers:
                await runtime.store.append(payer.subject(), "payer", 0, [payer], meta)
        tune_garbage_collection()
        return await measure(runtime)
    finally:
        await runtime.close()


async def run(count: int) -> dict[str, Any]:
    server_url = os.environ["DATABASE_URL"]
    kafka_bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    with tempfile.TemporaryDirectory() as state:
        return {
            "replay_from_topics": await from_topics(server_url, kafka_bootstrap, count, state),
            "replay_from_own_log": await from_own_log(server_url, count // 5, state),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=60_000, help="events on the topics")
    figures = asyncio.run(run(parser.parse_args().events))
    print(json.dumps(figures, indent=2))
    Path(".cache").mkdir(exist_ok=True)
    Path(".cache/replay_bench.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
