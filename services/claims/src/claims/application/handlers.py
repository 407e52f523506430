"""Commands and policies of the Claim aggregate: load, decide, update the read model, append.

Policies turn upstream events into claim commands (an insurance invoice becomes a claim, a voided
invoice voids it, a fix upstream scrubs waiting claims again); the API's commands come here too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime

from billing_events.contracts.claims import ClaimAdjudicated, ClaimLine, PriorAdjudication
from billing_events.contracts.invoicing import InvoiceIssued
from billing_events.decider import Outcome, Seal, execute, load_state
from billing_events.envelope import Metadata
from claims.application.free_text import free_text_sealing
from claims.application.ports import ClaimRow, Unit, Vault
from claims.domain.claim import (
    AT_PAYER,
    ClaimState,
    Close,
    Command,
    CreateClaim,
    RecordCrossover,
    Rescrub,
    Resubmit,
    Void,
    claim_decider,
)
from claims.domain.coordination import (
    NEXT_SEQUENCE,
    next_coverage,
    prior_adjudication,
    successor_claim_id,
    successor_content,
)
from claims.domain.errors import ClaimNotFound
from claims.domain.identifiers import claim_id_for, line_control_number, patient_control_number_for
from claims.domain.model import ClaimContent

CommandFor = Callable[[ClaimState], Awaitable[Command | None]]


def _row_lock(claim_id: str) -> str:
    return f"claims.row:{claim_id}"


async def lock_claims(unit: Unit, claim_ids: Sequence[str]) -> None:
    """Before commands on many claims (the claims a file answers): their rows locked in one round
    trip and their streams read in another, where each command would take a round trip for each."""
    wanted = [
        claim_id for claim_id in dict.fromkeys(claim_ids) if not unit.session.holds(_row_lock(claim_id))
    ]
    if not wanted:
        return
    locked = await unit.views.claims.lock_many(wanted)
    for claim_id in locked:
        unit.session.took(_row_lock(claim_id))
    await unit.session.preload(locked)


async def lock_claim(unit: Unit, claim_id: str) -> ClaimRow | None:
    """Lock one claim's row (None: no such claim), noted so that its commands do not lock it again."""
    row = await unit.views.claims.lock(claim_id)
    if row is not None:
        unit.session.took(_row_lock(claim_id))
    return row


async def on_claim(
    unit: Unit,
    tenant: str,
    claim_id: str,
    command: Command | CommandFor,
    metadata: Metadata,
    *,
    seal: Seal | None = None,
) -> Outcome[ClaimState]:
    """A claim command through execute: the claim's row is locked before its stream is loaded (two
    workers on one claim wait instead of conflicting), and the read model is saved after the append.
    A row this transaction locked already is not locked again."""

    async def lock() -> None:
        if not unit.session.holds(_row_lock(claim_id)):
            await lock_claim(unit, claim_id)

    async def project(outcome: Outcome[ClaimState]) -> None:
        await unit.views.claims.save(tenant, outcome.after, outcome.new_version, datetime.now(UTC))

    return await execute(
        unit.session, claim_decider, claim_id, command, metadata, lock=lock, project=project, seal=seal
    )


def content_from_invoice(tenant: str, invoice: InvoiceIssued) -> ClaimContent:
    claim_id = claim_id_for(tenant, invoice.invoice_id)
    number = patient_control_number_for(claim_id)
    lines = tuple(
        ClaimLine(
            line_number=line.line_number,
            line_control_number=line_control_number(number, line.line_number),
            code=line.code,
            modifiers=line.modifiers,
            units=line.units,
            charge_cents=line.charge_cents,
            diagnosis_pointers=line.diagnosis_pointers,
        )
        for line in invoice.lines
    )
    return ClaimContent(
        claim_id=claim_id,
        patient_control_number=number,
        invoice_id=invoice.invoice_id,
        encounter_id=invoice.encounter_id,
        patient_id=invoice.patient_id,
        coverage_id=invoice.coverage_id or "",
        payer_id=invoice.payer_id or "",
        billing_provider_id=invoice.billing_provider_id,
        rendering_provider_id=invoice.rendering_provider_id,
        place_of_service=invoice.place_of_service,
        service_date=invoice.service_date,
        diagnoses=invoice.diagnoses,
        lines=lines,
        total_charge_cents=invoice.total_charge_cents,
        institutional=invoice.institutional,
    )


async def create_claim_for_invoice(
    unit: Unit, tenant: str, invoice: InvoiceIssued, metadata: Metadata, today: date
) -> str | None:
    """An invoice the insurance is responsible for becomes a claim (one per invoice, ever)."""
    if invoice.responsibility != "insurance":
        return None
    content = content_from_invoice(tenant, invoice)

    async def command(state: ClaimState) -> Command:
        context = await unit.views.reference.scrub_context(tenant, content)
        return CreateClaim(content, context, today)

    await on_claim(unit, tenant, content.claim_id, command, metadata)
    return content.claim_id


async def rescrub_waiting(
    unit: Unit, tenant: str, *, column: str, value: str, metadata: Metadata, today: date
) -> int:
    """Reference data changed: scrub again every claim of the tenant that waits on it."""
    changed = 0
    for claim_id in await unit.views.claims.waiting_on(tenant, column=column, value=value):
        outcome = await on_claim(unit, tenant, claim_id, _rescrub(unit, tenant, today), metadata)
        changed += outcome.changed
    return changed


def _rescrub(unit: Unit, tenant: str, today: date) -> CommandFor:
    async def command(state: ClaimState) -> Command | None:
        if state.content is None:
            return None
        return Rescrub(await unit.views.reference.scrub_context(tenant, state.content), today)

    return command


async def void_claims_for_invoice(
    unit: Unit, tenant: str, invoice_id: str, reason: str, metadata: Metadata, today: date
) -> None:
    for claim_id in await unit.views.claims.claim_ids_for_invoice(tenant, invoice_id):
        outcome = await on_claim(unit, tenant, claim_id, Void(reason), metadata)
        state = outcome.after
        if outcome.changed and state.content is not None:
            # A voided claim no longer makes its twin a duplicate.
            await rescrub_waiting(
                unit,
                tenant,
                column="patient_id",
                value=state.content.patient_id,
                metadata=metadata,
                today=today,
            )


async def replace_claims_for_invoice(
    unit: Unit, tenant: str, invoice_id: str, reason: str, metadata: Metadata
) -> None:
    """A hospital bill replaced by one with late charges: a claim the payer has is replaced there by
    the new bill's claim (frequency 7, naming its claim number), so it is closed once answered and
    never voided (8); a claim still here is voided before it leaves."""

    async def command(state: ClaimState) -> Command | None:
        if state.content is None:
            return None
        return Close(reason) if state.status in AT_PAYER else Void(reason)

    for claim_id in await unit.views.claims.claim_ids_for_invoice(tenant, invoice_id):
        await on_claim(unit, tenant, claim_id, command, metadata)


async def close_claims_for_invoice(
    unit: Unit, tenant: str, invoice_id: str, reason: str, metadata: Metadata
) -> None:
    for claim_id in await unit.views.claims.claim_ids_for_invoice(tenant, invoice_id):
        await on_claim(unit, tenant, claim_id, Close(reason), metadata)


async def resubmit_claim(
    unit: Unit,
    tenant: str,
    claim_id: str,
    reason: str,
    corrections: tuple[str, ...],
    metadata: Metadata,
    today: date,
    *,
    vault: Vault | None = None,
) -> ClaimState:
    """A biller sends a claim again: a replacement (frequency 7) or, after a rejection, an original.
    With the vault, the biller's reason and corrections are sealed under the patient's key."""
    row = await lock_claim(unit, claim_id)
    if row is None or row.tenant != tenant:
        raise ClaimNotFound()

    async def command(state: ClaimState) -> Command | None:
        if state.content is None:
            return None
        context = await unit.views.reference.scrub_context(tenant, state.content)
        return Resubmit(reason, corrections, context, today)

    seal = None if vault is None else free_text_sealing(vault, row.patient_id)
    return (await on_claim(unit, tenant, claim_id, command, metadata, seal=seal)).after


async def bill_next_payer(
    unit: Unit, tenant: str, outcome: Outcome[ClaimState], metadata: Metadata, today: date
) -> str | None:
    """Policy: a payer's answer that leaves a balance another coverage owes bills that payer, on a
    secondary (then tertiary) claim of its own; a crossover waits for the next payer's 835 instead.
    The next claim's id derives from the invoice and sequence, so an answer applied twice bills once."""
    content = outcome.after.content
    answers = [e for e in outcome.events if isinstance(e, ClaimAdjudicated)]
    if content is None or not answers:
        return None
    answer = answers[-1]
    if answer.next_payer_id is None or answer.crossover:
        return None
    coverages = await unit.views.reference.coverages_in_force(
        tenant, content.patient_id, content.service_date
    )
    coverage = next_coverage(content.sequence, coverages)
    if coverage is None or coverage.payer_id != answer.next_payer_id:
        return None
    successor = successor_content(tenant, content, _prior(content, answer), coverage)

    async def command(state: ClaimState) -> Command:
        context = await unit.views.reference.scrub_context(tenant, successor)
        return CreateClaim(successor, context, today)

    await on_claim(unit, tenant, successor.claim_id, command, metadata)
    return successor.claim_id


def _prior(content: ClaimContent, answer: ClaimAdjudicated) -> PriorAdjudication:
    return prior_adjudication(
        content,
        payer_claim_control_number=answer.payer_claim_control_number,
        paid_cents=answer.paid_cents,
        patient_responsibility_cents=answer.patient_responsibility_cents,
        claim_adjustments=answer.claim_adjustments,
        lines=answer.lines,
        adjudicated_on=answer.adjudicated_on,
    )


async def claim_answered_by(
    unit: Unit, tenant: str, matched_claim_id: str, payer_ids: Sequence[str], metadata: Metadata
) -> str | None:
    """The claim a payer's 835 answers. A payer answers the claim it was sent. After a crossover the
    next payer's 835 carries the number of the claim the earlier payer was sent: it answers the
    claim recorded for the next payer then (created here the first time, never sent). Another
    known payer's answer to a claim that was never forwarded to it answers none (None): it waits
    with the unmatched remittances rather than post one payer's money as another's. `payer_ids`:
    the payers registered under the 835's payer id (none: an unknown payer, the claim it names)."""
    if not payer_ids:
        return matched_claim_id
    claim_id = matched_claim_id
    while True:
        state, _ = await load_state(unit.session, claim_decider, claim_id)
        content, answer = state.content, state.adjudication
        if content is None:
            return None  # the next payer's claim was never created (held back, or a race)
        if content.payer_id in payer_ids:
            return claim_id
        if answer is None or answer.next_payer_id is None or content.sequence not in NEXT_SEQUENCE:
            return None
        if not answer.crossover:
            claim_id = successor_claim_id(tenant, content.invoice_id, NEXT_SEQUENCE[content.sequence])
            continue
        if answer.next_payer_id not in payer_ids:
            return None
        coverages = await unit.views.reference.coverages_in_force(
            tenant, content.patient_id, content.service_date
        )
        coverage = next_coverage(content.sequence, coverages)
        if coverage is None or coverage.payer_id != answer.next_payer_id:
            return None
        # The payer echoes the lines of the claim it was forwarded (REF*6R): the record keeps them.
        forwarded = replace(
            successor_content(tenant, content, _prior(content, answer), coverage), lines=content.lines
        )
        await on_claim(unit, tenant, forwarded.claim_id, RecordCrossover(forwarded), metadata)
        return forwarded.claim_id
