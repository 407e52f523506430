"""`make bench`: the libs/events micro-benchmarks, then the end-to-end benchmark; results as JSON.

The last line reads `e2e: N encounters/s, p50 X ms, p99 Y ms` (coding accepted to claim submitted, at
the best sustained level). Results go to bench-results/latest.json.
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
    events = asyncio.run(events_bench.run(quick))
    events_bench.print_table(events)
    results["events"] = events
    e2e = asyncio.run(e2e_bench.main())
    results["e2e"] = e2e
    out = Path(__file__).resolve().parents[1] / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    levels = e2e["levels"]
    best = max(levels, key=lambda lv: lv["encounters_per_s"] if not lv["failures"] else 0)
    print(f"peak memory of all processes: {e2e['peak_memory_mib']} MiB")
    print(
        f"e2e: {best['encounters_per_s']} encounters/s, p50 {best['coded_to_submitted_ms_p50']:.0f} ms, "
        f"p99 {best['coded_to_submitted_ms_p99']:.0f} ms" + ("" if durable else " (NON-DURABLE PostgreSQL)")
    )


if __name__ == "__main__":
    main()
