"""The relay's guard against a log that lost events it had already published.

Positions are gap-free and the relay publishes them in order, so what Kafka holds is a prefix of the
log. If PostgreSQL ever loses committed events (a crash of a non-durable cluster, a restore from an
older backup), the log's head falls behind what the topics carry, and the next appends would be handed
the lost positions: the topics would then carry two different events under one position, and every
downstream service would already have acted on facts the source of truth no longer has.

So the relay remembers the last event the broker confirmed (at start it reads it back from the
topics), and before every pass checks that the log still holds that very event (same position, same
event id) and that neither its checkpoint nor that event is ahead of the log's head. If not, it
refuses to publish anything more: a critical log, the metric `billing_relay_log_behind_topics` set to
1, and an error naming the positions. Recovery is an operator's task (restore the log from the topics
or a backup); positions are never reused.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from billing_events.kafka import KafkaSettings, service_topics


@dataclass(frozen=True)
class PublishedMark:
    """The highest position the broker confirmed, and the id of the event published there."""

    position: int
    event_id: str


class LogBehindTopics(RuntimeError):
    """The log lost events that were already published: publishing on would reuse positions."""

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(
            f"{service}: the event log is behind what was already published ({detail}); the relay "
            "refuses to publish so that no position is ever reused. Restore the lost events (from "
            "the topics or a backup) before restarting; see docs/architecture.md, 'Log behind topics'."
        )
        self.service = service
        self.detail = detail


def check_log_not_behind(
    service: str, head: int, checkpoint: int, mark: PublishedMark | None, event_id_at_mark: str | None
) -> None:
    """Raise LogBehindTopics when the checkpoint or the last published event is not in the log."""
    if checkpoint > head:
        raise LogBehindTopics(service, f"relay checkpoint {checkpoint} > log head {head}")
    if mark is None:
        return
    if mark.position > head:
        raise LogBehindTopics(service, f"last published position {mark.position} > log head {head}")
    if event_id_at_mark != mark.event_id:
        raise LogBehindTopics(
            service, f"position {mark.position} holds another event than the one published there"
        )


async def last_published(kafka: KafkaSettings, service: str, timeout: float = 15.0) -> PublishedMark | None:
    """The highest-position event on the service's topics (the last record of each partition)."""
    topics = [kafka.topic(s, a) for s, a in service_topics(service)]
    if not topics:
        return None
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = [
        TopicPartition(str(topic["topic"]), int(p["partition"]))
        for topic in described
        if topic["error_code"] == 0
        for p in topic["partitions"]
    ]
    if not partitions:
        return None
    consumer = AIOKafkaConsumer(**kafka.client_options(), enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        waiting = {tp for tp in partitions if ends[tp] > starts[tp]}
        for tp in waiting:
            consumer.seek(tp, ends[tp] - 1)
        for tp in set(partitions) - waiting:
            consumer.pause(tp)
        best: PublishedMark | None = None
        deadline = time.monotonic() + timeout
        while waiting:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read the last records of {sorted(map(str, waiting))}")
            batches = await consumer.getmany(*waiting, timeout_ms=500)
            for tp, records in batches.items():
                for record in records:
                    headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}
                    position, event_id = headers.get("ce_position"), headers.get("ce_id")
                    if not (position and position.isascii() and position.isdigit() and event_id):
                        continue
                    if best is None or int(position) > best.position:
                        best = PublishedMark(int(position), event_id)
                if records and records[-1].offset >= ends[tp] - 1:
                    waiting.discard(tp)
                    consumer.pause(tp)
            await asyncio.sleep(0)
        return best
    finally:
        await consumer.stop()
