"""Payment plans: the patient's balance paid in monthly installments.

A plan is agreed over what the patient owes when it is made (`total_cents`), as equal installments of
the monthly amount and a smaller last one, due on the same day of each month (the month's last day
when it is shorter). Every patient payment received on or after the day the plan was made counts
toward it. Whether an installment is missed is a pure function of the plan, the payments and a date:
an installment is missed when its due date has passed and the payments made by then do not reach the
sum of the installments due by then. The plan completes when the patient owes nothing any more.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from billing_events.contracts.invoicing import Installment

MAX_INSTALLMENTS = 60  # five years: a longer plan is a loan, not a payment plan
MAX_FIRST_DUE_DAYS = 92  # the first installment falls within about three months of the agreement


def add_months(day: date, months: int, anchor_day: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def installment_count(total_cents: int, monthly_amount_cents: int) -> int:
    return -(-total_cents // monthly_amount_cents)  # ceiling division, integers only


def schedule(total_cents: int, monthly_amount_cents: int, first_due_on: date) -> tuple[Installment, ...]:
    count = installment_count(total_cents, monthly_amount_cents)
    installments = []
    for index in range(count):
        amount = min(monthly_amount_cents, total_cents - index * monthly_amount_cents)
        installments.append(
            Installment(
                number=index + 1,
                due_on=add_months(first_due_on, index, first_due_on.day),
                amount_cents=amount,
            )
        )
    return tuple(installments)


@dataclass(frozen=True)
class PlanPayment:
    received_on: date
    amount_cents: int


@dataclass(frozen=True)
class PlanStanding:
    paid_cents: int
    due_to_date_cents: int
    missed_installments: tuple[int, ...]
    next_installment: Installment | None

    @property
    def current(self) -> bool:
        return not self.missed_installments


def standing(
    installments: Sequence[Installment],
    created_on: date,
    payments: Sequence[PlanPayment],
    as_of: date,
) -> PlanStanding:
    """Where the plan stands on `as_of`. An installment due on a day is missed from the next day on if
    the payments received by its due day fall short of everything due by then (an early or larger
    payment counts toward later installments)."""
    counted = [p for p in payments if created_on <= p.received_on <= as_of]
    paid = sum(p.amount_cents for p in counted)
    missed: list[int] = []
    due_so_far = 0
    due_to_date = 0
    next_installment: Installment | None = None
    for installment in installments:
        due_so_far += installment.amount_cents
        if installment.due_on <= as_of:
            due_to_date = due_so_far
        paid_by_due = sum(p.amount_cents for p in counted if p.received_on <= installment.due_on)
        if installment.due_on < as_of and paid_by_due < due_so_far:
            missed.append(installment.number)
        if next_installment is None and installment.due_on >= as_of and paid < due_so_far:
            next_installment = installment
    return PlanStanding(paid, due_to_date, tuple(missed), next_installment)
