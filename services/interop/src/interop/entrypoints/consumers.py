"""The interop service's subscription: one consumer group over registration, coding, invoicing and claims."""

from __future__ import annotations

import dataclasses

from billing_events.consumer import Handler, Subscription
from billing_events.contracts.registration import PatientForgotten
from billing_events.envelope import EventEnvelope
from billing_events.store import Session
from billing_service.runtime import Runtime
from interop.adapters.projections import on_patient_forgotten, projection_subscription
from interop.adapters.queries import InteropViews
from interop.entrypoints.api import export_root


def forgetting(runtime: Runtime) -> Handler:
    """PatientForgotten: the projection forgets the patient, and every Bulk Data export that holds the
    patient (its NDJSON files carry resources decrypted, in clear) is deleted whole, as a client's
    DELETE of it would. Idempotent: a second delivery finds nothing."""

    async def on_forgotten(session: Session, envelope: EventEnvelope) -> None:
        forgotten = envelope.event()
        assert isinstance(forgotten, PatientForgotten)
        await on_patient_forgotten(session, envelope)
        folder = export_root(runtime) / envelope.tenant
        if not folder.is_dir():
            return
        needle = forgotten.patient_id.encode()
        views = InteropViews(session.connection)
        for export in sorted(p for p in folder.iterdir() if p.is_dir()):
            files = list(export.glob("*.ndjson"))
            if any(needle in path.read_bytes() for path in files):
                await views.delete_export(envelope.tenant, export.name)
                for path in files:
                    path.unlink(missing_ok=True)

    return on_forgotten


def subscriptions(runtime: Runtime) -> list[Subscription]:
    subscription = projection_subscription()
    handlers = {**subscription.handlers, PatientForgotten.event_type: forgetting(runtime)}
    return [dataclasses.replace(subscription, handlers=handlers)]
