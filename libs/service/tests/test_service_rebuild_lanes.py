"""A rebuild applies partitions in lanes side by side: each partition's events stay in their order,
every record before the ends is applied once, and a lane that fails fails the rebuild (no hang)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from billing_events.consumer import Consumer
from billing_service.rebuild import LANES, _read_until


class FakeReader:
    """Hands out each partition's records in slices of three, as getmany does, from `position`."""

    def __init__(self, logs: dict[TopicPartition, int]) -> None:
        self.logs = logs
        self.positions = dict.fromkeys(logs, 0)

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int, max_records: int
    ) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
        await asyncio.sleep(0)
        batches = {}
        for tp in partitions:
            start = self.positions[tp]
            end = min(start + 3, self.logs[tp])
            batches[tp] = [
                ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, None, None, None, 0, 0, [])
                for offset in range(start, end)
            ]
            self.positions[tp] = end
        return batches


class RecordingWorker:
    def __init__(self, fail_on: tuple[str, int, int] | None = None) -> None:
        self.applied: list[tuple[str, int, int]] = []
        self.fail_on = fail_on

    async def _process_batch(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        for record in records:
            await asyncio.sleep(0)  # lanes interleave here, as they do while PostgreSQL answers
            key = (record.topic, record.partition, record.offset)
            if key == self.fail_on:
                raise RuntimeError("the handler failed")
            self.applied.append(key)


def partitions(count: int) -> dict[TopicPartition, int]:
    return {TopicPartition("topic", p): 10 + p for p in range(count)}


async def test_every_record_before_the_ends_applies_once_and_in_its_partitions_order() -> None:
    logs = partitions(LANES + 2)  # more partitions than lanes: some lanes carry two
    reader, worker = FakeReader(logs), RecordingWorker()
    ends = {tp: length - 2 for tp, length in logs.items()}  # records past the ends stay unapplied
    counted: list[int] = []

    await _read_until(cast(AIOKafkaConsumer, reader), cast(Consumer, worker), ends, counted.append)

    for tp, end in ends.items():
        offsets = [o for topic, p, o in worker.applied if (topic, p) == (tp.topic, tp.partition)]
        assert offsets == list(range(end))
    assert sum(counted) == len(worker.applied) == sum(ends.values())


async def test_a_lane_that_fails_fails_the_rebuild_with_its_own_error() -> None:
    logs = partitions(LANES)
    reader, worker = FakeReader(logs), RecordingWorker(fail_on=("topic", 1, 4))
    noted: list[Any] = []

    with pytest.raises(RuntimeError, match="the handler failed"):
        await asyncio.wait_for(
            _read_until(cast(AIOKafkaConsumer, reader), cast(Consumer, worker), dict(logs), noted.append),
            timeout=10,
        )
    assert ("topic", 1, 4) not in worker.applied
