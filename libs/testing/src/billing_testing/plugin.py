"""Session-wide real servers, per-test isolation.

The broker and the database server are started once per session by deploy/local/infra.py unless
KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL point at existing ones; whatever the session started, it stops.
Each test gets its own database and its own topic prefix, so tests never see each other's data.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
INFRA = REPO_ROOT / "deploy" / "local" / "infra.py"
INFRA_FIXTURES = {"infrastructure", "kafka_bootstrap", "database_server_url", "database_url", "topic_prefix"}


@dataclass(frozen=True)
class Infrastructure:
    kafka_bootstrap: str
    database_url: str


def pytest_configure(config: pytest.Config) -> None:
    # Tests sign and verify with development keys generated under their state folders.
    os.environ.setdefault("BILLING_DEVELOPMENT", "1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INFRA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def infrastructure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infrastructure]:
    started_file = tmp_path_factory.mktemp("infra") / "started"
    result = subprocess.run(
        [sys.executable, str(INFRA), "up", "--started-file", str(started_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"local infrastructure did not start:\n{result.stderr}")
    endpoints = dict(line.split("=", 1) for line in result.stdout.split())
    try:
        yield Infrastructure(endpoints["KAFKA_BOOTSTRAP_SERVERS"], endpoints["DATABASE_URL"])
    finally:
        subprocess.run(
            [sys.executable, str(INFRA), "down", "--started-file", str(started_file)],
            capture_output=True,
            check=False,
        )


@pytest.fixture(scope="session")
def kafka_bootstrap(infrastructure: Infrastructure) -> str:
    return infrastructure.kafka_bootstrap


@pytest.fixture(scope="session")
def database_server_url(infrastructure: Infrastructure) -> str:
    return infrastructure.database_url


DURABILITY_SETTINGS = ("fsync", "synchronous_commit", "full_page_writes")


async def require_durable(server_url: str) -> None:
    """Fail unless the server runs with PostgreSQL's durability: e2e and crash tests must (issue 16)."""
    connection = await asyncpg.connect(server_url)
    try:
        values = {name: await connection.fetchval(f"SHOW {name}") for name in DURABILITY_SETTINGS}
    finally:
        await connection.close()
    off = [name for name, value in values.items() if value == "off"]
    if off:
        pytest.fail(
            f"this test needs a durable PostgreSQL, but {server_url.rsplit('@', 1)[-1]} runs with "
            f"{', '.join(off)} off (BILLING_PG_FAST=1): stop it (make down) and run again, or point "
            "DATABASE_URL at a durable server"
        )


def database_url_for(server_url: str, database: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture
async def database_url(database_server_url: str) -> AsyncIterator[str]:
    """A fresh, empty database of the test's own."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(database_server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield database_url_for(database_server_url, name)
    if os.environ.get("BILLING_KEEP_TEST_DATABASES"):
        return
    admin = await asyncpg.connect(database_server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def topic_prefix(kafka_bootstrap: str) -> AsyncIterator[str]:
    """A prefix that gives the test topics of its own (billing.x.y becomes <prefix>billing.x.y).
    Afterwards its topics are deleted, as its database is dropped: a long suite would otherwise leave
    thousands of partitions for one development broker to keep in memory."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    yield prefix
    if os.environ.get("BILLING_KEEP_TEST_DATABASES"):
        return
    await _delete_topics(kafka_bootstrap, prefix)


async def _delete_topics(kafka_bootstrap: str, prefix: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        topics = [topic for topic in await admin.list_topics() if topic.startswith(prefix)]
        if topics:
            await admin.delete_topics(topics)
    except Exception:  # noqa: S110 - cleanup is best effort; the topics are the test's own
        pass
    finally:
        await admin.close()
