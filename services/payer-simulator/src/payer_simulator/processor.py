"""One pass over the clearinghouse folder: each new 837 file in `<dir>/outbound` gets a 999, a
277CA per payer and transaction set, and an 835 per payer written to `<dir>/inbound`, a file of
270s one 271 file (payer_simulator.eligibility), then moves to `<dir>/outbound/processed`.

Crash safety: answers are written to `<dir>/.simulator-tmp` first; the state file then records
the file as answered together with the renames still to do; the renames into inbound follow. A run
that finds renames pending finishes them before anything else, so a file is never answered twice
and an answer is never half there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from billing_x12 import (
    Address,
    ClaimAck,
    ClaimAcknowledgement,
    ClaimPayment,
    Contact,
    Entity,
    EnvelopeRef,
    InstitutionalClaim,
    Interchange,
    Party,
    PaymentInfo,
    ProfessionalClaim,
    ProviderAdjustment,
    ProviderAdjustmentItem,
    Reference,
    Remittance,
    StatusCode,
    StatusInfo,
    X12Error,
    iter_transaction_sets,
    read_interchanges,
    write_277ca,
    write_835,
    write_999,
)
from billing_x12.professional_claim import PriorLinePayment

from payer_simulator.acknowledgements import ReviewedInterchange, review_interchange
from payer_simulator.adjudication import AnyClaim, Denial, adjudicate, claim_parties, reversal
from payer_simulator.config import PayerRules, Rules
from payer_simulator.eligibility import answer_file
from payer_simulator.institutional import adjudicate_institutional
from payer_simulator.state import (
    ProcessedFile,
    Rename,
    SimulatorState,
    StoredClaim,
    load_state,
    member_key,
    save_state,
    write_atomically,
)

log = logging.getLogger("payer_simulator")

CLAIM_SUFFIXES = frozenset({".x12", ".837", ".edi", ".txt"})
TEMP_DIR = ".simulator-tmp"

# 277CA claim status codes used by the simulator.
ACCEPTED = StatusCode("A2", "20", "PR")  # accepted for processing
OUT_OF_BALANCE = StatusCode("A7", "400")  # claim is out of balance
CONTROL_NUMBER_MISSING = StatusCode("A7", "464")  # payer assigned claim control number
ORIGINAL_NOT_FOUND = StatusCode("A4", "35")  # claim/encounter not found


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Output:
    name: str
    content: str


@dataclass
class _Decision:
    ack: ClaimAck
    payments: list[ClaimPayment] = field(default_factory=list)


@dataclass
class _PayerBatch:
    payer_id: str
    envelope: EnvelopeRef
    usage_indicator: str
    # provider id -> (payee entity, claim payments)
    providers: dict[str, tuple[Entity, list[ClaimPayment]]] = field(default_factory=dict)


class Simulator:
    """Plays the clearinghouse and the payers of `rules` on `directory`."""

    def __init__(
        self,
        directory: Path,
        rules: Rules,
        *,
        clock: Callable[[], dt.datetime] = _utc_now,
        settle_seconds: float = 1.0,
    ) -> None:
        self.directory = directory
        self.rules = rules
        self.clock = clock
        self.settle_seconds = settle_seconds
        self.outbound = directory / "outbound"
        self.processed_dir = self.outbound / "processed"
        self.inbound = directory / "inbound"
        self.temp_dir = directory / TEMP_DIR
        # Files left in place (unreadable, or for payers not configured) are reported once per run.
        self._reported: set[str] = set()
        # The committed state, read from disk once: this process is its only writer. Reloading,
        # deep-copying and re-serialising it every pass cost a core once it held a few thousand
        # claims.
        self._state: SimulatorState | None = None

    # ----------------------------------------------------------------------------------- the pass

    def run_once(self) -> list[Path]:
        """Answer every new file once; return the paths written into inbound.

        All the files of one pass are answered against the state and committed together (one journal
        write), so a pass costs one state save however many files arrived. A pass that fails
        half-way leaves the in-memory state changed: it is dropped, and the next pass starts again
        from the last committed state on disk.
        """
        for folder in (self.outbound, self.processed_dir, self.inbound, self.temp_dir):
            folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        if self._state is None:
            self._state = load_state(self.directory)
            # Answers a stopped run committed but had not all moved into inbound yet.
            written = self._finish_pending(self._state, recovering=True)
        work = self._state
        try:
            outputs: list[Output] = []
            answered: list[Path] = []
            for path in self._candidates():
                produced = self._process(path, work)
                if produced is not None:
                    outputs.extend(produced)
                    answered.append(path)
            if answered:
                written.extend(self._commit(work, outputs))
                for path in answered:
                    self._move_processed(path)
        except BaseException:
            self._state = None
            raise
        return written

    def _candidates(self) -> list[Path]:
        now = time.time()
        found = []
        for path in sorted(self.outbound.iterdir()):
            if not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in CLAIM_SUFFIXES:
                continue
            # A file still being written by a sender that does not rename into place would be read
            # cut short and rejected: wait until it has not changed for a moment.
            if now - path.stat().st_mtime < self.settle_seconds:
                continue
            found.append(path)
        return found

    def _report_once(self, path: Path, digest: str, message: str, *args: object) -> None:
        if digest not in self._reported:
            self._reported.add(digest)
            log.warning(message, path.name, *args)

    def _process(self, path: Path, work: SimulatorState) -> list[Output] | None:
        """The answers to one file, recorded in `work`; None when the file is not answered now."""
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in work.processed:
            log.info("already answered file=%s: moving it to processed", path.name)
            self._move_processed(path)
            return None
        try:
            interchanges = read_interchanges(data, strict=False)
        except X12Error as error:
            self._report_once(path, digest, "not answering file=%s: not readable X12 (%s)", error)
            return None
        if _all_eligibility_inquiries(interchanges):
            return self._answer_inquiries(path, digest, interchanges, work)
        reviews = [review_interchange(interchange) for interchange in interchanges]
        payer_ids = frozenset(p for review in reviews for p in review.payer_ids)
        if not payer_ids & self.rules.payers.keys():
            self._report_once(path, digest, "not answering file=%s: no claim to a configured payer")
            return None
        now = self.clock()
        outputs = self._answer(path, reviews, work, now)
        answered = ProcessedFile(name=path.name, processed_at=now, outputs=[o.name for o in outputs])
        work.record_file(digest, answered)
        log.info("answered file=%s outputs=%d", path.name, len(outputs))
        return outputs

    def _answer_inquiries(
        self, path: Path, digest: str, interchanges: tuple[Interchange, ...], work: SimulatorState
    ) -> list[Output] | None:
        """A file of 270s gets one 271 file (eligibility answers no 999 here: the inquirer matches
        the 271 by its trace)."""
        now = self.clock()
        try:
            answered = answer_file(interchanges, self.rules, work, now)
        except X12Error as error:
            self._report_once(path, digest, "not answering file=%s: not a readable 270 (%s)", error)
            return None
        if answered is None:
            self._report_once(path, digest, "not answering file=%s: no inquiry to a configured payer")
            return None
        text, number = answered
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem)
        output = Output(f"{stem}.271.{number:09d}.x12", text)
        work.record_file(digest, ProcessedFile(name=path.name, processed_at=now, outputs=[output.name]))
        log.info("answered eligibility file=%s", path.name)
        return [output]

    # -------------------------------------------------------------------------------- the answers

    def _answer(
        self, path: Path, reviews: list[ReviewedInterchange], work: SimulatorState, now: dt.datetime
    ) -> list[Output]:
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem)
        outputs: list[Output] = []
        implementation_acks = []
        first_ack = 0
        for review in reviews:
            interchange = review.interchange
            number = work.counters.next("interchange")
            first_ack = first_ack or number
            implementation_acks.append(
                write_999(
                    review.groups,
                    sender_id=interchange.receiver_id or "CLEARINGHOUSE",
                    receiver_id=interchange.sender_id or "SUBMITTER",
                    interchange_control_number=number,
                    group_control_number=work.counters.next("group"),
                    first_transaction_set_control_number=1,
                    created=now,
                    usage_indicator=interchange.usage_indicator or "P",
                )
            )
        outputs.append(Output(f"{stem}.999.{first_ack:09d}.x12", "".join(implementation_acks)))

        batches: dict[str, _PayerBatch] = {}
        # One 277CA per payer and 837 transaction set, as payers answer a batch: claim by claim, it
        # was a file (and a transaction in the claims service) per claim.
        claim_acks: dict[tuple[str, int, int], tuple[list[AnyClaim], list[ClaimAck], str]] = {}
        for review_number, review in enumerate(reviews):
            usage = review.interchange.usage_indicator or "P"
            for set_number, reviewed in enumerate(review.sets):
                for claim in reviewed.claims:
                    rules = self.rules.payers.get(claim.payer_id)
                    if rules is None:
                        continue
                    decision = self._decide(claim, rules, work, now.date())
                    key = (claim.payer_id, review_number, set_number)
                    acknowledged, acks, _ = claim_acks.setdefault(key, ([], [], usage))
                    acknowledged.append(claim)
                    acks.append(decision.ack)
                    answers = [
                        (claim.payer_id, _echoed_claim_number(payment, rules))
                        for payment in decision.payments
                    ]
                    if decision.payments and isinstance(claim, ProfessionalClaim):
                        answers = self._crossover(claim, rules, answers, work, now.date())
                    for payer_id, payment in answers:
                        batch = batches.setdefault(payer_id, _PayerBatch(payer_id, claim.envelope, usage))
                        _, payments = batch.providers.setdefault(
                            claim.billing_provider.identifier, (_payee(claim), [])
                        )
                        payments.append(payment)
        for acknowledged, acks, usage in claim_acks.values():
            outputs.append(self._claim_ack_file(stem, acknowledged, acks, work, now, usage))
        for batch in batches.values():
            outputs.append(self._remittance_file(stem, batch, work, now))
        return outputs

    def _crossover(
        self,
        claim: ProfessionalClaim,
        rules: PayerRules,
        answers: list[tuple[str, ClaimPayment]],
        work: SimulatorState,
        today: dt.date,
    ) -> list[tuple[str, ClaimPayment]]:
        """A primary payer with `crossover_to` forwards an original claim that leaves the patient a
        share to that payer itself: its 835 says so (CLP02 19, MOA MA18), and the supplemental
        payer answers the same claim (the provider's claim number) as secondary, in its own 835."""
        target = rules.crossover_to or rules.crossover_members.get(claim.member_id)
        supplemental = self.rules.payers.get(target) if target else None
        payer_id, payment = answers[-1]
        if (
            target is None
            or supplemental is None
            or claim.payer_responsibility != "P"
            or claim.frequency_code != "1"
            or payment.status_code not in ("1",)
            or payment.patient_responsibility_cents <= 0
        ):
            return answers
        forwarded = replace(payment, status_code="19", remark_codes=(*payment.remark_codes, "MA18"))
        secondary = replace(
            claim,
            payer_responsibility="S",
            payer=Party("PR", "2", supplemental.name, id_qualifier="PI", identifier=target),
            lines=tuple(
                replace(line, prior_payments=(PriorLinePayment(payer_id, paid.paid_cents, paid.adjustments),))
                for line, paid in zip(claim.lines, payment.service_lines, strict=True)
            ),
        )
        member = member_key(target, claim.member_id)
        answer = adjudicate(
            secondary,
            supplemental,
            payer_claim_control_number=f"SIM{work.counters.next('claim'):010d}",
            deductible_used=work.deductible_used(target, member),
            today=today,
        )
        work.add_deductible(target, member, dict(answer.deductible_used))
        return [*answers[:-1], (payer_id, forwarded), (target, answer.payment)]

    def _decide(self, claim: AnyClaim, rules: PayerRules, work: SimulatorState, today: dt.date) -> _Decision:
        payer_id = claim.payer_id
        member = member_key(payer_id, claim.member_id)
        provider = claim.billing_provider.identifier
        if claim.charge_cents != claim.line_charge_total_cents:
            return _Decision(_claim_ack(claim, OUT_OF_BALANCE, today))
        frequency = claim.frequency_code
        original: StoredClaim | None = None
        if frequency in ("7", "8"):
            if not claim.original_claim_number:
                return _Decision(_claim_ack(claim, CONTROL_NUMBER_MISSING, today))
            original = work.find_claim(payer_id, claim.original_claim_number)
            if original is not None and original.superseded:
                original = None
        payments: list[ClaimPayment] = []
        if frequency == "8":
            if original is None:
                return _Decision(_claim_ack(claim, ORIGINAL_NOT_FOUND, today))
            work.supersede(original)
            payments.append(reversal(original.payment(), claim_parties(claim)))
            return _Decision(
                _claim_ack(claim, ACCEPTED, today, original.payer_claim_control_number), payments
            )
        if original is not None:
            work.supersede(original)
            if rules.reverse_on_replacement:
                payments.append(reversal(original.payment(), claim_parties(claim)))
        deny_all = None
        duplicate = work.find_by_patient_control_number(payer_id, claim.patient_control_number)
        if frequency == "1" and rules.deny_duplicates and duplicate is not None:
            deny_all = Denial("18")
        control_number = f"SIM{work.counters.next('claim'):010d}"
        used = work.deductible_used(payer_id, member)
        if isinstance(claim, InstitutionalClaim):
            adjudication = adjudicate_institutional(
                claim,
                rules,
                payer_claim_control_number=control_number,
                deductible_used=used,
                today=today,
                deny_all=deny_all,
            )
        else:
            adjudication = adjudicate(
                claim,
                rules,
                payer_claim_control_number=control_number,
                deductible_used=used,
                today=today,
                deny_all=deny_all,
            )
        work.add_deductible(payer_id, member, dict(adjudication.deductible_used))
        if deny_all is None:
            work.store_claim(
                StoredClaim.of(
                    adjudication.payment,
                    payer_id=payer_id,
                    member_key=member,
                    provider_id=provider,
                    deductible=dict(adjudication.deductible_used),
                )
            )
        payments.append(adjudication.payment)
        return _Decision(_claim_ack(claim, ACCEPTED, today, control_number), payments)

    def _claim_ack_file(
        self,
        stem: str,
        claims: list[AnyClaim],
        acks: list[ClaimAck],
        work: SimulatorState,
        now: dt.datetime,
        usage: str,
    ) -> Output:
        """The 277CA of one payer for the claims of one 837 transaction set."""
        claim = claims[0]
        rules = self.rules.payers[claim.payer_id]
        received_cents = sum(c.charge_cents for c in claims)
        number = work.counters.next("interchange")
        acknowledgement = ClaimAcknowledgement(
            envelope=EnvelopeRef(f"{number:09d}", "", "0001"),
            reference_id=f"277CA{number:09d}",
            created=now.replace(tzinfo=None),
            payer=Party("PR", "2", rules.name, id_qualifier="PI", identifier=claim.payer_id),
            receiver=claim.submitter
            or Party(
                "41", "2", claim.envelope.sender_id, id_qualifier="46", identifier=claim.envelope.sender_id
            ),
            receiver_trace_number=claim.batch_reference or claim.envelope.transaction_set_control_number,
            receiver_statuses=(
                StatusInfo((StatusCode("A1", "19", "PR"),), now.date(), "WQ", received_cents),
            ),
            received_date=now.date(),
            processed_date=now.date(),
            claims=tuple(acks),
        )
        text = write_277ca(
            [acknowledgement],
            sender_id=claim.envelope.receiver_id or "CLEARINGHOUSE",
            receiver_id=claim.envelope.sender_id or "SUBMITTER",
            interchange_control_number=number,
            group_control_number=work.counters.next("group"),
            created=now,
            usage_indicator=usage,
        )
        return Output(f"{stem}.277ca.{number:09d}.x12", text)

    def _remittance_file(
        self, stem: str, batch: _PayerBatch, work: SimulatorState, now: dt.datetime
    ) -> Output:
        rules = self.rules.payers[batch.payer_id]
        number = work.counters.next("interchange")
        group_number = work.counters.next("group")
        remittances = []
        for index, (provider_id, (payee, payments)) in enumerate(batch.providers.items(), start=1):
            net = sum(p.paid_cents for p in payments)
            balance_key = f"{batch.payer_id}|{provider_id}"
            owed = work.balances.get(balance_key, 0)
            items: list[ProviderAdjustmentItem] = []
            # A payment cannot be negative: what reversals take back beyond this remittance's
            # payments is carried forward (PLB FB, negative) and recovered from later ones
            # (PLB FB, positive).
            if net < 0:
                reversed_claim = next((p for p in payments if p.is_reversal), payments[0])
                reference = reversed_claim.payer_claim_control_number or "BALANCE"
                items.append(ProviderAdjustmentItem("FB", net, reference))
                owed -= net
            elif owed > 0 and net > 0:
                recovered = min(owed, net)
                items.append(ProviderAdjustmentItem("FB", recovered, "BALANCE"))
                owed -= recovered
            work.set_balance(balance_key, owed)
            amount = net - sum(item.amount_cents for item in items)
            remittances.append(
                Remittance(
                    envelope=EnvelopeRef(f"{number:09d}", str(group_number), f"{index:04d}"),
                    payment=PaymentInfo(
                        handling_code="I" if amount > 0 else "H",
                        amount_cents=amount,
                        credit_debit="C",
                        method="CHK" if amount > 0 else "NON",
                        payment_date=now.date(),
                    ),
                    trace_number=f"{work.counters.next('trace'):010d}",
                    originating_company_id=f"1{rules.tax_id}",
                    production_date=now.date(),
                    payer=_payer_entity(batch.payer_id, rules),
                    payee=payee,
                    claims=tuple(payments),
                    provider_adjustments=(
                        (ProviderAdjustment(provider_id, dt.date(now.year, 12, 31), tuple(items)),)
                        if items
                        else ()
                    ),
                )
            )
        text = write_835(
            remittances,
            sender_id=batch.envelope.receiver_id or "CLEARINGHOUSE",
            receiver_id=batch.envelope.sender_id or "SUBMITTER",
            interchange_control_number=number,
            group_control_number=group_number,
            created=now,
            usage_indicator=batch.usage_indicator,
        )
        safe_payer = re.sub(r"[^A-Za-z0-9_-]", "_", batch.payer_id)
        return Output(f"{stem}.835.{safe_payer}.{number:09d}.x12", text)

    # ---------------------------------------------------------------------------------- the files

    def _commit(self, work: SimulatorState, outputs: list[Output]) -> list[Path]:
        renames = []
        for output in outputs:
            temporary = self.temp_dir / output.name
            write_atomically(temporary, output.content.encode("utf-8"))
            renames.append(Rename(source=str(temporary), target=str(self.inbound / output.name)))
        work.pending = renames
        save_state(self.directory, work)
        return self._finish_pending(work, recovering=False)

    def _finish_pending(self, state: SimulatorState, *, recovering: bool) -> list[Path]:
        """Move the committed answers into inbound. The journal keeps naming them until the next
        commit replaces it (moving one already moved does nothing), so a normal pass saves the state
        once; only a run recovering a stopped one's answers saves the emptied journal."""
        written = []
        for rename in state.pending:
            source, target = Path(rename.source), Path(rename.target)
            if source.exists():
                os.replace(source, target)
                written.append(target)
        if state.pending and recovering:
            state.pending = []
            save_state(self.directory, state)
        # Temporary files not in the journal come from a run stopped before it saved the state:
        # that run's answers were never committed and will be written again.
        if self.temp_dir.exists():
            for leftover in self.temp_dir.iterdir():
                leftover.unlink()
        return written

    def _move_processed(self, path: Path) -> None:
        target = self.processed_dir / path.name
        if target.exists():
            target = self.processed_dir / f"{path.stem}.{int(time.time())}{path.suffix}"
        shutil.move(str(path), str(target))


def _echoed_claim_number(payment: ClaimPayment, rules: PayerRules) -> ClaimPayment:
    """CLP01 as the payer echoes it: cut to clp01_length characters by a payer that keeps no more."""
    length = rules.clp01_length
    if length is None or len(payment.patient_control_number) <= length:
        return payment
    return replace(payment, patient_control_number=payment.patient_control_number[:length])


def _all_eligibility_inquiries(interchanges: tuple[Interchange, ...]) -> bool:
    sets = [ts for _, _, ts in iter_transaction_sets(interchanges)]
    return bool(sets) and all(ts.id == "270" for ts in sets)


def _claim_ack(
    claim: AnyClaim,
    status: StatusCode,
    today: dt.date,
    payer_claim_control_number: str | None = None,
) -> ClaimAck:
    action = "WQ" if status is ACCEPTED else "U"
    subscriber = claim.subscriber
    patient = claim.patient or subscriber
    dates = [line.service_date_from for line in claim.lines if line.service_date_from]
    ends = [line.service_date_to or line.service_date_from for line in claim.lines if line.service_date_from]
    return ClaimAck(
        patient_control_number=claim.patient_control_number,
        statuses=(StatusInfo((status,), today, action, claim.charge_cents),),
        payer_claim_control_number=payer_claim_control_number,
        service_date_from=min(dates) if dates else None,
        service_date_to=max(d for d in ends if d) if dates else None,
        patient=Party(
            "QC",
            "1",
            patient.last_name,
            patient.first_name,
            patient.middle_name,
            patient.suffix,
            "MI",
            subscriber.identifier,
        ),
        billing_provider=claim.billing_provider,
    )


def _payee(claim: AnyClaim) -> Entity:
    provider = claim.billing_provider
    references = (Reference("TJ", claim.billing_tax_id),) if claim.billing_tax_id else ()
    return Entity(
        "PE", provider.last_name, provider.id_qualifier or "XX", provider.identifier, references=references
    )


def _payer_entity(payer_id: str, rules: PayerRules) -> Entity:
    address = rules.address
    return Entity(
        "PR",
        rules.name,
        address=Address((address.line,), address.city, address.state, address.zip),
        references=(Reference("2U", payer_id),),
        contacts=(Contact("BL", "EDI SUPPORT", (("TE", rules.technical_contact_phone),)),),
    )
