"""What the end-to-end benchmark reads besides the topics: CPU time and memory of each process of the
platform, PostgreSQL's statement (or transaction) counters and Kafka's committed consumer offsets.

CPU: utime+stime from /proc/<pid>/stat, sampled every second and kept per
process (pid and start time), so a process that exits mid-window still counts up to its last sample.
Processes: each service and the payer simulator (their process groups), the Kafka broker (the process
listening on the bootstrap port), and PostgreSQL: the postmaster, its background processes and the
backends connected to the platform's databases, its own (prefixed) and the PHI keys' (billing_keys,
which every platform on a server shares). Backends of other databases on a shared server are left out;
its background processes are not, so they carry other clients' work too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (fields[0] is the state)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError, PermissionError):
        return None


def cpu_ticks(fields: list[str]) -> int:
    # utime and stime are fields 14 and 15 of stat; here 11 and 12 (the state, field 3, is 0). Reaped
    # children (cutime) are left out: the postmaster's would carry other clients' backends.
    return int(fields[11]) + int(fields[12])


def all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def listener_pid(port: int) -> int | None:
    """The process listening on a local TCP port (from /proc/net/tcp{,6} and the processes' sockets)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                columns = line.split()
                if columns[3] == "0A" and int(columns[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{columns[9]}]")
    if not inodes:
        return None
    for pid in all_pids():
        with contextlib.suppress(FileNotFoundError, PermissionError, ProcessLookupError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return pid
    return None


def memory_bytes(pids: list[int]) -> int:
    """Proportional set size summed over the processes: shared pages (PostgreSQL's shared buffers,
    the Python interpreter's libraries) are divided among their sharers instead of counted in every
    process, as a plain RSS sum would."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


@dataclass
class CpuMeter:
    """Cumulative CPU per named group of processes, as deltas from `mark()`."""

    base: dict[tuple[str, int, str], int] = field(default_factory=dict)
    last: dict[tuple[str, int, str], int] = field(default_factory=dict)

    def sample(self, groups: dict[str, list[int]]) -> None:
        for name, pids in groups.items():
            for pid in pids:
                fields = proc_stat(pid)
                if fields:
                    # (group, pid, start time): a reused pid is another process.
                    self.last[(name, pid, fields[19])] = cpu_ticks(fields)

    def mark(self, groups: dict[str, list[int]]) -> None:
        self.last = {}
        self.sample(groups)
        self.base = dict(self.last)

    def ms_by_group(self) -> dict[str, float]:
        spent: dict[str, float] = {}
        for key, ticks in self.last.items():
            spent[key[0]] = spent.get(key[0], 0.0) + (ticks - self.base.get(key, 0)) * TICK_MS
        return spent


class Postgres:
    """The bench's view of the PostgreSQL server: durability, pids and per-database counters."""

    def __init__(self, server_url: str, database_prefix: str, shared: list[str]) -> None:
        self.server_url = server_url
        self.prefix = database_prefix
        self.shared = shared  # databases every platform on the server uses (the PHI keys)
        self.connection: asyncpg.Connection | None = None
        self.statements = False
        self.settings: dict[str, str] = {}
        self.postmaster: int | None = None
        self.lock = asyncio.Lock()  # the sampler and the window share the connection

    async def start(self) -> None:
        self.connection = await asyncpg.connect(self.server_url)
        for name in ("fsync", "synchronous_commit", "full_page_writes", "shared_preload_libraries"):
            self.settings[name] = str(await self.connection.fetchval(f"SHOW {name}"))
        if "pg_stat_statements" in self.settings["shared_preload_libraries"]:
            with contextlib.suppress(asyncpg.PostgresError):
                await self.connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                await self.connection.fetchval("SELECT count(*) FROM pg_stat_statements")
                self.statements = True
        backend = await self.connection.fetchval("SELECT pg_backend_pid()")
        fields = proc_stat(int(backend))
        self.postmaster = int(fields[1]) if fields else None

    async def stop(self) -> None:
        if self.connection is not None:
            await self.connection.close()

    @property
    def durability(self) -> str:
        s = self.settings
        default = s["fsync"] == "on" and s["synchronous_commit"] == "on" and s["full_page_writes"] == "on"
        return (
            f"fsync={s['fsync']}, synchronous_commit={s['synchronous_commit']}, "
            f"full_page_writes={s['full_page_writes']}"
            + (" (PostgreSQL's defaults: durable)" if default else " (NOT durable: not the headline setting)")
        )

    @property
    def round_trip_source(self) -> str:
        return (
            "pg_stat_statements calls"
            if self.statements
            else "pg_stat_database xact_commit+xact_rollback (pg_stat_statements is not loaded on this "
            "server: transactions, a lower bound on round trips)"
        )

    async def pids(self) -> list[int]:
        """The postmaster, its background processes and the backends of the bench's databases."""
        assert self.connection is not None
        async with self.lock:
            rows = await self.connection.fetch(
                "SELECT pid FROM pg_stat_activity WHERE backend_type <> 'client backend' "
                "OR starts_with(datname, $1) OR datname = ANY($2::text[])",
                self.prefix,
                self.shared,
            )
        return ([self.postmaster] if self.postmaster else []) + [int(r["pid"]) for r in rows]

    async def round_trips(self) -> tuple[int, dict[str, int]]:
        """(counter of the bench's databases, transactions of each other database on the server)."""
        async with self.lock:
            return await self._round_trips()

    async def _round_trips(self) -> tuple[int, dict[str, int]]:
        assert self.connection is not None
        rows = await self.connection.fetch(
            "SELECT datname, xact_commit + xact_rollback AS n FROM pg_stat_database "
            "WHERE datname IS NOT NULL AND NOT starts_with(datname, $1) AND datname <> ALL($2::text[])",
            self.prefix,
            self.shared,
        )
        others = {str(r["datname"]): int(r["n"]) for r in rows}
        if self.statements:
            ours = await self.connection.fetchval(
                "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s JOIN pg_database d "
                "ON d.oid = s.dbid WHERE starts_with(d.datname, $1) OR d.datname = ANY($2::text[])",
                self.prefix,
                self.shared,
            )
        else:
            ours = await self.connection.fetchval(
                "SELECT coalesce(sum(xact_commit + xact_rollback), 0) FROM pg_stat_database "
                "WHERE starts_with(datname, $1) OR datname = ANY($2::text[])",
                self.prefix,
                self.shared,
            )
        return int(ours), others


def database_port(url: str) -> int:
    return urlsplit(url).port or 5432


def kafka_port(bootstrap: str) -> int:
    return int(bootstrap.split(",")[0].rsplit(":", 1)[1])


async def committed_offsets(admin: AIOKafkaAdminClient, group_prefix: str) -> int:
    """The committed offsets of every consumer group of the platform, summed: records delivered to
    (and acknowledged by) its consumers, handled or skipped."""
    total = 0
    for group in await admin.list_consumer_groups():
        name = str(group[0])
        if not name.startswith(group_prefix):
            continue
        offsets: dict[Any, Any] = await admin.list_consumer_group_offsets(name)
        total += sum(max(0, o.offset) for o in offsets.values())
    return total
