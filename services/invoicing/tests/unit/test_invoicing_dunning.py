"""The statement cycle: 0/30/60/90 days while a balance is due, each invoice's first statement kept."""

from __future__ import annotations

from datetime import date

from billing_events.contracts.invoicing import DunningCycleEnded, PatientStatementIssued
from invoicing.domain.dunning import cycle_due_on, reminder_due
from invoicing.domain.patient_account import DECIDER, EndDunningCycle, IssueStatement, OpenItem

START = date(2026, 1, 10)


def test_reminders_come_due_at_thirty_sixty_and_ninety_days() -> None:
    assert reminder_due(START, 0, date(2026, 2, 8)) is None  # day 29
    assert reminder_due(START, 0, date(2026, 2, 9)) == 1  # day 30
    assert reminder_due(START, 1, date(2026, 2, 20)) is None  # already sent
    assert reminder_due(START, 1, date(2026, 3, 11)) == 2  # day 60
    assert reminder_due(START, 2, date(2026, 4, 10)) == 3  # day 90
    assert reminder_due(START, 3, date(2026, 7, 1)) is None  # nothing after the last reminder
    assert cycle_due_on(START, 3) == date(2026, 4, 10)


def test_a_late_run_sends_the_notice_that_fits_the_age_once() -> None:
    assert reminder_due(START, 0, date(2026, 4, 15)) == 3  # day 95: the 90-day notice, not three


def statement(statement_id: str, on: date, *items: OpenItem, cycle: int | None = None) -> IssueStatement:
    return IssueStatement(statement_id, "pat-1", on, items, cycle)


def test_the_first_statement_opens_the_cycle_and_records_each_invoices_first_statement() -> None:
    (first,) = DECIDER.decide(statement("s0", START, OpenItem("inv-a", 1000)), DECIDER.initial)
    assert isinstance(first, PatientStatementIssued)
    assert (first.cycle, first.cycle_started_on, first.first_statement_invoice_ids) == (0, START, ("inv-a",))
    state = DECIDER.fold([first])
    # A new charge 20 days later is a demand within the same cycle; only inv-b is billed first.
    later = date(2026, 1, 30)
    (demand,) = DECIDER.decide(statement("s1", later, OpenItem("inv-a", 1000), OpenItem("inv-b", 500)), state)
    assert isinstance(demand, PatientStatementIssued)
    assert (demand.cycle, demand.cycle_started_on, demand.first_statement_invoice_ids) == (
        0,
        START,
        ("inv-b",),
    )
    state = DECIDER.fold([demand], state)
    assert state.first_statement_on("inv-a") == START and state.first_statement_on("inv-b") == later
    (reminder,) = DECIDER.decide(statement("s2", date(2026, 2, 9), OpenItem("inv-a", 1000), cycle=1), state)
    assert isinstance(reminder, PatientStatementIssued) and reminder.cycle == 1
    assert reminder.first_statement_invoice_ids == ()


def test_a_paid_balance_ends_the_cycle_and_the_next_balance_starts_at_zero() -> None:
    state = DECIDER.fold(DECIDER.decide(statement("s0", START, OpenItem("inv-a", 1000)), DECIDER.initial))
    (ended,) = DECIDER.decide(EndDunningCycle("pat-1", date(2026, 2, 1)), state)
    assert ended == DunningCycleEnded(patient_id="pat-1", cycle_started_on=START, ended_on=date(2026, 2, 1))
    state = DECIDER.fold([ended], state)
    assert DECIDER.decide(EndDunningCycle("pat-1", date(2026, 2, 2)), state) == []
    (fresh,) = DECIDER.decide(statement("s9", date(2026, 6, 1), OpenItem("inv-c", 700)), state)
    assert isinstance(fresh, PatientStatementIssued)
    assert (fresh.cycle, fresh.cycle_started_on) == (0, date(2026, 6, 1))
