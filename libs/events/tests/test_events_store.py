"""The event store against a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from billing_events.contracts.registration import PayerRegistered
from billing_events.decider import Decider, execute
from billing_events.envelope import EventEnvelope, Metadata
from billing_events.store import (
    EventStore,
    EventTooLarge,
    Session,
    VersionConflict,
    create_pool,
    keeps_session_state,
)

META = Metadata(tenant="acme", actor="admin-1")


def payer(name: str) -> PayerRegistered:
    return PayerRegistered(
        payer_id=str(uuid.uuid4()), name=name, edi_payer_id="12345", claim_filing_indicator="CI"
    )


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    pool = await create_pool(database_url, max_size=20)
    event_store = EventStore(pool, "registration")
    await event_store.setup()
    yield event_store
    await pool.close()


async def test_concurrent_appends_at_the_same_version_let_exactly_one_win(store: EventStore) -> None:
    stream = str(uuid.uuid4())
    await store.append(stream, "payer", 0, [payer("first")], META)

    results = await asyncio.gather(
        *(store.append(stream, "payer", 1, [payer(f"racer {i}")], META) for i in range(8)),
        return_exceptions=True,
    )

    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, VersionConflict)]
    assert len(winners) == 1
    assert len(losers) == 7
    assert [e.stream_version for e in await store.load(stream)] == [1, 2]


async def test_an_append_that_waited_for_the_head_while_its_stream_grew_conflicts_or_goes_after(
    store: EventStore,
) -> None:
    """billing_append reads the stream's version before it waits for the log's head: the version an
    append checked can be gone when it gets the head. With an expected version it is a conflict; with
    none, the events go after whatever the stream holds by then, and the chain stays whole."""
    stream = str(uuid.uuid4())
    async with store.pool.acquire() as holder, holder.transaction():
        await Session(holder, "registration").append(stream, "payer", 0, [payer("first")], META)
        expecting = asyncio.create_task(store.append(stream, "payer", 0, [payer("late")], META))
        anywhere = asyncio.create_task(store.append(stream, "payer", None, [payer("after")], META))
        await asyncio.sleep(0.3)  # both read version 0 and wait for the head this transaction holds
        assert not expecting.done() and not anywhere.done()
    with pytest.raises(VersionConflict):
        await expecting
    await anywhere
    stored = await store.load(stream)
    assert [(e.stream_version, e.payload["name"]) for e in stored] == [(1, "first"), (2, "after")]
    assert (await store.verify_chain()).intact


async def test_a_stale_or_premature_expected_version_is_a_conflict(store: EventStore) -> None:
    stream = str(uuid.uuid4())
    await store.append(stream, "payer", 0, [payer("a"), payer("b")], META)
    with pytest.raises(VersionConflict):
        await store.append(stream, "payer", 1, [payer("c")], META)
    with pytest.raises(VersionConflict):
        await store.append(stream, "payer", 5, [payer("c")], META)
    assert len(await store.load(stream)) == 2


async def test_positions_are_gap_free_and_read_in_order_even_after_rolled_back_appends(
    store: EventStore,
) -> None:
    streams = [str(uuid.uuid4()) for _ in range(20)]
    await asyncio.gather(*(store.append(s, "payer", 0, [payer("x"), payer("y")], META) for s in streams))

    async def append_then_fail() -> None:
        async with store.session() as session:
            await session.append(str(uuid.uuid4()), "payer", 0, [payer("rolled back")], META)
            raise RuntimeError("the command failed after appending")

    with pytest.raises(RuntimeError):
        await append_then_fail()
    await store.append(str(uuid.uuid4()), "payer", 0, [payer("last")], META)

    everything = await store.read_all(after=0, limit=10_000)
    assert [e.position for e in everything] == list(range(1, 42))
    assert [e.position for e in await store.read_all(after=39)] == [40, 41]
    assert everything[-1].event().name == "last"  # type: ignore[attr-defined]


async def test_the_database_refuses_updates_and_deletes_of_events(store: EventStore) -> None:
    await store.append(str(uuid.uuid4()), "payer", 0, [payer("kept")], META)
    async with store.pool.acquire() as connection:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("UPDATE events SET tenant = 'other'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("DELETE FROM events")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("TRUNCATE events")
        assert await connection.fetchval("SELECT tenant FROM events") == "acme"


async def test_verify_names_the_first_event_altered_behind_the_stores_back(store: EventStore) -> None:
    for i in range(5):
        await store.append(str(uuid.uuid4()), "payer", 0, [payer(f"payer {i}")], META)
    assert (await store.verify_chain()).intact
    async with store.pool.acquire() as connection:
        await connection.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        await connection.execute(
            "UPDATE events SET payload = jsonb_set(payload, '{name}', '\"forged\"') WHERE position = 3"
        )
        await connection.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")

    report = await store.verify_chain()

    assert report.first_broken_position == 3
    assert report.checked == 2


async def test_serialized_sessions_see_what_the_other_committed(store: EventStore) -> None:
    async with store.pool.acquire() as connection:
        await connection.execute("CREATE TABLE coverages (id int)")
    first_holds_the_lock = asyncio.Event()
    release_first = asyncio.Event()

    async def writer() -> None:
        async with store.session() as session:
            await session.serialize("coverages")
            await session.connection.execute("INSERT INTO coverages VALUES (1)")
            first_holds_the_lock.set()
            await release_first.wait()

    async def reader() -> int:
        await first_holds_the_lock.wait()
        async with store.session() as session:
            await session.serialize("coverages")
            return int(await session.connection.fetchval("SELECT count(*) FROM coverages"))

    writing = asyncio.create_task(writer())
    reading = asyncio.create_task(reader())
    await first_holds_the_lock.wait()
    await asyncio.sleep(0.2)
    assert not reading.done()  # waits for the writer's transaction to end
    release_first.set()
    await writing
    assert await reading == 1


async def test_services_starting_together_create_a_shared_database_once(database_server_url: str) -> None:
    from billing_events.store import ensure_database
    from billing_testing.plugin import database_url_for

    name = f"t_shared_{uuid.uuid4().hex[:10]}"
    url = database_url_for(database_server_url, name)
    await asyncio.gather(*(ensure_database(url) for _ in range(6)))
    admin = await asyncpg.connect(database_server_url)
    try:
        assert await admin.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name) == 1
        await admin.execute(f'DROP DATABASE "{name}"')
    finally:
        await admin.close()


async def test_an_event_too_large_for_one_kafka_message_is_refused_before_it_reaches_the_log(
    store: EventStore,
) -> None:
    stream = str(uuid.uuid4())
    huge = payer("x" * (600 * 1024))
    with pytest.raises(EventTooLarge, match="PayerRegistered"):
        await store.append(stream, "payer", 0, [huge], META)
    assert await store.load(stream) == []


async def test_a_pooled_connection_that_took_session_state_is_fully_reset_on_release(
    database_url: str,
) -> None:
    # Pool connections skip asyncpg's reset query, except those marked (the relay's leader lock).
    pool = await create_pool(database_url, max_size=1)
    try:
        async with pool.acquire() as connection:
            keeps_session_state(connection)  # a pool proxy, as the relay holds
            assert await connection.fetchval("SELECT pg_try_advisory_lock(4242)")
        async with pool.acquire() as connection:  # the same single connection, back from the pool
            held = await connection.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            )
        assert held == 0
    finally:
        await pool.close()


async def test_a_replica_starting_beside_a_busy_one_does_not_lock_the_tables_it_already_has(
    store: EventStore,
) -> None:
    """The schema is applied again only when it changed: a restarting replica's `setup` must not wait
    for (or deadlock with) a running replica's open transaction on the same tables."""
    extra = (
        "CREATE TABLE IF NOT EXISTS busy (id int PRIMARY KEY);\n"
        "ALTER TABLE busy ADD COLUMN IF NOT EXISTS note text;"
    )
    await store.setup(extra)
    async with store.pool.acquire() as running, running.transaction():
        await running.execute("INSERT INTO busy (id) VALUES (1)")  # holds a lock on busy until the end
        # The same schema: nothing to do, at once (ALTER TABLE would have waited for `running`).
        await asyncio.wait_for(store.setup(extra), timeout=3)
        # A changed schema must wait for the table, so it is not applied while `running` holds it.
        changed = asyncio.create_task(
            store.setup(extra + "\nALTER TABLE busy ADD COLUMN IF NOT EXISTS more int;")
        )
        await asyncio.sleep(0.5)
        assert not changed.done()
    await asyncio.wait_for(changed, timeout=30)
    async with store.pool.acquire() as connection:
        columns = await connection.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'busy' ORDER BY 1"
        )
    assert [c["column_name"] for c in columns] == ["id", "more", "note"]


async def test_deferred_writes_commit_with_the_session_and_a_failed_savepoint_drops_only_its_own(
    store: EventStore,
) -> None:
    table = f"facts_{uuid.uuid4().hex[:8]}"
    async with store.pool.acquire() as connection:
        await connection.execute(f"CREATE TABLE {table} (id text PRIMARY KEY)")
    insert = f"INSERT INTO {table} (id) VALUES ($1)"

    async with store.session() as session:
        session.defer(insert, "kept before")
        async with session.savepoint():
            session.defer(insert, "kept inside")

        async def write_a_duplicate() -> None:
            async with session.savepoint():
                session.defer(insert, "dropped")
                session.defer(insert, "kept inside")  # a duplicate: the savepoint fails at its flush

        with pytest.raises(asyncpg.UniqueViolationError):
            await write_a_duplicate()
        session.defer(insert, "kept after")
        async with store.pool.acquire() as other:
            # Nothing is visible before the session commits.
            assert await other.fetchval(f"SELECT count(*) FROM {table}") == 0

    async with store.pool.acquire() as connection:
        rows = await connection.fetch(f"SELECT id FROM {table} ORDER BY id")
    assert [row["id"] for row in rows] == ["kept after", "kept before", "kept inside"]


async def test_a_lock_taken_again_in_the_same_transaction_costs_no_round_trip_but_is_retaken_after_a_rollback(
    store: EventStore,
) -> None:
    async with store.session() as session:
        await session.serialize("reference")
        await session.serialize("reference")
        taken = await session.connection.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
        assert taken == 1

        async def fail_after_locking() -> None:
            async with session.savepoint():
                await session.serialize("inside")
                raise RuntimeError("the handler failed")

        with pytest.raises(RuntimeError):
            await fail_after_locking()
        # PostgreSQL released "inside" with the savepoint: the session takes it again when asked.
        await session.serialize("inside")
        held = await session.connection.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
        assert held == 2


async def test_a_preloaded_stream_is_read_from_memory_until_the_session_appends_to_it(
    store: EventStore,
) -> None:
    first, second = f"payer-{uuid.uuid4()}", f"payer-{uuid.uuid4()}"
    await store.append(first, "payer", 0, [payer("Acme")], META)
    async with store.session() as session:
        await session.preload([first, second])
        # A write behind the session's back (one the caller's row locks would have kept out) is not
        # seen: the load is answered from what was preloaded, without a round trip.
        await store.append(first, "payer", 1, [payer("Acme again")], META)
        assert [e.stream_version for e in await session.load(first)] == [1]
        assert await session.load(second) == []
        # Once the session appends to a stream, its next load reads the stream again, whole.
        await session.append(second, "payer", 0, [payer("Beta")], META)
        assert [e.stream_version for e in await session.load(second)] == [1]


async def test_a_savepoint_rolled_back_forgets_the_streams_and_row_locks_taken_inside_it(
    store: EventStore,
) -> None:
    stream = f"payer-{uuid.uuid4()}"
    await store.append(stream, "payer", 0, [payer("Acme")], META)
    async with store.session() as session:
        session.took("row:before")

        async def fail_after_preloading() -> None:
            async with session.savepoint():
                await session.preload([stream])
                session.took("row:inside")
                raise RuntimeError("the handler failed")

        with pytest.raises(RuntimeError):
            await fail_after_preloading()
        assert session.holds("row:before") and not session.holds("row:inside")
        # The rollback released the row locks the preload relied on: the stream is read again.
        await store.append(stream, "payer", 1, [payer("Acme again")], META)
        assert [e.stream_version for e in await session.load(stream)] == [1, 2]


async def test_a_command_on_a_stream_it_made_up_loads_nothing_and_an_id_already_taken_conflicts(
    store: EventStore,
) -> None:
    registrations: Decider[str, int] = Decider(
        initial=0,
        decide=lambda name, count: [payer(name)],
        evolve=lambda count, event: count + 1,
        stream_type="payer",
    )

    class NoLoads(Session):
        async def load(self, stream_id: str) -> list[EventEnvelope]:
            raise AssertionError("a new stream was loaded")

    fresh = f"payer-{uuid.uuid4()}"
    async with store.pool.acquire() as connection, connection.transaction():
        outcome = await execute(
            NoLoads(connection, store.source), registrations, fresh, "Acme", META, new_stream=True
        )
    assert (outcome.version, outcome.after, [e.stream_version for e in outcome.appended]) == (0, 1, [1])

    # Were the id taken after all, the append at version 0 refuses, and nothing is written.
    with pytest.raises(VersionConflict):
        async with store.session() as session:
            await execute(session, registrations, fresh, "Acme twice", META, new_stream=True)
    assert [e.stream_version for e in await store.load(fresh)] == [1]


async def test_appends_kept_for_commit_hold_no_head_lock_until_then_and_are_read_back_in_the_session(
    store: EventStore,
) -> None:
    deferred = EventStore(store.pool, "registration", appends_at_commit=True)
    stream, other = str(uuid.uuid4()), str(uuid.uuid4())
    async with deferred.session() as session:
        appended = await session.append(stream, "payer", 0, [payer("kept")], META)
        # Another writer appends meanwhile: the log's head is free until this session commits.
        await asyncio.wait_for(store.append(other, "payer", 0, [payer("meanwhile")], META), timeout=5)
        assert appended[0].position is None and appended[0].stream_version == 1
        # A load of the stream sends what was kept for it first: the session reads its own writes.
        assert [e.payload["name"] for e in await session.load(stream)] == ["kept"]
        await session.append(stream, "payer", 1, [payer("then")], META)
    stored = await store.load(stream)
    assert [(e.stream_version, e.payload["name"]) for e in stored] == [(1, "kept"), (2, "then")]
    assert [e.payload["name"] for e in await store.read_all()][-3:] == ["meanwhile", "kept", "then"]
    assert (await store.verify_chain()).intact


async def test_a_conflict_of_an_append_kept_for_commit_fails_the_commit_and_a_savepoint_drops_its_own(
    store: EventStore,
) -> None:
    deferred = EventStore(store.pool, "registration", appends_at_commit=True)
    taken, dropped, kept = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    await store.append(taken, "payer", 0, [payer("first")], META)

    async def late_append() -> None:
        async with deferred.session() as session:
            await session.append(kept, "payer", 0, [payer("never")], META)
            await session.append(taken, "payer", 0, [payer("late")], META)  # the stream is at 1

    async def failed_message(session: Session) -> None:
        async with session.savepoint():
            await session.append(dropped, "payer", 0, [payer("rolled back")], META)
            raise RuntimeError("the message failed")

    with pytest.raises(VersionConflict):
        await late_append()
    async with deferred.session() as session:
        with pytest.raises(RuntimeError):
            await failed_message(session)
        await session.append(kept, "payer", 0, [payer("kept")], META)
    assert [e.payload["name"] for e in await store.load(taken)] == ["first"]
    assert await store.load(dropped) == []
    assert [e.payload["name"] for e in await store.load(kept)] == ["kept"]
