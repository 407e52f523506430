"""The largest inbound file the claims service accepts, read as the service reads it: a payer's 835
with 250,000 claims through claims' X12 reader pool (a worker process with a time budget).

    python bench/x12_bench.py [CLAIMS]      (default 250,000; --quick in bench/run.py: 25,000)

Prints the file's size, the time to read it and the peak resident memory (VmHWM) of the reader's
worker process and of the service process that receives the parsed document. No database: posting
is measured by the claims tests; this is the part whose memory grows with the file.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import time
from pathlib import Path

from billing_testing.x12_files import large_835
from claims.adapters.x12_pool import PooledReader

FULL_CLAIMS = 250_000
QUICK_CLAIMS = 25_000


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _peak_rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def run(claims: int = FULL_CLAIMS) -> dict[str, float | int]:
    started = time.perf_counter()
    data = large_835(claims)
    generated = time.perf_counter() - started
    reader = PooledReader(budget_seconds=3600, workers=1)
    try:
        started = time.perf_counter()
        document = await reader(data)
        read_seconds = time.perf_counter() - started
        assert len(document.remittances[0].claims) == claims
        # The worker stays in the pool after the read: its high-water mark is the read's peak.
        worker_peak = max((_peak_rss_mib(pid) for pid in _descendants(os.getpid())), default=0.0)
    finally:
        reader.close()
    service_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "claims": claims,
        "file_mib": round(len(data) / 2**20, 1),
        "generate_seconds": round(generated, 1),
        "read_seconds": round(read_seconds, 1),
        "claims_per_second": round(claims / read_seconds),
        "reader_peak_rss_mib": round(worker_peak),
        "service_peak_rss_mib": round(service_peak),
    }


def print_result(result: dict[str, float | int]) -> None:
    print(
        f"x12: {result['claims']:,}-claim 835 ({result['file_mib']} MiB) read in {result['read_seconds']} s "
        f"({result['claims_per_second']:,} claims/s); peak RSS: reader process "
        f"{result['reader_peak_rss_mib']} MiB, service process {result['service_peak_rss_mib']} MiB"
    )


if __name__ == "__main__":
    print_result(asyncio.run(run(int(sys.argv[1]) if len(sys.argv) > 1 else FULL_CLAIMS)))
