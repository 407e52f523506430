"""`make bench`: the end-to-end benchmark, then the libs/events micro-benchmarks; results as JSON.

    python bench/run.py [--quick]     (--quick: smaller micro-benchmarks, two 30 s load levels)

The last line reads `e2e: N encounters/s sustained, p50 X ms, p99 Y ms, C ms cpu/encounter, R db round
trips/encounter`: N insured encounters posted per second at the highest level that keeps up (see
bench/e2e_bench.py), p50/p99 coding accepted -> claim submitted there, C the platform's CPU (services,
payer simulator, Kafka, PostgreSQL) and R PostgreSQL round trips per encounter offered. Results go to
bench-results/latest.json.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import e2e_bench
import events_bench
import posting_bench
import replay_bench
import x12_bench


async def postgres_durability() -> dict[str, str]:
    """fsync, synchronous_commit, full_page_writes of the server measured: the headline is durable."""
    import os

    import asyncpg

    connection = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        names = ("fsync", "synchronous_commit", "full_page_writes")
        return {name: str(await connection.fetchval(f"SHOW {name}")) for name in names}
    finally:
        await connection.close()


def main() -> None:
    results: dict[str, object] = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    durability = asyncio.run(postgres_durability())
    results["postgres"] = durability
    durable = all(value != "off" for value in durability.values())
    if not durable:
        print(f"WARNING: PostgreSQL is NOT durable ({durability}): these figures are not the headline")
    quick = "--quick" in sys.argv
    # The end-to-end benchmark first, on servers nothing else has used yet: run after the others, it
    # measured PostgreSQL still checkpointing and vacuuming the 250,000-claim 835 posted just before
    # it (the same code, stop 18: 23.6 insured encounters/s sustained after them, 30.0 before them).
    e2e = asyncio.run(e2e_bench.main(quick))
    results["e2e"] = e2e
    events = asyncio.run(events_bench.run(quick))
    events_bench.print_table(events)
    results["events"] = events
    # The largest inbound file accepted (a payer's 835) read as claims reads it: time and peak memory.
    x12 = asyncio.run(x12_bench.run(x12_bench.QUICK_CLAIMS if quick else x12_bench.FULL_CLAIMS))
    x12_bench.print_result(x12)
    results["x12"] = x12
    # The same file posted (held claim payments, a part per transaction) into a claims database.
    posting = asyncio.run(posting_bench.run(x12_bench.QUICK_CLAIMS if quick else x12_bench.FULL_CLAIMS))
    posting_bench.print_result(posting)
    results["posting_835"] = posting
    # `billing replay` (blue/green live rebuild): events rebuilt per second from topics and own log.
    replay = asyncio.run(replay_bench.run(10_000 if quick else 60_000))
    results["replay"] = replay
    print(f"replay (live rebuild): {json.dumps(replay)}", flush=True)
    out = Path(__file__).resolve().parents[1] / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"peak memory of all processes (PSS, Kafka and PostgreSQL included): {e2e['peak_memory_mib']} MiB")
    if e2e["half_load_rate_per_s"] is not None:
        alone = e2e["best"] and e2e["half_load_rate_per_s"] == e2e["best"]["rate_per_s"]
        print(
            f"at about half the best rate (load {e2e['half_load_rate_per_s']:g}/s, "
            f"{e2e['half_load_encounters_per_s']:.1f} encounters/s"
            + ("; no lower level kept up: the best level itself" if alone else "")
            + f"): p99 coded->submitted {e2e['half_load_coded_to_submitted_ms_p99']:.0f} ms"
        )
    best = e2e["best"]
    if best is None:
        print("no load level kept up: the figures below are those of the lowest level")
        best = {**e2e["levels"][0], "encounters_per_s": 0.0}
    print(f"PostgreSQL durability: {e2e['durability']}; round trips from {e2e['round_trips_from']}")
    print(
        f"e2e: {best['encounters_per_s']:.1f} encounters/s sustained, "
        f"p50 {best['coded_to_submitted_ms_p50']:.0f} ms, p99 {best['coded_to_submitted_ms_p99']:.0f} ms, "
        f"{best['platform_cpu_ms_per_encounter']:.1f} ms cpu/encounter, "
        f"{best['db_round_trips_per_encounter']:.1f} db round trips/encounter"
        + ("" if durable else " (NON-DURABLE PostgreSQL)")
    )


if __name__ == "__main__":
    main()
