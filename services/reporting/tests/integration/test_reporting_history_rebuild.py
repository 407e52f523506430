"""A rebuild of the read models from the topics, over the practice's history (conftest.py): every report,
in both formats, and the dashboard answer the same before and after."""

from __future__ import annotations

from typing import Any

import httpx

from billing_testing.harness import ServiceHarness
from billing_testing.http import get_json
from reporting.adapters.rebuild import rebuild


async def snapshot(api: httpx.AsyncClient) -> list[Any]:
    """Every report, in both formats, over the whole history."""
    queries: list[tuple[str, dict[str, Any]]] = [
        *(("/reports/ar-aging", {"as_of": day}) for day in ("2025-01-31", "2025-03-04", "2025-06-30")),
        *(
            (
                "/reports/revenue",
                {"from": "2025-01-01", "to": "2025-04-30", "group_by": group, "period": period},
            )
            for group in ("payer", "provider", "code")
            for period in ("day", "month")
        ),
        ("/reports/denials", {"from": "2025-01-01", "to": "2025-04-30"}),
        ("/reports/kpis", {"as_of": "2025-04-30", "window_days": 120}),
    ]
    taken: list[Any] = []
    for path, params in queries:
        taken.append(await get_json(api, path, **params))
        taken.append((await api.get(path, params=params, headers={"Accept": "text/csv"})).text)
    taken.append((await api.get("/dashboard", params={"as_of": "2025-04-30"})).text)
    return taken


async def test_rebuilding_from_the_topics_changes_no_report(
    svc: ServiceHarness, published_events: int
) -> None:
    api = svc.client(roles=["biller"])
    before = await snapshot(api)
    for consumer in svc.consumers:  # a rebuild runs with the live consumers stopped
        await consumer.stop()

    progress: list[tuple[int, int]] = []
    replayed = await rebuild(svc.runtime, progress=lambda done, total: progress.append((done, total)))

    assert replayed == published_events
    assert progress[-1] == (published_events, published_events)
    assert await snapshot(api) == before
