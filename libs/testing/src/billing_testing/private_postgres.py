"""A PostgreSQL server of one test's own, for crash tests: started by deploy/local/infra.py in a
folder of its own on a free port (durable unless asked otherwise), SIGKILLed and restarted at will.

The session's shared server is never killed: other tests use it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from billing_testing.plugin import INFRA


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(FileNotFoundError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):
                for child in (task / "children").read_text().split():
                    found += [int(child), *_children(int(child))]
    return found


def _gone(pid: int) -> bool:
    """Exited and reaped: PostgreSQL refuses to start while its old postmaster's pid answers kill(0)."""
    return not Path(f"/proc/{pid}").exists()


@dataclass
class PrivatePostgres:
    folder: Path
    port: int
    fast: bool = False

    @property
    def url(self) -> str:
        return f"postgresql://billing:billing@127.0.0.1:{self.port}/postgres"

    def _infra(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BILLING_PG_FAST")}
        env.update(BILLING_INFRA_DIR=str(self.folder), BILLING_PG_PORT=str(self.port))
        if self.fast:
            env["BILLING_PG_FAST"] = "1"
        return subprocess.run(
            [sys.executable, str(INFRA), *args, "--only", "postgres"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    def start(self) -> None:
        result = self._infra("up")
        if result.returncode != 0:
            raise RuntimeError(f"private PostgreSQL did not start:\n{result.stderr}")

    def postmaster_pid(self) -> int:
        return int((self.folder / "postgres" / "data" / "postmaster.pid").read_text().splitlines()[0])

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend at once: a crash, no checkpoint, no WAL flush."""
        postmaster = self.postmaster_pid()
        for pid in [postmaster, *_children(postmaster)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not _gone(postmaster):
            time.sleep(0.05)

    def stop(self) -> None:
        self._infra("down")


@contextlib.contextmanager
def private_postgres(*, fast: bool = False) -> Iterator[PrivatePostgres]:
    """A started private server, stopped and deleted afterwards.

    Its folder is not under pytest's basetemp: other pytest sessions of the same user reset that
    root to 0700, which locks out the unprivileged account the server runs as when tests run as root.
    """
    folder = Path(tempfile.mkdtemp(prefix="billing-private-pg-"))
    server = PrivatePostgres(folder, free_port(), fast=fast)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
