"""Registration's events: keep this service's copy of the reference data, then scrub again the claims
that were waiting on what changed (a fix upstream is how a claim leaves the work queue)."""

from __future__ import annotations

from datetime import date

from billing_events.contracts.base import Event
from billing_events.contracts.registration import (
    CoverageAdded,
    CoverageTerminated,
    FacilityRegistered,
    PatientDemographicsUpdated,
    PatientRegistered,
    PayerRegistered,
    ProviderEnrolled,
)
from billing_events.envelope import Metadata
from claims.application.handlers import rescrub_waiting
from claims.application.ports import Unit

# NUCC taxonomy of a general acute care hospital, for a facility registered without one.
HOSPITAL_TAXONOMY = "282N00000X"


def facility_as_provider(event: FacilityRegistered) -> ProviderEnrolled:
    """A facility is the billing provider of its institutional claims (837I 2010AA), kept with the
    providers: the same record answers both claim forms."""
    return ProviderEnrolled(
        provider_id=event.facility_id,
        npi=event.npi,
        role="billing",
        organization_name=event.name,
        taxonomy_code=event.taxonomy_code or HOSPITAL_TAXONOMY,
        tax_id=event.tax_id,
        address=event.address,
    )


async def apply_reference_event(
    unit: Unit, tenant: str, event: Event, metadata: Metadata, today: date
) -> None:
    reference = unit.views.reference
    waits: list[tuple[str, str]] = []
    match event:
        case PayerRegistered():
            await reference.record_payer(tenant, event)
            waits = [("payer_id", event.payer_id)]
        case ProviderEnrolled():
            await reference.record_provider(tenant, event)
            waits = [("billing_provider_id", event.provider_id), ("rendering_provider_id", event.provider_id)]
        case FacilityRegistered():
            await reference.record_provider(tenant, facility_as_provider(event))
            waits = [("billing_provider_id", event.facility_id)]
        case PatientRegistered():
            await reference.record_patient(tenant, event)
            waits = [("patient_id", event.patient_id)]
        case PatientDemographicsUpdated():
            await reference.update_patient(tenant, event)
            waits = [("patient_id", event.patient_id)]
        case CoverageAdded():
            await reference.record_coverage(tenant, event)
            waits = [("patient_id", event.patient_id)]
        case CoverageTerminated():
            await reference.terminate_coverage(tenant, event)
            waits = [("patient_id", event.patient_id)]
        case _:
            return
    for column, value in waits:
        await rescrub_waiting(unit, tenant, column=column, value=value, metadata=metadata, today=today)
