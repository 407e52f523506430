"""The demo's books (`billing seed-finance`, run by `make run`) go through finance's real HTTP API and
reach reporting's profitability report, whose totals are the sum of the seeded ledger."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import socket
from datetime import date, timedelta
from pathlib import Path

import pytest
import uvicorn

from billing_cli import demo
from billing_service.endpoints import Endpoints
from billing_testing.harness import ServiceHarness
from finance.entrypoints import SERVICE as FINANCE
from reporting.entrypoints import SERVICE as REPORTING

pytestmark = pytest.mark.integration


async def test_the_demo_seeds_a_year_of_books_that_the_p_and_l_adds_up_to(
    database_url: str,
    kafka_bootstrap: str,
    topic_prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The demo signs its tokens with the development keys of the state directory, as finance's here.
    monkeypatch.setenv("BILLING_STATE_DIR", str(tmp_path / "f"))
    async with (
        ServiceHarness.start(
            FINANCE, f"{database_url}_fin", kafka_bootstrap, topic_prefix, tmp_path / "f"
        ) as fin,
        ServiceHarness.start(REPORTING, database_url, kafka_bootstrap, topic_prefix, tmp_path / "r") as rep,
    ):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        server = uvicorn.Server(uvicorn.Config(fin.app, log_level="warning", lifespan="off"))
        task = asyncio.create_task(server.serve(sockets=[listener]))
        try:
            reference = demo.Reference(["payer-1"], "prov-billing", ["prov-lovelace", "prov-hopper"])
            endpoints = Endpoints(finance=f"http://127.0.0.1:{listener.getsockname()[1]}")
            count = await demo.seed_finance(endpoints, reference, tenant="tenant-a", claims_this_month=40)
            # Seeding again the same month stores nothing twice.
            assert (
                await demo.seed_finance(endpoints, reference, tenant="tenant-a", claims_this_month=40)
                == count
            )
        finally:
            server.should_exit = True
            await task
            listener.close()
        assert count == 12 * 7
        await fin.published()
        await rep.drain()

        today = date.today()
        ledger = list(csv.DictReader(io.StringIO(demo.demo_ledger(today, 40))))
        # The ECG cart: $80.00 a month, incurred on each month's last day from the first month on; this
        # month's is in the window only if today is its last day.
        start = demo.month_ends(today)[0].replace(day=1)
        months_ended = 11 + ((today + timedelta(days=1)).day == 1)
        depreciation = 480_000 // 60
        api = rep.client(["finance"])
        response = await api.get(
            "/reports/profitability", params={"from": start.isoformat(), "to": today.isoformat()}
        )
        report = response.json()
        assert (
            report["totals"]["expense_cents"]
            == sum(int(r["amount_cents"]) for r in ledger) + months_ended * depreciation
        )
        assert report["totals"]["net_revenue_cents"] == 0  # no encounters in this test
        print(json.dumps(report["totals"]), [(r["label"], r["margin_cents"]) for r in report["rows"]])
