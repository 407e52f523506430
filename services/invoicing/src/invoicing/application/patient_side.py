"""Commands of the patient's side: payer contracts, estimates and financial assistance.

Like every command they go through billing_events.decider.execute in the caller's transaction; their
read models are written by the adapters' projection of the appended events (`project`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from billing_events.contracts.base import Event, Sealed
from billing_events.contracts.invoicing import (
    CollectionAction,
    ContractRateRow,
    EstimateIssued,
    ExtraordinaryCollectionActionRecorded,
    FinancialAssistanceDetermined,
)
from billing_events.decider import Outcome, execute
from billing_events.envelope import EventEnvelope, Metadata
from billing_events.unit_of_work import UnitOfWork
from invoicing.application import accounting
from invoicing.application.ports import Determination, PatientBalance, PatientSideUnit, Sealer, Unit
from invoicing.domain import estimates, financial_assistance, ids, payer_contract
from invoicing.domain.errors import FieldError, InvalidInput
from invoicing.domain.estimates import Estimate, RequestedLine
from invoicing.domain.financial_assistance import AssistancePolicy, DetermineAssistance, SetPolicy
from invoicing.domain.write_offs import PostWriteOff

# Writes the read models of what a command appended (adapters.patient_side.project_envelopes).
Projector = Callable[[list[EventEnvelope]], Awaitable[None]]


S = TypeVar("S")


def _projecting(project: Projector) -> Callable[[Outcome[S]], Awaitable[None]]:
    async def run(outcome: Outcome[S]) -> None:
        await project(list(outcome.appended))

    return run


# Payer contracts.


@dataclass(frozen=True)
class ContractImport:
    payer_contract_id: str
    payer_id: str
    effective_from: date
    row_count: int
    created: bool
    versions: int


async def import_payer_contract(
    unit: PatientSideUnit,
    project: Projector,
    metadata: Metadata,
    payer_id: str,
    effective_from: date,
    rows: tuple[ContractRateRow, ...],
    requires_modifier_33: bool,
) -> ContractImport:
    contract_id = ids.payer_contract_id(metadata.tenant, payer_id)
    command = payer_contract.ImportPayerContract(
        contract_id, payer_id, effective_from, rows, requires_modifier_33
    )
    outcome = await execute(
        unit.session, payer_contract.DECIDER, contract_id, command, metadata, project=_projecting(project)
    )
    return ContractImport(
        contract_id, payer_id, effective_from, len(rows), bool(outcome.appended), len(outcome.after.versions)
    )


# Estimates.


@dataclass(frozen=True)
class EstimateRequest:
    estimate_id: str
    patient_id: str
    service_date: date
    lines: tuple[RequestedLine, ...]
    coverage_id: str | None = None
    billing_provider_id: str | None = None
    diagnoses: tuple[str, ...] = ()


class UnknownCoverage(InvalidInput):
    def __init__(self) -> None:
        super().__init__([FieldError("coverage_id", "no such coverage of this patient")])


async def issue_estimate(
    unit: PatientSideUnit, project: Projector, metadata: Metadata, request: EstimateRequest
) -> EstimateIssued:
    tenant = metadata.tenant
    views = unit.views
    price_list = await views.price_list_on(tenant, request.service_date)
    payer_id: str | None = None
    coverage_id = request.coverage_id
    if coverage_id is not None:
        coverage = await views.coverage(tenant, coverage_id)
        if coverage is None or coverage.patient_id != request.patient_id:
            raise UnknownCoverage()
        covered = coverage.effective_from <= request.service_date and (
            coverage.effective_to is None or request.service_date <= coverage.effective_to
        )
        if not covered:
            raise InvalidInput(
                [FieldError("coverage_id", "the coverage is not in force on the service date")]
            )
        payer_id = coverage.payer_id
    else:
        primary = await views.primary_coverage_on(tenant, request.patient_id, request.service_date)
        if primary is not None:
            coverage_id, payer_id = primary.coverage_id, primary.payer_id
    benefits = None
    contract = None
    estimate: Estimate
    if payer_id is not None and coverage_id is not None:
        contract = await views.contract_on(tenant, payer_id, request.service_date)
        benefits = await views.latest_benefits(tenant, coverage_id)
        estimate = estimates.insured_estimate(
            request.lines, price_list, request.service_date, contract, benefits
        )
    else:
        estimate = estimates.good_faith_estimate(request.lines, price_list, request.service_date)
    assert price_list is not None  # the estimate refuses a date without a fee schedule
    issued = EstimateIssued(
        estimate_id=request.estimate_id,
        patient_id=request.patient_id,
        kind="insured" if payer_id else "good_faith",
        service_date=request.service_date,
        coverage_id=coverage_id if payer_id else None,
        payer_id=payer_id,
        billing_provider_id=request.billing_provider_id,
        lines=estimate.lines,
        total_charge_cents=estimate.total_charge_cents,
        expected_payer_cents=estimate.expected_payer_cents,
        patient_estimate_cents=estimate.patient_estimate_cents,
        fee_schedule=price_list.name,
        contract_effective_from=contract.effective_from if contract else None,
        deductible_remaining_cents=benefits.deductible_remaining_cents if benefits else None,
        copay_cents=benefits.copay_cents if benefits else None,
        coinsurance_basis_points=benefits.coinsurance_basis_points if benefits else None,
        out_of_pocket_remaining_cents=benefits.out_of_pocket_remaining_cents if benefits else None,
        benefits_source=benefits.source if benefits else "none",
    )
    await execute(
        unit.session,
        estimates.DECIDER,
        request.estimate_id,
        estimates.IssueEstimate(issued),
        metadata,
        project=_projecting(project),
    )
    return issued


# Financial assistance.


async def set_assistance_policy(
    unit: PatientSideUnit, project: Projector, metadata: Metadata, policy: AssistancePolicy
) -> tuple[str, bool]:
    policy_id = ids.financial_assistance_policy_id(metadata.tenant)
    outcome = await execute(
        unit.session,
        financial_assistance.POLICY,
        policy_id,
        SetPolicy(policy_id, policy),
        metadata,
        project=_projecting(project),
    )
    return policy_id, bool(outcome.appended)


class NoAssistancePolicy(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            [
                FieldError(
                    "received_on", "no financial-assistance policy is in effect on this date (PUT one first)"
                )
            ]
        )


_PENDING = "pending"


async def determine_assistance(
    unit: PatientSideUnit,
    project: Projector,
    vault: Sealer,
    metadata: Metadata,
    application_id: str,
    patient_id: str,
    household_size: int,
    household_income_cents: int,
    received_on: date,
) -> FinancialAssistanceDetermined:
    """Decide an application under the policy in effect when it was received. Household size and
    income are sealed under the patient's key after the decision, so a refused application never
    creates a key and nothing about the household is ever stored in clear."""
    found = await unit.views.assistance_policy_on(metadata.tenant, received_on)
    if found is None:
        raise NoAssistancePolicy()
    policy_id, policy = found
    placeholder = Sealed(key_id=patient_id, nonce="", ciphertext="household", alg=_PENDING)
    command = DetermineAssistance(
        application_id,
        patient_id,
        policy_id,
        policy,
        household_size,
        household_income_cents,
        received_on,
        placeholder,
    )

    async def seal(events: list[Event]) -> list[Event]:
        decision = financial_assistance.decide_assistance(policy, household_size, household_income_cents)
        values = financial_assistance.household_values(household_size, household_income_cents, decision)
        sealed = (await vault.seal_fields(patient_id, {"household": values}))["household"]
        return [
            e.model_copy(update={"household": sealed}) if isinstance(e, FinancialAssistanceDetermined) else e
            for e in events
        ]

    outcome = await execute(
        unit.session,
        financial_assistance.APPLICATION,
        application_id,
        command,
        metadata,
        seal=seal,
        project=_projecting(project),
    )
    # `after` is folded from the decided events (placeholders); what was stored is sealed.
    stored = [e.event() for e in outcome.appended]
    determined = next(
        (e for e in stored if isinstance(e, FinancialAssistanceDetermined)), outcome.after.determined
    )
    assert determined is not None
    if determined.household.alg == _PENDING:
        raise RuntimeError("the household was left unsealed")
    return determined


@dataclass(frozen=True)
class CharityWriteOff:
    invoice_id: str
    write_off_id: str
    amount_cents: int


def charity_due(determination: Determination, balances: Sequence[PatientBalance]) -> list[CharityWriteOff]:
    """The charity write-offs that bring each open invoice of an eligible patient down to what they may
    be charged (the lower of AGB and the discounted amount). Care up to the end of the determination's
    validity is covered, earlier care included (501(r) applications reach back to bills already sent)."""
    if not determination.eligible:
        return []
    due = []
    for balance in balances:
        if balance.service_date > determination.valid_until:
            continue
        amount = financial_assistance.charity_write_off_cents(
            balance.total_charge_cents,
            balance.patient_responsibility_cents,
            balance.patient_paid_cents,
            determination.agb_basis_points,
            determination.discount_basis_points,
            balance.charity_written_off_cents,
        )
        if amount > 0:
            charged = (
                balance.patient_responsibility_cents
                + balance.patient_paid_cents
                + balance.charity_written_off_cents
            )
            write_off_id = ids.charity_write_off_id(determination.application_id, balance.invoice_id, charged)
            due.append(CharityWriteOff(balance.invoice_id, write_off_id, amount))
    return due


async def apply_charity(
    unit: PatientSideUnit, metadata: Metadata, patient_id: str, on: date
) -> list[CharityWriteOff]:
    """Policy: an eligible patient is never charged more than AGB. Write off (reason charity) what
    their open invoices ask above it, under the determination in force on `on`."""
    determination = await unit.views.assistance_on(metadata.tenant, patient_id, on)
    if determination is None or not determination.eligible:
        return []
    due = charity_due(determination, await unit.views.patient_balances(metadata.tenant, patient_id))
    ledger: Unit = UnitOfWork(unit.session, unit.views)
    for write_off in due:
        command = PostWriteOff(
            write_off.invoice_id, write_off.write_off_id, "charity", "patient", write_off.amount_cents, on
        )
        await accounting.write_off(ledger, metadata, command)
    return due


async def record_collection_action(
    unit: PatientSideUnit,
    metadata: Metadata,
    action_id: str,
    patient_id: str,
    action: CollectionAction,
    on: date,
    first_statement_on: date | None,
    notice_sent_on: date | None,
) -> ExtraordinaryCollectionActionRecorded:
    """Record an extraordinary collection action, refused (CollectionActionTooEarly) before 501(r)
    allows it. What the patient owes and whether they qualify for free care are read now."""
    balances = await unit.views.patient_balances(metadata.tenant, patient_id)
    determination = await unit.views.assistance_on(metadata.tenant, patient_id, on)
    free_care = bool(
        determination
        and determination.eligible
        and determination.discount_basis_points == financial_assistance.FULL_BASIS_POINTS
    )
    command = financial_assistance.RecordCollectionAction(
        action_id=action_id,
        patient_id=patient_id,
        action=action,
        on=on,
        first_statement_on=first_statement_on,
        notice_sent_on=notice_sent_on,
        amount_due_cents=sum(b.patient_responsibility_cents for b in balances),
        eligible_for_free_care=free_care,
    )
    outcome = await execute(
        unit.session, financial_assistance.COLLECTION_ACTION, action_id, command, metadata
    )
    recorded = outcome.after.recorded
    assert recorded is not None
    return recorded
