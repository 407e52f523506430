"""The patient side's copies of registration's data: providers (a good-faith estimate names the
convening provider's NPI and TIN) and eligibility answers (an estimate uses the coverage's latest)."""

from __future__ import annotations

from billing_events.consumer import SafeError, Subscription, handlers
from billing_events.contracts.registration import EligibilityCheckAnswered, ProviderEnrolled
from billing_events.envelope import EventEnvelope
from billing_events.store import Session
from invoicing.adapters import patient_side


async def on_provider_enrolled(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    if not isinstance(event, ProviderEnrolled):
        raise SafeError(f"expected ProviderEnrolled, got {envelope.event_type}")
    await patient_side.save_provider(session.connection, envelope.tenant, event)


async def on_eligibility_answered(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    if not isinstance(event, EligibilityCheckAnswered):
        raise SafeError(f"expected EligibilityCheckAnswered, got {envelope.event_type}")
    await patient_side.save_benefits(session.connection, envelope.tenant, event, envelope.position or 0)


def patient_side_subscription() -> Subscription:
    return Subscription(
        name="invoicing-patient-side",
        topics=[("registration", "provider"), ("registration", "eligibility-check")],
        handlers=handlers(
            (ProviderEnrolled, on_provider_enrolled),
            (EligibilityCheckAnswered, on_eligibility_answered),
        ),
        owned_tables=patient_side.REGISTRATION_COPY_TABLES,
    )
