"""Consumers: projections and policies fed from Kafka, each effect exactly once.

Offsets are committed by hand, only after the PostgreSQL transaction that applied the messages and
recorded their event ids committed; a redelivered event finds its id recorded and changes nothing.
A message that still fails after bounded retries goes to `<topic>.dlq` with the error type and
original headers, and the partition moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from opentelemetry import trace
from opentelemetry.propagate import extract
from pydantic import ValidationError

from billing_events.contracts.base import UnknownEventType
from billing_events.envelope import EventEnvelope, MalformedMessage
from billing_events.errors import VersionConflict
from billing_events.kafka import DLQ_SUFFIX, KafkaSettings, ensure_topics
from billing_events.metrics import (
    CONSUMER_LAG,
    DEAD_LETTERS,
    EVENTS_CONSUMED,
    EVENTS_DEAD_LETTERED,
    EVENTS_RETRIED,
)
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
    # What an event's handler must not run beside (another consumer of the service writing what it
    # reads): taken by the consumer before the handler, see take_locks.
    locks: Callable[[EventEnvelope], Sequence[Lock]] | None = None

    def group_id(self, kafka: KafkaSettings) -> str:
        return f"{kafka.topic_prefix}billing.{self.name}"

    async def take_locks(self, session: Session, envelopes: Sequence[EventEnvelope]) -> None:
        """Every lock the events' handlers need, before the first of them runs: one round trip, and
        one order (by name) for every consumer, so two batches that need the same patient wait for
        each other and never deadlock, whatever order their events came in."""
        if self.locks is None:
            return
        shared: dict[str, bool] = {}
        for envelope in envelopes:
            for lock in self.locks(envelope):
                shared[lock.name] = shared.get(lock.name, True) and lock.shared
        await session.serialize_all(sorted(shared.items()))


@dataclass(frozen=True)
class Lock:
    """A name transactions serialise on (Session.serialize). A shared lock runs beside other shared
    holders of the name, never beside an exclusive one."""

    name: str
    shared: bool = False


def tenant_scoped(scope: str, tenant: str, key: object) -> list[Lock]:
    """The locks of one thing of a tenant (`key`, a patient): its own, exclusive, and the tenant's,
    shared, so a change that concerns the whole tenant (a payer registered: every patient's claims
    may wait on it) runs alone, while two patients' events run side by side. Without a key (None,
    or a payload's value that is not a string): the tenant's, exclusive."""
    if not isinstance(key, str):
        return [Lock(f"{scope}:{tenant}")]
    return [Lock(f"{scope}:{tenant}", shared=True), Lock(f"{scope}:{tenant}:{key}")]


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


# Errors that say "not now" rather than "never": the database or the broker is away, another writer
# won a race, or the event is of a contract version this consumer does not know yet (a rolling
# upgrade). They are retried with backoff and never dead-lettered: dead-lettering them would lose a
# payment that a later try would have posted.
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300"}


def is_transient(error: BaseException) -> bool:
    if isinstance(error, TransientFailure | VersionConflict | UnknownEventType):
        return True
    if isinstance(error, OSError | TimeoutError | asyncio.TimeoutError | KafkaError):
        return True
    if isinstance(error, asyncpg.PostgresConnectionError | asyncpg.InterfaceError):
        return True
    return (
        isinstance(error, asyncpg.PostgresError) and getattr(error, "sqlstate", None) in _TRANSIENT_SQLSTATES
    )


class TransientFailure(Exception):
    """A poll that must be taken again later, whole; its records were neither applied nor dead-lettered."""


def error_fields(error: BaseException) -> list[str]:
    """Field locations an error names (validation errors), for the dead-letter list; never values."""
    if isinstance(error, ValidationError):
        return [".".join(str(p) for p in e["loc"]) for e in error.errors(include_input=False)]
    return []


@dataclass(frozen=True)
class DeadLetter:
    consumer: str
    event_id: str
    event_type: str
    topic: str
    partition: int
    offset: int
    error_class: str
    reason: str
    dead_lettered_at: datetime
    redriven_at: datetime | None


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
        max_backoff: float = 30.0,
        commit_interval: float = 1.0,
        fetch_max_wait_ms: int = 1000,
    ) -> None:
        self.store = store
        self.kafka = kafka
        self.subscription = subscription
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.max_records = max_records
        self.max_backoff = max_backoff
        self.commit_interval = commit_interval
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self._failures = 0
        # Offsets applied in PostgreSQL but not yet committed to Kafka, and when they last were.
        self._pending_offsets: dict[TopicPartition, int] = {}
        self._last_commit = 0.0
        self.topics = [kafka.topic(s, a) for s, a in subscription.topics]
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self.ready = asyncio.Event()

    async def start(self) -> None:
        await ensure_topics(self.kafka, self.topics + [t + DLQ_SUFFIX for t in self.topics])
        await refresh_dead_letter_gauge(self.store, self.subscription)
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
            # A long poll: the broker answers a fetch as soon as a record is there (fetch_min_bytes=1),
            # so the wait cap costs no latency; it only bounds how often a quiet consumer asks. aiokafka
            # sends full fetch requests (no incremental fetch sessions), each naming every assigned
            # partition, so an empty fetch is not free: at a 200 ms cap the platform's idle consumers
            # cost the broker about 190 ms of CPU a second, a tenth of this box, for nothing.
            fetch_min_bytes=1,
            fetch_max_wait_ms=self.fetch_max_wait_ms,
        )
        await self._consumer.start()

    async def stop(self) -> None:
        if self._consumer is not None:
            with contextlib.suppress(KafkaError, OSError):
                await self._commit_pending()
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
        """Apply one poll's records of every assigned partition in one transaction, then commit their
        offsets (never before the database committed; see _commit_pending for how often)."""
        assert self._consumer is not None
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=self.max_records)
        if self._consumer.assignment():
            self.ready.set()
        batches = {partition: records for partition, records in batches.items() if records}
        if not batches:
            await self._commit_pending(due_only=True)
            return 0
        records = [record for partition_records in batches.values() for record in partition_records]
        try:
            await self._process_batch(records)
        except Exception as error:
            # The database or broker failed under the whole poll, or an event met a transient error:
            # nothing was committed, so rewind every partition and take the same records again, later
            # each time (capped), until it goes through.
            cause = error.__cause__ if isinstance(error, TransientFailure) and error.__cause__ else error
            self._failures += 1
            delay = min(self.retry_backoff * 2 ** (self._failures - 1), self.max_backoff)
            log.warning(
                "poll failed, rewinding",
                extra={
                    "consumer": self.subscription.name,
                    "error": describe_error(cause),
                    "retry_in_s": round(delay, 2),
                },
            )
            # Only partitions still ours: a rebalance (another replica joining or leaving) may have
            # taken some meanwhile, and their new owner starts from the committed offset anyway.
            assigned = self._consumer.assignment()
            for partition, partition_records in batches.items():
                if partition in assigned:
                    self._consumer.seek(partition, partition_records[0].offset)
            await asyncio.sleep(delay)
            return 0
        self._failures = 0
        for partition, taken in batches.items():
            self._pending_offsets[partition] = taken[-1].offset + 1
        await self._commit_pending(due_only=True)
        assigned = self._consumer.assignment()
        for partition, partition_records in batches.items():
            if partition not in assigned:
                continue
            highwater = self._consumer.highwater(partition)
            if highwater is not None:
                CONSUMER_LAG.labels(self.subscription.name, partition.topic).set(
                    max(0, highwater - partition_records[-1].offset - 1)
                )
        return len(records)

    async def _commit_pending(self, *, due_only: bool = False) -> None:
        """Commit the offsets of what PostgreSQL already applied: at most once per `commit_interval`
        under load (an offset commit is a broker request and a write to its offsets log; one per
        poll cost invoicing 7% of its CPU), and at once when stopping.

        Committing late is safe, never lossy: a record applied but not yet committed comes again after
        a crash or a rebalance, finds its event id in processed_events, and changes nothing."""
        assert self._consumer is not None
        if not self._pending_offsets:
            return
        now = time.monotonic()
        if due_only and now - self._last_commit < self.commit_interval:
            return
        # Only partitions still ours: a rebalance may have moved some, and their new owner starts
        # from the committed offset and skips what this replica applied as duplicates.
        assigned = self._consumer.assignment()
        offsets = {tp: offset for tp, offset in self._pending_offsets.items() if tp in assigned}
        self._pending_offsets = {}
        self._last_commit = now
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as error:
            # The group rebalanced while the batch was applied: the database has it (processed_events),
            # so the partition's new owner receives it again and skips it as a duplicate.
            log.info(
                "offsets not committed after a rebalance",
                extra={"consumer": self.subscription.name, "error": type(error).__name__},
            )

    def _wanted(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        """Whether the subscription handles the record's event type, read from its `ce_type` header
        without parsing the payload. A record without a readable header is parsed (and dead-lettered
        as malformed); types the subscription does not handle cost nothing more."""
        for key, value in record.headers:
            if key == "ce_type":
                parts = value.decode("utf-8", "replace").split(".")
                return len(parts) != 4 or parts[2] in self.subscription.handlers
        return True

    async def _process_batch(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """Fast path: the whole batch in one transaction with one de-duplication query. If anything
        fails, that transaction rolls back and the batch is redone message by message (slow path).
        Records of types the subscription does not handle are skipped before they are parsed, and a
        batch with nothing to handle opens no transaction at all."""
        records = [record for record in records if self._wanted(record)]
        if not records:
            return
        parsed: list[tuple[ConsumerRecord[bytes, bytes], EventEnvelope]] = []
        malformed: list[tuple[ConsumerRecord[bytes, bytes], str]] = []
        for record in records:
            try:
                parsed.append((record, EventEnvelope.from_kafka(list(record.headers), record.value or b"")))
            except MalformedMessage as error:
                malformed.append((record, describe_error(error)))
        wanted = [(r, e) for r, e in parsed if e.event_type in self.subscription.handlers]
        try:
            if wanted:
                await self._apply(wanted)
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

    async def _apply(self, wanted: list[tuple[ConsumerRecord[bytes, bytes], EventEnvelope]]) -> None:
        async with self.store.session() as session:
            fresh = await session.connection.fetch(
                "INSERT INTO processed_events (consumer, event_id) SELECT $1, unnest($2::uuid[]) "
                "ON CONFLICT DO NOTHING RETURNING event_id::text",
                self.subscription.name,
                [e.event_id for _, e in wanted],
            )
            pending = {row[0] for row in fresh}
            # Counted per batch and type: a labelled counter's lookup per event cost more than some
            # handlers (measured in a projection rebuild).
            counted: Counter[tuple[str, str]] = Counter()
            traced = self._traced()
            await self.subscription.take_locks(
                session, [envelope for _, envelope in wanted if envelope.event_id in pending]
            )
            for record, envelope in wanted:
                if envelope.event_id not in pending:
                    counted[envelope.event_type, "duplicate"] += 1
                    continue
                pending.discard(envelope.event_id)  # the same event twice in one batch applies once
                with self._span(record, envelope) if traced else contextlib.nullcontext():
                    await self.subscription.handlers[envelope.event_type](session, envelope)
                counted[envelope.event_type, "applied"] += 1
        # After the commit: what a rolled-back batch applied was not applied.
        for (event_type, outcome), count in counted.items():
            EVENTS_CONSUMED.labels(self.subscription.name, event_type, outcome).inc(count)

    @staticmethod
    def _traced() -> bool:
        # No tracing configured (a tool, a benchmark): the API's no-op span would carry no context
        # anyway, and it cost 10-15% of a projection's time per event, measured.
        return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)

    def _span(self, record: ConsumerRecord[bytes, bytes], envelope: EventEnvelope) -> Any:
        if not self._traced():
            return contextlib.nullcontext()
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
                    async with session.savepoint():  # one per message
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
                        await self.subscription.take_locks(session, [envelope])
                        await handler(session, envelope)
                EVENTS_CONSUMED.labels(self.subscription.name, envelope.event_type, "applied").inc()
                return
            except Exception as error:
                if is_transient(error):
                    raise TransientFailure(describe_error(error)) from error
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
                # Recorded as dead, not as processed: a redrive after the fix applies it exactly once.
                await session.connection.execute(
                    "INSERT INTO dead_letters (consumer, event_id, event_type, topic, kafka_partition, "
                    "kafka_offset, error_class, reason, headers, value) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                    self.subscription.name,
                    envelope.event_id,
                    envelope.event_type,
                    record.topic,
                    record.partition,
                    record.offset,
                    type(error).__name__,
                    "; ".join([reason, *error_fields(error)]) if error_fields(error) else reason,
                    [[key, value.decode("utf-8", "replace")] for key, value in record.headers],
                    record.value or b"",
                )
                DEAD_LETTERS.labels(self.subscription.name).inc()

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


async def dead_letters(store: EventStore, consumer: str | None = None) -> list[DeadLetter]:
    """Dead-lettered events not yet redriven, oldest first (no payloads: type, error, place)."""
    async with store.pool.acquire() as connection:
        rows = await connection.fetch(
            "SELECT consumer, event_id::text, event_type, topic, kafka_partition, kafka_offset, error_class, "
            "reason, dead_lettered_at, redriven_at FROM dead_letters "
            "WHERE redriven_at IS NULL AND ($1::text IS NULL OR consumer = $1) "
            "ORDER BY dead_lettered_at, consumer, event_id",
            consumer,
        )
    return [DeadLetter(*row) for row in rows]


@dataclass(frozen=True)
class RedriveResult:
    applied: int
    already_processed: int
    still_failing: list[tuple[str, str]]  # (event id, reason)


async def redrive(
    store: EventStore, subscription: Subscription, event_id: str | None = None
) -> RedriveResult:
    """Apply a subscription's dead-lettered events again (after a fix), each exactly once: the same
    processed_events record as live consumption guards it, in the same transaction as its effects."""
    async with store.pool.acquire() as connection:
        rows = await connection.fetch(
            "SELECT event_id::text, headers, value FROM dead_letters WHERE consumer = $1 "
            "AND redriven_at IS NULL AND ($2::uuid IS NULL OR event_id = $2::uuid) "
            "ORDER BY dead_lettered_at, event_id",
            subscription.name,
            event_id,
        )
    applied, already, failing = 0, 0, []
    for row in rows:
        headers = [(key, value.encode()) for key, value in row["headers"]]
        try:
            envelope = EventEnvelope.from_kafka(headers, bytes(row["value"]))
            async with store.session() as session:
                fresh = await session.connection.fetchval(
                    "INSERT INTO processed_events (consumer, event_id, outcome) VALUES ($1, $2, 'redriven') "
                    "ON CONFLICT DO NOTHING RETURNING true",
                    subscription.name,
                    envelope.event_id,
                )
                if fresh:
                    handler = subscription.handlers.get(envelope.event_type)
                    if handler is not None:
                        await subscription.take_locks(session, [envelope])
                        await handler(session, envelope)
                await session.connection.execute(
                    "UPDATE dead_letters SET redriven_at = now() WHERE consumer = $1 AND event_id = $2",
                    subscription.name,
                    envelope.event_id,
                )
            applied += bool(fresh)
            already += not fresh
            DEAD_LETTERS.labels(subscription.name).dec()
        except Exception as error:
            failing.append((row["event_id"], describe_error(error)))
    return RedriveResult(applied, already, failing)


async def refresh_dead_letter_gauge(store: EventStore, subscription: Subscription) -> None:
    async with store.pool.acquire() as connection:
        count = await connection.fetchval(
            "SELECT count(*) FROM dead_letters WHERE consumer = $1 AND redriven_at IS NULL", subscription.name
        )
    DEAD_LETTERS.labels(subscription.name).set(count or 0)


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
