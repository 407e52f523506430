"""The Invoice aggregate: an encounter's charges and the ledger of everything posted against them.

Every amount an invoice shows is derived from its postings, and every posting moves the balance by
exactly what it records, so at all times

    total_charge_cents = paid_cents + adjustment_cents + balance_cents

Postings: the charge (InvoiceIssued), payer adjudications (paid, CO contractual and OA/OI/PI/CR other
adjustments; PR moves responsibility to the patient and stays in the balance), payer reversals (the
negation of the posting they undo), patient payments, and the void (which reverses the outstanding
charge). A denial posts no money: the balance stays open and the reasons are shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from billing_events.balances import SEQUENCES, PayerAnswer, patient_assigned_cents, patient_share_of_balance
from billing_events.contracts.base import Event
from billing_events.contracts.claims import ClaimAdjudicated, ClaimSequence
from billing_events.contracts.coding import EncounterCoded, EncounterRecoded
from billing_events.contracts.invoicing import (
    CodedInvoiceLine,
    InstitutionalBill,
    InsurancePaymentPosted,
    InvoiceHeld,
    InvoiceIssued,
    InvoiceLine,
    InvoiceSettled,
    InvoiceVoided,
    PatientCreditApplied,
    PatientCreditReleased,
    PatientPaymentApplied,
    PostedLine,
    PricingError,
    Responsibility,
    WriteOffPosted,
)
from billing_events.decider import Decider
from invoicing.domain import credits, ids, preventive, write_offs
from invoicing.domain.credits import ApplyPatientCredit, ReleasePatientCredit
from invoicing.domain.errors import (
    FieldError,
    InvalidInput,
    InvoiceNotPayable,
    NothingToReverse,
    UnknownInvoice,
)
from invoicing.domain.institutional_bill import Bill
from invoicing.domain.pricing import PriceList, price
from invoicing.domain.write_offs import PostWriteOff

Lifecycle = Literal["new", "held", "issued", "voided"]
PostingKind = Literal[
    "charge",
    "insurance_payment",
    "denial",
    "reversal",
    "patient_payment",
    "void",
    "write_off",
    "credit_released",
    "credit_applied",
]
Status = Literal["new", "held", "open", "denied", "settled", "overpaid", "voided"]
STATUSES: tuple[Status, ...] = ("held", "open", "denied", "settled", "overpaid", "voided")
OTHER_ADJUSTMENT_GROUPS = ("OA", "OI", "PI", "CR")
# CARC 23, the impact of prior payers' adjudication: a secondary or tertiary payer reports under it
# what the earlier ones paid and adjusted, which is already on the ledger; from it, it adjusts nothing.
PRIOR_PAYER_IMPACT = "23"
# The "fee schedule" an institutional invoice names: its lines were priced from the chargemaster.
CHARGEMASTER = "chargemaster"


@dataclass(frozen=True)
class Posting:
    """One ledger entry. Its effect on the balance is charge - paid - adjustments; PR is a transfer of
    responsibility inside the balance, not a change of it."""

    posting_id: str
    kind: PostingKind
    posted_on: date | None
    charge_cents: int = 0
    insurance_paid_cents: int = 0
    patient_paid_cents: int = 0
    contractual_adjustment_cents: int = 0
    other_adjustment_cents: int = 0
    patient_responsibility_cents: int = 0
    lines: tuple[PostedLine, ...] = ()
    claim_id: str | None = None
    payer_id: str | None = None
    reverses: str | None = None
    method: str | None = None
    denial_reasons: tuple[str, ...] = ()
    sequence: ClaimSequence = "primary"
    awaiting_next_payer: bool = False
    preventive_cost_sharing_cents: int = 0
    write_off_reason: str | None = None
    write_off_party: str | None = None

    @property
    def paid_cents(self) -> int:
        return self.insurance_paid_cents + self.patient_paid_cents

    @property
    def adjustment_cents(self) -> int:
        return self.contractual_adjustment_cents + self.other_adjustment_cents

    @property
    def balance_effect_cents(self) -> int:
        return self.charge_cents - self.paid_cents - self.adjustment_cents


@dataclass(frozen=True)
class InvoiceState:
    lifecycle: Lifecycle = "new"
    invoice_id: str = ""
    encounter_id: str = ""
    patient_id: str = ""
    coding_version: int = 0
    service_date: date | None = None
    billing_provider_id: str | None = None
    rendering_provider_id: str | None = None
    place_of_service: str | None = None
    diagnoses: tuple[str, ...] = ()
    coded_lines: tuple[CodedInvoiceLine, ...] = ()
    lines: tuple[InvoiceLine, ...] = ()
    pricing_errors: tuple[PricingError, ...] = ()
    fee_schedule: str | None = None
    responsibility: Responsibility | None = None
    coverage_id: str | None = None
    payer_id: str | None = None
    postings: tuple[Posting, ...] = ()
    settled: bool = False
    settled_on: date | None = None
    void_reason: str | None = None
    superseded_by_coding_version: int | None = None
    # A hospital's institutional invoice: the UB-04 part it was issued with.
    institutional: InstitutionalBill | None = None
    preventive_line_numbers: tuple[int, ...] = ()
    in_network: bool = False

    # Everything below is derived from the postings.

    @property
    def total_charge_cents(self) -> int:
        return sum(p.charge_cents for p in self.postings)

    @property
    def insurance_paid_cents(self) -> int:
        return sum(p.insurance_paid_cents for p in self.postings)

    @property
    def patient_paid_cents(self) -> int:
        return sum(p.patient_paid_cents for p in self.postings)

    @property
    def paid_cents(self) -> int:
        return self.insurance_paid_cents + self.patient_paid_cents

    @property
    def contractual_adjustment_cents(self) -> int:
        return sum(p.contractual_adjustment_cents for p in self.postings)

    @property
    def other_adjustment_cents(self) -> int:
        return sum(p.other_adjustment_cents for p in self.postings)

    @property
    def adjustment_cents(self) -> int:
        return self.contractual_adjustment_cents + self.other_adjustment_cents

    @property
    def balance_cents(self) -> int:
        return sum(p.balance_effect_cents for p in self.postings)

    @property
    def patient_written_off_cents(self) -> int:
        return sum(
            p.other_adjustment_cents
            for p in self.postings
            if p.kind == "write_off" and p.write_off_party == "patient"
        )

    @property
    def patient_responsibility_cents(self) -> int:
        """What the patient owes now: never below zero and never more than the balance."""
        if self.lifecycle != "issued":
            return 0
        outstanding = max(self.balance_cents, 0)
        if self.responsibility == "self_pay":
            return outstanding
        assigned = patient_assigned_cents(self.payer_answers)
        # What was written off the patient's part counts against it as their payments do.
        settled_by_patient = self.patient_paid_cents + self.patient_written_off_cents
        return patient_share_of_balance(outstanding, assigned, settled_by_patient)

    @property
    def payer_answers(self) -> list[PayerAnswer]:
        return [
            PayerAnswer(
                p.sequence, p.patient_responsibility_cents, p.awaiting_next_payer, p.kind == "reversal"
            )
            for p in self.postings
            if p.kind in ("insurance_payment", "denial", "reversal")
        ]

    @property
    def awaiting_next_payer(self) -> bool:
        """The last payer that answered names a payer after it: the patient is not billed yet. The
        last in payer order, not in arrival order: two claims' answers travel on two partitions, so a
        secondary's payment can be posted before the primary's answer that forwarded the claim to it
        (as patient_assigned_cents does)."""
        effective = self.effective_adjudications()
        if not effective:
            return False
        rank = {sequence: number for number, sequence in enumerate(SEQUENCES)}
        last = max(rank.get(p.sequence or "primary", 0) for p in effective)
        return [p for p in effective if rank.get(p.sequence or "primary", 0) == last][-1].awaiting_next_payer

    @property
    def preventive_cost_sharing_cents(self) -> int:
        """PR the payers assigned on in-network preventive lines (reversals net): withheld from the
        patient, a likely appeal while above zero."""
        return sum(p.preventive_cost_sharing_cents for p in self.postings)

    @property
    def insurance_balance_cents(self) -> int:
        """The part of the balance still expected from the payer (or in dispute with it)."""
        return self.balance_cents - self.patient_responsibility_cents

    @property
    def reversed_ids(self) -> frozenset[str]:
        return frozenset(p.reverses for p in self.postings if p.reverses)

    def effective_adjudications(self, claim_id: str | None = None) -> list[Posting]:
        """Payer postings that no reversal has undone, oldest first."""
        undone = self.reversed_ids
        return [
            p
            for p in self.postings
            if p.kind in ("insurance_payment", "denial")
            and p.posting_id not in undone
            and (claim_id is None or p.claim_id == claim_id)
        ]

    @property
    def denial_reasons(self) -> tuple[str, ...]:
        """The reasons of the payer's latest word, when that word is a denial."""
        effective = self.effective_adjudications()
        if effective and effective[-1].kind == "denial":
            return effective[-1].denial_reasons
        return ()

    @property
    def status(self) -> Status:
        if self.lifecycle in ("new", "held", "voided"):
            return self.lifecycle
        balance = self.balance_cents
        if balance == 0 and self.settled:
            return "settled"
        if balance < 0:
            return "overpaid"
        if self.denial_reasons:
            return "denied"
        return "open"

    def has_posting(self, posting_id: str) -> bool:
        return any(p.posting_id == posting_id for p in self.postings)


# Commands.


@dataclass(frozen=True)
class Coding:
    """What coding said about an encounter, in the terms an invoice needs."""

    encounter_id: str
    patient_id: str
    coding_version: int
    service_date: date
    billing_provider_id: str
    rendering_provider_id: str
    place_of_service: str
    diagnoses: tuple[str, ...]
    lines: tuple[CodedInvoiceLine, ...]


@dataclass(frozen=True)
class PrimaryCoverage:
    coverage_id: str
    payer_id: str
    # A payer contract is in effect on the date of service (domain.payer_contract), and whether that
    # contract asks for modifier 33 on preventive lines.
    in_network: bool = False
    requires_modifier_33: bool = False


@dataclass(frozen=True)
class IssueInvoice:
    """Price a coding and issue its invoice, or hold it. Repeating it re-prices a held invoice."""

    invoice_id: str
    coding: Coding
    price_list: PriceList | None
    coverage: PrimaryCoverage | None


@dataclass(frozen=True)
class IssueInstitutionalInvoice:
    """Issue a stay's institutional invoice (priced from the chargemaster when captured), once."""

    invoice_id: str
    encounter_id: str
    patient_id: str
    coding_version: int
    bill: Bill
    coverage: PrimaryCoverage | None


@dataclass(frozen=True)
class RepriceHeldInvoice:
    price_list: PriceList | None
    coverage: PrimaryCoverage | None


@dataclass(frozen=True)
class VoidInvoice:
    reason: str
    superseded_by_coding_version: int | None = None
    replaced_by_invoice_id: str | None = None


@dataclass(frozen=True)
class PostAdjudication:
    invoice_id: str
    claim_id: str
    payer_id: str
    adjudication_id: str
    reversal: bool
    denied: bool
    lines: tuple[PostedLine, ...]
    patient_responsibility_cents: int
    remark_codes: tuple[str, ...]
    posted_on: date
    sequence: ClaimSequence = "primary"
    awaiting_next_payer: bool = False


@dataclass(frozen=True)
class ApplyPatientPayment:
    invoice_id: str
    payment_id: str
    amount_cents: int
    method: str
    received_on: date


Command = (
    IssueInvoice
    | IssueInstitutionalInvoice
    | RepriceHeldInvoice
    | VoidInvoice
    | PostAdjudication
    | ApplyPatientPayment
    | PostWriteOff
    | ReleasePatientCredit
    | ApplyPatientCredit
)


def coding_from(event: EncounterCoded | EncounterRecoded) -> Coding:
    return Coding(
        encounter_id=event.encounter_id,
        patient_id=event.patient_id,
        coding_version=event.coding_version,
        service_date=event.service_date,
        billing_provider_id=event.billing_provider_id,
        rendering_provider_id=event.rendering_provider_id,
        place_of_service=event.place_of_service,
        diagnoses=event.diagnoses,
        lines=tuple(
            CodedInvoiceLine(
                line_number=line.line_number,
                code=line.code,
                modifiers=line.modifiers,
                units=line.units,
                diagnosis_pointers=line.diagnosis_pointers,
            )
            for line in event.lines
        ),
    )


def adjudication_from(claim: ClaimAdjudicated) -> PostAdjudication:
    """An 835 adjudication as a posting command. Claim-level adjustments post as line 0."""
    lines = [
        PostedLine(
            line_number=line.line_number,
            paid_cents=line.paid_cents,
            adjustments=line.adjustments,
        )
        for line in claim.lines
    ]
    if claim.claim_adjustments or not claim.lines:
        lines.append(
            PostedLine(
                line_number=0,
                paid_cents=0 if claim.lines else claim.paid_cents,
                adjustments=claim.claim_adjustments,
            )
        )
    # Claims read the 835 and decided the outcome (CLP02 22 is a reversal, 4 a denial, every line
    # refused is a denial too); invoicing posts what the event says and never re-reads status codes.
    reversal = claim.outcome == "reversed"
    remarks = list(claim.remark_codes) + [code for line in claim.lines for code in line.remark_codes]
    return PostAdjudication(
        invoice_id=claim.invoice_id,
        claim_id=claim.claim_id,
        payer_id=claim.payer_id,
        adjudication_id=ids.adjudication_id(
            claim.invoice_id,
            claim.claim_id,
            claim.remittance_id,
            claim.payer_claim_control_number,
            claim.claim_status_code,
        ),
        reversal=reversal,
        denied=claim.outcome == "denied",
        lines=tuple(lines),
        patient_responsibility_cents=claim.patient_responsibility_cents,
        remark_codes=tuple(dict.fromkeys(remarks)),
        posted_on=claim.adjudicated_on,
        sequence=claim.sequence,
        awaiting_next_payer=claim.next_payer_id is not None or claim.crossover,
    )


# decide


def decide(command: Command, state: InvoiceState) -> list[Event]:
    if isinstance(command, IssueInvoice):
        return _issue(command, state)
    if isinstance(command, IssueInstitutionalInvoice):
        return _issue_institutional(command, state)
    if isinstance(command, RepriceHeldInvoice):
        return _reprice(state, command.price_list, command.coverage)
    if isinstance(command, VoidInvoice):
        return _void(command, state)
    if isinstance(command, PostAdjudication):
        return _settle_if_zero(state, [_adjudication(command, state)], command.posted_on)
    if isinstance(command, PostWriteOff):
        _require_posted_to(command.invoice_id, state, allow_voided=False)
        return _settle_if_zero(state, write_offs.decide_write_off(command, state), command.written_off_on)
    if isinstance(command, ReleasePatientCredit):
        _require_posted_to(command.invoice_id, state, allow_voided=True)
        return _settle_if_zero(state, credits.decide_release(command, state), command.released_on)
    if isinstance(command, ApplyPatientCredit):
        _require_posted_to(command.invoice_id, state, allow_voided=False)
        return _settle_if_zero(state, credits.decide_apply(command, state), command.applied_on)
    return _patient_payment(command, state)


def _issue(command: IssueInvoice, state: InvoiceState) -> list[Event]:
    if state.lifecycle == "held":
        return _reprice(state, command.price_list, command.coverage)
    if state.lifecycle != "new":
        return []  # issued once per (encounter, coding version): a redelivery changes nothing
    coding = command.coding
    held = InvoiceState(
        lifecycle="held",
        invoice_id=command.invoice_id,
        encounter_id=coding.encounter_id,
        patient_id=coding.patient_id,
        coding_version=coding.coding_version,
        service_date=coding.service_date,
        billing_provider_id=coding.billing_provider_id,
        rendering_provider_id=coding.rendering_provider_id,
        place_of_service=coding.place_of_service,
        diagnoses=coding.diagnoses,
        coded_lines=coding.lines,
    )
    return _price(held, command.price_list, command.coverage, first=True)


def _issue_institutional(command: IssueInstitutionalInvoice, state: InvoiceState) -> list[Event]:
    if state.lifecycle != "new":
        return []  # one invoice per bill: a redelivered discharge or coding changes nothing
    bill, coverage = command.bill, command.coverage
    return [
        InvoiceIssued(
            invoice_id=command.invoice_id,
            encounter_id=command.encounter_id,
            patient_id=command.patient_id,
            coding_version=command.coding_version,
            service_date=bill.service_date,
            billing_provider_id=bill.institutional.facility_id,
            rendering_provider_id=bill.institutional.attending_provider_id,
            place_of_service=bill.place_of_service,
            diagnoses=bill.diagnoses,
            lines=bill.lines,
            total_charge_cents=bill.total_charge_cents,
            responsibility="insurance" if coverage else "self_pay",
            coverage_id=coverage.coverage_id if coverage else None,
            payer_id=coverage.payer_id if coverage else None,
            fee_schedule=CHARGEMASTER,
            institutional=bill.institutional,
        )
    ]


def _reprice(
    state: InvoiceState, price_list: PriceList | None, coverage: PrimaryCoverage | None
) -> list[Event]:
    if state.lifecycle != "held":
        return []
    return _price(state, price_list, coverage, first=False)


def _price(
    state: InvoiceState, price_list: PriceList | None, coverage: PrimaryCoverage | None, *, first: bool
) -> list[Event]:
    assert state.service_date is not None
    preventive_lines = preventive.preventive_line_numbers(state.coded_lines, state.diagnoses)
    coded_lines = state.coded_lines
    if coverage is not None and coverage.requires_modifier_33:
        coded_lines = tuple(
            preventive.with_modifier_33(line) if line.line_number in preventive_lines else line
            for line in coded_lines
        )
    pricing = price(coded_lines, price_list, state.service_date)
    if not pricing.priced:
        if not first and pricing.errors == state.pricing_errors:
            return []
        return [
            InvoiceHeld(
                invoice_id=state.invoice_id,
                encounter_id=state.encounter_id,
                patient_id=state.patient_id,
                coding_version=state.coding_version,
                service_date=state.service_date,
                pricing_errors=pricing.errors,
                billing_provider_id=state.billing_provider_id,
                rendering_provider_id=state.rendering_provider_id,
                place_of_service=state.place_of_service,
                diagnoses=state.diagnoses,
                lines=pricing.coded,
                fee_schedule=price_list.name if price_list else None,
            )
        ]
    assert price_list is not None  # every line has a price, so there was a schedule
    return [
        InvoiceIssued(
            invoice_id=state.invoice_id,
            encounter_id=state.encounter_id,
            patient_id=state.patient_id,
            coding_version=state.coding_version,
            service_date=state.service_date,
            billing_provider_id=state.billing_provider_id or "",
            rendering_provider_id=state.rendering_provider_id or "",
            place_of_service=state.place_of_service or "",
            diagnoses=state.diagnoses,
            lines=pricing.lines,
            total_charge_cents=pricing.total_charge_cents,
            responsibility="insurance" if coverage else "self_pay",
            coverage_id=coverage.coverage_id if coverage else None,
            payer_id=coverage.payer_id if coverage else None,
            fee_schedule=price_list.name,
            preventive_line_numbers=preventive_lines,
            in_network=coverage.in_network if coverage else False,
        )
    ]


def _void(command: VoidInvoice, state: InvoiceState) -> list[Event]:
    if state.lifecycle in ("new", "voided"):
        return []
    return [
        InvoiceVoided(
            invoice_id=state.invoice_id,
            encounter_id=state.encounter_id,
            reason=command.reason,
            superseded_by_coding_version=command.superseded_by_coding_version,
            replaced_by_invoice_id=command.replaced_by_invoice_id,
        )
    ]


def _require_posted_to(invoice_id: str, state: InvoiceState, *, allow_voided: bool) -> None:
    if state.lifecycle == "new":
        raise UnknownInvoice(invoice_id)
    if state.lifecycle == "held" or (state.lifecycle == "voided" and not allow_voided):
        raise InvoiceNotPayable(state.invoice_id, state.lifecycle)


def _adjudication(command: PostAdjudication, state: InvoiceState) -> Event | None:
    # A payer's money is real even on a voided invoice, so it is recorded there too.
    _require_posted_to(command.invoice_id, state, allow_voided=True)
    if state.has_posting(command.adjudication_id):
        return None
    if command.reversal:
        undone = state.effective_adjudications(command.claim_id)
        if not undone:
            raise NothingToReverse(state.invoice_id, command.claim_id)
        target = undone[-1]
        return InsurancePaymentPosted(
            invoice_id=state.invoice_id,
            claim_id=command.claim_id,
            payer_id=command.payer_id,
            adjudication_id=command.adjudication_id,
            posted_on=command.posted_on,
            reversal=True,
            lines=tuple(_negated(line) for line in target.lines),
            paid_cents=-target.insurance_paid_cents,
            contractual_adjustment_cents=-target.contractual_adjustment_cents,
            other_adjustment_cents=-target.other_adjustment_cents,
            patient_responsibility_cents=-target.patient_responsibility_cents,
            reverses_adjudication_id=target.posting_id,
            sequence=target.sequence,
            preventive_cost_sharing_cents=-target.preventive_cost_sharing_cents,
        )
    adjustments = [a for line in command.lines for a in line.adjustments]
    if command.denied:
        reasons = [f"{a.group}-{a.reason_code}" for a in adjustments] + list(command.remark_codes)
        return InsurancePaymentPosted(
            invoice_id=state.invoice_id,
            claim_id=command.claim_id,
            payer_id=command.payer_id,
            adjudication_id=command.adjudication_id,
            posted_on=command.posted_on,
            denied=True,
            lines=tuple(PostedLine(line_number=line.line_number, paid_cents=0) for line in command.lines),
            paid_cents=0,
            contractual_adjustment_cents=0,
            other_adjustment_cents=0,
            patient_responsibility_cents=0,
            denial_reasons=tuple(dict.fromkeys(reasons)) or ("denied",),
            sequence=command.sequence,
            awaiting_next_payer=command.awaiting_next_payer,
        )
    pr_adjustments = [a.amount_cents for a in adjustments if a.group == "PR"]
    # PHS Act 2713: no cost sharing on in-network preventive lines. What a payer assigned there anyway
    # is not the patient's; it stays with the payer (a likely appeal, see the work queue).
    exempt = state.preventive_line_numbers if state.in_network and state.responsibility == "insurance" else ()
    withheld = preventive.preventive_cost_sharing_cents(command.lines, exempt) if pr_adjustments else 0
    return InsurancePaymentPosted(
        invoice_id=state.invoice_id,
        claim_id=command.claim_id,
        payer_id=command.payer_id,
        adjudication_id=command.adjudication_id,
        posted_on=command.posted_on,
        lines=command.lines,
        paid_cents=sum(line.paid_cents for line in command.lines),
        contractual_adjustment_cents=sum(a.amount_cents for a in adjustments if a.group == "CO"),
        other_adjustment_cents=sum(
            a.amount_cents
            for a in adjustments
            if a.group in OTHER_ADJUSTMENT_GROUPS
            and not (command.sequence != "primary" and a.reason_code == PRIOR_PAYER_IMPACT)
        ),
        # The CAS PR segments are the itemised truth; CLP05 stands in when a payer sent none.
        patient_responsibility_cents=sum(pr_adjustments) - withheld
        if pr_adjustments
        else command.patient_responsibility_cents,
        sequence=command.sequence,
        awaiting_next_payer=command.awaiting_next_payer,
        preventive_cost_sharing_cents=withheld,
    )


def _negated(line: PostedLine) -> PostedLine:
    return PostedLine(
        line_number=line.line_number,
        paid_cents=-line.paid_cents,
        adjustments=tuple(a.model_copy(update={"amount_cents": -a.amount_cents}) for a in line.adjustments),
    )


def _patient_payment(command: ApplyPatientPayment, state: InvoiceState) -> list[Event]:
    if command.amount_cents <= 0:
        raise InvalidInput([FieldError("amount_cents", "must be greater than zero")])
    _require_posted_to(command.invoice_id, state, allow_voided=False)
    if state.has_posting(command.payment_id):
        return []
    # Never more than the balance: the rest of the payment is the patient's credit, not a
    # negative balance on this invoice.
    applied = min(command.amount_cents, max(state.balance_cents, 0))
    if applied == 0:
        return []
    event = PatientPaymentApplied(
        invoice_id=state.invoice_id,
        payment_id=command.payment_id,
        patient_id=state.patient_id,
        applied_cents=applied,
        method=command.method,
        received_on=command.received_on,
    )
    return _settle_if_zero(state, [event], command.received_on)


def _settle_if_zero(state: InvoiceState, events: Sequence[Event | None], on: date) -> list[Event]:
    decided = [e for e in events if e is not None]
    if not decided or state.lifecycle != "issued":
        return decided
    after = fold(decided, state)
    if after.balance_cents == 0 and not after.settled:
        decided.append(
            InvoiceSettled(invoice_id=state.invoice_id, patient_id=state.patient_id, settled_on=on)
        )
    return decided


# evolve


def evolve(state: InvoiceState, event: Event) -> InvoiceState:
    if isinstance(event, InvoiceHeld):
        return replace(
            state,
            lifecycle="held",
            invoice_id=event.invoice_id,
            encounter_id=event.encounter_id,
            patient_id=event.patient_id,
            coding_version=event.coding_version,
            service_date=event.service_date,
            billing_provider_id=event.billing_provider_id,
            rendering_provider_id=event.rendering_provider_id,
            place_of_service=event.place_of_service,
            diagnoses=event.diagnoses,
            coded_lines=event.lines,
            pricing_errors=event.pricing_errors,
            fee_schedule=event.fee_schedule,
        )
    if isinstance(event, InvoiceIssued):
        charge = Posting("charge", "charge", event.service_date, charge_cents=event.total_charge_cents)
        return replace(
            state,
            lifecycle="issued",
            invoice_id=event.invoice_id,
            encounter_id=event.encounter_id,
            patient_id=event.patient_id,
            coding_version=event.coding_version,
            service_date=event.service_date,
            billing_provider_id=event.billing_provider_id,
            rendering_provider_id=event.rendering_provider_id,
            place_of_service=event.place_of_service,
            diagnoses=event.diagnoses,
            coded_lines=tuple(
                CodedInvoiceLine(
                    line_number=line.line_number,
                    code=line.code,
                    modifiers=line.modifiers,
                    units=line.units,
                    diagnosis_pointers=line.diagnosis_pointers,
                    unit_price_cents=line.unit_price_cents,
                )
                for line in event.lines
            ),
            lines=event.lines,
            pricing_errors=(),
            fee_schedule=event.fee_schedule,
            responsibility=event.responsibility,
            coverage_id=event.coverage_id,
            payer_id=event.payer_id,
            institutional=event.institutional,
            preventive_line_numbers=event.preventive_line_numbers,
            in_network=event.in_network,
            postings=(*state.postings, charge),
        )
    if isinstance(event, InvoiceVoided):
        postings = state.postings
        outstanding = state.balance_cents
        if state.lifecycle == "issued" and outstanding > 0:
            # The charge still owed is taken back; what was paid or adjusted stays on record.
            postings = (*postings, Posting("void", "void", None, charge_cents=-outstanding))
        return replace(
            state,
            lifecycle="voided",
            postings=postings,
            settled=False,
            void_reason=event.reason,
            superseded_by_coding_version=event.superseded_by_coding_version,
        )
    if isinstance(event, InsurancePaymentPosted):
        kind: PostingKind = (
            "reversal" if event.reversal else "denial" if event.denied else "insurance_payment"
        )
        return _posted(
            state,
            Posting(
                event.adjudication_id,
                kind,
                event.posted_on,
                insurance_paid_cents=event.paid_cents,
                contractual_adjustment_cents=event.contractual_adjustment_cents,
                other_adjustment_cents=event.other_adjustment_cents,
                patient_responsibility_cents=event.patient_responsibility_cents,
                lines=event.lines,
                claim_id=event.claim_id,
                payer_id=event.payer_id,
                reverses=event.reverses_adjudication_id,
                denial_reasons=event.denial_reasons,
                sequence=event.sequence,
                awaiting_next_payer=event.awaiting_next_payer,
                preventive_cost_sharing_cents=event.preventive_cost_sharing_cents,
            ),
        )
    if isinstance(event, PatientPaymentApplied):
        return _posted(
            state,
            Posting(
                event.payment_id,
                "patient_payment",
                event.received_on,
                patient_paid_cents=event.applied_cents,
                method=event.method,
            ),
        )
    if isinstance(event, WriteOffPosted):
        return _posted(
            state,
            Posting(
                event.write_off_id,
                "write_off",
                event.written_off_on,
                other_adjustment_cents=event.amount_cents,
                write_off_reason=event.reason,
                write_off_party=event.party,
            ),
        )
    if isinstance(event, PatientCreditReleased):
        # On a voided invoice the charge the money paid for is taken back with it, so the voided
        # invoice still owes nothing; on an issued one the release fills the negative balance.
        voided = state.lifecycle == "voided"
        return _posted(
            state,
            Posting(
                event.credit_id,
                "credit_released",
                event.released_on,
                charge_cents=-event.amount_cents if voided else 0,
                patient_paid_cents=-event.amount_cents,
            ),
        )
    if isinstance(event, PatientCreditApplied):
        return _posted(
            state,
            Posting(
                event.credit_id,
                "credit_applied",
                event.applied_on,
                patient_paid_cents=event.amount_cents,
            ),
        )
    if isinstance(event, InvoiceSettled):
        return replace(state, settled=True, settled_on=event.settled_on)
    return state


def _posted(state: InvoiceState, posting: Posting) -> InvoiceState:
    after = replace(state, postings=(*state.postings, posting))
    if after.balance_cents != 0:
        return replace(after, settled=False, settled_on=None)
    return after


def fold(events: Sequence[Event], state: InvoiceState) -> InvoiceState:
    for event in events:
        state = evolve(state, event)
    return state


DECIDER: Decider[Command, InvoiceState] = Decider(
    initial=InvoiceState(), decide=decide, evolve=evolve, stream_type="invoice"
)
