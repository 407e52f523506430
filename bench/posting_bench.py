"""A payer's 250,000-claim 835 posted by the claims service, as the inbound folder and the API post it:
read in the reader pool, then posted a part per transaction into a real claims database.

    python bench/posting_bench.py [CLAIMS]   (needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS)

None of the file's claims is one of ours, so every claim payment is held for a biller to match (the
case of a payer that garbles claim numbers): posting is the held list and the remittance's parts, not
adjudication, which tests and the integration figures measure (about 200 matched claims/s). Prints
the time and the resident memory of this process (the service's) before and at its peak while
posting, sampled every 50 ms, and the reader process's peak.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from events_bench import fresh_database
from replay_bench import settings
from x12_bench import FULL_CLAIMS, _descendants, _peak_rss_mib

from billing_events.envelope import Metadata
from billing_service.runtime import open_runtime
from billing_testing.x12_files import large_835
from claims.adapters.projections import postgres_unit
from claims.adapters.x12_pool import PooledReader
from claims.application.ingestion import Ingestion
from claims.entrypoints import SERVICE


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run(claims: int = FULL_CLAIMS) -> dict[str, float | int]:
    url = await fresh_database(os.environ["DATABASE_URL"], "bench_posting_claims")
    state = tempfile.mkdtemp(prefix="bench-posting-")
    runtime = await open_runtime(SERVICE, settings(SERVICE, url, f"bench{uuid.uuid4().hex[:8]}.", state))
    reader = PooledReader(budget_seconds=3600, workers=1)
    try:
        data = large_835(claims)
        gc.collect()
        before = peak = _rss_mib()
        posting = True

        async def sample() -> None:
            nonlocal peak
            while posting:
                peak = max(peak, _rss_mib())
                await asyncio.sleep(0.05)

        sampler = asyncio.create_task(sample())
        started = time.perf_counter()
        document = await reader(data)
        read_seconds = time.perf_counter() - started
        reader_peak = max((_peak_rss_mib(pid) for pid in _descendants(os.getpid())), default=0.0)
        result = await Ingestion(runtime.store, postgres_unit).ingest(
            document,
            sha256=uuid.uuid4().hex,
            file_name="bench.835",
            tenant="bench",
            metadata_for=lambda tenant: Metadata(tenant=tenant, actor="bench"),
        )
        seconds = time.perf_counter() - started
        posting = False
        await sampler
        assert result.unmatched_claims == claims, result
        async with runtime.pool.acquire() as db:
            parts = await db.fetchval(
                "SELECT count(*) FROM events WHERE event_type = 'RemittanceClaimsListed'"
            )
            largest = await db.fetchval("SELECT max(octet_length(payload::text)) FROM events")
    finally:
        reader.close()
        await runtime.close()
    return {
        "claims": claims,
        "file_mib": round(len(data) / 2**20, 1),
        "read_seconds": round(read_seconds, 1),
        "read_and_post_seconds": round(seconds, 1),
        "claims_per_second": round(claims / seconds),
        "remittance_parts": int(parts),
        "largest_event_kib": round(int(largest) / 1024),
        "service_rss_before_mib": round(before),
        "service_rss_peak_mib": round(peak),
        "reader_peak_rss_mib": round(reader_peak),
    }


def print_result(result: dict[str, float | int]) -> None:
    print(
        f"835 posting: {result['claims']:,} held claims ({result['file_mib']} MiB) read and posted in "
        f"{result['read_and_post_seconds']} s ({result['claims_per_second']:,} claims/s, "
        f"{result['remittance_parts']} parts, largest event {result['largest_event_kib']} KiB); "
        f"service RSS {result['service_rss_before_mib']} -> peak {result['service_rss_peak_mib']} MiB, "
        f"reader peak {result['reader_peak_rss_mib']} MiB",
        flush=True,
    )


if __name__ == "__main__":
    print_result(asyncio.run(run(int(sys.argv[1]) if len(sys.argv) > 1 else FULL_CLAIMS)))
