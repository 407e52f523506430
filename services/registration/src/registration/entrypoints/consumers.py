"""Registration's one subscription: claims' answers to its eligibility checks, recorded on the checks
(EligibilityCheckAnswered in registration's own log, so its views stay rebuildable from that log)."""

from __future__ import annotations

from billing_events.consumer import Subscription, handlers
from billing_events.contracts.claims import EligibilityInquiryFailed, EligibilityResponseReceived
from billing_events.contracts.registration import EligibilityReason
from billing_events.envelope import EventEnvelope
from billing_events.store import Session
from billing_events.unit_of_work import UnitOfWork
from billing_service.commands import metadata_caused_by
from billing_service.runtime import Runtime
from registration.adapters.queries import PostgresViews
from registration.application.handlers import record_eligibility_answer
from registration.application.ports import Views
from registration.domain.eligibility_check import RecordAnswer


def _answer(event: EligibilityResponseReceived | EligibilityInquiryFailed) -> RecordAnswer:
    reasons = tuple(EligibilityReason(code=r.code, description=r.description) for r in event.reasons)
    if isinstance(event, EligibilityInquiryFailed):
        return RecordAnswer(status="error", reasons=reasons)
    return RecordAnswer(
        status=event.status,
        plan_begin_on=event.plan_begin_on,
        plan_end_on=event.plan_end_on,
        deductible_remaining_cents=event.deductible_remaining_cents,
        copay_cents=event.copay_cents,
        coinsurance_basis_points=event.coinsurance_basis_points,
        out_of_pocket_remaining_cents=event.out_of_pocket_remaining_cents,
        reasons=reasons,
    )


async def on_eligibility_answer(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, EligibilityResponseReceived | EligibilityInquiryFailed)
    unit: UnitOfWork[Views] = UnitOfWork(session, PostgresViews(session.connection))
    await record_eligibility_answer(unit, event.check_id, _answer(event), metadata_caused_by(envelope))


def subscriptions(_runtime: Runtime) -> list[Subscription]:
    return [
        Subscription(
            name="registration-eligibility",
            topics=[("claims", "eligibility-inquiry")],
            handlers=handlers(
                (EligibilityResponseReceived, on_eligibility_answer),
                (EligibilityInquiryFailed, on_eligibility_answer),
            ),
        )
    ]
