"""The outbox relay: publishes a service's log to Kafka in position order, exactly as committed.

A record counts as published only after the broker acknowledged it (idempotent producer, acks=all);
then the checkpoint advances in PostgreSQL. A crash between the two republishes the tail, and the
consumers' de-duplication absorbs it. One relay per service holds an advisory lock; others wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaProducer

from billing_events.kafka import KafkaSettings, ensure_topics, service_topics
from billing_events.log_guard import LogBehindTopics, PublishedMark, check_log_not_behind, last_published
from billing_events.metrics import EVENTS_PUBLISHED, RELAY_LAG, RELAY_LOG_BEHIND
from billing_events.store import EventStore, keeps_session_state

log = logging.getLogger(__name__)

_LEADER_LOCK = 72_100_002


class Relay:
    def __init__(
        self,
        store: EventStore,
        kafka: KafkaSettings,
        *,
        batch_size: int = 1000,
        idle_wait: float = 0.5,
        linger: float = 0.02,
        checkpoint_name: str = "kafka",
    ) -> None:
        self.store = store
        self.kafka = kafka
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self.linger = linger
        self.checkpoint_name = checkpoint_name
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        # The last event the broker confirmed: the log must still hold it (billing_events.log_guard).
        self._published: PublishedMark | None = None
        # The checkpoint as this relay last saved it: while it leads, nothing else moves it, so a
        # pass does not read it back. None: read it from the database (at start, on taking the lead).
        self._checkpoint: int | None = None

    async def checkpoint(self) -> int:
        async with self.store.pool.acquire() as connection:
            value = await connection.fetchval(
                "SELECT position FROM relay_checkpoint WHERE name = $1", self.checkpoint_name
            )
        return int(value or 0)

    async def _save_checkpoint(self, position: int) -> None:
        async with self.store.pool.acquire() as connection:
            await connection.execute(
                "INSERT INTO relay_checkpoint (name, position) VALUES ($1, $2) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                self.checkpoint_name,
                position,
            )

    async def start(self) -> None:
        await ensure_topics(
            self.kafka, [self.kafka.topic(s, a) for s, a in service_topics(self.store.source)]
        )
        self._producer = AIOKafkaProducer(
            **self.kafka.client_options(),
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
            max_batch_size=256 * 1024,
        )
        await self._producer.start()
        self._published = await last_published(self.kafka, self.store.source)

    async def _refuse_if_log_behind(self, checkpoint: int) -> None:
        """Check the log against what the broker confirmed (one round trip: the head and the event at
        the mark), and report the backlog this pass starts with."""
        mark = self._published
        async with self.store.pool.acquire() as connection:
            row = await connection.fetchrow(
                "SELECT (SELECT position FROM event_log_head) AS head, "
                "(SELECT event_id::text FROM events WHERE position = $1) AS at_mark",
                mark.position if mark else 0,
            )
        assert row is not None
        head = int(row["head"])
        at_mark = row["at_mark"] if mark and mark.position <= head else None
        try:
            check_log_not_behind(self.store.source, head, checkpoint, mark, at_mark)
        except LogBehindTopics:
            RELAY_LOG_BEHIND.labels(self.store.source).set(1)
            raise
        RELAY_LOG_BEHIND.labels(self.store.source).set(0)
        RELAY_LAG.labels(self.store.source).set(max(0, head - checkpoint))

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish_pending(self) -> int:
        """Publish everything after the checkpoint; return how many events were confirmed."""
        assert self._producer is not None, "start() the relay first"
        published = 0
        position = self._checkpoint if self._checkpoint is not None else await self.checkpoint()
        await self._refuse_if_log_behind(position)
        while True:
            envelopes = await self.store.read_all(after=position, limit=self.batch_size)
            if not envelopes:
                break
            futures = [
                await self._producer.send(
                    envelope.topic(self.kafka.topic_prefix),
                    envelope.value(),
                    key=envelope.stream_id.encode(),
                    headers=envelope.headers(),
                )
                for envelope in envelopes
            ]
            await asyncio.gather(*futures)
            position = int(envelopes[-1].position or position)
            self._published = PublishedMark(position, envelopes[-1].event_id)
            await self._save_checkpoint(position)
            self._checkpoint = position
            published += len(envelopes)
            EVENTS_PUBLISHED.labels(self.store.source).inc(len(envelopes))
            if len(envelopes) < self.batch_size:
                break  # caught up with what was committed: the next NOTIFY starts the next pass
        return published

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set, woken by NOTIFY from appends and polling as a fallback."""
        async with self.store.pool.acquire() as lock_connection:
            keeps_session_state(lock_connection)  # the leader lock and LISTEN: fully reset on release
            while not await lock_connection.fetchval("SELECT pg_try_advisory_lock($1)", _LEADER_LOCK):
                if await _wait(stop, 2.0):
                    return
            await lock_connection.add_listener("billing_events", self._on_notify)
            self._checkpoint = None  # the relay that led before may have moved it
            await self.start()
            try:
                while not stop.is_set():
                    # Woken by one commit, wait a moment for the commits right behind it: one pass
                    # (three round trips and a produce request) then carries them all, and every
                    # consumer downstream receives them in one poll and one transaction. It adds
                    # `linger` to each hop's latency; in the e2e bench at 30/s it made the difference
                    # between keeping up (21.6 of 23.8 insured/s) and falling behind (9.4).
                    if await _wait(stop, self.linger):
                        break
                    # Cleared before the pass, not after: an append that commits (and NOTIFYs) while
                    # this pass publishes wakes the next pass at once instead of after idle_wait.
                    self._wake.clear()
                    try:
                        await self.publish_pending()
                    except LogBehindTopics as error:
                        log.critical("%s", error, extra={"service": self.store.source})
                        await _wait(stop, 30.0)
                    except Exception:
                        log.exception("relay pass failed; retrying", extra={"service": self.store.source})
                        await _wait(stop, 1.0)
                    if self._wake.is_set():
                        continue
                    waiter = asyncio.ensure_future(self._wake.wait())
                    stopper = asyncio.ensure_future(stop.wait())
                    await asyncio.wait(
                        {waiter, stopper}, timeout=self.idle_wait, return_when=asyncio.FIRST_COMPLETED
                    )
                    for task in (waiter, stopper):
                        task.cancel()
            finally:
                await self.stop()
                with contextlib.suppress(Exception):
                    await lock_connection.remove_listener("billing_events", self._on_notify)
                await lock_connection.execute("SELECT pg_advisory_unlock($1)", _LEADER_LOCK)


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True
