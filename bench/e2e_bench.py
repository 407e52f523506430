"""End-to-end benchmark: the whole platform as separate processes, offered a constant load per level.

Each level offers encounters at a constant rate (BENCH_RATES, per second) for BENCH_SECONDS (60 by
default) through the HTTP APIs (register, cover, check in, code), open loop: a visit starts when it
is due, whatever the platform answers. About 80% of visits are insured (a claim, a payer, an 835).

- Throughput: insured encounters whose insurance payment was posted in invoicing inside the
  steady-state window (from BENCH_WARMUP, 15 s, after the start to the end of the offered load),
  over the window's length. A level keeps up when that rate is within 10% of the offered insured
  rate, no visit failed, and every insured encounter of the level is posted within BENCH_DRAIN (30)
  seconds after the load ends: the backlog does not grow. The figure is the highest level that
  keeps up; levels stop at the first one that does not.
- Latencies come from the event times on the topics (one clock: everything runs on this machine),
  for the visits offered inside the window: coding accepted (EncounterCoded) -> claim submitted
  (ClaimSubmitted), and -> insurance payment posted (InsurancePaymentPosted); and offered -> coding
  accepted, where a backlog of the intake shows (coded -> * cannot see it).
- Per encounter offered inside the window: CPU ms of each process (bench/probes.py), PostgreSQL
  round trips (pg_stat_statements calls of the platform's databases, or their transactions when the
  extension is not loaded), Kafka deliveries (committed offsets of the platform's consumer groups).
- Peak memory: the proportional set sizes of every process of the platform, Kafka and PostgreSQL
  included, summed, sampled every second (the sampling is the bench driver's idle CPU).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from billing_cli import demo
from billing_service.runtime import keys_database_url
from billing_service.settings import ServiceSettings
from billing_testing.platform import SERVICES, Platform

sys.path.insert(0, str(Path(__file__).resolve().parent))

import probes

KEEP_UP = 0.9  # posted rate / offered insured rate
# How visits reach the platform: "batch" as a hospital's interface engine sends them (POST /intake and
# POST /codings every FLUSH_S), or "single" as a front desk types them (four requests per visit).
INTAKE = os.environ.get("BENCH_INTAKE", "batch")
FLUSH_S = float(os.environ.get("BENCH_FLUSH_S", "0.1"))
WANTED = {
    "EncounterCoded", "EncounterRecoded", "ClaimCreated", "ClaimSubmitted", "InvoiceIssued",
    "InsurancePaymentPosted",
}  # fmt: skip


@dataclass
class Visit:
    due: float  # when it is offered (epoch seconds)
    encounter_id: str | None = None
    insured: bool | None = None


@dataclass
class Level:
    rate: float
    seconds: float
    warmup: float
    visits: list[Visit] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    unanswered: int = 0
    started: float = 0.0
    cpu_ms: dict[str, float] = field(default_factory=dict)
    round_trips: int = 0
    other_transactions: dict[str, int] = field(default_factory=dict)
    deliveries: int = 0
    peak_pss: int = 0
    peak_pss_by_process: dict[str, int] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def window(self) -> tuple[float, float]:
        return self.started + self.warmup, self.started + self.seconds


class Topics:
    """The events the figures come from, read from the topics as they arrive (one reader for the
    whole run; records are filtered by their ce_type header before any value is parsed)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.coded: dict[str, float] = {}
        self.claim_encounter: dict[str, str] = {}
        self.submitted: dict[str, float] = {}
        self.invoice: dict[str, tuple[str, bool]] = {}
        self.posted: dict[str, float] = {}
        # When each stage between coding and submission happened, by encounter: where latency builds.
        self.invoiced: dict[str, float] = {}
        self.claim_created: dict[str, float] = {}

    async def run(self) -> None:
        topics = ["coding.encounter-coding", "claims.claim", "invoicing.invoice"]
        consumer = AIOKafkaConsumer(
            *[f"{self.platform.prefix}.billing.{t}" for t in topics],
            bootstrap_servers=self.platform.kafka_bootstrap, auto_offset_reset="earliest",
            enable_auto_commit=False,
        )  # fmt: skip
        await consumer.start()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=500, max_records=5000)
                for records in batch.values():
                    for r in records:
                        self.take(dict(r.headers), r.value)
        finally:
            await consumer.stop()

    def take(self, headers: dict[str, bytes], value: bytes | None) -> None:
        kind = headers.get("ce_type", b"").decode().split(".")
        if len(kind) != 4 or kind[2] not in WANTED:
            return
        subject = headers["ce_subject"].decode()
        at = datetime.fromisoformat(headers["ce_time"].decode().replace("Z", "+00:00")).timestamp()
        match kind[2]:
            case "EncounterCoded" | "EncounterRecoded":
                self.coded.setdefault(subject, at)
            case "ClaimCreated":
                encounter = json.loads(value or b"{}")["encounter_id"]
                self.claim_encounter[subject] = encounter
                self.claim_created.setdefault(encounter, at)
            case "ClaimSubmitted":
                self.submitted.setdefault(subject, at)
            case "InvoiceIssued":
                payload = json.loads(value or b"{}")
                insured = payload.get("responsibility") == "insurance"
                self.invoice[subject] = (payload["encounter_id"], insured)
                self.invoiced.setdefault(payload["encounter_id"], at)
            case "InsurancePaymentPosted":
                self.posted.setdefault(subject, at)

    def by_encounter(self) -> tuple[dict[str, float], dict[str, float]]:
        """(encounter -> claim submitted, insured encounter -> insurance payment posted)."""
        submitted = {e: self.submitted[c] for c, e in self.claim_encounter.items() if c in self.submitted}
        posted = {e: self.posted[i] for i, (e, ins) in self.invoice.items() if ins and i in self.posted}
        return submitted, posted


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def platform_settings(platform: Platform) -> ServiceSettings:
    """A service's settings as `billing run` builds them for the platform (to name its keys database)."""
    database = urlsplit(platform.database_server_url)._replace(path=f"/{platform.prefix}_registration")
    return ServiceSettings(service_name="registration", database_url=database.geturl())


class Probes:
    """CPU, memory, round trips and deliveries of the platform's processes, sampled every second."""

    def __init__(self, platform: Platform, server_url: str) -> None:
        self.platform = platform
        keys = urlsplit(keys_database_url(platform_settings(platform))).path.lstrip("/")
        self.pg = probes.Postgres(server_url, f"{platform.prefix}_", [keys])
        self.kafka_pid = probes.listener_pid(probes.kafka_port(platform.kafka_bootstrap))
        self.admin = AIOKafkaAdminClient(bootstrap_servers=platform.kafka_bootstrap)
        self.cpu = probes.CpuMeter()
        self.in_window = False
        self.peak = 0
        self.level_peak = 0
        self.level_peak_by_process: dict[str, int] = {}
        self.pg_pids: list[int] = []

    async def start(self) -> None:
        await self.pg.start()
        await self.admin.start()

    async def stop(self) -> None:
        await self.pg.stop()
        await self.admin.close()

    def groups(self) -> dict[str, list[int]]:
        by_group: dict[int, list[int]] = {}
        for pid in probes.all_pids():
            fields = probes.proc_stat(pid)
            if fields:
                by_group.setdefault(int(fields[2]), []).append(pid)
        found: dict[str, list[int]] = {}
        for name, process in self.platform.processes.items():
            # A service's replicas (claims, claims#2) count as the service.
            found.setdefault(name.split("#")[0], []).extend(by_group.get(process.pid, []))
        found["kafka"] = [self.kafka_pid] if self.kafka_pid else []
        found["postgresql"] = self.pg_pids
        found["bench driver"] = [os.getpid()]
        return found

    async def sample(self) -> None:
        while True:
            self.pg_pids = await self.pg.pids()
            groups = self.groups()
            if self.in_window:
                self.cpu.sample(groups)
            by_process = {
                name: probes.memory_bytes(pids) for name, pids in groups.items() if name != "bench driver"
            }
            pss = sum(by_process.values())
            if pss > self.level_peak:
                self.level_peak_by_process = by_process  # what each process held at the level's peak
            self.peak, self.level_peak = max(self.peak, pss), max(self.level_peak, pss)
            await asyncio.sleep(1.0)

    async def counters(self) -> tuple[int, dict[str, int], int]:
        ours, others = await self.pg.round_trips()
        deliveries = await probes.committed_offsets(self.admin, f"{self.platform.prefix}.billing.")
        return ours, others, deliveries

    async def window(self, level: Level) -> None:
        start, end = level.window
        await asyncio.sleep(max(0.0, start - time.time()))
        self.pg_pids = await self.pg.pids()
        self.cpu.mark(self.groups())
        self.in_window = True
        before = await self.counters()
        await asyncio.sleep(max(0.0, end - time.time()))
        self.pg_pids = await self.pg.pids()
        self.cpu.sample(self.groups())
        self.in_window = False
        after = await self.counters()
        level.cpu_ms = self.cpu.ms_by_group()
        level.round_trips, level.deliveries = after[0] - before[0], after[2] - before[2]
        level.other_transactions = {
            name: n - before[1].get(name, 0) for name, n in after[1].items() if n > before[1].get(name, 0)
        }


async def offer(
    platform: Platform, reference: demo.Reference, tokens: demo.Tokens, level: Level, seed: int, drain: float
) -> None:
    """Open-loop load: visit n starts at started + n / rate, however long earlier ones take."""
    rng = random.Random(seed)
    result = demo.SimulationResult()
    tasks: list[asyncio.Task[None]] = []
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def one(n: int, visit: Visit) -> None:
            try:
                done = await demo.simulate_one(
                    client, platform.endpoints, reference, platform.tenant, random.Random(rng.random()),
                    n, result, tokens,
                )  # fmt: skip
                visit.encounter_id, visit.insured = done.encounter_id, done.insured
            except Exception as error:
                level.failures.append(f"{type(error).__name__}: {str(error)[:200]}")

        async def batch(numbers: list[int], visits: list[Visit]) -> None:
            try:
                done = await demo.simulate_batch(
                    client, platform.endpoints, reference, platform.tenant, random.Random(rng.random()),
                    numbers, result, tokens,
                )  # fmt: skip
                for visit, simulated in zip(visits, done, strict=True):
                    visit.encounter_id, visit.insured = simulated.encounter_id, simulated.insured
            except Exception as error:
                level.failures.append(f"{type(error).__name__}: {str(error)[:200]}")

        total = round(level.rate * level.seconds)
        if INTAKE == "single":
            for n in range(total):
                visit = Visit(level.started + n / level.rate)
                level.visits.append(visit)
                await asyncio.sleep(max(0.0, visit.due - time.time()))
                tasks.append(asyncio.create_task(one(seed * 1_000_000 + n, visit)))
        else:
            # An interface engine: visits arrive at the offered rate and are sent every FLUSH_S in one
            # batch; each visit's latency still counts from its own arrival.
            n = 0
            while n < total:
                flush_at = min(level.started + n / level.rate + FLUSH_S, level.window[1])
                await asyncio.sleep(max(0.0, flush_at - time.time()))
                numbers, visits = [], []
                while n < total and level.started + n / level.rate <= time.time():
                    visit = Visit(level.started + n / level.rate)
                    level.visits.append(visit)
                    numbers.append(seed * 1_000_000 + n)
                    visits.append(visit)
                    n += 1
                if numbers:
                    tasks.append(asyncio.create_task(batch(numbers, visits)))
        await asyncio.sleep(max(0.0, level.window[1] - time.time()))
        _, pending = await asyncio.wait(tasks, timeout=drain) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        level.unanswered = len(pending)
        if pending:
            level.failures.append(f"{len(pending)} visits still unanswered {drain:.0f} s after the load")


def measure(level: Level, topics: Topics, drained_at: float | None) -> dict[str, Any]:
    start, end = level.window
    window = end - start
    submitted, posted = topics.by_encounter()
    insured = [v for v in level.visits if v.insured and v.encounter_id]
    known = [v for v in level.visits if v.insured is not None]
    share = len(insured) / len(known) if known else 0.0
    offered_insured = level.rate * share
    posted_in_window = sum(1 for v in insured if start <= posted.get(v.encounter_id or "", 0.0) < end)
    throughput = posted_in_window / window

    def backlog(at: float) -> int:
        return sum(1 for v in insured if v.due <= at) - sum(
            1 for v in insured if posted.get(v.encounter_id or "", float("inf")) <= at
        )

    steady = [v for v in level.visits if start <= v.due < end and v.encounter_id]
    to_coded, to_submitted, to_posted = [], [], []
    stages: dict[str, list[float]] = {
        "coded_to_invoiced": [], "invoiced_to_claim_created": [], "claim_created_to_submitted": []
    }  # fmt: skip
    for v in steady:
        coded = topics.coded.get(v.encounter_id or "")
        if coded is None:
            continue
        to_coded.append((coded - v.due) * 1000)
        if v.encounter_id in submitted:
            sent = submitted[v.encounter_id or ""]
            to_submitted.append((sent - coded) * 1000)
            invoiced = topics.invoiced.get(v.encounter_id or "")
            created = topics.claim_created.get(v.encounter_id or "")
            if invoiced is not None and created is not None:
                stages["coded_to_invoiced"].append((invoiced - coded) * 1000)
                stages["invoiced_to_claim_created"].append((created - invoiced) * 1000)
                stages["claim_created_to_submitted"].append((sent - created) * 1000)
        if v.encounter_id in posted:
            to_posted.append((posted[v.encounter_id or ""] - coded) * 1000)
    encounters = max(1, sum(1 for v in level.visits if start <= v.due < end))
    keeps_up = not level.failures and drained_at is not None and throughput >= KEEP_UP * offered_insured > 0
    cpu = {k: round(v / encounters, 1) for k, v in level.cpu_ms.items()}
    failed = len(level.failures) - (level.unanswered > 0) + level.unanswered  # visits, not messages
    return {
        "rate_per_s": level.rate, "seconds": level.seconds, "window_s": round(window, 1),
        "visits": len(level.visits), "failures": failed, "first_failures": level.failures[:3],
        "insured_share": round(share, 3), "offered_insured_per_s": round(offered_insured, 2),
        "encounters_per_s": round(throughput, 2),
        "posted_over_offered": round(throughput / offered_insured, 3) if offered_insured else 0.0,
        "backlog_at_window_start": backlog(start), "backlog_at_window_end": backlog(end),
        "tail_s": round(drained_at - end, 1) if drained_at is not None else None,
        "keeps_up": keeps_up,
        "offered_to_coded_ms_p50": percentile(to_coded, 0.5),
        "offered_to_coded_ms_p99": percentile(to_coded, 0.99),
        "coded_to_submitted_ms_p50": percentile(to_submitted, 0.5),
        "coded_to_submitted_ms_p99": percentile(to_submitted, 0.99),
        "coded_to_posted_ms_p50": percentile(to_posted, 0.5),
        "coded_to_posted_ms_p99": percentile(to_posted, 0.99),
        "stages_ms_p50_p99": {
            stage: [round(percentile(values, 0.5)), round(percentile(values, 0.99))]
            for stage, values in stages.items()
            if values
        },
        "latency_samples": len(to_submitted),
        "cpu_ms_per_encounter": cpu,
        "platform_cpu_ms_per_encounter": round(sum(v for k, v in cpu.items() if k != "bench driver"), 1),
        "db_round_trips_per_encounter": round(level.round_trips / encounters, 1),
        "other_databases_transactions_per_s": {
            name: round(n / window, 1)
            for name, n in sorted(level.other_transactions.items(), key=lambda item: -item[1])
        },
        "kafka_deliveries_per_encounter": round(level.deliveries / encounters, 1),
        "peak_pss_mib": round(level.peak_pss / 2**20),
        "peak_pss_mib_by_process": {
            name: round(pss / 2**20) for name, pss in level.peak_pss_by_process.items()
        },
    }  # fmt: skip


def print_level(f: dict[str, Any], round_trips: str) -> None:
    tail = f"tail drained {f['tail_s']} s after the load" if f["tail_s"] is not None else "tail NOT drained"
    print(
        f"load {f['rate_per_s']:g}/s for {f['seconds']:g} s (window {f['window_s']:g} s): "
        f"{f['encounters_per_s']:.1f} insured encounters posted/s of {f['offered_insured_per_s']:.1f} "
        f"offered ({f['posted_over_offered']:.0%}), backlog {f['backlog_at_window_start']} -> "
        f"{f['backlog_at_window_end']}, {tail}, {f['failures']} failures: "
        + ("keeps up" if f["keeps_up"] else "does NOT keep up"),
        flush=True,
    )
    print(
        f"    offered->coded p50/p99 {f['offered_to_coded_ms_p50']:.0f}/"
        f"{f['offered_to_coded_ms_p99']:.0f} ms (the HTTP calls, coding waiting for registration's events)"
    )
    print(
        f"    coded->submitted p50/p99 {f['coded_to_submitted_ms_p50']:.0f}/"
        f"{f['coded_to_submitted_ms_p99']:.0f} ms; coded->posted p50/p99 {f['coded_to_posted_ms_p50']:.0f}/"
        f"{f['coded_to_posted_ms_p99']:.0f} ms ({f['latency_samples']} visits of the window)"
    )
    stages = ", ".join(f"{k.replace('_to_', '->')} {a}/{b}" for k, (a, b) in f["stages_ms_p50_p99"].items())
    print(f"    coded->submitted by stage, p50/p99 ms: {stages}")
    cpu = f["cpu_ms_per_encounter"]
    by_process = ", ".join(f"{k} {v:.1f}" for k, v in cpu.items() if k != "bench driver")
    print(
        f"    cpu ms/encounter: {by_process}; platform {f['platform_cpu_ms_per_encounter']:.1f} "
        f"(bench driver {cpu.get('bench driver', 0.0):.1f}, not counted)"
    )
    print(
        f"    per encounter: {f['db_round_trips_per_encounter']:.1f} db round trips ({round_trips}), "
        f"{f['kafka_deliveries_per_encounter']:.1f} kafka deliveries; peak PSS {f['peak_pss_mib']} MiB"
        + ("" if f["keeps_up"] else " (per encounter offered: behind, the platform did less than that)")
    )
    by_process_mib = ", ".join(f"{k} {v}" for k, v in f["peak_pss_mib_by_process"].items())
    print(f"    PSS at the peak, MiB: {by_process_mib}")
    others = {k: v for k, v in f["other_databases_transactions_per_s"].items() if v >= 1}
    if others:
        print(
            "    other databases' transactions/s in the window: "
            + ", ".join(f"{k} {v:.0f}" for k, v in list(others.items())[:5])
            + " (the bench's probes use postgres; on a shared server PostgreSQL's background processes,"
            " and Kafka, carry other clients' work too)"
        )
    for failure in f["first_failures"]:
        print(f"    failure: {failure}", flush=True)


async def start_up(platform: Platform) -> None:
    """Wait until every service answers; one that exited during start-up is started once more, loudly
    (two components of a service creating the same table on a fresh database can race)."""
    for attempt in (1, 2):
        try:
            await platform.wait_ready()
            return
        except RuntimeError as error:
            exited = sorted({s.split("#")[0] for s, p in platform.processes.items() if p.poll() is not None})
            if attempt == 2 or not exited:
                raise
            print(f"warning: {error}; starting {', '.join(exited)} once more", flush=True)
            for service in exited:
                platform.kill_survivors(service)
                platform.start(service)


async def measure_idle(meter: Probes, seconds: float) -> dict[str, Any]:
    """The platform's cost with no load (ticks, polls, heartbeats): per second, so the per-encounter
    figures of the low levels, which carry it, can be read."""
    await asyncio.sleep(seconds)  # start-up work (reference data, first polls) out of the way first
    idle = Level(0.0, seconds, 0.0, started=time.time())
    await meter.window(idle)
    cpu = {k: round(v / seconds, 1) for k, v in idle.cpu_ms.items()}
    figures: dict[str, Any] = {
        "cpu_ms": cpu,
        "db_round_trips": round(idle.round_trips / seconds, 1),
        "kafka_deliveries": round(idle.deliveries / seconds, 1),
    }
    print(
        f"idle for {seconds:g} s, per second: platform cpu "
        f"{sum(v for k, v in cpu.items() if k != 'bench driver'):.0f} ms ("
        + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items() if k != "bench driver")
        + f"; bench driver {cpu.get('bench driver', 0.0):.0f}), {figures['db_round_trips']:.1f} db round "
        f"trips, {figures['kafka_deliveries']:.1f} kafka deliveries",
        flush=True,
    )
    return figures


async def main(quick: bool = False) -> dict[str, Any]:
    kafka = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    server = os.environ.get("BILLING_DATABASE_SERVER_URL") or os.environ["DATABASE_URL"]
    workdir = Path(os.environ.get("BENCH_WORKDIR", Path(__file__).resolve().parents[1] / ".cache" / "bench"))
    workdir.mkdir(parents=True, exist_ok=True)
    # The warm-up must outlast the pipeline's latency (coded -> posted, several seconds) or the window
    # starts before the first payments can post.
    seconds = float(os.environ.get("BENCH_SECONDS", "30" if quick else "60"))
    warmup = float(os.environ.get("BENCH_WARMUP", min(15.0, seconds / 2)))
    drain = float(os.environ.get("BENCH_DRAIN", "30"))
    rates = os.environ.get("BENCH_RATES", "5,10" if quick else "10,20,30,40,50,60,70,80,90,100,120")
    levels = [Level(float(r), seconds, warmup) for r in rates.split(",")]
    replicas = int(os.environ.get("BENCH_REPLICAS", "1"))
    platform = Platform(
        workdir, kafka, server, base_port=int(os.environ.get("BENCH_BASE_PORT", "19000")), replicas=replicas
    )
    (platform.clearinghouse / "outbound").mkdir(parents=True, exist_ok=True)
    (platform.clearinghouse / "inbound").mkdir(parents=True, exist_ok=True)
    os.environ["BILLING_STATE_DIR"] = str(workdir / "state")
    background: list[asyncio.Task[None]] = []
    done: list[Level] = []
    meter = Probes(platform, server)
    try:
        for service in (*SERVICES, "payer-simulator"):
            platform.start(service)
        await start_up(platform)
        await meter.start()
        print(f"PostgreSQL: {meter.pg.durability}; round trips from {meter.pg.round_trip_source}", flush=True)
        sent = (
            f"batches every {FLUSH_S:g} s (POST /intake, POST /codings)"
            if INTAKE == "batch"
            else "one by one"
        )
        print(f"intake: {INTAKE}, visits sent {sent}; {replicas} replica(s) of each service", flush=True)
        topics = Topics(platform)
        background += [asyncio.create_task(topics.run()), asyncio.create_task(meter.sample())]
        reference = await demo.seed(platform.endpoints, platform.tenant)
        tokens = demo.Tokens.mint(platform.tenant)
        idle = await measure_idle(meter, float(os.environ.get("BENCH_IDLE", "5" if quick else "10")))
        for index, level in enumerate(levels):
            level.started = time.time() + 0.5
            meter.level_peak, meter.level_peak_by_process = 0, {}
            window = asyncio.create_task(meter.window(level))
            await offer(platform, reference, tokens, level, index + 1, drain)
            await window
            # Every insured encounter of the level posted, within the drain bound after the load?
            drained_at = None
            while time.time() < level.window[1] + drain:
                _, posted = topics.by_encounter()
                ids = [v.encounter_id for v in level.visits if v.insured and v.encounter_id]
                if all(i in posted for i in ids):
                    drained_at = max((posted[i] for i in ids), default=level.window[1])
                    break
                await asyncio.sleep(0.5)
            level.peak_pss, level.peak_pss_by_process = meter.level_peak, meter.level_peak_by_process
            level.figures = measure(level, topics, drained_at)
            print_level(level.figures, meter.pg.round_trip_source.split(" (")[0])
            done.append(level)
            if not level.figures["keeps_up"]:
                skipped = [lv.rate for lv in levels[index + 1 :]]
                if skipped:
                    print(f"    higher levels skipped: {', '.join(f'{r:g}/s' for r in skipped)}", flush=True)
                break
    finally:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await meter.stop()
        platform.stop_all()
    figures = [lv.figures for lv in done]
    kept = [f for f in figures if f["keeps_up"]]
    best = max(kept, key=lambda f: f["encounters_per_s"]) if kept else None
    # About half the best rate: the level that keeps up whose offered insured rate is nearest half of
    # the best figure (the best level itself only when no lower one kept up).
    lower = [f for f in kept if f is not best] or kept
    half = (
        min(lower, key=lambda f: abs(f["offered_insured_per_s"] - best["encounters_per_s"] / 2))
        if best
        else None
    )
    return {
        "intake": INTAKE,
        "replicas": replicas,
        "idle_per_s": idle,
        "levels": figures,
        "postgresql": meter.pg.settings,
        "durability": meter.pg.durability,
        "round_trips_from": meter.pg.round_trip_source,
        "best": best,
        "sustained_encounters_per_s": best["encounters_per_s"] if best else 0.0,
        "half_load_rate_per_s": half["rate_per_s"] if half else None,
        "half_load_encounters_per_s": half["encounters_per_s"] if half else None,
        "half_load_coded_to_submitted_ms_p99": half["coded_to_submitted_ms_p99"] if half else None,
        "peak_memory_mib": round(meter.peak / 2**20),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main("--quick" in sys.argv)), indent=2, default=str))
