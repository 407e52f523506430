"""The whole platform as separate processes, as `make run` starts it: five services and the payer
simulator, each `billing run <service>` on its own port, sharing the session's Kafka and PostgreSQL
but with databases and topics of their own (a prefix per platform)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

import httpx

from billing_service.auth import issue_token
from billing_service.endpoints import Endpoints
from billing_service.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[4]
BIN = Path(sys.executable).parent
SERVICES = ("registration", "coding", "invoicing", "claims", "reporting")
# The revenue cycle's five, and the services beside it (the e2e suite starts them all; the load
# benchmark only the five).
ALL_SERVICES = (*SERVICES, "finance", "interop")
T = TypeVar("T")
# Replica r of a service listens on its first replica's port + (r - 1) * this.
REPLICA_PORT_STRIDE = 20


@dataclass
class Platform:
    workdir: Path
    kafka_bootstrap: str
    database_server_url: str
    base_port: int
    tenant: str = "e2e"
    prefix: str = field(default_factory=lambda: f"e{uuid.uuid4().hex[:8]}")
    # Processes of each service, as Kubernetes runs replicas of a deployment: each `billing run` is a
    # whole service (API, consumers in the service's group, relay, workers) on a port of its own.
    replicas: int = 1
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, IO[bytes]] = field(default_factory=dict)
    _turn: dict[str, int] = field(default_factory=dict)

    @property
    def clearinghouse(self) -> Path:
        return self.workdir / "clearinghouse"

    def port(self, service: str, replica: int = 1) -> int:
        return self.base_port + (replica - 1) * REPLICA_PORT_STRIDE + ALL_SERVICES.index(service) + 1

    def urls(self, service: str) -> list[str]:
        return [f"http://127.0.0.1:{self.port(service, r)}" for r in range(1, self.replicas + 1)]

    def url(self, service: str) -> str:
        """The URL of one of the service's API processes, each in turn, as a load balancer spreads
        requests (a read may reach another process than the write before it: both see the same
        database)."""
        urls = self.urls(service)
        turn = self._turn.get(service, 0)
        self._turn[service] = turn + 1
        return urls[turn % len(urls)]

    def names(self, service: str) -> list[str]:
        """The process names of a service's replicas: `claims`, `claims#2`, ..."""
        count = self.replicas if service in ALL_SERVICES else 1
        return [service if r == 1 else f"{service}#{r}" for r in range(1, count + 1)]

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints(*(self.url(s) for s in SERVICES))

    def environment(self, service: str | None = None, replica: int = 1) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=self.kafka_bootstrap,
            BILLING_DATABASE_SERVER_URL=self.database_server_url,
            BILLING_DATABASE_PREFIX=f"{self.prefix}_",
            BILLING_TOPIC_PREFIX=f"{self.prefix}.",
            BILLING_STATE_DIR=str(self.workdir / "state"),
            CLEARINGHOUSE_DIR=str(self.clearinghouse),
            LOG_LEVEL="INFO",
        )
        if service:
            env["PORT"] = str(self.port(service, replica))
        return env

    def log_path(self, name: str) -> Path:
        return self.workdir / f"{name.replace('#', '-')}.log"

    def start(self, service: str) -> None:
        """Start every replica of `service`."""
        for replica, name in enumerate(self.names(service), 1):
            log = open(self.log_path(name), "ab")  # noqa: SIM115 - the child writes to it
            self.logs[name] = log
            if service == "payer-simulator":
                command = [
                    str(BIN / "payer-simulator"), "--dir", str(self.clearinghouse),
                    "--config", str(ROOT / "services/payer-simulator/demo-rules.yaml"), "--interval", "0.5",
                ]  # fmt: skip
            else:
                command = [str(BIN / "billing"), "run", service]
            self.processes[name] = subprocess.Popen(
                command, cwd=ROOT,
                env=self.environment(service if service in ALL_SERVICES else None, replica),
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def kill(self, service: str) -> None:
        """SIGKILL every replica: no shutdown hooks, no flushing, as a crashed deployment."""
        for name in self.names(service):
            process = self.processes.pop(name)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def kill_survivors(self, service: str) -> None:
        """Forget the replicas of `service` that exited and SIGKILL the others (before a restart)."""
        for name in self.names(service):
            process = self.processes.pop(name, None)
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for log in self.logs.values():
            log.close()

    async def wait_ready(self, services: tuple[str, ...] = SERVICES, timeout: float = 90) -> None:
        async with httpx.AsyncClient(timeout=2) as client:
            for service in services:
                for name, url in zip(self.names(service), self.urls(service), strict=True):
                    deadline = time.monotonic() + timeout
                    while True:
                        process = self.processes[name]
                        if process.poll() is not None:
                            raise RuntimeError(f"{name} exited: see {self.log_path(name)}")
                        try:
                            if (await client.get(f"{url}/readyz")).status_code == 200:
                                break
                        except httpx.HTTPError:
                            pass
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"{name} not ready; see {self.log_path(name)}")
                        await asyncio.sleep(0.3)

    def headers(self, *roles: str, subject: str = "e2e-user") -> dict[str, str]:
        settings = ServiceSettings(BILLING_STATE_DIR=str(self.workdir / "state"))
        jwt = issue_token(settings, tenant=self.tenant, roles=list(roles), subject=subject)
        return {"Authorization": f"Bearer {jwt}"}


async def eventually(check: Callable[[], Awaitable[T | None]], *, timeout: float = 60, what: str = "") -> T:
    """Poll until `check` returns something truthy: the platform is eventually consistent."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what or check.__name__}; last: {last!r}")
