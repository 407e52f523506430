"""The dashboard over the practice's history (conftest.py), in a real browser: charts, KPI tiles, and a
screenshot with something drawn on it."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from billing_testing.harness import ServiceHarness

CHROMIUM = Path("/usr/bin/chromium")


@dataclass
class Served:
    base_url: str
    token: str


@pytest.fixture
async def served(svc: ServiceHarness) -> AsyncIterator[Served]:
    """The service's app on a real uvicorn server on a free port."""
    # Listening before uvicorn starts: the browser's first connection waits in the backlog.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(svc.app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    yield Served(f"http://127.0.0.1:{port}", svc.token(["biller"]))
    server.should_exit = True
    await task
    listener.close()


# Reads a PNG file in a blank page's canvas: how big it is, how many colours it has, how much blue.
PIXEL_STATS = """async (source) => {
  const image = new Image();
  image.src = source;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  let blue = 0;
  for (let i = 0; i < data.length; i += 4) {
    colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    if (data[i] < 80 && data[i + 1] < 140 && data[i + 2] > 200) blue += 1;
  }
  return { width: canvas.width, height: canvas.height, colours: colours.size, blue };
}"""


async def test_the_dashboard_renders_charts_and_kpis_in_a_real_browser(
    served: Served, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1400})
            failed: list[str] = []
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.on(
                "console", lambda message: failed.append(message.text) if message.type == "error" else None
            )
            await page.goto(f"{served.base_url}/?as_of=2025-04-30#token={served.token}")
            await page.wait_for_selector("body[data-loaded=yes]", timeout=15_000)

            assert "#token" not in page.url  # the token left the address bar
            for chart in ("aging", "denials", "revenue"):
                box = await page.locator(f'svg[data-chart="{chart}"]').bounding_box()
                assert box is not None and box["width"] > 100 and box["height"] > 100, chart
            bars = page.locator('svg[data-chart="aging"] rect.bar')
            # As of Apr 30: Blue Plains 0-30 (INV-6), self-pay 31-60 (INV-5) and 61-90 (INV-4).
            assert await bars.count() == 3
            for i in range(await bars.count()):
                bar = await bars.nth(i).bounding_box()
                assert bar is not None and bar["width"] > 0 and bar["height"] > 0
            assert await page.locator('svg[data-chart="denials"] rect.bar').count() == 2  # CO-50, CO-97
            assert await page.locator('svg[data-chart="revenue"] polyline').count() == 3

            # KPIs over the default 90 days (Jan 31 - Apr 30): 39000 / ((58000 - 15000) / 90) = 81.6 days;
            # payments 37000 / 43000 = 86.05%.
            tiles = {
                key: await page.locator(f'[data-kpi="{key}"] .number').inner_text()
                for key in (
                    "days_in_ar",
                    "clean_claim_rate",
                    "first_pass_resolution_rate",
                    "denial_rate",
                    "net_collection_rate",
                    "average_days_to_payment",
                )
            }
            assert tiles == {
                "days_in_ar": "81.6",
                "clean_claim_rate": "100.00%",  # C4 and C6, the claims created in the window
                "first_pass_resolution_rate": "66.67%",
                "denial_rate": "33.33%",
                "net_collection_rate": "86.05%",
                "average_days_to_payment": "40.8",
            }
            assert failed == []

            shot = tmp_path / "dashboard.png"
            await page.screenshot(path=str(shot))

            # The saved file, read back on a page of its own.
            blank = await browser.new_page()
            source = "data:image/png;base64," + base64.b64encode(shot.read_bytes()).decode()
            stats = await blank.evaluate(PIXEL_STATS, source)
        finally:
            await browser.close()

    assert (stats["width"], stats["height"]) == (1280, 1400)
    # A blank page has one colour; tiles, text and charts have hundreds, the charts' blue among them.
    assert stats["colours"] > 100
    assert stats["blue"] > 1000
