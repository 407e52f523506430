"""One database role per service (issue 16): each service's database is owned by its own login role
and only that role may connect, so service A's credentials cannot read service B's tables (nor drop
B's append-only trigger). A database an earlier run created as the administrator is adopted whole."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from billing_events.database_roles import provision_service_database, with_database
from billing_events.store import EventStore, create_pool

pytestmark = pytest.mark.integration


@pytest.fixture
async def names(database_server_url: str) -> AsyncIterator[dict[str, str]]:
    suffix = uuid.uuid4().hex[:10]
    made = {"a": f"roles_a_{suffix}", "b": f"roles_b_{suffix}"}
    yield made
    admin = await asyncpg.connect(with_database(database_server_url, "postgres"))
    try:
        for name in made.values():
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        await admin.close()


async def test_a_service_role_owns_its_database_and_cannot_read_another_services(
    database_server_url: str, names: dict[str, str]
) -> None:
    # Service B's database was first made by the administrator (a run before roles), with its log.
    admin = await asyncpg.connect(with_database(database_server_url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{names["b"]}"')
    finally:
        await admin.close()
    before = await create_pool(with_database(database_server_url, names["b"]))
    try:
        await EventStore(before, "b").setup(
            "CREATE TABLE IF NOT EXISTS b_claims (claim_id text PRIMARY KEY);"
        )
    finally:
        await before.close()

    url_a = await provision_service_database(database_server_url, names["a"], names["a"], "secret-a")
    url_b = await provision_service_database(database_server_url, names["b"], names["b"], "secret-b")
    # Twice is the same (every start provisions).
    assert await provision_service_database(database_server_url, names["b"], names["b"], "secret-b") == url_b

    # B's role owns what the administrator made: it runs its store and writes its tables.
    pool_b = await create_pool(url_b)
    try:
        await EventStore(pool_b, "b").setup("CREATE TABLE IF NOT EXISTS b_more (x int);")
        await pool_b.execute("INSERT INTO b_claims VALUES ('claim-1')")
        owners = await pool_b.fetch(
            "SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
        )
        assert {r["owner"] for r in owners} == {names["b"]}
    finally:
        await pool_b.close()

    # A's role reaches its own database, and not B's: it cannot even connect, let alone read.
    own = await asyncpg.connect(url_a)
    await own.close()
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for database"):
        await asyncpg.connect(url_a.rsplit("/", 1)[0] + f"/{names['b']}")
