"""Rebuild the claims table, the provider-level ledger and the held claim payments from the service's
own log (`billing replay claims`)."""

from __future__ import annotations

from collections.abc import Callable

from billing_events.contracts.claims import (
    HeldClaimPayment,
    RemittanceClaimMatched,
    RemittanceClaimsListed,
    RemittanceReceived,
)
from billing_events.decider import load_state
from billing_events.store import Session
from billing_service.runtime import Runtime
from claims.adapters.projections import PostgresClaimViews, PostgresInboundRecords
from claims.domain.claim import claim_decider
from claims.domain.remittance import released


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
        await rebuild_unmatched(session)
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


async def rebuild_unmatched(session: Session) -> None:
    """The held claim payments again (`GET /remittances/unmatched`) from the remittances that held them
    (in their parts, for a large one) and the matches billers made since."""
    db = session.connection
    await db.execute("TRUNCATE unmatched_remittance_claims")
    inbound = PostgresInboundRecords(db)
    waiting: dict[str, list[HeldClaimPayment]] = {}
    for row in await db.fetch(
        "SELECT tenant, stream_id, event_type, payload, occurred_at FROM events WHERE event_type IN "
        "('RemittanceClaimsListed', 'RemittanceReceived', 'RemittanceClaimMatched') ORDER BY position"
    ):
        if row["event_type"] == "RemittanceClaimsListed":
            part = RemittanceClaimsListed.model_validate(row["payload"])
            waiting.setdefault(row["stream_id"], []).extend(part.held_claims)
        elif row["event_type"] == "RemittanceReceived":
            received = RemittanceReceived.model_validate(row["payload"])
            held = [*waiting.pop(row["stream_id"], []), *received.held_claims]
            for payment in held:
                await inbound.record_unmatched(
                    row["tenant"],
                    received.remittance_id,
                    released(payment),
                    received.payer_name,
                    received_at=row["occurred_at"],
                )
        else:
            matched = RemittanceClaimMatched.model_validate(row["payload"])
            await inbound.record_matched(
                row["tenant"],
                matched.remittance_id,
                matched.patient_control_number,
                matched.claim_id,
                matched_at=row["occurred_at"],
            )
