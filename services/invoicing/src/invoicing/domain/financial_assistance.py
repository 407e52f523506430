"""Financial assistance under IRC §501(r) (26 CFR 1.501(r)-4 to -6): a tenant's policy, the decision
on an application, and the limits that follow from it.

- The policy discounts what a patient owes by household income as a percentage of the federal
  poverty guideline (FPL) for the household's size: the first tier whose `max_fpl_percent` the
  household does not exceed gives its discount (10000 basis points = free care); above every tier
  the patient is not eligible.
- An eligible patient is never charged more than the amounts generally billed (AGB) to insured
  patients for the same care: gross charges x the AGB percentage (look-back method, 1.501(r)-5(b)(3)).
  What they are charged is the lower of AGB and what they owe less the tier's discount; a charity
  write-off takes off the difference.
- No extraordinary collection action (ECA: reporting to credit agencies, selling the debt, legal
  action) before 120 days after the first post-discharge billing statement (1.501(r)-6(c)(3)), nor
  within 30 days of the written notice that names the ECAs, nor while an application is pending.

Household size and income are PHI: they are sealed in the events, only the outcome is in clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from billing_events.contracts.base import Event, Sealed
from billing_events.contracts.invoicing import (
    AssistanceTier,
    CollectionAction,
    ExtraordinaryCollectionActionRecorded,
    FinancialAssistanceDetermined,
    FinancialAssistancePolicySet,
    FplRow,
)
from billing_events.decider import Decider
from invoicing.domain.errors import DomainError, FieldError, InvalidInput

FULL_BASIS_POINTS = 10_000
MAX_HOUSEHOLD_SIZE = 50
MAX_INCOME_CENTS = 100_000_000_00  # 100 million dollars a year: above is a typo
MAX_TIERS = 10
# How long a determination covers a patient's bills (the policy may say otherwise; a year is common).
ELIGIBILITY_DAYS = 365
# 1.501(r)-6(c)(3): the notification period ends 120 days after the first post-discharge statement.
NOTIFICATION_PERIOD_DAYS = 120
# 1.501(r)-6(c)(3)(ii)(A): the written notice of the ECAs comes at least 30 days before them.
ECA_NOTICE_DAYS = 30


def percent_of(cents: int, basis_points: int) -> int:
    """cents x basis_points / 10000, rounded half up, in integers."""
    return (cents * basis_points + 5_000) // 10_000


@dataclass(frozen=True)
class AssistancePolicy:
    effective_from: date
    agb_basis_points: int
    tiers: tuple[AssistanceTier, ...]
    fpl_year: int
    fpl_source: str
    fpl: tuple[FplRow, ...]
    fpl_per_additional_person_cents: int
    agb_method: str = "look-back"

    def guideline_cents(self, household_size: int) -> int:
        """The poverty guideline for the household: the table's row, or its largest row plus the
        amount per additional person."""
        rows = {row.household_size: row.amount_cents for row in self.fpl}
        if household_size in rows:
            return rows[household_size]
        largest = max(rows)
        return rows[largest] + (household_size - largest) * self.fpl_per_additional_person_cents


def validate_policy(policy: AssistancePolicy) -> list[FieldError]:
    errors: list[FieldError] = []
    if not 0 < policy.agb_basis_points <= FULL_BASIS_POINTS:
        errors.append(FieldError("agb_percent", "must be above 0 and at most 100"))
    if not policy.tiers:
        errors.append(FieldError("tiers", "the policy needs at least one tier"))
    if len(policy.tiers) > MAX_TIERS:
        errors.append(FieldError("tiers", f"at most {MAX_TIERS} tiers"))
    limits = [tier.max_fpl_percent for tier in policy.tiers]
    if limits != sorted(set(limits)):
        errors.append(FieldError("tiers", "tiers must go up by max_fpl_percent, each limit once"))
    for index, tier in enumerate(policy.tiers):
        if not 0 < tier.max_fpl_percent <= 1_000:
            errors.append(FieldError(f"tiers.{index}.max_fpl_percent", "must be above 0 and at most 1000"))
        if not 0 < tier.discount_basis_points <= FULL_BASIS_POINTS:
            errors.append(FieldError(f"tiers.{index}.discount_percent", "must be above 0 and at most 100"))
    discounts = [tier.discount_basis_points for tier in policy.tiers]
    if discounts != sorted(discounts, reverse=True):
        errors.append(FieldError("tiers", "a higher income may not get a larger discount"))
    sizes = sorted(row.household_size for row in policy.fpl)
    if not sizes or sizes != list(range(1, len(sizes) + 1)):
        errors.append(FieldError("fpl.rows", "give the guideline for household sizes 1, 2, 3, ... each once"))
    for index, row in enumerate(policy.fpl):
        if not 0 < row.amount_cents <= MAX_INCOME_CENTS:
            errors.append(FieldError(f"fpl.rows.{index}.amount_cents", "must be above zero"))
    if not 0 <= policy.fpl_per_additional_person_cents <= MAX_INCOME_CENTS:
        errors.append(FieldError("fpl.per_additional_person_cents", "must be zero or more"))
    if not 1960 <= policy.fpl_year <= 2200:
        errors.append(FieldError("fpl.year", "must be the guideline's year"))
    if not policy.fpl_source.strip():
        errors.append(FieldError("fpl.source", "is required (e.g. the HHS poverty guidelines notice)"))
    return errors


@dataclass(frozen=True)
class Decision:
    eligible: bool
    discount_basis_points: int
    fpl_percent: int


def fpl_percent(policy: AssistancePolicy, household_size: int, income_cents: int) -> int:
    """Household income as a whole percentage of its poverty guideline, rounded down (a household at
    200.9% is at 200%, the reading that never denies a discount by rounding)."""
    return income_cents * 100 // policy.guideline_cents(household_size)


def decide_assistance(policy: AssistancePolicy, household_size: int, income_cents: int) -> Decision:
    percent = fpl_percent(policy, household_size, income_cents)
    for tier in policy.tiers:
        if percent <= tier.max_fpl_percent:
            return Decision(True, tier.discount_basis_points, percent)
    return Decision(False, 0, percent)


def amount_to_charge_cents(
    gross_charges_cents: int, owed_cents: int, agb_basis_points: int, discount_basis_points: int
) -> int:
    """What an eligible patient may be charged for care whose gross charges and whose amount owed
    (after every payer) are given: the lower of AGB and the discounted amount, never more than owed."""
    agb = percent_of(gross_charges_cents, agb_basis_points)
    discounted = owed_cents - percent_of(owed_cents, discount_basis_points)
    return max(0, min(owed_cents, agb, discounted))


def charity_write_off_cents(
    gross_charges_cents: int,
    responsibility_cents: int,
    patient_paid_cents: int,
    agb_basis_points: int,
    discount_basis_points: int,
    charity_written_off_cents: int = 0,
) -> int:
    """The charity write-off that brings an invoice's patient share down to what an eligible patient
    may be charged. The patient was charged what is still open, what they paid and what charity
    already took off; the limit applies to that whole, so a second run writes off nothing more. The
    write-off never exceeds what is still open (a patient who paid more than the limit is owed a
    refund, not a negative balance)."""
    charged = responsibility_cents + patient_paid_cents + charity_written_off_cents
    limit = amount_to_charge_cents(gross_charges_cents, charged, agb_basis_points, discount_basis_points)
    return max(0, min(responsibility_cents, charged - limit - charity_written_off_cents))


# Extraordinary collection actions.


def earliest_extraordinary_collection(first_statement_on: date, notice_sent_on: date | None = None) -> date:
    """The first day an ECA may be taken: 120 days after the first post-discharge statement, and 30
    days after the written notice when one was sent later than 90 days into that period."""
    earliest = first_statement_on + timedelta(days=NOTIFICATION_PERIOD_DAYS)
    if notice_sent_on is not None:
        earliest = max(earliest, notice_sent_on + timedelta(days=ECA_NOTICE_DAYS))
    return earliest


def extraordinary_collection_allowed(
    first_statement_on: date | None,
    on: date,
    *,
    notice_sent_on: date | None = None,
    application_pending: bool = False,
    eligible_for_free_care: bool = False,
) -> bool:
    """Whether an account may move to an extraordinary-collection state on `on`."""
    if first_statement_on is None or application_pending or eligible_for_free_care:
        return False
    return on >= earliest_extraordinary_collection(first_statement_on, notice_sent_on)


# The policy aggregate (one per tenant, in versions by effective date).


@dataclass(frozen=True)
class SetPolicy:
    policy_id: str
    policy: AssistancePolicy


@dataclass(frozen=True)
class PolicyState:
    versions: dict[date, FinancialAssistancePolicySet] = field(default_factory=dict)


def policy_event(policy_id: str, policy: AssistancePolicy) -> FinancialAssistancePolicySet:
    return FinancialAssistancePolicySet(
        policy_id=policy_id,
        effective_from=policy.effective_from,
        agb_basis_points=policy.agb_basis_points,
        agb_method=policy.agb_method,
        tiers=policy.tiers,
        fpl_year=policy.fpl_year,
        fpl_source=policy.fpl_source,
        fpl=tuple(sorted(policy.fpl, key=lambda row: row.household_size)),
        fpl_per_additional_person_cents=policy.fpl_per_additional_person_cents,
    )


def policy_of(event: FinancialAssistancePolicySet) -> AssistancePolicy:
    return AssistancePolicy(
        effective_from=event.effective_from,
        agb_basis_points=event.agb_basis_points,
        tiers=event.tiers,
        fpl_year=event.fpl_year,
        fpl_source=event.fpl_source,
        fpl=event.fpl,
        fpl_per_additional_person_cents=event.fpl_per_additional_person_cents,
        agb_method=event.agb_method,
    )


def decide_policy(command: SetPolicy, state: PolicyState) -> list[Event]:
    errors = validate_policy(command.policy)
    if errors:
        raise InvalidInput(errors)
    event = policy_event(command.policy_id, command.policy)
    if state.versions.get(event.effective_from) == event:
        return []
    return [event]


def evolve_policy(state: PolicyState, event: Event) -> PolicyState:
    if isinstance(event, FinancialAssistancePolicySet):
        return PolicyState({**state.versions, event.effective_from: event})
    return state


POLICY: Decider[SetPolicy, PolicyState] = Decider(
    initial=PolicyState(),
    decide=decide_policy,
    evolve=evolve_policy,
    stream_type="financial-assistance-policy",
)


# The application aggregate.


@dataclass(frozen=True)
class DetermineAssistance:
    """An application decided under `policy`. `household` is a placeholder the caller seals with the
    size and income after the decision (the decider is pure; the vault is not)."""

    application_id: str
    patient_id: str
    policy_id: str
    policy: AssistancePolicy
    household_size: int
    household_income_cents: int
    received_on: date
    household: Sealed


@dataclass(frozen=True)
class ApplicationState:
    determined: FinancialAssistanceDetermined | None = None


def validate_household(household_size: object, income_cents: object) -> list[FieldError]:
    errors = []
    if isinstance(household_size, bool) or not isinstance(household_size, int):
        errors.append(FieldError("household_size", "must be a whole number"))
    elif not 1 <= household_size <= MAX_HOUSEHOLD_SIZE:
        errors.append(FieldError("household_size", f"must be between 1 and {MAX_HOUSEHOLD_SIZE}"))
    if isinstance(income_cents, bool) or not isinstance(income_cents, int):
        errors.append(FieldError("household_income_cents", "must be a whole number of cents"))
    elif not 0 <= income_cents <= MAX_INCOME_CENTS:
        errors.append(FieldError("household_income_cents", f"must be between 0 and {MAX_INCOME_CENTS}"))
    return errors


def decide_application(command: DetermineAssistance, state: ApplicationState) -> list[Event]:
    if state.determined is not None:
        return []
    errors = validate_household(command.household_size, command.household_income_cents)
    if errors:
        raise InvalidInput(errors)
    decision = decide_assistance(command.policy, command.household_size, command.household_income_cents)
    return [
        FinancialAssistanceDetermined(
            application_id=command.application_id,
            patient_id=command.patient_id,
            policy_id=command.policy_id,
            household=command.household,
            eligible=decision.eligible,
            discount_basis_points=decision.discount_basis_points,
            agb_basis_points=command.policy.agb_basis_points,
            received_on=command.received_on,
            valid_from=command.received_on,
            valid_until=command.received_on + timedelta(days=ELIGIBILITY_DAYS),
        )
    ]


def evolve_application(state: ApplicationState, event: Event) -> ApplicationState:
    if isinstance(event, FinancialAssistanceDetermined):
        return replace(state, determined=event)
    return state


APPLICATION: Decider[DetermineAssistance, ApplicationState] = Decider(
    initial=ApplicationState(),
    decide=decide_application,
    evolve=evolve_application,
    stream_type="financial-assistance-application",
)


def household_values(size: int, income_cents: int, decision: Decision) -> dict[str, int]:
    """What the sealed `household` field holds."""
    return {
        "household_size": size,
        "household_income_cents": income_cents,
        "fpl_percent": decision.fpl_percent,
    }


def tiers_of(rows: Sequence[tuple[int, int]]) -> tuple[AssistanceTier, ...]:
    return tuple(AssistanceTier(max_fpl_percent=m, discount_basis_points=d) for m, d in rows)


# Extraordinary collection actions, as an aggregate: an action is recorded only when the rule allows it.


class CollectionActionTooEarly(DomainError):
    """501(r)-6: no extraordinary collection action yet (dates only: no patient data)."""

    def __init__(self, earliest: date | None, reason: str) -> None:
        when = f" before {earliest.isoformat()}" if earliest else ""
        super().__init__(f"no extraordinary collection action{when}: {reason}")
        self.earliest = earliest


@dataclass(frozen=True)
class RecordCollectionAction:
    action_id: str
    patient_id: str
    action: CollectionAction
    on: date
    first_statement_on: date | None
    notice_sent_on: date | None
    amount_due_cents: int
    eligible_for_free_care: bool = False


@dataclass(frozen=True)
class CollectionActionState:
    recorded: ExtraordinaryCollectionActionRecorded | None = None


def decide_collection_action(command: RecordCollectionAction, state: CollectionActionState) -> list[Event]:
    if state.recorded is not None:
        return []
    if command.amount_due_cents <= 0:
        raise InvalidInput(
            [FieldError("patient_id", "the patient owes nothing: there is nothing to collect")]
        )
    if command.notice_sent_on is not None and command.notice_sent_on > command.on:
        raise InvalidInput([FieldError("notice_sent_on", "must not be after the action")])
    if command.first_statement_on is None:
        raise CollectionActionTooEarly(None, "the patient has had no statement yet")
    if command.eligible_for_free_care:
        raise CollectionActionTooEarly(None, "the patient is eligible for free care under the policy")
    earliest = earliest_extraordinary_collection(command.first_statement_on, command.notice_sent_on)
    if not extraordinary_collection_allowed(
        command.first_statement_on, command.on, notice_sent_on=command.notice_sent_on
    ):
        raise CollectionActionTooEarly(earliest, "120 days after the first statement (30 after the notice)")
    return [
        ExtraordinaryCollectionActionRecorded(
            action_id=command.action_id,
            patient_id=command.patient_id,
            action=command.action,
            recorded_on=command.on,
            first_statement_on=command.first_statement_on,
            notice_sent_on=command.notice_sent_on,
            amount_due_cents=command.amount_due_cents,
        )
    ]


def evolve_collection_action(state: CollectionActionState, event: Event) -> CollectionActionState:
    if isinstance(event, ExtraordinaryCollectionActionRecorded):
        return CollectionActionState(event)
    return state


COLLECTION_ACTION: Decider[RecordCollectionAction, CollectionActionState] = Decider(
    initial=CollectionActionState(),
    decide=decide_collection_action,
    evolve=evolve_collection_action,
    stream_type="collection-action",
)
