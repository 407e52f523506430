"""Submission: ready claims leave in one 837P file per tenant and payer.

Order of effects, and why. In one transaction the worker picks the claims (row locks, SKIP LOCKED),
draws the tenant's next control number, records the batch, and appends ClaimSubmitted for each claim
and SubmissionBatchSent. Only after that commit does it write the file, named from the batch id and
its control number, then marks the batch written. A crash before the commit leaves nothing: no file,
no events, and the control number was never used anywhere. A crash after the commit leaves a
recorded batch without its file; the next run (any worker) finds it unwritten and writes it again
under the same name, so the events and the files always agree and a control number in a file is
always one the database committed. Writing first and appending after would instead leave, after a
crash, a file the log never mentions, whose claims would go out a second time in another batch.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from billing_events.contracts.base import Event
from billing_events.contracts.claims import CasAdjustment, Finding, PriorAdjudication
from billing_events.decider import load_state, load_states
from billing_events.envelope import Metadata
from billing_events.phi import KeyDestroyed
from billing_events.store import EventStore, Session
from claims.application.ports import (
    BatchRecord,
    ClaimFileFormat,
    ClaimParties,
    CoverageRecord,
    Outbox,
    PatientRecord,
    ProviderRecord,
    Unit,
    Vault,
)
from claims.domain import scrubber
from claims.domain.claim import ClaimState, FailScrub, Submit, claim_decider
from claims.domain.model import ClaimContent
from claims.domain.outbound import (
    Address837,
    Adjustment837,
    Claim837,
    CodedDiagnosis837,
    Institutional837,
    InstitutionalLine837,
    Interchange837,
    Line837,
    LineAdjudication837,
    OtherCoverage837,
    Payer837,
    PayerAdjudication837,
    Person837,
    Priority,
    Problem837,
    Procedure837,
    Provider837,
    Submitter837,
)
from claims.domain.submission_batch import ControlNumbers, SendBatch, batch_decider, file_name_for

log = logging.getLogger(__name__)

PRIORITY_CODES: dict[str, Priority] = {"primary": "P", "secondary": "S", "tertiary": "T"}
SYSTEM_ACTOR = "claims-submission"


@dataclass(frozen=True)
class SubmissionConfig:
    max_claims_per_file: int = 500
    usage: Literal["P", "T"] = "P"
    submitter_name: str = "BILLING PLATFORM"
    submitter_contact_name: str = "BILLING OFFICE"
    submitter_phone: str = "8005550100"
    submitter_id: str | None = None


class Unreadable(Exception):
    """Decrypted patient data that does not have the shape registration publishes (field named only)."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field
        # The work-queue edit a biller fixes: the patient's record, or the coverage's subscriber.
        self.edit_id = scrubber.PATIENT if field.split(".")[0] == "patient" else scrubber.SUBSCRIBER


# Building the 837's content from sealed records -----------------------------------------------------


async def _open(vault: Vault, sealed: Any, field: str, where: str) -> Any:
    if sealed is None:
        return None
    try:
        return await vault.open(sealed, field)
    except KeyDestroyed:
        raise
    except Exception:
        raise Unreadable(where) from None


def _address(value: Any, where: str) -> Address837 | None:
    if value is None:
        return None
    try:
        return Address837(
            line1=str(value["line1"]),
            line2=value.get("line2"),
            city=str(value["city"]),
            state=str(value["state"]),
            postal_code=str(value["postal_code"]),
        )
    except (KeyError, TypeError, AttributeError):
        raise Unreadable(where) from None


def _name(value: Any, where: str) -> tuple[str, str | None]:
    try:
        return str(value["family"]), value.get("given")
    except (KeyError, TypeError, AttributeError):
        raise Unreadable(where) from None


def _birth_date(value: Any, where: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Unreadable(where) from None


async def _patient_person(vault: Vault, patient: PatientRecord) -> Person837:
    name = await _open(vault, patient.name, "name", "patient.name")
    family, given = _name(name, "patient.name") if name is not None else ("", None)
    birth = await _open(vault, patient.birth_date, "birth_date", "patient.birth_date")
    address = await _open(vault, patient.address, "address", "patient.address")
    return Person837(
        family_name=family,
        given_name=given,
        birth_date=_birth_date(birth, "patient.birth_date"),
        sex=patient.sex or "U",
        address=_address(address, "patient.address"),
    )


async def _subscriber_person(vault: Vault, coverage: CoverageRecord, patient: Person837) -> Person837:
    if coverage.relationship == "self":
        return patient
    value = await _open(vault, coverage.subscriber, "subscriber", "subscriber")
    if value is None:
        return Person837(family_name="")
    if not isinstance(value, dict):
        raise Unreadable("subscriber")
    family, given = _name(value.get("name"), "subscriber.name")
    return Person837(
        family_name=family,
        given_name=given,
        birth_date=_birth_date(value.get("birth_date"), "subscriber.birth_date"),
        sex=str(value.get("sex") or "U"),
        address=_address(value.get("address"), "subscriber.address"),
    )


def _provider(record: ProviderRecord) -> Provider837:
    address = record.address
    return Provider837(
        npi=record.npi,
        taxonomy_code=record.taxonomy_code,
        organization_name=record.organization_name,
        family_name=record.family_name,
        given_name=record.given_name,
        tax_id=record.tax_id,
        address=Address837(address.line1, address.city, address.state, address.postal_code, address.line2),
    )


def _cas(adjustments: Iterable[CasAdjustment]) -> tuple[Adjustment837, ...]:
    return tuple(Adjustment837(a.group, a.reason_code, a.amount_cents) for a in adjustments)


def payer_adjudication_837(content: ClaimContent, answer: PriorAdjudication) -> PayerAdjudication837:
    """An earlier payer's answer as loops 2320 and 2430 report it: lines matched to ours by number."""
    ours = {line.line_number: line for line in content.lines}
    lines = tuple(
        LineAdjudication837(
            line_number=paid.line_number,
            code=paid.code,
            modifiers=ours[paid.line_number].modifiers,
            units=ours[paid.line_number].units,
            paid_cents=paid.paid_cents,
            adjustments=_cas(paid.adjustments),
        )
        for paid in answer.lines
        if paid.line_number in ours
    )
    return PayerAdjudication837(
        paid_cents=answer.paid_cents,
        remaining_patient_liability_cents=answer.patient_responsibility_cents,
        adjudicated_on=answer.adjudicated_on,
        claim_adjustments=_cas(answer.claim_adjustments),
        lines=lines,
    )


async def claim_for_837(
    vault: Vault,
    state: ClaimState,
    parties: ClaimParties,
    frequency: str,
    replaced_reference: str | None = None,
) -> Claim837:
    """Decrypt what the claim's 837 needs. Raises KeyDestroyed or Unreadable (naming a field only).

    An institutional bill of late charges (5) or a replacement (7) goes out under its own frequency,
    naming the payer's number of the claim it adds to or replaces (`replaced_reference`)."""
    content = state.content
    assert content is not None
    bill = content.institutional
    reference = state.original_reference if frequency in ("7", "8") else None
    if bill is not None and frequency == "1" and bill.frequency_code != "1":
        frequency, reference = bill.frequency_code, replaced_reference
    patient = await _patient_person(vault, parties.patient)
    coverage = parties.coverage
    subscriber = await _subscriber_person(vault, coverage, patient)
    member_id = await _open(vault, coverage.member_id, "member_id", "coverage.member_id")
    answers = {answer.coverage_id: answer for answer in content.prior_adjudications}
    others = []
    for other, other_payer in parties.other_coverages:
        answer = answers.get(other.coverage_id)
        other_member = await _open(vault, other.member_id, "member_id", "other_coverage.member_id")
        others.append(
            OtherCoverage837(
                priority=PRIORITY_CODES.get(other.priority, "S"),
                relationship=other.relationship,
                member_id=str(other_member or ""),
                subscriber=await _subscriber_person(vault, other, patient),
                payer=Payer837(
                    other_payer.name, other_payer.edi_payer_id, other_payer.claim_filing_indicator
                ),
                group_number=other.group_number,
                adjudication=None if answer is None else payer_adjudication_837(content, answer),
            )
        )
    billing = _provider(parties.billing_provider)
    rendering = _provider(parties.rendering_provider) if parties.rendering_provider else None
    institutional = None
    if content.institutional is not None:
        institutional = institutional_837(content, billing, rendering)
    return Claim837(
        patient_control_number=content.patient_control_number,
        total_charge_cents=content.total_charge_cents,
        place_of_service=content.place_of_service,
        frequency_code=frequency,
        diagnoses=content.diagnoses,
        lines=tuple(
            Line837(
                line_number=line.line_number,
                line_control_number=line.line_control_number,
                code=line.code,
                modifiers=line.modifiers,
                units=line.units,
                charge_cents=line.charge_cents,
                diagnosis_pointers=line.diagnosis_pointers,
                service_date=content.service_date,
            )
            for line in content.lines
        ),
        billing_provider=billing,
        payer=Payer837(parties.payer.name, parties.payer.edi_payer_id, parties.payer.claim_filing_indicator),
        priority=PRIORITY_CODES.get(coverage.priority, "P"),
        relationship=coverage.relationship,
        member_id=str(member_id or ""),
        subscriber=subscriber,
        patient=None if coverage.relationship == "self" else patient,
        group_number=coverage.group_number,
        rendering_provider=rendering,
        payer_claim_control_number=reference,
        other_coverages=tuple(others),
        institutional=institutional,
    )


def institutional_837(
    content: ClaimContent, facility: Provider837, attending: Provider837 | None
) -> Institutional837:
    """The UB-04 part of the claim, from the invoice's institutional bill: its lines keep the claim's
    line control numbers, so the payer's 835 finds them again."""
    bill = content.institutional
    assert bill is not None
    ours = {line.line_number: line for line in content.lines}
    return Institutional837(
        type_of_bill=bill.type_of_bill,
        statement_from=bill.statement_from,
        statement_to=bill.statement_to,
        admitted_at=bill.admitted_at,
        discharged_at=bill.discharged_at,
        admission_type=bill.admission_type,
        admission_source=bill.admission_source,
        patient_status=bill.discharge_status,
        principal_diagnosis=CodedDiagnosis837(
            bill.principal_diagnosis.code, _poa(bill.principal_diagnosis.poa)
        ),
        admitting_diagnosis=bill.admitting_diagnosis,
        other_diagnoses=tuple(CodedDiagnosis837(d.code, _poa(d.poa)) for d in bill.diagnoses),
        procedures=tuple(Procedure837(p.code, p.date) for p in bill.procedures),
        drg=bill.drg.code if bill.drg is not None else None,
        attending_provider=attending,
        service_facility=facility,
        lines=tuple(
            InstitutionalLine837(
                line_number=line.line_number,
                line_control_number=ours[line.line_number].line_control_number,
                revenue_code=line.revenue_code,
                units=ours[line.line_number].units,
                charge_cents=ours[line.line_number].charge_cents,
                hcpcs=line.hcpcs,
                service_date=line.service_date,
            )
            for line in bill.lines
            if line.line_number in ours
        ),
    )


def _poa(indicator: str | None) -> str | None:
    # "1" marks a code on CMS's exempt list: the 837I leaves the indicator blank for it.
    return None if indicator in (None, "1") else indicator


def findings_from(problems: Iterable[Problem837]) -> tuple[Finding, ...]:
    return tuple(
        Finding(edit_id=p.edit_id, field=p.field, message=f"The {p.field.replace('_', ' ')} {p.message}.")
        for p in problems
    )


# The worker ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    claim_id: str
    state: ClaimState
    version: int
    patient_id: str
    claim: Claim837

    @property
    def frequency(self) -> str:
        return self.claim.frequency_code


class Submission:
    def __init__(
        self,
        store: EventStore,
        unit_for: Callable[[Session], Unit],
        vault: Vault,
        file_format: ClaimFileFormat,
        outbox: Outbox,
        config: SubmissionConfig,
    ) -> None:
        self.store = store
        self.unit_for = unit_for
        self.vault = vault
        self.format = file_format
        self.outbox = outbox
        self.config = config

    async def run_once(self, now: datetime | None = None) -> list[str]:
        """Write what a crash left unwritten, then send every claim waiting; the ids of new batches."""
        await self.finish_unwritten()
        async with self.store.session() as session:
            pairs = await self.unit_for(session).views.claims.payers_with_claims_to_send()
        sent: list[str] = []
        for tenant, payer_id in pairs:
            while True:
                batch, progressed = await self._send_one(tenant, payer_id, now or datetime.now(UTC))
                if batch is not None:
                    sent.append(batch.batch_id)
                if not progressed:
                    break
        return sent

    async def _prepare(
        self, unit: Unit, tenant: str, state: ClaimState, today: date
    ) -> Claim837 | tuple[Finding, ...]:
        """The claim's 837 content, or the findings that hold it back."""
        content, frequency = state.content, state.pending_frequency
        assert content is not None and frequency is not None
        if frequency == "1":
            # The data may have changed, or the filing limit passed, since the claim became ready.
            findings = scrubber.scrub(
                content, await unit.views.reference.scrub_context(tenant, content), today
            )
            if findings:
                return findings
        parties = await unit.views.reference.parties(tenant, content)
        if parties is None:
            return (_missing(),)
        try:
            claim = await claim_for_837(
                self.vault, state, parties, frequency, await _replaced_reference(unit, tenant, content)
            )
        except KeyDestroyed:
            return (
                Finding(edit_id=scrubber.PATIENT, field="patient", message="The patient's data was erased."),
            )
        except Unreadable as error:
            message = f"The {error.field} is not readable."
            return (Finding(edit_id=error.edit_id, field=error.field, message=message),)
        return findings_from(self.format.check(claim)) or claim

    async def _send_one(self, tenant: str, payer_id: str, now: datetime) -> tuple[BatchRecord | None, bool]:
        """One file for up to max_claims_per_file waiting claims; claims whose data cannot be sent go
        back to the work queue. Returns the batch (if any) and whether any claim left the queue."""
        metadata = Metadata(tenant=tenant, actor=SYSTEM_ACTOR, correlation_id=str(uuid.uuid4()))
        batch: BatchRecord | None = None
        text = ""
        async with self.store.session() as session:
            unit = self.unit_for(session)
            prepared: list[Prepared] = []
            appends: list[tuple[str, str, int, list[Event]]] = []
            waiting = await unit.views.claims.claims_to_send(
                tenant, payer_id, self.config.max_claims_per_file
            )
            states = await load_states(unit.session, claim_decider, waiting)
            for claim_id in waiting:
                state, version = states[claim_id]
                if state.content is None or not state.awaiting_submission:
                    continue
                if prepared and _kind(prepared[0].state) != _kind(state):
                    continue  # one file is one form: the other kind goes in the next file
                outcome = await self._prepare(unit, tenant, state, now.date())
                if isinstance(outcome, Claim837):
                    prepared.append(Prepared(claim_id, state, version, state.content.patient_id, outcome))
                    continue
                events = list(claim_decider.decide(FailScrub(outcome), state))
                await unit.views.claims.save(
                    tenant, claim_decider.fold(events, state), version + len(events), now
                )
                appends.append((claim_id, claim_decider.stream_type, version, events))
            if prepared:
                batch, text = await self._record_batch(unit, tenant, payer_id, prepared, now, appends)
            # Appends last: they hold the log's head lock until commit.
            for stream_id, stream_type, version, events in appends:
                await session.append(stream_id, stream_type, version, events, metadata)
        if batch is not None:
            await self._write(batch, text)
        return batch, bool(appends)

    async def _record_batch(
        self,
        unit: Unit,
        tenant: str,
        payer_id: str,
        prepared: list[Prepared],
        now: datetime,
        appends: list[tuple[str, str, int, list[Event]]],
    ) -> tuple[BatchRecord, str]:
        numbers = ControlNumbers(await unit.views.batches.next_control_number(tenant))
        batch_id = str(uuid.uuid4())
        form = "837I" if prepared[0].claim.institutional is not None else "837P"
        file_name = file_name_for(batch_id, numbers, form)
        sender = await unit.views.batches.submitter_id(tenant, self.config.submitter_id)
        payer = prepared[0].claim.payer
        batch = BatchRecord(
            batch_id=batch_id,
            tenant=tenant,
            payer_id=payer_id,
            control_number=numbers.value,
            file_name=file_name,
            claim_ids=tuple(p.claim_id for p in prepared),
            frequencies=tuple(p.frequency for p in prepared),
            sender_id=sender,
            receiver_id=payer.edi_payer_id,
            created_at=now,
        )
        text = self.format.render(self._interchange(batch, payer.name, [p.claim for p in prepared]))
        await unit.views.batches.record(batch)
        for item in prepared:
            # What GET /claims/{id}/837 answers: this claim alone, in its batch's envelope, sealed
            # under the patient's key so that erasing the patient erases it too.
            single = self.format.render(self._interchange(batch, payer.name, [item.claim]))
            sealed = (await self.vault.seal_fields(item.patient_id, {"x12_837": single}))["x12_837"]
            assert sealed is not None
            await unit.views.batches.record_claim_file(
                tenant, item.claim_id, batch_id, item.frequency, sealed, now
            )
            events = list(
                claim_decider.decide(
                    Submit(batch_id, numbers.interchange, numbers.group, numbers.transaction_set, file_name),
                    item.state,
                )
            )
            new_state = claim_decider.fold(events, item.state)
            await unit.views.claims.save(tenant, new_state, item.version + len(events), now, later=True)
            appends.append((item.claim_id, claim_decider.stream_type, item.version, events))
        batch_events = list(
            batch_decider.decide(
                SendBatch(batch_id, payer_id, batch.claim_ids, numbers, file_name), batch_decider.initial
            )
        )
        appends.append((batch_id, batch_decider.stream_type, 0, batch_events))
        return batch, text

    def _interchange(self, batch: BatchRecord, receiver_name: str, claims: list[Claim837]) -> Interchange837:
        config = self.config
        return Interchange837(
            sender_id=batch.sender_id,
            receiver_id=batch.receiver_id,
            receiver_name=receiver_name,
            control_number=batch.control_number,
            created_at=batch.created_at,
            submitter=Submitter837(
                config.submitter_name, batch.sender_id, config.submitter_contact_name, config.submitter_phone
            ),
            claims=tuple(claims),
            usage=config.usage,
            reference=batch.batch_id,
        )

    async def _write(self, batch: BatchRecord, text: str) -> None:
        async with self.store.session() as session:
            batches = self.unit_for(session).views.batches
            if not await batches.lock_unwritten(batch.batch_id, wait=True):
                return
            self.outbox.write_outbound(batch.file_name, text)
            await batches.mark_written(batch.batch_id)

    async def finish_unwritten(self) -> int:
        """Write the files of batches committed before a crash took their writer."""
        async with self.store.session() as session:
            pending = await self.unit_for(session).views.batches.unwritten()
        finished = 0
        for batch in pending:
            async with self.store.session() as session:
                unit = self.unit_for(session)
                if not await unit.views.batches.lock_unwritten(batch.batch_id, wait=False):
                    continue
                if not self.outbox.outbound_exists(batch.file_name):
                    text = await self._render_again(unit, batch)
                    if text is None:
                        log.warning(
                            "a batch file cannot be written again", extra={"batch_id": batch.batch_id}
                        )
                        continue
                    self.outbox.write_outbound(batch.file_name, text)
                await unit.views.batches.mark_written(batch.batch_id)
                finished += 1
        return finished

    async def _render_again(self, unit: Unit, batch: BatchRecord) -> str | None:
        claims: list[Claim837] = []
        receiver_name = ""
        for claim_id, frequency in zip(batch.claim_ids, batch.frequencies, strict=True):
            state, _ = await load_state(unit.session, claim_decider, claim_id)
            if state.content is None:
                return None
            parties = await unit.views.reference.parties(batch.tenant, state.content)
            if parties is None:
                return None
            try:
                replaced = await _replaced_reference(unit, batch.tenant, state.content)
                claims.append(await claim_for_837(self.vault, state, parties, frequency, replaced))
            except (KeyDestroyed, Unreadable):
                return None
            receiver_name = parties.payer.name
        return self.format.render(self._interchange(batch, receiver_name, claims))


async def _replaced_reference(unit: Unit, tenant: str, content: ClaimContent) -> str | None:
    """The payer's claim number of the claim an institutional late-charge or replacement bill names."""
    bill = content.institutional
    if bill is None or bill.replaces_invoice_id is None:
        return None
    for claim_id in await unit.views.claims.claim_ids_for_invoice(tenant, bill.replaces_invoice_id):
        replaced, _ = await load_state(unit.session, claim_decider, claim_id)
        if replaced.content is not None and replaced.content.payer_id == content.payer_id:
            return replaced.original_reference
    return None


def _kind(state: ClaimState) -> str:
    return state.content.kind if state.content is not None else "professional"


def _missing() -> Finding:
    return Finding(
        edit_id=scrubber.SUBSCRIBER, field="coverage_id", message="The claim's parties are not all on file."
    )
