"""`billing replay claims` while claims runs: its reference data (from registration's topics) and its
claims table (from its own log) are rebuilt beside the live ones and swapped in; claim reads answer
throughout, and the rebuilt rows are the live ones."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from billing_service.rebuild import OWN_LOG, rebuild_live
from claims.domain.identifiers import claim_id_for
from claims.entrypoints.workers import submission

from .test_claims_outbound import REBUILT, TENANT, Clinic, claims_service, play

REFERENCE = {
    "claims_patients": "tenant, patient_id, name, birth_date, sex, address",
    "claims_coverages": "tenant, coverage_id, patient_id, payer_id, member_id, priority, effective_from",
    "claims_payers": "tenant, payer_id, name",
}


def without_times(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("created_at", "updated_at")}


async def test_a_live_rebuild_answers_throughout_and_swaps_in_the_same_rows(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    clinic = Clinic()
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        invoices = [clinic.invoice() for _ in range(3)]
        await play(svc, kafka_bootstrap, topic_prefix, [*await clinic.reference(svc), *invoices])
        await submission(svc.runtime).run_once()

        async def rows() -> dict[str, list[Any]]:
            async with svc.runtime.pool.acquire() as db:
                taken = {
                    "claims": [dict(r) for r in await db.fetch(f"SELECT {REBUILT} FROM claims ORDER BY seq")]
                }
                for table, columns in REFERENCE.items():
                    taken[table] = [
                        dict(r) for r in await db.fetch(f"SELECT {columns} FROM {table} ORDER BY 2")
                    ]
            return taken

        before = await rows()
        biller = svc.client(["biller"])
        claim_id = claim_id_for(TENANT, invoices[0].invoice_id)
        first = (await biller.get(f"/claims/{claim_id}")).json()
        finished = asyncio.Event()
        answers: list[tuple[int, Any]] = []

        async def read_along() -> None:
            while not finished.is_set():
                response = await biller.get(f"/claims/{claim_id}")
                answers.append((response.status_code, response.json()))
                await asyncio.sleep(0.005)

        async def rebuild() -> Any:
            try:
                return await rebuild_live(svc.runtime)
            finally:
                finished.set()

        report, _ = await asyncio.gather(rebuild(), read_along())

        assert [part.part for part in report.parts] == ["claims-reference", OWN_LOG]
        assert answers and {status for status, _ in answers} == {200}
        # The rebuilt row takes its times from the events (the live one from the clock when it was
        # written, a few ms apart): everything else is the same, before, during and after the swap.
        assert all(without_times(body) == without_times(first) for _, body in answers)
        assert await rows() == before
        # The claims table's sequence came with the copy: a new invoice still makes a claim.
        late = clinic.invoice()
        await play(svc, kafka_bootstrap, topic_prefix, [late])
        assert (await biller.get(f"/claims/{claim_id_for(TENANT, late.invoice_id)}")).status_code == 200
