"""Locks a subscription declares: two patients' events run side by side, one patient's wait for each
other, a tenant-wide event waits for every patient's, and batches taking the same locks in different
event orders never deadlock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest

from billing_events.consumer import Lock, Subscription, tenant_scoped
from billing_events.envelope import EventEnvelope
from billing_events.store import EventStore, create_pool

SCOPE = "test:reference"


def envelope(patient_id: str | None, tenant: str = "t1") -> EventEnvelope:
    return EventEnvelope(
        event_id="00000000-0000-0000-0000-000000000001",
        event_type="CoverageAdded" if patient_id else "PayerRegistered",
        version=1,
        source="registration",
        stream_id=patient_id or "payer",
        tenant=tenant,
        occurred_at=datetime.now(UTC),
        payload={"patient_id": patient_id} if patient_id else {},
    )


def by_patient(envelope: EventEnvelope) -> list[Lock]:
    return tenant_scoped(SCOPE, envelope.tenant, envelope.payload.get("patient_id"))


SUBSCRIPTION = Subscription(name="locks", topics=[], handlers={}, locks=by_patient)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    pool = await create_pool(database_url, max_size=10)
    yield EventStore(pool, "registration")
    await pool.close()


async def holds_then_waits(
    store: EventStore, first: Sequence[EventEnvelope], second: Sequence[EventEnvelope]
) -> bool:
    """Whether a batch of `second` waits while a batch of `first` holds its locks."""
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with store.session() as session:
            await SUBSCRIPTION.take_locks(session, first)
            holding.set()
            await release.wait()

    async def take() -> None:
        await holding.wait()
        async with store.session() as session:
            await SUBSCRIPTION.take_locks(session, second)

    held = asyncio.create_task(hold())
    taken = asyncio.create_task(take())
    await holding.wait()
    await asyncio.sleep(0.3)
    waited = not taken.done()
    release.set()
    await asyncio.wait_for(asyncio.gather(held, taken), timeout=5)
    return waited


async def test_two_patients_events_run_side_by_side(store: EventStore) -> None:
    assert not await holds_then_waits(store, [envelope("pat-1")], [envelope("pat-2")])


async def test_one_patients_events_wait_for_each_other(store: EventStore) -> None:
    assert await holds_then_waits(store, [envelope("pat-1")], [envelope("pat-1")])


async def test_a_tenant_wide_event_waits_for_a_patients_and_a_patients_for_it(store: EventStore) -> None:
    assert await holds_then_waits(store, [envelope("pat-1")], [envelope(None)])
    assert await holds_then_waits(store, [envelope(None)], [envelope("pat-2")])


async def test_another_tenants_events_do_not_wait(store: EventStore) -> None:
    assert not await holds_then_waits(store, [envelope(None, tenant="t1")], [envelope(None, tenant="t2")])


async def test_one_exclusive_event_in_a_batch_makes_the_tenant_lock_exclusive(store: EventStore) -> None:
    # A patient's event first, then the payer's: the tenant's lock is taken exclusive at once, never
    # shared and then upgraded while another shared holder waits on this batch's patient.
    assert await holds_then_waits(store, [envelope("pat-1"), envelope(None)], [envelope("pat-2")])


async def test_batches_with_the_same_patients_in_opposite_orders_both_commit(store: EventStore) -> None:
    patients = [envelope(f"pat-{n}") for n in range(20)]

    async def batch(events: Sequence[EventEnvelope]) -> None:
        async with store.session() as session:
            await SUBSCRIPTION.take_locks(session, events)
            await asyncio.sleep(0.05)

    # Locks taken in event order would deadlock here (PostgreSQL cancels one after a second).
    await asyncio.wait_for(
        asyncio.gather(*(batch(patients if n % 2 else patients[::-1]) for n in range(6))), timeout=5
    )
