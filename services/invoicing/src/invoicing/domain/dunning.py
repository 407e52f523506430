"""The statement cycle (dunning): a first statement, then reminders while a balance stays due.

    cycle 0   the first statement of a balance (day 0)
    cycle 1   30 days later, if anything is still due
    cycle 2   60 days
    cycle 3   90 days: the last reminder before the account may be considered for collection, which
              IRC 501(r) forbids for a charitable hospital before 120 days after the first
              post-discharge statement.

A statement that a new charge causes while a cycle runs is a fresh demand in the same cycle; a cycle
ends when nothing is due any more, and a later balance starts a new one at cycle 0. Rule as data:
change the days here, not in the code that applies them.
"""

from __future__ import annotations

from datetime import date, timedelta

REMINDER_EVERY_DAYS = 30
LAST_CYCLE = 3  # 0/30/60/90 days


def cycle_due_on(cycle_started_on: date, cycle: int) -> date:
    return cycle_started_on + timedelta(days=REMINDER_EVERY_DAYS * cycle)


def reminder_due(cycle_started_on: date, last_cycle: int, as_of: date) -> int | None:
    """The reminder to send on `as_of`, if one is due: the latest cycle whose day has come, when it is
    later than the last one sent. A run that was late sends that one, not every missed one: the
    patient gets the notice that fits the age of the balance, once."""
    if as_of < cycle_started_on:
        return None
    reached = min(LAST_CYCLE, (as_of - cycle_started_on).days // REMINDER_EVERY_DAYS)
    return reached if reached > last_cycle else None
