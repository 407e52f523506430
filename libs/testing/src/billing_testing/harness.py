"""Run a whole service in-process against the real broker and database: API, relay and consumers.

    async with ServiceHarness.start(SERVICE, database_url, kafka_bootstrap, topic_prefix) as svc:
        response = await svc.client(roles=["front_desk"]).post("/patients", json=...)
        await svc.published()          # the relay pushed everything to Kafka
        await svc.drain()              # the consumers applied everything available

End-to-end suites run services as separate processes instead (tests/e2e).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from billing_events.consumer import Consumer
from billing_events.envelope import EventEnvelope
from billing_events.relay import Relay
from billing_service.auth import issue_token
from billing_service.runtime import Runtime, ServiceDefinition, build_app, open_runtime
from billing_service.settings import ServiceSettings


def harness_settings(
    definition: ServiceDefinition, database_url: str, kafka_bootstrap: str, topic_prefix: str, state_dir: Path
) -> ServiceSettings:
    return ServiceSettings(
        service_name=definition.name,
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        BILLING_TOPIC_PREFIX=topic_prefix,
        BILLING_STATE_DIR=str(state_dir),
        # Each test database has its own key table next to it.
        phi_keys_database_url=database_url,
        kafka_topic_partitions=3,
    )


@dataclass
class ServiceHarness:
    runtime: Runtime
    settings: ServiceSettings
    relay: Relay
    consumers: list[Consumer]
    app: Any
    tenant: str = "tenant-a"
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    @classmethod
    @asynccontextmanager
    async def start(
        cls,
        definition: ServiceDefinition,
        database_url: str,
        kafka_bootstrap: str,
        topic_prefix: str,
        state_dir: Path,
        *,
        consume: bool = True,
    ) -> AsyncIterator[ServiceHarness]:
        settings = harness_settings(definition, database_url, kafka_bootstrap, topic_prefix, state_dir)
        runtime = await open_runtime(definition, settings)
        relay = Relay(runtime.store, runtime.kafka)
        await relay.start()
        consumers = [Consumer(runtime.store, runtime.kafka, s) for s in definition.subscriptions(runtime)]
        if consume:
            for consumer in consumers:
                await consumer.start()
        harness = cls(
            runtime, settings, relay, consumers if consume else [], build_app(definition, settings, runtime)
        )
        try:
            yield harness
        finally:
            for client in harness._clients:
                await client.aclose()
            for consumer in harness.consumers:
                await consumer.stop()
            await relay.stop()
            await runtime.close()

    def token(self, roles: Sequence[str], *, tenant: str | None = None, subject: str = "tester") -> str:
        return issue_token(self.settings, tenant=tenant or self.tenant, roles=list(roles), subject=subject)

    def client(
        self, roles: Sequence[str], *, tenant: str | None = None, subject: str = "tester"
    ) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://service",
            headers={"Authorization": f"Bearer {self.token(roles, tenant=tenant, subject=subject)}"},
        )
        self._clients.append(client)
        return client

    async def published(self) -> int:
        return await self.relay.publish_pending()

    async def drain(self, *, quiet_polls: int = 3, timeout: float = 30.0) -> int:
        """Poll every consumer until each has seen `quiet_polls` empty polls in a row."""
        handled = 0
        deadline = asyncio.get_running_loop().time() + timeout
        for consumer in self.consumers:
            quiet = 0
            while quiet < quiet_polls:
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError("consumers did not go quiet")
                count = await consumer.poll_once(timeout_ms=300)
                handled += count
                quiet = quiet + 1 if count == 0 and consumer.ready.is_set() else 0
        return handled


async def read_topic(kafka_bootstrap: str, topic: str, *, expect: int, timeout: float = 15.0) -> list[Any]:
    """Every record of a topic from the beginning, waiting until at least `expect` arrived."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records) < expect and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for part in batch.values():
                records.extend(part)
        # Give stragglers a moment, so tests can also prove that nothing extra arrived.
        with contextlib.suppress(asyncio.TimeoutError):
            batch = await consumer.getmany(timeout_ms=300)
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()
    return records


def envelopes(records: Sequence[Any]) -> list[EventEnvelope]:
    return [EventEnvelope.from_kafka(list(r.headers), r.value) for r in records]


async def publish_events(
    kafka_bootstrap: str,
    topic_prefix: str,
    events: Sequence[Any],
    *,
    tenant: str = "tenant-a",
    actor: str = "upstream-tester",
    occurred_at: datetime | None = None,
) -> list[EventEnvelope]:
    """Put contract events on their topics as the owning service's relay would (for consumer tests).

    `occurred_at` (default: now) backdates the events' ce_time, for consumers that report by event time.
    """
    import uuid

    from aiokafka import AIOKafkaProducer

    from billing_events.kafka import KafkaSettings, ensure_topics

    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix)
    sent = [
        EventEnvelope(
            event_id=str(uuid.uuid4()),
            event_type=event.event_type,
            version=event.version,
            source=event.service,
            stream_id=event.subject(),
            tenant=tenant,
            occurred_at=occurred_at or datetime.now(UTC),
            payload=event.model_dump(mode="json"),
            metadata={"actor": actor},
        )
        for event in events
    ]
    await ensure_topics(kafka, sorted({e.topic(topic_prefix) for e in sent}))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for envelope in sent:
            await producer.send_and_wait(
                envelope.topic(topic_prefix),
                envelope.value(),
                key=envelope.stream_id.encode(),
                headers=envelope.headers(),
            )
    finally:
        await producer.stop()
    return sent
