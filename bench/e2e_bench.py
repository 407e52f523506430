"""End-to-end benchmark: the whole platform as separate processes, driven at increasing load.

For each load level it opens encounters at a fixed rate through the HTTP APIs (register, cover,
check in, code) and waits until every insured encounter's adjudication is posted in invoicing.
Latencies come from the event times on the topics (one clock: everything runs on this machine):
coding accepted (EncounterCoded) -> claim submitted (ClaimSubmitted), and -> adjudication posted
(InsurancePaymentPosted). Peak memory is the sum of the resident sets of every process of the
platform, Kafka and PostgreSQL included, sampled twice a second.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from billing_cli import demo
from billing_events.envelope import EventEnvelope
from billing_testing.platform import SERVICES, Platform


@dataclass
class Level:
    rate: float
    encounters: int
    opened: int = 0
    failures: list[str] = field(default_factory=list)
    seconds_to_post: float = 0.0
    throughput: float = 0.0
    to_submitted_ms: list[float] = field(default_factory=list)
    to_posted_ms: list[float] = field(default_factory=list)


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


def platform_pids(platform: Platform) -> list[int]:
    """Every process of the platform and of the local infrastructure, children included."""
    roots = {p.pid for p in platform.processes.values()}
    state = Path(__file__).resolve().parents[1] / ".cache" / "infra-state.json"
    if state.exists():
        roots |= {int(entry["pid"]) for entry in json.loads(state.read_text()).values()}
    pids: set[int] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        pid, ppid = int(proc.name), int(fields[1])
        if pid in roots or ppid in roots:
            pids.add(pid)
    return sorted(pids)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def read_events(platform: Platform, topics: list[str]) -> list[EventEnvelope]:
    consumer = AIOKafkaConsumer(
        *[f"{platform.prefix}.billing.{t}" for t in topics], bootstrap_servers=platform.kafka_bootstrap,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    found: list[EventEnvelope] = []
    try:
        quiet = 0
        while quiet < 3:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            records = [r for part in batch.values() for r in part]
            quiet = 0 if records else quiet + 1
            found += [EventEnvelope.from_kafka(list(r.headers), r.value) for r in records]
    finally:
        await consumer.stop()
    return found


async def run_level(platform: Platform, reference: demo.Reference, level: Level, seed: int) -> None:
    rng = random.Random(seed)
    result = demo.SimulationResult()
    started = time.perf_counter()
    tasks: list[asyncio.Task[None]] = []
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=200)) as client:

        async def one(n: int) -> None:
            try:
                await demo.simulate_one(
                    client,
                    platform.endpoints,
                    reference,
                    platform.tenant,
                    random.Random(rng.random()),
                    n,
                    result,
                )
            except Exception as error:
                level.failures.append(f"{type(error).__name__}: {str(error)[:200]}")

        for n in range(level.encounters):
            due = started + n / level.rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(one(seed * 100_000 + n)))
        await asyncio.gather(*tasks)
    level.opened = result.coded


async def main() -> dict[str, Any]:
    kafka = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    server = os.environ["DATABASE_URL"]
    workdir = Path(os.environ.get("BENCH_WORKDIR", Path(__file__).resolve().parents[1] / ".cache" / "bench"))
    workdir.mkdir(parents=True, exist_ok=True)
    levels = [Level(float(r), int(float(r) * float(os.environ.get("BENCH_SECONDS", "15"))))
              for r in os.environ.get("BENCH_RATES", "5,10,20,40").split(",")]  # fmt: skip
    platform = Platform(workdir, kafka, server, base_port=int(os.environ.get("BENCH_BASE_PORT", "19000")))
    (platform.clearinghouse / "outbound").mkdir(parents=True, exist_ok=True)
    (platform.clearinghouse / "inbound").mkdir(parents=True, exist_ok=True)
    os.environ["BILLING_STATE_DIR"] = str(workdir / "state")
    peak = 0
    sampling = True

    async def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, memory_bytes(platform_pids(platform)))
            await asyncio.sleep(0.5)

    try:
        for service in (*SERVICES, "payer-simulator"):
            platform.start(service)
        await platform.wait_ready()
        sampler = asyncio.create_task(sample())
        reference = await demo.seed(platform.endpoints, platform.tenant)
        for index, level in enumerate(levels):
            began = time.time()
            await run_level(platform, reference, level, seed=index + 1)
            # Wait until every insured encounter of this level is posted (or nothing moves for 60 s).
            posted_before = -1
            still_since = time.monotonic()
            while True:
                events = await read_events(
                    platform, ["coding.encounter-coding", "claims.claim", "invoicing.invoice"]
                )
                measured = measure(events, since=began)
                if measured["posted"] >= measured["insured_invoices"] and measured["insured_invoices"] > 0:
                    break
                if measured["posted"] != posted_before:
                    posted_before, still_since = measured["posted"], time.monotonic()
                elif time.monotonic() - still_since > 60:
                    level.failures.append(
                        f"{measured['insured_invoices'] - measured['posted']} adjudications never posted"
                    )
                    break
                await asyncio.sleep(2)
            level.to_submitted_ms = measured["to_submitted_ms"]
            level.to_posted_ms = measured["to_posted_ms"]
            level.seconds_to_post = (
                measured["last_posted"] - began if measured["last_posted"] else float("nan")
            )
            level.throughput = level.opened / level.seconds_to_post if level.seconds_to_post else 0.0
            print_level(level)
        sampling = False
        await sampler
    finally:
        sampling = False
        platform.stop_all()
    best = max(levels, key=lambda lv: lv.throughput if not lv.failures else 0)
    half = min(levels, key=lambda lv: abs(lv.rate - best.throughput / 2))
    summary = {
        "levels": [
            {
                "rate_per_s": lv.rate, "encounters": lv.encounters, "coded": lv.opened,
                "failures": len(lv.failures),
                "first_failures": lv.failures[:3], "encounters_per_s": round(lv.throughput, 1),
                "coded_to_submitted_ms_p50": percentile(lv.to_submitted_ms, 0.5),
                "coded_to_submitted_ms_p99": percentile(lv.to_submitted_ms, 0.99),
                "coded_to_posted_ms_p50": percentile(lv.to_posted_ms, 0.5),
                "coded_to_posted_ms_p99": percentile(lv.to_posted_ms, 0.99),
            }
            for lv in levels
        ],
        "sustained_encounters_per_s": round(best.throughput, 1),
        "half_load_rate_per_s": half.rate,
        "half_load_coded_to_submitted_ms_p99": percentile(half.to_submitted_ms, 0.99),
        "peak_memory_mib": round(peak / 2**20),
    }  # fmt: skip
    return summary


def measure(events: list[EventEnvelope], since: float) -> dict[str, Any]:
    def at(e: EventEnvelope) -> float:
        return e.occurred_at.timestamp()

    coded: dict[str, float] = {}
    claim_encounter: dict[str, str] = {}
    submitted: dict[str, float] = {}
    invoice_encounter: dict[str, str] = {}
    insured: set[str] = set()
    posted: dict[str, float] = {}
    for e in events:
        if at(e) < since:
            continue
        if e.event_type in ("EncounterCoded", "EncounterRecoded"):
            coded.setdefault(e.stream_id, at(e))
        elif e.event_type == "ClaimCreated":
            claim_encounter[e.stream_id] = e.payload["encounter_id"]
        elif e.event_type == "ClaimSubmitted":
            submitted.setdefault(e.stream_id, at(e))
        elif e.event_type == "InvoiceIssued":
            invoice_encounter[e.stream_id] = e.payload["encounter_id"]
            if e.payload.get("responsibility") == "insurance":
                insured.add(e.stream_id)
        elif e.event_type == "InsurancePaymentPosted":
            posted.setdefault(e.stream_id, at(e))
    to_submitted = [
        (submitted[c] - coded[enc]) * 1000
        for c, enc in claim_encounter.items() if c in submitted and enc in coded
    ]  # fmt: skip
    to_posted = [
        (posted[i] - coded[enc]) * 1000
        for i, enc in invoice_encounter.items() if i in posted and enc in coded
    ]  # fmt: skip
    return {
        "insured_invoices": len(insured),
        "posted": len(set(posted) & insured),
        "to_submitted_ms": to_submitted,
        "to_posted_ms": to_posted,
        "last_posted": max(posted.values(), default=0.0),
        "first_posted": min(posted.values(), default=0.0),
    }


def print_level(level: Level) -> None:
    submitted = "/".join(f"{percentile(level.to_submitted_ms, q):.0f}" for q in (0.5, 0.99))
    posted = "/".join(f"{percentile(level.to_posted_ms, q):.0f}" for q in (0.5, 0.99))
    print(
        f"load {level.rate:>5.0f}/s: {level.opened} encounters coded, {len(level.failures)} failures, "
        f"{level.throughput:.1f} encounters/s end to end; coded->submitted p50/p99 {submitted} ms; "
        f"coded->posted p50/p99 {posted} ms",
        flush=True,
    )
    for failure in level.failures[:3]:
        print(f"    failure: {failure}", flush=True)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2, default=str))
