"""Consumers: projections and policies fed from Kafka, each effect exactly once.

Offsets are committed by hand, only after the PostgreSQL transaction that applied the messages and
recorded their event ids committed; a redelivered event finds its id recorded and changes nothing.
A message that still fails after bounded retries goes to `<topic>.dlq` with the error type and
original headers, and the partition moves on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from opentelemetry import trace
from opentelemetry.propagate import extract
from pydantic import ValidationError

from billing_events.envelope import EventEnvelope, MalformedMessage
from billing_events.kafka import DLQ_SUFFIX, KafkaSettings, ensure_topics
from billing_events.metrics import CONSUMER_LAG, EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, EVENTS_RETRIED
from billing_events.store import EventStore, Session

log = logging.getLogger(__name__)
tracer = trace.get_tracer("billing.consumer")

Handler = Callable[[Session, EventEnvelope], Awaitable[None]]


class SafeError(Exception):
    """An error whose message carries no patient data and may travel to the DLQ and logs as is."""


@dataclass
class Subscription:
    """What one consumer group reads and how each event type changes this service's state."""

    name: str
    topics: list[tuple[str, str]]  # (service, aggregate)
    handlers: Mapping[str, Handler]
    # Tables this subscription alone writes; a rebuild empties them before replaying.
    owned_tables: list[str] = field(default_factory=list)

    def group_id(self, kafka: KafkaSettings) -> str:
        return f"{kafka.topic_prefix}billing.{self.name}"


def describe_error(error: BaseException) -> str:
    """A reason for the DLQ and logs that never echoes input values."""
    if isinstance(error, SafeError | MalformedMessage):
        return f"{type(error).__name__}: {error}"
    if isinstance(error, ValidationError):
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['type']}" for e in error.errors(include_input=False)
        )
        return f"ValidationError: {fields}"
    return type(error).__name__


class Consumer:
    def __init__(
        self,
        store: EventStore,
        kafka: KafkaSettings,
        subscription: Subscription,
        *,
        max_attempts: int = 3,
        retry_backoff: float = 0.2,
        max_records: int = 500,
    ) -> None:
        self.store = store
        self.kafka = kafka
        self.subscription = subscription
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.max_records = max_records
        self.topics = [kafka.topic(s, a) for s, a in subscription.topics]
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self.ready = asyncio.Event()

    async def start(self) -> None:
        await ensure_topics(self.kafka, self.topics + [t + DLQ_SUFFIX for t in self.topics])
        self._producer = AIOKafkaProducer(**self.kafka.client_options(), enable_idempotence=True, acks="all")
        await self._producer.start()
        self._consumer = AIOKafkaConsumer(
            *self.topics,
            **self.kafka.client_options(),
            group_id=self.subscription.group_id(self.kafka),
            enable_auto_commit=False,  # never at-most-once: commit only after the database did
            auto_offset_reset="earliest",
            max_poll_records=self.max_records,
            session_timeout_ms=15_000,
            heartbeat_interval_ms=3_000,
        )
        await self._consumer.start()

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            while not stop.is_set():
                await self.poll_once(timeout_ms=300)
        finally:
            await self.stop()

    async def poll_once(self, timeout_ms: int = 300) -> int:
        assert self._consumer is not None
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=self.max_records)
        if self._consumer.assignment():
            self.ready.set()
        handled = 0
        for partition, records in batches.items():
            if not records:
                continue
            try:
                await self._process_batch(records)
            except Exception as error:
                # The database or broker failed under the whole batch: nothing was committed, so
                # rewind and take the same records again.
                log.warning(
                    "batch failed, rewinding",
                    extra={"consumer": self.subscription.name, "error": describe_error(error)},
                )
                self._consumer.seek(partition, records[0].offset)
                await asyncio.sleep(self.retry_backoff)
                continue
            await self._consumer.commit({partition: records[-1].offset + 1})
            handled += len(records)
            highwater = self._consumer.highwater(partition)
            if highwater is not None:
                CONSUMER_LAG.labels(self.subscription.name, partition.topic).set(
                    max(0, highwater - records[-1].offset - 1)
                )
        return handled

    async def _process_batch(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """Fast path: the whole batch in one transaction with one de-duplication query. If anything
        fails, that transaction rolls back and the batch is redone message by message (slow path)."""
        parsed: list[tuple[ConsumerRecord[bytes, bytes], EventEnvelope]] = []
        malformed: list[tuple[ConsumerRecord[bytes, bytes], str]] = []
        for record in records:
            try:
                parsed.append((record, EventEnvelope.from_kafka(list(record.headers), record.value or b"")))
            except MalformedMessage as error:
                malformed.append((record, describe_error(error)))
        wanted = [(r, e) for r, e in parsed if e.event_type in self.subscription.handlers]
        try:
            async with self.store.session() as session:
                fresh = await session.connection.fetch(
                    "INSERT INTO processed_events (consumer, event_id) SELECT $1, unnest($2::uuid[]) "
                    "ON CONFLICT DO NOTHING RETURNING event_id::text",
                    self.subscription.name,
                    [e.event_id for _, e in wanted],
                )
                pending = {row[0] for row in fresh}
                for record, envelope in wanted:
                    if envelope.event_id not in pending:
                        EVENTS_CONSUMED.labels(self.subscription.name, envelope.event_type, "duplicate").inc()
                        continue
                    pending.discard(envelope.event_id)  # the same event twice in one batch applies once
                    with self._span(record, envelope):
                        await self.subscription.handlers[envelope.event_type](session, envelope)
                    EVENTS_CONSUMED.labels(self.subscription.name, envelope.event_type, "applied").inc()
        except asyncio.CancelledError:
            raise
        except Exception:
            EVENTS_RETRIED.labels(self.subscription.name).inc()
            async with self.store.session() as session:
                for record in records:
                    await self._process_record(session, record)
            return
        for record, reason in malformed:
            await self._dead_letter(record, reason)

    def _span(self, record: ConsumerRecord[bytes, bytes], envelope: EventEnvelope) -> Any:
        traceparent = envelope.metadata.get("traceparent")
        return tracer.start_as_current_span(
            f"consume {envelope.event_type}",
            context=extract({"traceparent": traceparent}) if traceparent else None,
            kind=trace.SpanKind.CONSUMER,
            attributes={"messaging.destination.name": record.topic, "billing.event_id": envelope.event_id},
        )

    async def _process_record(self, session: Session, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            envelope = EventEnvelope.from_kafka(list(record.headers), record.value or b"")
        except MalformedMessage as error:
            await self._dead_letter(record, describe_error(error))
            return
        handler = self.subscription.handlers.get(envelope.event_type)
        if handler is None:
            return
        for attempt in range(1, self.max_attempts + 1):
            try:
                with self._span(record, envelope):
                    async with session.connection.transaction():  # a savepoint per message
                        first_time = await session.connection.fetchval(
                            "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) "
                            "ON CONFLICT DO NOTHING RETURNING true",
                            self.subscription.name,
                            envelope.event_id,
                        )
                        if not first_time:
                            EVENTS_CONSUMED.labels(
                                self.subscription.name, envelope.event_type, "duplicate"
                            ).inc()
                            return
                        await handler(session, envelope)
                EVENTS_CONSUMED.labels(self.subscription.name, envelope.event_type, "applied").inc()
                return
            except Exception as error:
                if attempt < self.max_attempts:
                    EVENTS_RETRIED.labels(self.subscription.name).inc()
                    await asyncio.sleep(self.retry_backoff * attempt)
                    continue
                reason = describe_error(error)
                log.warning(
                    "dead-lettering an event",
                    extra={
                        "consumer": self.subscription.name,
                        "event_id": envelope.event_id,
                        "error": reason,
                    },
                )
                await self._dead_letter(record, reason)
                await session.connection.execute(
                    "INSERT INTO processed_events (consumer, event_id, outcome) "
                    "VALUES ($1, $2, 'dead-lettered') ON CONFLICT DO NOTHING",
                    self.subscription.name,
                    envelope.event_id,
                )

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        assert self._producer is not None
        headers = [
            *list(record.headers),
            ("dlq_reason", reason.encode()),
            ("dlq_consumer", self.subscription.name.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
        ]
        await self._producer.send_and_wait(
            record.topic + DLQ_SUFFIX, record.value, key=record.key, headers=headers
        )
        EVENTS_DEAD_LETTERED.labels(self.subscription.name).inc()


async def replay(
    store: EventStore,
    kafka: KafkaSettings,
    subscription: Subscription,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rebuild a subscription's projection from the beginning of its topics.

    Run it with the subscription's live consumers stopped. Empties the owned tables and the record
    of processed events, applies every event up to the current end of each partition, then commits
    those end offsets for the consumer group so live consumption resumes after them.
    """
    topics = [kafka.topic(s, a) for s, a in subscription.topics]
    await ensure_topics(kafka, topics)
    async with store.session() as session:
        for table in subscription.owned_tables:
            await session.connection.execute(f"TRUNCATE {table}")
        await session.connection.execute(
            "DELETE FROM processed_events WHERE consumer = $1", subscription.name
        )

    reader = AIOKafkaConsumer(
        **kafka.client_options(), group_id=subscription.group_id(kafka), enable_auto_commit=False
    )
    await reader.start()
    try:
        partitions = await topic_partitions(kafka, topics)
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        ends: dict[TopicPartition, int] = await reader.end_offsets(partitions)
        total = sum(ends.values())
        worker = Consumer(store, kafka, subscription)
        worker._producer = AIOKafkaProducer(**kafka.client_options(), enable_idempotence=True, acks="all")
        await worker._producer.start()
        done = 0
        try:
            remaining = {tp for tp, end in ends.items() if end > 0}
            while remaining:
                batches = await reader.getmany(*remaining, timeout_ms=1000, max_records=1000)
                for tp, records in batches.items():
                    records = [r for r in records if r.offset < ends[tp]]
                    if records:
                        await worker._process_batch(records)
                        done += len(records)
                    if await reader.position(tp) >= ends[tp]:
                        remaining.discard(tp)
                if progress:
                    progress(done, total)
        finally:
            await worker._producer.stop()
        if ends:
            await reader.commit(dict(ends))
        return done
    finally:
        await reader.stop()


async def topic_partitions(kafka: KafkaSettings, topics: list[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        for partition in sorted(topic["partitions"], key=lambda p: p["partition"])
    ]


def handlers(*pairs: tuple[type[Any], Handler]) -> dict[str, Handler]:
    """Map contract classes to handlers: handlers((EncounterOpened, on_opened), ...)."""
    return {contract.event_type: handler for contract, handler in pairs}
