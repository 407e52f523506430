"""The payer's answer to an eligibility inquiry: a 271 for each 270, from the rule table.

Per inquiry, by the payer's `eligibility` rules (see config.EligibilityRules) and the member's
deductible met so far in the simulator's state (the same state the 835s draw on):

    unknown member      AAA*Y**75*C in 2100C (subscriber/insured not found), no benefits
    inactive member     EB*6*IND*30 (inactive), plan ended on 31 December of the year before
    active member       plan 1 January - 31 December of the service year, then
        EB*1*IND*30*<insurance type>*<plan>             active coverage
        EB*C*IND*30***23*<annual deductible>            deductible, calendar year
        EB*C*IND*30***29*<deductible remaining>         deductible, remaining
        EB*G*IND*30***23*<out-of-pocket max>            out of pocket, calendar year (when set)
        EB*G*IND*30***29*<out-of-pocket remaining>      out of pocket, remaining (when set)
        EB*B*IND*98***27*<copay>                        office visit copay, per visit (when set)
        EB*A*IND*30*****<coinsurance as a decimal>      coinsurance
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from billing_x12 import Interchange, Party, envelope_ref, iter_transaction_sets
from billing_x12.eligibility import (
    Benefit,
    EligibilityInquiry,
    EligibilityResponse,
    Rejection,
    read_eligibility_inquiry,
    write_271,
)

from payer_simulator.config import PayerRules, Rules, dollars_to_cents
from payer_simulator.state import SimulatorState, member_key

SUBSCRIBER_NOT_FOUND = "75"
PLEASE_CORRECT_AND_RESUBMIT = "C"


def copay_cents(rules: PayerRules) -> int | None:
    configured = rules.eligibility.office_visit_copay
    if configured is not None:
        return dollars_to_cents(configured)
    return rules.copay_cents("99213") if "99213" in rules.copays else None


def answer(
    inquiry: EligibilityInquiry, payer_id: str, rules: PayerRules, state: SimulatorState, now: dt.datetime
) -> EligibilityResponse:
    """The 271 to one 270: echoes BHT03 and the inquirer's trace (TRN*2), names the same parties."""
    member_id = inquiry.subscriber.party.identifier
    day = inquiry.service_date or now.date()
    base = EligibilityResponse(
        reference_id=inquiry.reference_id,
        created=now.replace(tzinfo=None, second=0, microsecond=0),
        payer=Party("PR", "2", rules.name, id_qualifier="PI", identifier=payer_id),
        receiver=inquiry.receiver,
        subscriber=inquiry.subscriber,
        dependent=inquiry.dependent,
        trace_numbers=(inquiry.trace_number,),
        trace_originator=inquiry.trace_originator,
    )
    eligibility = rules.eligibility
    loop = "2100C" if inquiry.dependent is None else "2100D"
    if member_id in eligibility.unknown_members:
        not_found = Rejection(loop, True, SUBSCRIBER_NOT_FOUND, PLEASE_CORRECT_AND_RESUBMIT)
        return _with(base, rejections=(not_found,))
    if member_id in eligibility.inactive_members:
        return _with(
            base,
            benefits=(Benefit("6", "IND", ("30",)),),
            plan_begin=dt.date(day.year - 1, 1, 1),
            plan_end=dt.date(day.year - 1, 12, 31),
        )
    met = state.deductible_used(payer_id, member_key(payer_id, member_id)).get(day.year, 0)
    annual = rules.annual_deductible_cents
    benefits = [
        Benefit("1", "IND", ("30",), eligibility.insurance_type, eligibility.plan_description),
        Benefit("C", "IND", ("30",), time_period="23", amount_cents=annual),
        Benefit("C", "IND", ("30",), time_period="29", amount_cents=max(annual - met, 0)),
    ]
    out_of_pocket = dollars_to_cents(eligibility.out_of_pocket_max)
    if out_of_pocket:
        benefits.append(Benefit("G", "IND", ("30",), time_period="23", amount_cents=out_of_pocket))
        benefits.append(
            Benefit("G", "IND", ("30",), time_period="29", amount_cents=max(out_of_pocket - met, 0))
        )
    copay = copay_cents(rules)
    if copay is not None:
        benefits.append(Benefit("B", "IND", ("98",), time_period="27", amount_cents=copay))
    # EB08 is a decimal fraction: 20% is 0.2 (basis points / 10,000).
    percent = Decimal(rules.coinsurance_basis_points) / Decimal(10_000)
    benefits.append(Benefit("A", "IND", ("30",), percent=percent))
    return _with(
        base,
        benefits=tuple(benefits),
        plan_begin=dt.date(day.year, 1, 1),
        plan_end=dt.date(day.year, 12, 31),
    )


def _with(response: EligibilityResponse, **changes: object) -> EligibilityResponse:
    return replace(response, **changes)  # type: ignore[arg-type]


def answer_file(
    interchanges: tuple[Interchange, ...], rules: Rules, state: SimulatorState, now: dt.datetime
) -> tuple[str, int] | None:
    """The 271 file answering the 270s of a file to the payers in `rules` (one interchange, one
    ST per inquiry), and its interchange control number; None when no inquiry is to such a payer.
    Raises X12Error for a 270 that cannot be read."""
    answers = []
    first = interchanges[0]
    for interchange, group, transaction_set in iter_transaction_sets(interchanges):
        inquiry = read_eligibility_inquiry(
            transaction_set, envelope_ref(interchange, group, transaction_set), group_version=group.version
        )
        payer_id = inquiry.payer.identifier
        payer = rules.payers.get(payer_id)
        if payer is not None:
            answers.append(answer(inquiry, payer_id, payer, state, now))
    if not answers:
        return None
    number = state.counters.next("interchange")
    text = write_271(
        answers,
        sender_id=first.receiver_id or "CLEARINGHOUSE",
        receiver_id=first.sender_id or "SUBMITTER",
        interchange_control_number=number,
        group_control_number=state.counters.next("group"),
        created=now,
        usage_indicator=first.usage_indicator or "P",
    )
    return text, number
