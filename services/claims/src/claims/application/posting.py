"""Posting a payer's payment to claims: the one path of an 835, a biller's match of a held claim
payment, and a paper EOB.

Every payment is a Remittance stream (payer and trace number). Each claim payment in it posts to the
claim it answers through the same steps, whichever way it came: the Adjudicate command, the next
payer billed when a balance is left (coordination of benefits), and, after the whole payment, the
later payers' claims revised when an earlier payer corrected itself. A claim payment that answers no
claim is held whole on the remittance (RemittanceReceived.held_claims) until a biller matches it.
Provider-level adjustments (PLB) go to the provider-level ledger, never to a claim. A payer's large
file is posted a part at a time, each part in its own transaction (post_remittance_part), then the
payment itself (complete_remittance).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from billing_events.contracts.claims import (
    ClaimAdjudicated,
    HeldClaimPayment,
    ProviderLevelAdjustment,
    RemittanceClaimsListed,
    RemittanceReceived,
)
from billing_events.decider import execute, load_state
from billing_events.envelope import Metadata
from claims.application.handlers import (
    CommandFor,
    bill_next_payer,
    claim_answered_by,
    lock_claim,
    lock_claims,
    on_claim,
)
from claims.application.ports import ClaimRow, Unit
from claims.domain.claim import ClaimState, Command, claim_decider
from claims.domain.coordination import NEXT_SEQUENCE, next_coverage, successor_claim_id
from claims.domain.corrections import later_claim_revision
from claims.domain.errors import (
    AlreadyMatched,
    ClaimNotFound,
    HeldPaymentNotFound,
    NotThisPayersClaim,
    UnknownPayer,
)
from claims.domain.identifiers import remittance_id_for
from claims.domain.inbound import ClaimPaymentAdvice, RemittanceAdvice
from claims.domain.paper_eob import PaperEob, remittance_of_eob
from claims.domain.remittance import (
    MatchClaimPayment,
    PostRemittancePart,
    ReceiveRemittance,
    RemittanceState,
    adjudication,
    held,
    released,
    remittance_decider,
)

Source = Literal["835", "paper_eob"]


@dataclass(frozen=True)
class Posted:
    remittance_id: str
    matched_claim_ids: tuple[str, ...]
    unmatched: int
    duplicate: bool


def adjudicate_command(
    unit: Unit, tenant: str, advice: ClaimPaymentAdvice, remittance_id: str, paid_on: date
) -> CommandFor:
    async def command(state: ClaimState) -> Command | None:
        content = state.content
        if content is None:
            return None
        coverages = await unit.views.reference.coverages_in_force(
            tenant, content.patient_id, content.service_date
        )
        following = next_coverage(content.sequence, coverages)
        return adjudication(advice, content, remittance_id, paid_on, following)

    return command


async def post_claim_payment(
    unit: Unit,
    tenant: str,
    claim_id: str,
    advice: ClaimPaymentAdvice,
    remittance_id: str,
    paid_on: date,
    metadata: Metadata,
) -> bool:
    """One claim payment on the claim it answers, then the next payer billed if a balance is left, or,
    when the payer forwarded the claim itself, the next payer's answer that came first posted.
    True when the claim had an answer before this one: a later payer's claim may need revising."""
    outcome = await on_claim(
        unit, tenant, claim_id, adjudicate_command(unit, tenant, advice, remittance_id, paid_on), metadata
    )
    await bill_next_payer(unit, tenant, outcome, metadata, paid_on)
    content = outcome.after.content
    if content is not None and any(isinstance(e, ClaimAdjudicated) and e.crossover for e in outcome.events):
        pcn = content.patient_control_number
        await release_forwarded_answers(unit, tenant, claim_id, pcn, remittance_id, metadata)
    return outcome.changed and outcome.before.adjudication is not None


async def release_forwarded_answers(
    unit: Unit,
    tenant: str,
    claim_id: str,
    patient_control_number: str,
    remittance_id: str,
    metadata: Metadata,
) -> None:
    """Policy: the next payer's 835 for a claim the earlier payer forwarded can arrive before the
    earlier payer's own (two payers' files, read by two replicas, in either order). It answered no
    claim then and was held; once the earlier payer's crossover answer posts, it posts as a biller's
    match would. The claim's row lock orders the two files: whichever commits second sees the other.
    A held payment from any other payer, or on a payment still being posted in parts, stays held."""
    for waiting in await unit.views.inbound.held_under(tenant, patient_control_number):
        if waiting == remittance_id:
            continue
        try:
            await match_held_payment(unit, tenant, waiting, patient_control_number, claim_id, metadata)
        except (NotThisPayersClaim, HeldPaymentNotFound, AlreadyMatched):
            continue  # refused before writing anything: it waits in the biller's queue


async def revise_later_claim(unit: Unit, tenant: str, claim_id: str, metadata: Metadata) -> None:
    """Policy: the later payer's claim follows the earlier payer's answer as it now stands (replaced,
    voided, or left as it is; see domain/corrections.py)."""
    earlier, _ = await load_state(unit.session, claim_decider, claim_id)
    content = earlier.content
    if content is None or content.sequence not in NEXT_SEQUENCE:
        return
    later_id = successor_claim_id(tenant, content.invoice_id, NEXT_SEQUENCE[content.sequence])
    later, _ = await load_state(unit.session, claim_decider, later_id)
    command = later_claim_revision(earlier, later)
    if command is not None:
        await on_claim(unit, tenant, later_id, command, metadata)


# Claims looked up (and, from a packed file, unpacked) per part: a payer's file of 250,000 claims is
# never held whole as objects, nor its rows.
LOOKUP_PART = 2_000


async def _with_rows(
    unit: Unit, tenant: str, claims: Sequence[ClaimPaymentAdvice]
) -> AsyncIterator[tuple[ClaimPaymentAdvice, ClaimRow | None]]:
    """Each claim of a payment with our claim its CLP01 names (None: none of ours), in file order."""
    for start in range(0, len(claims), LOOKUP_PART):
        part = claims[start : start + LOOKUP_PART]
        rows = await unit.views.claims.by_patient_control_numbers(
            tenant, [claim.patient_control_number for claim in part]
        )
        await lock_claims(unit, [row.claim_id for row in rows.values()])
        for claim in part:
            yield claim, rows.get(claim.patient_control_number)


@dataclass
class _ClaimsPosted:
    matched: list[str]
    held: list[HeldClaimPayment]


async def _post_claims(
    unit: Unit,
    tenant: str,
    remittance_id: str,
    advice: RemittanceAdvice,
    claims: Sequence[ClaimPaymentAdvice],
    payer_ids: Sequence[str],
    metadata: Metadata,
) -> _ClaimsPosted:
    """Each claim payment to the claim it answers, or held; then the later payers' claims revised."""
    posted = _ClaimsPosted([], [])
    corrected: list[str] = []
    async for claim, row in _with_rows(unit, tenant, claims):
        # After a crossover the next payer's 835 names the claim the earlier payer was sent.
        claim_id = (
            None if row is None else await claim_answered_by(unit, tenant, row.claim_id, payer_ids, metadata)
        )
        if claim_id is None:
            posted.held.append(held(claim))
            await unit.views.inbound.record_unmatched(tenant, remittance_id, claim, advice.payer_name)
            continue
        paid_on = advice.payment_date
        if await post_claim_payment(unit, tenant, claim_id, claim, remittance_id, paid_on, metadata):
            corrected.append(claim_id)
        if claim_id not in posted.matched:
            posted.matched.append(claim_id)
    # Only a claim answered again (a reversal, a correction) can have left a later claim stale; a
    # first answer's next claim was just made from it. Decided after the claims posted together (the
    # whole payment, or one part of a large one, whose parts never split a claim's answers), so that a
    # reversal and its correction in one 835 replace the later claim once.
    for claim_id in dict.fromkeys(corrected):
        await revise_later_claim(unit, tenant, claim_id, metadata)
    return posted


def _received(
    remittance_id: str,
    advice: RemittanceAdvice,
    payer_ids: Sequence[str],
    file_name: str,
    source: Source,
    posted: _ClaimsPosted,
    *,
    listed_in_parts: int = 0,
) -> RemittanceReceived:
    return RemittanceReceived(
        remittance_id=remittance_id,
        payer_id=payer_ids[0] if payer_ids else None,  # ordered by payer_id, as before
        payer_name=advice.payer_name,
        trace_number=advice.trace_number,
        payment_cents=advice.payment_cents,
        payment_date=advice.payment_date,
        claim_count=len(advice.claims),
        matched_claim_ids=tuple(posted.matched),
        unmatched_patient_control_numbers=tuple(h.patient_control_number for h in posted.held),
        provider_adjustment_cents=advice.provider_adjustment_cents,
        file_name=file_name,
        interchange_control_number=advice.interchange_control_number,
        provider_adjustments=tuple(
            ProviderLevelAdjustment(
                provider_identifier=item.provider_identifier,
                fiscal_period_end=item.fiscal_period_end,
                reason_code=item.reason_code,
                amount_cents=item.amount_cents,
                reference=item.reference,
            )
            for item in advice.provider_adjustments
        ),
        claim_paid_cents=sum(claim.paid_cents for claim in advice.claims),
        held_claims=tuple(posted.held),
        source=source,
        listed_in_parts=listed_in_parts,
    )


async def post_remittance(
    unit: Unit,
    tenant: str,
    advice: RemittanceAdvice,
    payer_ids: Sequence[str],
    file_name: str,
    metadata: Metadata,
    source: Source = "835",
) -> Posted:
    """One payment from one payer, once (the same payer and trace number again is nothing), in the
    caller's transaction. `payer_ids`: the payers registered under the payment's payer id (none: an
    unknown payer). A payer's large file goes part by part instead: post_remittance_part."""
    remittance_id = remittance_id_for(tenant, advice.payer_key, advice.trace_number)
    # Two files carrying the same payment at once: the second waits here, then finds it applied.
    await unit.views.inbound.lock_remittance(remittance_id)
    state, version = await load_state(unit.session, remittance_decider, remittance_id)
    if state.received:
        return Posted(remittance_id, (), 0, duplicate=True)
    posted = await _post_claims(unit, tenant, remittance_id, advice, advice.claims, payer_ids, metadata)
    received = _received(remittance_id, advice, payer_ids, file_name, source, posted)
    await execute(
        unit.session,
        remittance_decider,
        remittance_id,
        ReceiveRemittance(received),
        metadata,
        expected_version=version,
    )
    await unit.views.inbound.record_provider_adjustments(tenant, received)
    return Posted(remittance_id, tuple(posted.matched), len(posted.held), duplicate=False)


# A payer's file answering more claims than this is posted a part at a time, each part in its own
# transaction, so that it never holds the claims service's log (every other command and consumer of
# claims waits for it) for the minutes 250,000 claims take: matched claims post at about 200 a
# second on the development machine, so another command waits a few seconds at most.
POSTING_PART = 500


def posting_parts(claims: Sequence[ClaimPaymentAdvice], size: int = POSTING_PART) -> list[tuple[int, int]]:
    """The file's claims as [start, end) parts of about `size`; a part never ends between two answers
    to the same claim (a reversal and its correction are revised together)."""
    parts: list[tuple[int, int]] = []
    start = 0
    while start < len(claims):
        end = min(start + size, len(claims))
        while end < len(claims) and (
            claims[end].patient_control_number == claims[end - 1].patient_control_number
        ):
            end += 1
        parts.append((start, end))
        start = end
    return parts


async def post_remittance_part(
    unit: Unit,
    tenant: str,
    advice: RemittanceAdvice,
    part: tuple[int, int],
    payer_ids: Sequence[str],
    metadata: Metadata,
) -> bool:
    """The claims of one part of a large payment, in the caller's transaction, once: a part already
    posted (a restart after a crash reads the file again) is skipped. False when the whole payment
    was received already (the same file twice): the caller stops."""
    remittance_id = remittance_id_for(tenant, advice.payer_key, advice.trace_number)
    await unit.views.inbound.lock_remittance(remittance_id)
    progress = await unit.views.inbound.remittance_progress(remittance_id)
    if progress.received:
        return False
    start, end = part
    if progress.claims_posted >= end:
        return True
    posted = await _post_claims(
        unit, tenant, remittance_id, advice, advice.claims[start:end], payer_ids, metadata
    )
    listed = RemittanceClaimsListed(
        remittance_id=remittance_id,
        part=0,  # numbered by the decider, after the parts already listed
        parts=0,
        matched_claim_ids=tuple(posted.matched),
        unmatched_patient_control_numbers=tuple(h.patient_control_number for h in posted.held),
        held_claims=tuple(posted.held),
        claims_through=end,
    )
    # Decided on the progress alone, not on the stream folded again (over a hundred parts of held
    # payments for the largest files): the decision needs no more.
    state = RemittanceState(claims_posted=progress.claims_posted, listed=progress.listed)
    events = remittance_decider.decide(PostRemittancePart(listed), state)
    await unit.session.append(
        remittance_id, remittance_decider.stream_type, progress.version, events, metadata
    )
    return True


async def complete_remittance(
    unit: Unit,
    tenant: str,
    advice: RemittanceAdvice,
    payer_ids: Sequence[str],
    file_name: str,
    metadata: Metadata,
) -> Posted:
    """After its parts: the payment itself (RemittanceReceived, its lists in the parts before it)."""
    remittance_id = remittance_id_for(tenant, advice.payer_key, advice.trace_number)
    await unit.views.inbound.lock_remittance(remittance_id)
    progress = await unit.views.inbound.remittance_progress(remittance_id)
    if progress.received:
        return Posted(remittance_id, (), 0, duplicate=True)
    if progress.claims_posted < len(advice.claims):
        raise RuntimeError("a part of the payment was not posted")  # a bug: parts go first, in order
    nothing = _ClaimsPosted([], [])
    received = _received(
        remittance_id, advice, payer_ids, file_name, "835", nothing, listed_in_parts=progress.listed
    )
    state = RemittanceState(claims_posted=progress.claims_posted, listed=progress.listed)
    events = remittance_decider.decide(ReceiveRemittance(received), state)
    await unit.session.append(
        remittance_id, remittance_decider.stream_type, progress.version, events, metadata
    )
    await unit.views.inbound.record_provider_adjustments(tenant, received)
    held = await unit.views.inbound.held_on_remittance(remittance_id)
    return Posted(remittance_id, (), held, duplicate=False)


async def match_held_payment(
    unit: Unit,
    tenant: str,
    remittance_id: str,
    patient_control_number: str,
    claim_id: str,
    metadata: Metadata,
) -> bool:
    """A biller matches a held claim payment to a claim: it posts exactly as a matched one would
    have. Matching it again to the same claim posts nothing (False); to another claim is refused."""
    await unit.views.inbound.lock_remittance(remittance_id)
    row = await lock_claim(unit, claim_id)
    if row is None or row.tenant != tenant:
        raise ClaimNotFound()
    state, version = await load_state(unit.session, remittance_decider, remittance_id)
    payer_ids = [state.payer_id] if state.payer_id else []
    # The payer's money goes to the claim it was billed (or forwarded), as for an 835 matched at once.
    answered = await claim_answered_by(unit, tenant, claim_id, payer_ids, metadata)
    if answered is None:
        raise NotThisPayersClaim()
    outcome = await execute(
        unit.session,
        remittance_decider,
        remittance_id,
        MatchClaimPayment(patient_control_number, claim_id),
        metadata,
        expected_version=version,
    )
    if not outcome.changed:
        return False
    paid_on = state.payment_date
    assert paid_on is not None
    corrected = False
    for payment in state.waiting(patient_control_number):
        advice = released(payment)
        if await post_claim_payment(unit, tenant, answered, advice, remittance_id, paid_on, metadata):
            corrected = True
    if corrected:
        await revise_later_claim(unit, tenant, answered, metadata)
    await unit.views.inbound.record_matched(tenant, remittance_id, patient_control_number, answered)
    return True


async def post_paper_eob(
    unit: Unit, tenant: str, claim_id: str, payer_id: str, eob: PaperEob, metadata: Metadata
) -> Posted:
    """A biller's paper EOB: read as the 835 it stands for, then posted by `post_remittance`. The
    payer is named by its id; its EDI id and name are the registered ones."""
    row = await lock_claim(unit, claim_id)
    if row is None or row.tenant != tenant:
        raise ClaimNotFound()
    payer = await unit.views.reference.payer(tenant, payer_id)
    if payer is None:
        raise UnknownPayer()  # named as an invalid field at the edge
    claim, _ = await load_state(unit.session, claim_decider, claim_id)
    assert claim.content is not None
    advice = remittance_of_eob(
        replace(eob, payer_key=payer.edi_payer_id, payer_name=payer.name), claim.content
    )
    posted = await post_remittance(
        unit, tenant, advice, [payer_id], f"paper-eob-{eob.trace_number}", metadata, "paper_eob"
    )
    if not posted.duplicate and posted.unmatched:
        raise NotThisPayersClaim()  # rolled back with the request: nothing half-written
    return posted
