"""One running platform (five service processes and the payer simulator) for the end-to-end suite."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import httpx
import pytest

from billing_cli import demo
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


# The suite's own fee schedule, prices in cents (a later effective date than the demo's, so it wins
# for every encounter; the demo's other codes keep their demo prices, for the synthetic visits). Every
# module's expected amounts are worked out from these.
E2E_PRICES = {"99214": 90_000, "99213": 12_000, "97810": 8_000, "36415": 1_500, "99396": 23_000}


@pytest.fixture(scope="session")
async def reference(platform: Platform) -> demo.Reference:
    """The demo's reference data and the suite's fee schedule, imported once for every module."""
    reference = await demo.seed(platform.endpoints, platform.tenant)
    rows = [{"code": code, "amount_cents": cents} for code, cents in (demo.FEES | E2E_PRICES).items()]
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.put(
            f"{platform.url('invoicing')}/fee-schedules/e2e",
            json={"effective_from": "2021-01-01", "rows": rows},
            headers=platform.headers("admin"),
        )
    assert response.status_code in (200, 201), response.text
    return reference
