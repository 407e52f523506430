"""Rebuild the claims table from the service's own log (`billing replay claims`)."""

from __future__ import annotations

from collections.abc import Callable

from billing_events.contracts.claims import RemittanceReceived
from billing_events.decider import load_state
from billing_events.store import Session
from billing_service.runtime import Runtime
from claims.adapters.projections import PostgresClaimViews, PostgresInboundRecords
from claims.domain.claim import claim_decider


async def rebuild_claims_view(runtime: Runtime, progress: Callable[[int, int], None]) -> int:
    """Fold every claim stream in the order the claims were created (so `seq`, which decides which of
    two duplicates came first, keeps its order) and write its row again. One transaction: readers
    see the old table or the new one."""
    async with runtime.store.session() as session:
        db = session.connection
        streams = await db.fetch(
            "SELECT e.stream_id, e.tenant, e.occurred_at AS created_at, "
            "(SELECT max(occurred_at) FROM events l WHERE l.stream_id = e.stream_id) AS updated_at "
            "FROM events e WHERE e.stream_type = 'claim' AND e.stream_version = 1 ORDER BY e.position"
        )
        await db.execute("TRUNCATE claims")
        views = PostgresClaimViews(db)
        for done, row in enumerate(streams, start=1):
            state, version = await load_state(session, claim_decider, row["stream_id"])
            await views.save(row["tenant"], state, version, row["updated_at"], created_at=row["created_at"])
            progress(done, len(streams))
        await rebuild_provider_ledger(session)
        return len(streams)


async def rebuild_provider_ledger(session: Session) -> None:
    """The provider-level ledger again from the PLB reasons the remittances carry."""
    db = session.connection
    await db.execute("TRUNCATE provider_adjustments")
    inbound = PostgresInboundRecords(db)
    for row in await db.fetch(
        "SELECT tenant, payload FROM events WHERE event_type = 'RemittanceReceived' ORDER BY position"
    ):
        received = RemittanceReceived.model_validate(row["payload"])
        await inbound.record_provider_adjustments(row["tenant"], received)
