"""What a running service holds (database, event store, Kafka settings, PHI vault), and the three ways
a service runs: its HTTP API, its consumers, its outbox relay.

A service describes itself once with a ServiceDefinition in `<service>/entrypoints/__init__.py`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import uvicorn
from fastapi import APIRouter, FastAPI, Request

from billing_events.consumer import Consumer, Subscription
from billing_events.database_roles import provision_service_database, with_database
from billing_events.kafka import KafkaSettings
from billing_events.phi import (
    BlindIndex,
    NoBlindIndex,
    NoKeys,
    PostgresKeyProvider,
    Vault,
    decode_master_key,
)
from billing_events.relay import Relay
from billing_events.store import EventStore, create_pool, ensure_database
from billing_service.asyncapi import asyncapi_document
from billing_service.auth import require_development
from billing_service.http import create_app
from billing_service.logging import configure_logging
from billing_service.settings import ServiceSettings
from billing_service.telemetry import configure_tracing

log = logging.getLogger(__name__)

Background = Callable[["Runtime", asyncio.Event], AsyncIterator[None] | None]


@dataclass
class ServiceDefinition:
    name: str
    port: int
    title: str
    routers: Callable[[], list[APIRouter]] = list
    subscriptions: Callable[[Runtime], list[Subscription]] = lambda _runtime: []
    schema_sql: str = ""
    # Long-running work beside the consumers (e.g. a clearinghouse folder watcher).
    workers: Callable[[Runtime], list[Callable[[asyncio.Event], object]]] = lambda _runtime: []
    # Projections a service keeps from its own log (not from topics), rebuilt by `billing replay`:
    # (runtime, progress(done, total)) -> events applied.
    rebuild_from_log: Callable[[Runtime, Callable[[int, int], None]], Awaitable[int]] | None = None
    # The tables rebuild_from_log writes: a live rebuild builds copies of them beside the live ones
    # and swaps them in (billing_service.rebuild).
    log_tables: Sequence[str] = ()
    # Only a service that seals or opens patient data gets the PHI master key and the keys database
    # (registration, claims, interop); the others run without them, and any attempt is refused.
    decrypts_phi: bool = False
    # The service's appends go to the log when its transaction commits (billing_events.store.Session
    # at_commit): for services whose views need no log position from an append.
    appends_at_commit: bool = False


@dataclass
class Runtime:
    definition: ServiceDefinition
    settings: ServiceSettings
    pool: asyncpg.Pool
    store: EventStore
    kafka: KafkaSettings
    vault: Vault
    blind_index: BlindIndex
    keys_pool: asyncpg.Pool | None
    extras: dict[str, object] = field(default_factory=dict)

    async def close(self) -> None:
        await self.pool.close()
        if self.keys_pool is not None:
            await self.keys_pool.close()


def kafka_settings(settings: ServiceSettings) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        security_protocol=settings.kafka_security_protocol,
        sasl_mechanism=settings.kafka_sasl_mechanism,
        sasl_username=settings.kafka_sasl_username,
        sasl_password=settings.kafka_sasl_password,
        ssl_cafile=settings.kafka_ssl_cafile,
        topic_prefix=settings.topic_prefix,
        partitions=settings.kafka_topic_partitions,
        replication_factor=settings.kafka_replication_factor,
    )


def _development_secret(settings: ServiceSettings, name: str) -> str:
    """A random secret kept under BILLING_STATE_DIR, the same for every process that asks."""
    path = Path(settings.state_dir) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(base64.b64encode(os.urandom(32)).decode())
        tmp.chmod(0o600)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        tmp.unlink()
    return path.read_text().strip()


def master_key(settings: ServiceSettings) -> bytes:
    if settings.phi_master_key:
        return decode_master_key(settings.phi_master_key)
    # Development only: a generated key beside the dev JWT keys. Production sets PHI_MASTER_KEY.
    require_development(settings, "PHI_MASTER_KEY (the key wrapping every patient's data key)")
    return decode_master_key(_development_secret(settings, "dev-phi-master.key"))


async def as_own_role(settings: ServiceSettings, *, decrypts_phi: bool) -> ServiceSettings:
    """Local runs with BILLING_DATABASE_ROLES: the service's database becomes the property of its own
    login role (named like the database), which alone may connect; the service runs as that role.
    The shared PHI key store stays the administrator's here (production gives PHI_KEYS_DATABASE_URL)."""
    server = settings.database_server_url
    if not (settings.database_roles and server):
        return settings
    require_development(settings, "BILLING_DATABASE_ROLES (production roles come from the operator)")
    database = urlsplit(settings.database_url).path.lstrip("/")
    password = _development_secret(settings, f"dev-database-{database}.password")
    url = await provision_service_database(server, database, database, password)
    keys_url = settings.phi_keys_database_url
    if decrypts_phi and not keys_url:
        keys_url = with_database(server, "billing_keys")
        await ensure_database(keys_url)
    return settings.model_copy(
        update={"database_url": url, "phi_keys_database_url": keys_url, "create_databases": False}
    )


def previous_master_keys(settings: ServiceSettings) -> list[bytes]:
    """The master keys of a rotation in progress (PHI_PREVIOUS_MASTER_KEYS), newest first."""
    values = (settings.phi_previous_master_keys or "").split(",")
    return [decode_master_key(value.strip()) for value in values if value.strip()]


def previous_blind_index_keys(settings: ServiceSettings) -> dict[int, bytes]:
    """PHI_PREVIOUS_BLIND_INDEX_KEYS: `version:base64` pairs, comma-separated."""
    keys: dict[int, bytes] = {}
    for entry in (settings.phi_previous_blind_index_keys or "").split(","):
        if entry.strip():
            version, _, value = entry.strip().partition(":")
            keys[int(version)] = decode_master_key(value)
    return keys


def keys_database_url(settings: ServiceSettings) -> str:
    if settings.phi_keys_database_url:
        return settings.phi_keys_database_url
    parts = urlsplit(settings.database_url)
    return urlunsplit(parts._replace(path="/billing_keys"))


async def open_runtime(definition: ServiceDefinition, settings: ServiceSettings) -> Runtime:
    # First: without keys (and outside development) a service that decrypts does not start.
    key = master_key(settings) if definition.decrypts_phi else None
    settings = await as_own_role(settings, decrypts_phi=definition.decrypts_phi)
    if settings.create_databases:
        await ensure_database(settings.database_url)
        if key is not None:
            await ensure_database(keys_database_url(settings))
    pool = await create_pool(settings.database_url, max_size=settings.database_pool_size)
    store = EventStore(pool, definition.name, appends_at_commit=definition.appends_at_commit)
    await store.setup(definition.schema_sql)
    keys_pool: asyncpg.Pool | None = None
    vault: Vault
    blind_index: BlindIndex
    if key is None:
        vault, blind_index = Vault(NoKeys()), NoBlindIndex()
    else:
        keys_pool = await create_pool(keys_database_url(settings), max_size=4)
        provider = PostgresKeyProvider(keys_pool, key, previous_master_keys=previous_master_keys(settings))
        await provider.setup()
        index_key = decode_master_key(settings.phi_blind_index_key) if settings.phi_blind_index_key else key
        blind_index = BlindIndex(
            index_key,
            version=settings.phi_blind_index_key_version,
            previous=previous_blind_index_keys(settings),
        )
        vault = Vault(provider)
    return Runtime(
        definition=definition,
        settings=settings,
        pool=pool,
        store=store,
        kafka=kafka_settings(settings),
        vault=vault,
        blind_index=blind_index,
        keys_pool=keys_pool,
    )


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def build_app(
    definition: ServiceDefinition, settings: ServiceSettings, runtime: Runtime | None = None
) -> FastAPI:
    """The service's HTTP API. With `runtime` given (tests), the app uses it and does not own it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if runtime is not None:
            yield
            return
        opened = await open_runtime(definition, settings)
        app.state.runtime = opened
        try:
            yield
        finally:
            await opened.close()

    async def database() -> bool:
        current: Runtime = app.state.runtime
        async with current.pool.acquire() as connection:
            return bool(await connection.fetchval("SELECT true"))

    app = create_app(
        settings,
        title=definition.title,
        routers=definition.routers(),
        readiness_checks=[database],
        lifespan=lifespan,
    )

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> dict[str, object]:
        current: Runtime = app.state.runtime
        return asyncapi_document(definition.name, definition.title, definition.subscriptions(current))

    if runtime is not None:
        app.state.runtime = runtime
    return app


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)


async def _serve_health(settings: ServiceSettings, ready: Callable[[], bool], stop: asyncio.Event) -> None:
    async def check() -> bool:
        return ready()

    check.__name__ = "running"
    app = create_app(settings, title=f"{settings.service_name} worker", readiness_checks=[check])
    server = uvicorn.Server(
        uvicorn.Config(app, host="0.0.0.0", port=settings.metrics_port, log_level="warning", lifespan="off")  # noqa: S104
    )
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task


def tune_garbage_collection() -> None:
    """Once a long-running process has started (its modules, schemas and pools are built).

    Those objects live as long as the process, yet CPython's collector walked all of them at every
    full collection, and a consumer's batches (thousands of envelopes alive across awaits) caused a
    full collection every few thousand events: 60 ms each, 20% of a projection rebuild's time,
    measured. Frozen, they are never walked again; a larger first generation means a collection per
    20,000 allocations instead of 700. Reference counting frees almost everything before that."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


async def run_consumers(definition: ServiceDefinition, settings: ServiceSettings) -> None:
    configure_logging(settings.log_level)
    configure_tracing(f"{definition.name}-consumers")
    stop = asyncio.Event()
    _stop_on_signals(stop)
    runtime = await open_runtime(definition, settings)
    consumers = [Consumer(runtime.store, runtime.kafka, s) for s in definition.subscriptions(runtime)]
    workers = definition.workers(runtime)
    tune_garbage_collection()
    try:
        tasks = [asyncio.create_task(c.run(stop)) for c in consumers]
        tasks += [asyncio.create_task(w(stop)) for w in workers]  # type: ignore[arg-type]
        tasks.append(
            asyncio.create_task(
                _serve_health(settings, lambda: all(c.ready.is_set() for c in consumers), stop)
            )
        )
        log.info("consumers running", extra={"service": definition.name, "subscriptions": len(consumers)})
        await _first_failure(tasks, stop)
    finally:
        await runtime.close()


async def run_relay(definition: ServiceDefinition, settings: ServiceSettings) -> None:
    configure_logging(settings.log_level)
    configure_tracing(f"{definition.name}-relay")
    stop = asyncio.Event()
    _stop_on_signals(stop)
    runtime = await open_runtime(definition, settings)
    relay = Relay(runtime.store, runtime.kafka)
    tune_garbage_collection()
    try:
        tasks = [
            asyncio.create_task(relay.run(stop)),
            asyncio.create_task(_serve_health(settings, lambda: True, stop)),
        ]
        log.info("relay running", extra={"service": definition.name})
        await _first_failure(tasks, stop)
    finally:
        await runtime.close()


async def _first_failure(tasks: list[asyncio.Task[None]], stop: asyncio.Event) -> None:
    """Wait until every task ends; if one fails, stop the others and re-raise (the process exits)."""
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    stop.set()
    if pending:
        await asyncio.wait(pending, timeout=15)
    for task in done:
        if task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


async def run_all(definition: ServiceDefinition, settings: ServiceSettings) -> None:
    """API, relay, consumers and workers of one service in one process (local runs and demos)."""
    configure_logging(settings.log_level)
    configure_tracing(definition.name)
    stop = asyncio.Event()
    runtime = await open_runtime(definition, settings)
    app = build_app(definition, settings, runtime)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host=settings.http_host, port=settings.port or definition.port, log_level="warning"
        )
    )
    consumers = [Consumer(runtime.store, runtime.kafka, s) for s in definition.subscriptions(runtime)]
    tune_garbage_collection()
    try:
        api = asyncio.create_task(server.serve())
        tasks = [asyncio.create_task(Relay(runtime.store, runtime.kafka).run(stop))]
        tasks += [asyncio.create_task(c.run(stop)) for c in consumers]
        tasks += [asyncio.create_task(w(stop)) for w in definition.workers(runtime)]  # type: ignore[arg-type]
        log.info(
            "service running", extra={"service": definition.name, "port": settings.port or definition.port}
        )
        # uvicorn owns SIGINT/SIGTERM here: when it shuts down, everything else stops with it.
        done, _ = await asyncio.wait([api, *tasks], return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        server.should_exit = True
        await asyncio.wait([api, *tasks], timeout=15)
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        await runtime.close()


def serve_api(definition: ServiceDefinition, settings: ServiceSettings) -> None:
    app = build_app(definition, settings)
    tune_garbage_collection()
    uvicorn.run(app, host=settings.http_host, port=settings.port or definition.port, log_level="warning")
