"""The event store on PostgreSQL: append-only, optimistic concurrency, gap-free positions, hash chain.

The event table doubles as the transactional outbox: an event is committed with its position in the
command's own transaction, and the relay publishes positions in order and checkpoints what the
broker confirmed (see billing_events.relay).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import asyncpg
import orjson

from billing_events.contracts.base import Event
from billing_events.envelope import EventEnvelope, Metadata
from billing_events.errors import VersionConflict as VersionConflict
from billing_events.metrics import EVENTS_APPENDED

GENESIS_HASH = bytes(32)
_SCHEMA_LOCK = 72_100_001
_CREATE_DATABASE_LOCK = 72_100_003


# An event is a fact, not a file: every event must fit in one Kafka message (1 MiB by default) with
# room for headers and the envelope. A larger one would stop the relay forever once in the log, so it
# is refused before it gets there; large inputs are split into parts (FeeScheduleRowsStaged).
MAX_EVENT_BYTES = 512 * 1024


class EventTooLarge(Exception):
    def __init__(self, event_type: str, size: int) -> None:
        super().__init__(
            f"a {event_type} event of {size} bytes exceeds the {MAX_EVENT_BYTES}-byte event limit; "
            "split large inputs into parts"
        )
        self.event_type = event_type
        self.size = size


def _json_text(value: Any) -> str:
    # orjson: a consumer encodes every fact row's and every event's JSON through here, and the
    # standard library's encoder cost 3-5x as much CPU, measured. Keys that are not strings (an int
    # key) become strings, as json.dumps made them.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


async def init_connection(connection: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(kind, encoder=_json_text, decoder=orjson.loads, schema="pg_catalog")


# Connections that took session state (an advisory lock, LISTEN): only these pay asyncpg's full reset
# (`pg_advisory_unlock_all; CLOSE ALL; UNLISTEN *; RESET ALL`) when they go back to the pool. Every
# other connection only ever runs transactions, which asyncpg rolls back on release anyway, so the
# reset query would be one more round trip per command for nothing.
# Kept by id: a pool hands out proxies that cannot be weakly referenced, while the reset receives the
# connection itself. A reused id only costs one needless reset.
_STATEFUL: set[int] = set()


def keeps_session_state(connection: asyncpg.Connection) -> None:
    """Mark a pooled connection that takes session-level state, so its release resets it fully."""
    _STATEFUL.add(id(getattr(connection, "_con", None) or connection))


async def _reset_on_release(connection: asyncpg.Connection) -> None:
    if id(connection) in _STATEFUL:
        _STATEFUL.discard(id(connection))
        reset_query = connection.get_reset_query()
        if reset_query:
            await connection.execute(reset_query)


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=init_connection, reset=_reset_on_release
    )
    assert pool is not None
    return pool


async def ensure_database(dsn: str) -> None:
    """Create the database named in `dsn` if it does not exist (local runs and tests)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(dsn)
    name = parts.path.lstrip("/")
    admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        # Services starting together all want the shared key database: one creates, the others wait
        # and find it (two concurrent CREATE DATABASE race on pg_database's unique index).
        await admin.execute("SELECT pg_advisory_lock($1)", _CREATE_DATABASE_LOCK)
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            with suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()  # ends the session, and with it the advisory lock


_SCHEMA_RETRIES = 6


async def apply_schema(connection: asyncpg.Connection, sql: str, lock_id: int = _SCHEMA_LOCK) -> None:
    """Run idempotent DDL under an advisory lock, so concurrent starts do not race, and only when it
    changed since it was last applied to this database.

    A replica that starts while others serve must not take the DDL's exclusive table locks for
    nothing: `ALTER TABLE ... IF NOT EXISTS` and `CREATE OR REPLACE TRIGGER` lock a table even when
    they change nothing, and the running replicas' transactions lock the same tables in another
    order (a deadlock, which crashed a restarting replica in the two-replica e2e suite). A schema
    that did change waits at most `lock_timeout` per try and is tried again.
    """
    digest = hashlib.sha256(sql.encode()).hexdigest()
    for attempt in range(_SCHEMA_RETRIES):
        try:
            async with connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock($1)", lock_id)
                await connection.execute(
                    "CREATE TABLE IF NOT EXISTS schema_applied (lock_id bigint PRIMARY KEY, "
                    "digest text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
                )
                applied = await connection.fetchval(
                    "SELECT digest FROM schema_applied WHERE lock_id = $1", lock_id
                )
                if applied == digest:
                    return
                await connection.execute("SET LOCAL lock_timeout = '5s'")
                await connection.execute(sql)
                await connection.execute(
                    "INSERT INTO schema_applied (lock_id, digest) VALUES ($1, $2) ON CONFLICT (lock_id) "
                    "DO UPDATE SET digest = excluded.digest, applied_at = now()",
                    lock_id,
                    digest,
                )
            return
        except (asyncpg.DeadlockDetectedError, asyncpg.LockNotAvailableError):
            if attempt == _SCHEMA_RETRIES - 1:
                raise
            await asyncio.sleep(0.2 * 2**attempt)


def _row_to_envelope(row: asyncpg.Record, source: str) -> EventEnvelope:
    return EventEnvelope(
        event_id=str(row["event_id"]),
        event_type=row["event_type"],
        version=row["schema_version"],
        source=source,
        stream_id=row["stream_id"],
        tenant=row["tenant"],
        occurred_at=row["occurred_at"],
        payload=row["payload"],
        metadata=row["metadata"],
        position=row["position"],
        stream_version=row["stream_version"],
    )


# Waits until the WAL is flushed to disk up to this point, which covers every commit made before it
# (see billing_append in schema.sql: an appending transaction commits without waiting). One round
# trip, no transaction of its own: a non-transactional WAL message, flushed (PostgreSQL 17 and later).
DURABLE = "SELECT pg_logical_emit_message(false, 'billing', '', true)"
# The same, then the relay woken (LISTEN billing_events) in the same round trip: once per flush rather
# than once per append, and outside the log's head lock (a NOTIFY costs its transaction's commit a
# database-wide lock on PostgreSQL's notification queue).
DURABLE_AND_WAKE = f"{DURABLE}; NOTIFY billing_events"


class FlushGate:
    """Waits for the WAL flush on behalf of every transaction of this process that committed: one
    DURABLE round trip serves all those that committed before it started (the WAL is flushed in order,
    for the whole server). Sixteen concurrent commands then wait on one flush, not sixteen."""

    def __init__(self, statement: str = DURABLE_AND_WAKE) -> None:
        self.statement = statement
        self._started = 0  # flushes begun
        self._done = 0  # the latest flush that finished (every one before it finished too)
        self._in_flight: asyncio.Future[None] | None = None

    async def flushed(self, connection: asyncpg.Connection) -> None:
        """Return once everything this process committed before the call is on disk."""
        needed = self._started + 1  # a flush in flight may have begun before our commit
        while self._done < needed:
            if self._in_flight is not None:
                # Shielded: our cancellation must not cancel the flight others wait on.
                await asyncio.shield(self._in_flight)
                continue  # finished (or failed: then whoever comes first flushes again)
            self._started += 1
            number = self._started
            flight = self._in_flight = asyncio.get_running_loop().create_future()
            try:
                await connection.execute(self.statement)
                self._done = max(self._done, number)
            finally:
                self._in_flight = None
                flight.set_result(None)


_SELECT = (
    "SELECT position, stream_id, stream_version, event_id, event_type, schema_version, tenant, "
    "occurred_at, payload, metadata FROM events"
)


class Session:
    """One database transaction of a command or a projection: read streams, append, update views."""

    def __init__(self, connection: asyncpg.Connection, source: str, *, at_commit: bool = False) -> None:
        self.connection = connection
        self.source = source
        # Appends kept until the session sends them (before a load of their stream, at the end of a
        # savepoint, before commit): the log's head lock is then held for one round trip and the
        # commit, not for the rest of the transaction. Only for services that need no position from
        # an append (invoicing keeps positions in its views).
        self.at_commit = at_commit
        self._pending_appends: list[tuple[Any, ...]] = []
        self._pending_streams: set[str] = set()
        # Locks this transaction holds, and what its adapters read and may read again: a consumer
        # applies a whole poll in one transaction, so the second event of a batch need not take the
        # same lock or read the same payer again. Both are forgotten when a savepoint rolls back.
        self._serialized: set[str] = set()
        self.cache: dict[Any, Any] = {}
        self._deferred: dict[str, list[tuple[Any, ...]]] = {}
        self._preloaded: dict[str, list[EventEnvelope]] = {}
        # Whether this transaction appended: its commit does not wait for the disk, the session does.
        self.appended = False

    def defer(self, statement: str, *arguments: Any) -> None:
        """A write that nothing in this transaction reads back (a reporting fact): kept, and sent with
        the other rows of the same statement as one pipelined `executemany` before the transaction
        commits. A consumer's poll of 200 events then costs a round trip per table, not per event."""
        self._deferred.setdefault(statement, []).append(arguments)

    async def flush(self) -> None:
        """Send the deferred writes now (the session does before it commits)."""
        deferred, self._deferred = self._deferred, {}
        for statement, rows in deferred.items():
            await self.connection.executemany(statement, rows)
        await self._send_appends()  # last: from here the transaction holds the log's head

    def holds(self, lock: str) -> bool:
        """Whether this transaction holds `lock` (taken by `serialize`, or noted by `took`)."""
        return lock in self._serialized

    def took(self, lock: str) -> None:
        """Note a lock an adapter took itself (a row's FOR UPDATE), so that the next command of the
        same transaction need not take it again. Forgotten with the savepoint it was taken in."""
        self._serialized.add(lock)

    async def preload(self, stream_ids: Sequence[str]) -> None:
        """Read several streams in one round trip for commands that will each load one of them (the
        claims a file answers): `load` answers a preloaded stream from memory until this transaction
        appends to it. Only for streams whose writers are locked out first (their rows locked in
        this transaction), or what was read could be stale by the time a command decides on it."""
        missing = [stream_id for stream_id in stream_ids if stream_id not in self._preloaded]
        self._preloaded.update(await self.load_many(missing))

    async def serialize(self, name: str) -> None:
        """Run after any other transaction that serialises on `name` committed (until this one ends).

        Two consumers of one service read what the other writes (a claim created from an invoice, the
        coverage it needs arriving on another topic); without this, each can miss the other's
        uncommitted row and both commit a state that nothing will correct.
        """
        await self.serialize_all([(name, False)])

    async def serialize_all(self, locks: Sequence[tuple[str, bool]]) -> None:
        """serialize() for several (name, shared) pairs in one round trip, taken in the order given:
        sorted by every caller, two transactions cannot each hold one the other waits for. A shared
        lock runs beside other shared holders of its name, never beside an exclusive one."""
        # A lock already held lasts until this transaction ends: taking it again is a round trip for
        # nothing.
        needed = [
            (name, shared)
            for name, shared in locks
            if name not in self._serialized and not (shared and f"{name}\x00shared" in self._serialized)
        ]
        if not needed:
            return
        # unnest yields the names in the array's order, and each row takes its lock in turn.
        await self.connection.execute(
            "SELECT CASE WHEN shared THEN pg_advisory_xact_lock_shared(hashtextextended(name, 0)) "
            "ELSE pg_advisory_xact_lock(hashtextextended(name, 0)) END "
            "FROM unnest($1::text[], $2::boolean[]) AS locks(name, shared)",
            [name for name, _ in needed],
            [shared for _, shared in needed],
        )
        self._serialized.update(f"{name}\x00shared" if shared else name for name, shared in needed)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A subtransaction: rolled back alone if its block raises. PostgreSQL releases the locks taken
        since the savepoint when it rolls back, and what was read there may have been written there,
        so the session forgets both."""
        await self.flush()  # what was deferred before the savepoint is not undone with it
        held = set(self._serialized)
        try:
            async with self.connection.transaction():
                yield
                await self.flush()  # a deferred write that fails, fails inside its savepoint
        except BaseException:
            self._serialized = held
            self.cache.clear()
            self._deferred = {}
            self._pending_appends = []
            self._pending_streams.clear()
            self._preloaded.clear()  # read under row locks the rollback released
            raise

    async def load(self, stream_id: str) -> list[EventEnvelope]:
        await self._send_appends([stream_id])
        preloaded = self._preloaded.get(stream_id)
        if preloaded is not None:
            return list(preloaded)
        rows = await self.connection.fetch(
            f"{_SELECT} WHERE stream_id = $1 ORDER BY stream_version", stream_id
        )
        return [_row_to_envelope(row, self.source) for row in rows]

    async def load_many(self, stream_ids: Sequence[str]) -> dict[str, list[EventEnvelope]]:
        """Several streams in one round trip (a worker's batch of claims): each in version order,
        an empty list for a stream that does not exist."""
        streams: dict[str, list[EventEnvelope]] = {stream_id: [] for stream_id in stream_ids}
        if not streams:
            return streams
        await self._send_appends(stream_ids)
        rows = await self.connection.fetch(
            f"{_SELECT} WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, stream_version", list(streams)
        )
        for row in rows:
            streams[row["stream_id"]].append(_row_to_envelope(row, self.source))
        return streams

    async def append(
        self,
        stream_id: str,
        stream_type: str,
        expected_version: int | None,
        events: Sequence[Event],
        metadata: Metadata,
    ) -> list[EventEnvelope]:
        """Append after `expected_version` (None: whatever the stream holds). It holds the log's head
        lock until commit: put it last in the transaction, or let the session do so (`at_commit`:
        then the envelopes carry no position, and a version conflict is raised when the session
        sends its appends, at the latest before it commits)."""
        if not events:
            return []
        self._preloaded.pop(stream_id, None)  # what was read before no longer is the stream
        self.appended = True
        event_ids = [uuid.uuid4() for _ in events]
        payloads = [event.model_dump(mode="json") for event in events]
        for event in events:
            size = len(event.model_dump_json())
            if size > MAX_EVENT_BYTES:
                raise EventTooLarge(event.event_type, size)
        occurred_at = datetime.now(UTC)
        meta = metadata.as_dict()
        arguments = (
            stream_id,
            stream_type,
            expected_version,
            event_ids,
            [event.event_type for event in events],
            [event.version for event in events],
            metadata.tenant,
            occurred_at,
            payloads,
            meta,
        )
        first_position: int | None = None
        if self.at_commit:
            self._pending_appends.append(arguments)
            self._pending_streams.add(stream_id)
        else:
            with _conflicts(stream_id, expected_version):
                last_position = await self.connection.fetchval(_APPEND, *arguments)
            first_position = last_position - len(events) + 1
        base_version = (expected_version or 0) if expected_version is not None else None
        for event in events:
            EVENTS_APPENDED.labels(self.source, event.event_type).inc()
        return [
            EventEnvelope(
                event_id=str(event_ids[i]),
                event_type=event.event_type,
                version=event.version,
                source=self.source,
                stream_id=stream_id,
                tenant=metadata.tenant,
                occurred_at=occurred_at,
                payload=payloads[i],
                metadata=meta,
                position=None if first_position is None else first_position + i,
                stream_version=None if base_version is None else base_version + i + 1,
            )
            for i, event in enumerate(events)
        ]

    async def _send_appends(self, streams: Sequence[str] | None = None) -> None:
        """The appends kept for commit, all in one pipelined round trip, in the order they were made
        (only when `streams` is None or holds one of theirs: a load of such a stream reads them)."""
        if not self._pending_appends:
            return
        if streams is not None and self._pending_streams.isdisjoint(streams):
            return
        pending, self._pending_appends = self._pending_appends, []
        self._pending_streams.clear()
        with _conflicts("one of the streams appended", None):
            await self.connection.executemany(_APPEND, pending)


_APPEND = "SELECT billing_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"


@contextmanager
def _conflicts(stream_id: str, expected_version: int | None) -> Iterator[None]:
    """billing_append's refusals as VersionConflict: the stream moved on before this append got the
    head (BV409), or while it waited for it (the unique stream version)."""
    try:
        yield
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == "events_stream_id_stream_version_key":
            raise VersionConflict(stream_id, expected_version) from None
        raise
    except asyncpg.PostgresError as error:
        if getattr(error, "sqlstate", None) == "BV409":
            raise VersionConflict(stream_id, expected_version) from None
        raise


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_position: int | None
    reason: str | None

    @property
    def intact(self) -> bool:
        return self.first_broken_position is None


class EventStore:
    def __init__(self, pool: asyncpg.Pool, source: str, *, appends_at_commit: bool = False) -> None:
        self.pool = pool
        self.source = source
        self.flush_gate = FlushGate()
        self.appends_at_commit = appends_at_commit  # see Session.at_commit

    async def setup(self, extra_schema: str = "") -> None:
        sql = resources.files("billing_events").joinpath("schema.sql").read_text()
        async with self.pool.acquire() as connection:
            await apply_schema(connection, sql + "\n" + extra_schema)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        """One transaction. It returns once what it committed is on disk: an append's commit does not
        wait for the flush (schema.sql, billing_append), so the session waits after committing."""
        async with self.pool.acquire() as connection:
            session = Session(connection, self.source, at_commit=self.appends_at_commit)
            async with connection.transaction():
                yield session
                await session.flush()
            if session.appended:
                await self.flush_gate.flushed(connection)

    async def append(
        self,
        stream_id: str,
        stream_type: str,
        expected_version: int | None,
        events: Sequence[Event],
        metadata: Metadata,
    ) -> list[EventEnvelope]:
        # One statement is atomic on its own: without BEGIN/COMMIT round trips the log's head lock is
        # held only while the append function runs. Answered once the append is on disk.
        async with self.pool.acquire() as connection:
            appended = await Session(connection, self.source).append(
                stream_id, stream_type, expected_version, events, metadata
            )
            await self.flush_gate.flushed(connection)
            return appended

    async def load(self, stream_id: str) -> list[EventEnvelope]:
        async with self.pool.acquire() as connection:
            return await Session(connection, self.source).load(stream_id)

    async def read_all(self, after: int = 0, limit: int = 1000) -> list[EventEnvelope]:
        """Events in global order, strictly after position `after`, on disk: an append is visible
        before it is flushed (schema.sql, billing_append), and the relay must never publish an event a
        crash could still take back."""
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(
                f"{_SELECT} WHERE position > $1 ORDER BY position LIMIT $2", after, limit
            )
            if rows:
                await connection.execute(DURABLE)
        return [_row_to_envelope(row, self.source) for row in rows]

    async def event_id_at(self, position: int) -> str | None:
        async with self.pool.acquire() as connection:
            value = await connection.fetchval("SELECT event_id FROM events WHERE position = $1", position)
        return None if value is None else str(value)

    async def head(self) -> int:
        async with self.pool.acquire() as connection:
            return int(await connection.fetchval("SELECT position FROM event_log_head"))

    async def verify_chain(self, batch: int = 5000) -> ChainReport:
        """Walk the log in order and recompute each hash; name the first broken link."""
        expected_prev = GENESIS_HASH
        expected_position = 1
        checked = 0
        async with self.pool.acquire() as connection:
            while True:
                rows = await connection.fetch(
                    "SELECT position, stream_id, stream_version, event_id, event_type, schema_version, "
                    "tenant, (extract(epoch FROM occurred_at) * 1000000)::bigint AS at_micros, "
                    "payload::text AS payload_text, metadata::text AS metadata_text, prev_hash, hash "
                    "FROM events WHERE position >= $1 ORDER BY position LIMIT $2",
                    expected_position,
                    batch,
                )
                if not rows:
                    head = await connection.fetchrow("SELECT position, hash FROM event_log_head")
                    if head["position"] != expected_position - 1:
                        return ChainReport(checked, expected_position, "events are missing at the end")
                    if bytes(head["hash"]) != expected_prev:
                        return ChainReport(
                            checked, head["position"], "the head does not match the last event"
                        )
                    return ChainReport(checked, None, None)
                for row in rows:
                    position = row["position"]
                    if position != expected_position:
                        return ChainReport(checked, expected_position, "a position is missing")
                    if bytes(row["prev_hash"]) != expected_prev:
                        return ChainReport(checked, position, "prev_hash does not link to the previous event")
                    if _digest(row, expected_prev) != bytes(row["hash"]):
                        return ChainReport(checked, position, "the event's content does not match its hash")
                    expected_prev = bytes(row["hash"])
                    expected_position += 1
                    checked += 1


def _digest(row: asyncpg.Record, prev: bytes) -> bytes:
    fields: list[Any] = [
        row["position"],
        row["stream_id"],
        row["stream_version"],
        row["event_id"],
        row["event_type"],
        row["schema_version"],
        row["tenant"],
        row["at_micros"],
        row["payload_text"],
        row["metadata_text"],
    ]
    return hashlib.sha256(prev + "\x1f".join(str(f) for f in fields).encode()).digest()
