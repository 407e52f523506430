"""One database role per service (least privilege).

Each service's database is owned by the service's own login role, and only that role may connect to
it: a compromised reporting pod holds credentials that open reporting's tables and nothing else (it
cannot read claims' tables, nor drop another service's append-only trigger). In production the roles
and databases are provisioned by the operator (CloudNativePG managed roles, see the chart); locally,
where one server URL with an administrator is given, `provision_service_database` does it when the
service starts, and adopts a database an earlier run created as the administrator.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

_PROVISION_LOCK = 0x62696C6C696E6701  # one provisioning at a time on a server ("billing" + 1)

# Objects of the service's schemas that an earlier run created as the administrator.
_OWNED_OBJECTS = """
SELECT format('ALTER %s %s OWNER TO %I',
              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                             WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
              c.oid::regclass, $1::text)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  AND pg_get_userbyid(c.relowner) <> $1
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = c.oid AND e.deptype = 'e')
  AND NOT (c.relkind = 'S' AND EXISTS (
      SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
UNION ALL
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, $1::text)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND pg_get_userbyid(p.proowner) <> $1
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = p.oid AND e.deptype = 'e')
UNION ALL
SELECT format('ALTER SCHEMA %I OWNER TO %I', n.nspname, $1::text)
FROM pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_%'
  AND pg_get_userbyid(n.nspowner) <> $1
"""


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def with_credentials(url: str, role: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(role, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


async def provision_service_database(server_url: str, database: str, role: str, password: str) -> str:
    """Make `database` the property of the login `role`, reachable by it alone; returns the role's URL
    to the database. Idempotent, and safe for processes of one service starting together."""
    admin = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        await admin.execute("SELECT pg_advisory_lock($1)", _PROVISION_LOCK)
        exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
        verb = "ALTER" if exists else "CREATE"
        await admin.execute(
            await admin.fetchval(
                f"SELECT format('{verb} ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', "
                "$1::text, $2::text)",
                role,
                password,
            )
        )
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            statement = "SELECT format('ALTER DATABASE %I OWNER TO %I', $1::text, $2::text)"
        else:
            statement = "SELECT format('CREATE DATABASE %I OWNER %I', $1::text, $2::text)"
        await admin.execute(await admin.fetchval(statement, database, role))
        # By default every role may connect to every database: not to this one.
        await admin.execute(
            await admin.fetchval("SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', $1::text)", database)
        )
        inside = await asyncpg.connect(with_database(server_url, database))
        try:
            async with inside.transaction():
                for (alter,) in await inside.fetch(_OWNED_OBJECTS, role):
                    await inside.execute(alter)
        finally:
            await inside.close()
    finally:
        await admin.close()  # ends the session, and with it the advisory lock
    return with_database(with_credentials(server_url, role, password), database)
