"""Payment plans: the schedule, missed installments as of a date, one active plan at a time."""

from __future__ import annotations

from datetime import date

import pytest

from billing_events.contracts.invoicing import Installment, PaymentPlanCompleted, PaymentPlanCreated
from invoicing.domain import payment_plans
from invoicing.domain.errors import InvalidInput, PaymentPlanActive
from invoicing.domain.patient_account import DECIDER, CompletePaymentPlan, CreatePaymentPlan
from invoicing.domain.payment_plans import PlanPayment, schedule, standing

TODAY = date(2026, 1, 20)


def test_the_schedule_is_equal_months_and_a_smaller_last_one_on_the_same_day() -> None:
    # 250.00 at 100.00 a month: 100 + 100 + 50, due Jan 31, Feb 28 (the month is shorter), Mar 31.
    assert schedule(25000, 10000, date(2026, 1, 31)) == (
        Installment(number=1, due_on=date(2026, 1, 31), amount_cents=10000),
        Installment(number=2, due_on=date(2026, 2, 28), amount_cents=10000),
        Installment(number=3, due_on=date(2026, 3, 31), amount_cents=5000),
    )


def test_an_installment_is_missed_the_day_after_it_was_due_and_not_paid() -> None:
    plan = schedule(30000, 10000, date(2026, 2, 1))  # Feb 1, Mar 1, Apr 1
    paid_first = [PlanPayment(date(2026, 1, 30), 10000)]
    # On its due day nothing is missed yet; the day after, the second installment is.
    assert standing(plan, TODAY, paid_first, date(2026, 3, 1)).missed_installments == ()
    late = standing(plan, TODAY, paid_first, date(2026, 3, 2))
    assert late.missed_installments == (2,)
    assert (late.paid_cents, late.due_to_date_cents) == (10000, 20000)
    assert late.next_installment is not None and late.next_installment.number == 3


def test_an_early_larger_payment_covers_later_installments() -> None:
    plan = schedule(30000, 10000, date(2026, 2, 1))
    ahead = standing(plan, TODAY, [PlanPayment(date(2026, 1, 25), 20000)], date(2026, 3, 15))
    assert ahead.current and ahead.missed_installments == ()


def test_a_late_payment_does_not_unmiss_the_installment_it_came_after() -> None:
    plan = schedule(20000, 10000, date(2026, 2, 1))
    payments = [PlanPayment(date(2026, 2, 10), 10000)]
    assert standing(plan, TODAY, payments, date(2026, 2, 15)).missed_installments == (1,)


def test_payments_before_the_plan_do_not_count_toward_it() -> None:
    plan = schedule(10000, 10000, date(2026, 2, 1))
    before = [PlanPayment(date(2026, 1, 10), 10000)]
    assert standing(plan, TODAY, before, date(2026, 2, 2)).missed_installments == (1,)


def create(monthly: int = 5000, balance: int = 12000, plan_id: str = "plan-1") -> CreatePaymentPlan:
    return CreatePaymentPlan("pat-1", plan_id, monthly, date(2026, 2, 1), balance, TODAY)


def test_a_plan_is_made_over_the_balance_and_completes_once() -> None:
    (created,) = DECIDER.decide(create(), DECIDER.initial)
    assert isinstance(created, PaymentPlanCreated)
    assert [i.amount_cents for i in created.installments] == [5000, 5000, 2000]  # 120.00 = 50+50+20
    state = DECIDER.fold([created])
    with pytest.raises(PaymentPlanActive):
        DECIDER.decide(create(plan_id="plan-2"), state)
    (completed,) = DECIDER.decide(CompletePaymentPlan("pat-1", date(2026, 4, 1)), state)
    assert isinstance(completed, PaymentPlanCompleted)
    state = DECIDER.fold([completed], state)
    assert state.active_plan is None
    assert DECIDER.decide(CompletePaymentPlan("pat-1", date(2026, 4, 2)), state) == []


def test_a_plan_needs_a_balance_a_positive_amount_and_at_most_sixty_months() -> None:
    with pytest.raises(InvalidInput) as nothing_owed:
        DECIDER.decide(create(balance=0), DECIDER.initial)
    assert [e.field for e in nothing_owed.value.errors] == ["patient_id"]
    with pytest.raises(InvalidInput) as too_long:
        # 61 months: 6001.00 at 100.00 a month.
        DECIDER.decide(create(monthly=10000, balance=600100), DECIDER.initial)
    assert [e.field for e in too_long.value.errors] == ["monthly_amount_cents"]
    assert payment_plans.installment_count(600000, 10000) == payment_plans.MAX_INSTALLMENTS
    far = CreatePaymentPlan("pat-1", "plan-1", 5000, date(2030, 1, 1), 12000, TODAY)
    with pytest.raises(InvalidInput) as too_far:
        DECIDER.decide(far, DECIDER.initial)
    assert [e.field for e in too_far.value.errors] == ["first_due_on"]
