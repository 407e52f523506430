"""One running platform (five service processes and the payer simulator) for the end-to-end suite."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from billing_testing.platform import ALL_SERVICES, Platform
from billing_testing.plugin import require_durable


@pytest.fixture(scope="session")
async def platform(
    kafka_bootstrap: str, database_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Platform]:
    # The e2e suite runs as `make run` does: on a durable PostgreSQL, never BILLING_PG_FAST=1.
    await require_durable(database_server_url)
    workdir = tmp_path_factory.mktemp("platform")
    base_port = int(os.environ.get("BILLING_E2E_BASE_PORT", "18000"))
    # Every service runs as two replicas (two API processes, two consumers in each group, two relays of
    # which one leads, two sets of workers), as the chart runs them: the suite proves that is correct.
    replicas = int(os.environ.get("BILLING_E2E_REPLICAS", "2"))
    running = Platform(workdir, kafka_bootstrap, database_server_url, base_port=base_port, replicas=replicas)
    (running.clearinghouse / "outbound").mkdir(parents=True)
    (running.clearinghouse / "inbound").mkdir(parents=True)
    # The test process signs tokens with the same development keys as the services.
    os.environ["BILLING_STATE_DIR"] = str(workdir / "state")
    try:
        for service in (*ALL_SERVICES, "payer-simulator"):
            running.start(service)
        await running.wait_ready(ALL_SERVICES)
        yield running
    finally:
        running.stop_all()
