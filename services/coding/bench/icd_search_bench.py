"""ICD-10-CM code search latency on the full April 2026 release (98,186 codes).

    .venv/bin/python services/coding/bench/icd_search_bench.py [--rounds N]

Three measures of the same query mix: the index alone, the HTTP route in-process (JWT check,
middleware, JSON), and a real uvicorn server on 127.0.0.1 over a keep-alive connection. Requests are
sequential and bounded (rounds x queries), so the figures are latencies, not throughput. No
database or broker is needed: the search route reads only the in-memory code sets.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import uvicorn

from billing_service.auth import issue_token
from billing_service.runtime import build_app
from billing_service.settings import ServiceSettings
from coding.adapters.icd_package import bundled_release
from coding.adapters.search import CodeSearchIndex
from coding.entrypoints import coding_service
from coding.settings import CodingSettings

# What coders type: code prefixes short and long, single words, word prefixes while typing, and
# multi-word phrases, including very common words that match tens of thousands of codes.
QUERIES = [
    "E11", "E11.9", "E11.65", "S72.0", "S72.001A", "I50", "M54.5", "Z00", "A0", "O", "QA0",
    "diabetes", "type 2 diabetes", "type 2 diab", "heart failure", "hypertension", "asthma", "cough",
    "low back pain", "fracture femur right", "fracture of neck of right femur initial closed",
    "chronic kidney disease stage 3", "pregnancy", "supervision normal pregnancy second trimester",
    "fra", "con", "pai", "pain", "left", "right", "unspecified", "initial encounter",
    "encounter", "right left unspecified", "sprain ankle", "otitis media", "b12", "covid", "sepsis",
    "screening", "well child", "newborn jaundice", "xyzzy",
]  # fmt: skip


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return {
        "n": len(ordered),
        "p50_ms": at(0.50),
        "p99_ms": at(0.99),
        "max_ms": ordered[-1] * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
    }


def bench_index(index: CodeSearchIndex, rounds: int) -> dict[str, float]:
    samples: list[float] = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            index.search(query, limit=20)
            samples.append(time.perf_counter() - started)
    return percentiles(samples)


async def timed(rounds: int, get: Callable[[str], Awaitable[httpx.Response]]) -> dict[str, float]:
    samples: list[float] = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            response = await get(query)
            samples.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    return percentiles(samples)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def bench_http(rounds: int, state_dir: Path) -> tuple[dict[str, float], dict[str, float]]:
    settings = ServiceSettings(service_name="coding", BILLING_STATE_DIR=str(state_dir))
    definition = coding_service(CodingSettings(warm_on_start=False))
    app = build_app(definition, settings)
    headers = {
        "Authorization": f"Bearer {issue_token(settings, tenant='bench', roles=['coder'], subject='b')}"
    }
    params = {"date": "2026-05-12", "limit": "20"}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://coding") as client:

        async def in_process(query: str) -> httpx.Response:
            return await client.get("/codes/icd10cm", params={**params, "q": query}, headers=headers)

        await in_process("warm up")  # loads the code sets and builds the index once
        asgi = await timed(rounds, in_process)

    port = free_port()
    # lifespan "off": the search route needs no database, so the server runs without one.
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes only this flag
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

            async def over_loopback(query: str) -> httpx.Response:
                return await client.get("/codes/icd10cm", params={**params, "q": query}, headers=headers)

            loopback = await timed(rounds, over_loopback)
    finally:
        server.should_exit = True
        await serving
    return asgi, loopback


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="passes over the query mix")
    args = parser.parse_args()

    started = time.perf_counter()
    release = bundled_release()
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    index = CodeSearchIndex(release.codes.values())
    built = time.perf_counter() - started
    print(f"release {release.effective}: {len(release.codes)} codes")
    print(f"loaded in {loaded:.2f} s, indexed in {built:.2f} s")

    figures = {"index": bench_index(index, args.rounds)}
    with tempfile.TemporaryDirectory() as state_dir:
        figures["http in-process"], figures["http loopback"] = asyncio.run(
            bench_http(args.rounds, Path(state_dir))
        )
    print(f"{'measure':<18}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'mean ms':>10}")
    for name, f in figures.items():
        print(
            f"{name:<18}{f['n']:>6.0f}{f['p50_ms']:>10.2f}{f['p99_ms']:>10.2f}{f['max_ms']:>10.2f}{f['mean_ms']:>10.2f}"
        )


if __name__ == "__main__":
    main()
