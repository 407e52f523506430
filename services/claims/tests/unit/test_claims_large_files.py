"""Big and hostile inbound files (issue 16): X12 is read in worker processes within a time budget,
so a file built to be slow is refused while the event loop and other files' reads go on; a large
835 is read there and posted to every claim, its remittance listed in parts that each stay far
under the store's event limit. No database: the log is billing_testing's fake."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any, cast

import pytest

from billing_events.contracts.claims import (
    CasAdjustment,
    ClaimAdjudicated,
    ClaimSubmitted,
    HeldClaimPayment,
    HeldLinePayment,
    RemittanceClaimMatched,
    RemittanceClaimsListed,
    RemittanceReceived,
)
from billing_events.envelope import Metadata
from billing_events.store import MAX_EVENT_BYTES
from billing_events.unit_of_work import UnitOfWork
from billing_testing.fakes import InMemoryEventSession
from billing_testing.x12_files import CLAIM_PAID_CENTS, large_835
from claims.adapters.x12_inbound import PackedClaims, read_inbound
from claims.adapters.x12_pool import PooledReader
from claims.application.ingestion import Ingestion
from claims.application.ports import ClaimRow, ClaimsViews, FileRefused, RemittanceProgress
from claims.application.posting import POSTING_PART, posting_parts
from claims.domain.claim import ClaimState, claim_decider
from claims.domain.inbound import ClaimPaymentAdvice
from claims.domain.model import ClaimContent
from claims.domain.remittance import (
    LISTED_PER_EVENT,
    MatchClaimPayment,
    ReceiveRemittance,
    RemittanceState,
    decide,
    remittance_decider,
)

TENANT = "tenant-a"
META = Metadata(tenant=TENANT, actor="clearinghouse")


def pcn_for(number: int) -> str:
    return f"PCN{number:012d}"


class Tables:
    """The claims service's tables as far as 835 ingestion uses them, for many claims."""

    def __init__(self, log: InMemoryEventSession) -> None:
        self.claims: dict[str, ClaimState] = {}
        self.files: set[str] = set()
        self.log = log

    async def remittance_progress(self, remittance_id: str) -> RemittanceProgress:
        stream = self.log.streams.get(remittance_id, [])
        if not stream:
            return RemittanceProgress(0, False, 0, 0)
        last = stream[-1].event()
        if not isinstance(last, RemittanceClaimsListed):
            return RemittanceProgress(len(stream), True, 0, 0)
        return RemittanceProgress(len(stream), False, last.claims_through or 0, last.part)

    async def held_on_remittance(self, remittance_id: str) -> int:
        events = self.log.events(remittance_id)
        return sum(len(e.held_claims) for e in events if isinstance(e, RemittanceClaimsListed))

    async def tenant_of_submitter(self, submitter_id: str) -> str | None:
        return TENANT

    async def record_file(self, sha256: str, tenant: str, file_name: str, kind: str) -> bool:
        first = sha256 not in self.files
        self.files.add(sha256)
        return first

    async def lock_remittance(self, remittance_id: str) -> None:
        return None

    async def record_unmatched(self, *_: Any) -> None:
        raise AssertionError("every claim of the file is ours")

    async def record_provider_adjustments(self, tenant: str, received: Any) -> None:
        assert received.provider_adjustments == ()  # the file has no PLB

    async def payer_ids_for_edi(self, tenant: str, edi_payer_id: str) -> list[str]:
        return ["payer-1"] if edi_payer_id == "ACME1" else []

    async def coverages_in_force(self, tenant: str, patient_id: str, on: date) -> list[Any]:
        return []

    async def by_patient_control_numbers(self, tenant: str | None, numbers: Any) -> dict[str, ClaimRow]:
        wanted = set(numbers)
        return {
            state.content.patient_control_number: ClaimRow(
                claim_id,
                TENANT,
                state.status,
                "patient-1",
                "payer-1",
                None,
                state.content.patient_control_number,
            )
            for claim_id, state in self.claims.items()
            if state.content is not None
            for pcn in (state.content.patient_control_number,)
            if pcn in wanted
        }

    async def lock(self, claim_id: str) -> None:
        return None

    async def lock_many(self, claim_ids: Any) -> list[str]:
        return [claim_id for claim_id in claim_ids if claim_id in self.claims]

    async def save(self, tenant: str, state: ClaimState, version: int, at: datetime) -> None:
        assert state.content is not None
        self.claims[state.content.claim_id] = state


async def submitted_claims(count: int) -> tuple[UnitOfWork[ClaimsViews], InMemoryEventSession, Tables]:
    log = InMemoryEventSession("claims")
    tables = Tables(log)
    for number in range(1, count + 1):
        claim_id = f"claim-{number}"
        content = ClaimContent(
            claim_id=claim_id,
            patient_control_number=pcn_for(number),
            invoice_id=f"invoice-{number}",
            encounter_id=f"encounter-{number}",
            patient_id="patient-1",
            coverage_id="coverage-1",
            payer_id="payer-1",
            billing_provider_id="billing-1",
            rendering_provider_id="rendering-1",
            place_of_service="11",
            service_date=date(2026, 3, 2),
            diagnoses=("E11.9",),
            lines=(),
            total_charge_cents=10_000,
        )
        submitted = ClaimSubmitted(
            claim_id=claim_id,
            batch_id="batch-1",
            frequency_code="1",
            interchange_control_number="000000007",
            group_control_number="7",
            transaction_set_control_number="0007",
            file_name="837P-000000007-batch-1.x12",
        )
        events = [content.created_event(), submitted]
        await log.append(claim_id, claim_decider.stream_type, 0, events, META)
        tables.claims[claim_id] = claim_decider.fold(events)
    views = ClaimsViews(
        reference=cast(Any, tables),
        claims=cast(Any, tables),
        batches=cast(Any, tables),
        inbound=cast(Any, tables),
    )
    return UnitOfWork(log, views), log, tables


def received(matched: int, unmatched: int = 0) -> RemittanceReceived:
    return RemittanceReceived(
        remittance_id="remittance-1",
        payer_name="Acme Health",
        trace_number="EFT-1",
        payment_cents=0,
        payment_date=date(2026, 3, 10),
        claim_count=matched + unmatched,
        matched_claim_ids=tuple(f"claim-{n:06d}-{'x' * 30}" for n in range(matched)),
        unmatched_patient_control_numbers=tuple(f"PCN{n:013d}" for n in range(unmatched)),
    )


def test_a_remittance_of_many_claims_lists_them_in_parts_each_far_under_the_event_limit() -> None:
    whole = received(matched=5_000, unmatched=1)

    events = decide(ReceiveRemittance(whole), RemittanceState())

    # 5,001 names at 2,000 per part: 2,000 + 2,000 + 1,001, three parts, then the summary.
    assert LISTED_PER_EVENT == 2_000
    *parts, summary = events
    assert [(p.part, p.parts) for p in parts if isinstance(p, RemittanceClaimsListed)] == [
        (1, 3),
        (2, 3),
        (3, 3),
    ]
    assert isinstance(summary, RemittanceReceived)
    assert (summary.listed_in_parts, summary.claim_count, summary.matched_claim_ids) == (3, 5_001, ())
    listed = [p for p in parts if isinstance(p, RemittanceClaimsListed)]
    assert tuple(i for p in listed for i in p.matched_claim_ids) == whole.matched_claim_ids
    assert tuple(n for p in listed for n in p.unmatched_patient_control_numbers) == ("PCN0000000000000",)
    assert all(len(event.model_dump_json()) < MAX_EVENT_BYTES // 4 for event in events)
    # A small remittance stays one event, its lists inline, as before.
    assert decide(ReceiveRemittance(received(matched=3)), RemittanceState()) == [received(matched=3)]


def held_payment(number: int) -> HeldClaimPayment:
    """An unmatched CLP as the remittance holds it: four lines, each with two adjustments."""
    return HeldClaimPayment(
        patient_control_number=f"TRUNCATED{number:06d}",
        claim_status_code="1",
        charge_cents=40_000,
        paid_cents=32_000,
        patient_responsibility_cents=0,
        lines=tuple(
            HeldLinePayment(
                code="99213",
                charge_cents=10_000,
                paid_cents=8_000,
                adjustments=(
                    CasAdjustment(group="CO", reason_code="45", amount_cents=1_500),
                    CasAdjustment(group="CO", reason_code="253", amount_cents=500),
                ),
            )
            for _ in range(4)
        ),
    )


def test_thousands_of_held_payments_travel_in_parts_and_every_one_can_still_be_matched() -> None:
    # A payer that cuts CLP01 short: none of 3,000 claims matches. Held whole in the summary they
    # would be about 3 MiB, six times the store's limit, and the file could never be posted.
    payments = tuple(held_payment(n) for n in range(3_000))
    whole = received(matched=0, unmatched=3_000).model_copy(
        update={
            "held_claims": payments,
            "unmatched_patient_control_numbers": tuple(p.patient_control_number for p in payments),
        }
    )

    events = decide(ReceiveRemittance(whole), RemittanceState())

    *parts, summary = events
    assert isinstance(summary, RemittanceReceived) and summary.held_claims == ()
    listed = [p for p in parts if isinstance(p, RemittanceClaimsListed)]
    assert summary.listed_in_parts == len(listed) == listed[0].parts
    assert tuple(h for p in listed for h in p.held_claims) == payments
    assert all(len(event.model_dump_json()) < MAX_EVENT_BYTES for event in events)
    state = remittance_decider.fold(events)
    assert state.received and len(state.held) == 3_000
    # The last one held, in the last part, is matched as any other.
    (matched,) = decide(MatchClaimPayment("TRUNCATED002999", "claim-9"), state)
    assert isinstance(matched, RemittanceClaimMatched) and matched.claim_id == "claim-9"


def test_a_large_files_claims_cross_packed_and_read_back_whole_or_by_part() -> None:
    data = large_835(4_500, pcn_for=pcn_for)
    (advice,) = read_inbound(data).remittances
    claims = advice.claims

    assert isinstance(claims, PackedClaims) and len(claims) == 4_500
    every = list(claims)
    assert [c.patient_control_number for c in every[:2]] == [pcn_for(1), pcn_for(2)]
    assert claims[3_999] == every[3_999] and claims[-1].patient_control_number == pcn_for(4_500)
    # A part that straddles two packed parts, and the last, shorter one.
    assert list(claims[1_990:2_010]) == every[1_990:2_010]
    assert list(claims[4_000:9_000]) == every[4_000:]
    assert claims == tuple(every) and claims != tuple(every[:-1])
    # What the reader's process sends the service is the packed parts, not 4,500 objects.
    assert len(pickle.dumps(claims)) < len(pickle.dumps(tuple(every)))


async def test_a_large_835_is_read_in_the_pool_and_posted_to_every_claim_all_in_one_file() -> None:
    claims = 3_000
    unit, log, tables = await submitted_claims(claims)
    data = large_835(claims, pcn_for=pcn_for)
    reader = PooledReader(budget_seconds=600, workers=1)
    try:
        document = await reader(data)
    finally:
        reader.close()
    assert document == read_inbound(data)  # the worker's reading is the reader's own

    ingestion = Ingestion(cast(Any, None), lambda _session: unit)
    result = await ingestion.apply(
        unit, document, sha256="sha-large", file_name="large.835", tenant=TENANT, metadata_for=lambda _t: META
    )

    assert (result.outcome, result.matched_claims, result.unmatched_claims) == ("applied", claims, 0)
    adjudications = [log.events(f"claim-{n}")[-1] for n in range(1, claims + 1)]
    assert all(isinstance(a, ClaimAdjudicated) for a in adjudications)
    # Each claim: 100.00 charged, 80.00 paid, 20.00 CO-45; the file pays 3,000 x 80.00 = 240,000.00.
    paid = sum(cast(ClaimAdjudicated, a).paid_cents for a in adjudications)
    assert paid == claims * CLAIM_PAID_CENTS == 24_000_000
    assert all(state.status == "paid" for state in tables.claims.values())
    # 3,000 claim ids: two parts (2,000 + 1,000), then the remittance itself.
    *parts, summary = log.events(result.remittance_ids[0])
    assert isinstance(summary, RemittanceReceived)
    assert (summary.listed_in_parts, summary.payment_cents) == (2, 24_000_000)
    posted = {i for p in parts if isinstance(p, RemittanceClaimsListed) for i in p.matched_claim_ids}
    assert posted == set(tables.claims)


class PartedStore:
    """The event store as Ingestion uses it for a large file: a session per part. The fake log has no
    rollback, so the test stops the service between parts, where a real crash leaves the same."""

    def __init__(self, log: InMemoryEventSession) -> None:
        self.log = log
        self.sessions = 0

    @asynccontextmanager
    async def session(self) -> AsyncIterator[InMemoryEventSession]:
        self.sessions += 1
        yield self.log


class Crash(Exception):
    pass


async def test_a_large_file_posts_part_by_part_and_a_restart_goes_on_after_the_parts_posted() -> None:
    claims = 5_000
    unit, log, tables = await submitted_claims(claims)
    data = large_835(claims, pcn_for=pcn_for)
    document = read_inbound(data)
    store = PartedStore(log)
    ingestion = Ingestion(cast(Any, store), lambda _session: unit)
    payer_lookups = 0
    real_lookup = tables.payer_ids_for_edi

    async def crashing_at_the_third_part(tenant: str, edi_payer_id: str) -> list[str]:
        nonlocal payer_lookups
        payer_lookups += 1
        if payer_lookups == 3:
            raise Crash  # the service dies after two parts (1,000 claims) were committed
        return await real_lookup(tenant, edi_payer_id)

    tables.payer_ids_for_edi = crashing_at_the_third_part  # type: ignore[method-assign]
    with pytest.raises(Crash):
        await ingestion.ingest(
            document, sha256="sha-large", file_name="large.835", tenant=None, metadata_for=lambda _t: META
        )
    posted_before_the_crash = sum(
        isinstance(log.events(f"claim-{n}")[-1], ClaimAdjudicated) for n in range(1, claims + 1)
    )
    # The file is read again at the next start, and goes on.
    result = await ingestion.ingest(
        document, sha256="sha-large", file_name="large.835", tenant=None, metadata_for=lambda _t: META
    )
    again = await ingestion.ingest(
        document, sha256="sha-large", file_name="large.835", tenant=None, metadata_for=lambda _t: META
    )

    # 5,000 claims in parts of 500: ten parts; the crash came before the third.
    assert POSTING_PART == 500
    assert posted_before_the_crash == 1_000
    assert (result.outcome, result.matched_claims, result.unmatched_claims) == ("applied", claims, 0)
    # Every claim answered once: the restart did not post the first two parts again.
    adjudicated = [
        [e for e in log.events(f"claim-{n}") if isinstance(e, ClaimAdjudicated)] for n in range(1, claims + 1)
    ]
    assert all(len(answers) == 1 for answers in adjudicated)
    *parts, summary = log.events(result.remittance_ids[0])
    assert isinstance(summary, RemittanceReceived)
    assert [(p.part, p.claims_through) for p in parts if isinstance(p, RemittanceClaimsListed)] == [
        (number, number * 500) for number in range(1, 11)
    ]
    assert (summary.listed_in_parts, summary.claim_count, summary.claim_paid_cents) == (
        10,
        5_000,
        5_000 * CLAIM_PAID_CENTS,
    )
    assert {i for p in parts if isinstance(p, RemittanceClaimsListed) for i in p.matched_claim_ids} == set(
        tables.claims
    )
    # The same file once more: nothing new, and said so.
    assert (again.outcome, again.matched_claims) == ("duplicate", 0)
    assert len(log.events(result.remittance_ids[0])) == 11


def test_a_part_never_separates_two_answers_to_the_same_claim() -> None:
    answers = [ClaimPaymentAdvice(pcn, "1", 100, 80, 0, None) for pcn in ("A", "B", "B", "B", "C", "D")]

    # Parts of two: A B | B B C would split B's answers, so the first part takes all of B.
    assert posting_parts(answers, size=2) == [(0, 4), (4, 6)]
    assert posting_parts(answers, size=10) == [(0, 6)]
    assert posting_parts([], size=2) == []


async def test_a_file_past_its_budget_is_refused_while_the_loop_and_another_read_go_on() -> None:
    reader = PooledReader(budget_seconds=1.0, workers=2)
    ticks = 0
    reading = True

    async def tick() -> None:
        nonlocal ticks
        while reading:
            ticks += 1
            await asyncio.sleep(0.01)

    small = large_835(5, trace_number="EFT-SMALL")
    try:
        await reader(small)  # the workers are started and have imported the reader
        ticker = asyncio.create_task(tick())
        # Two million segments: far more than a 1 s budget reads (about 40 s on a quiet machine).
        slow = asyncio.create_task(reader(large_835(300_000)))
        other = await reader(small)
        with pytest.raises(FileRefused) as refused:
            await slow
        reading = False
        await ticker
    finally:
        reader.close()

    assert "not read within its budget of 1 s" in refused.value.reason
    assert len(other.remittances[0].claims) == 5  # another file's read went on beside the slow one
    assert ticks >= 50  # the event loop ran all along (every 10 ms for over a second)
