"""Coding's subscriptions: its own projection of registration's encounters and patients."""

from __future__ import annotations

from billing_events.consumer import Subscription, handlers
from billing_events.contracts.registration import EncounterOpened, PatientDemographicsUpdated
from coding.adapters.projections import PROJECTION_TABLES
from coding.application.handlers import on_demographics_updated, on_encounter_opened


def registration_view() -> Subscription:
    return Subscription(
        name="coding-registration-view",
        topics=[("registration", "encounter"), ("registration", "patient")],
        handlers=handlers(
            (EncounterOpened, on_encounter_opened),
            (PatientDemographicsUpdated, on_demographics_updated),
        ),
        owned_tables=PROJECTION_TABLES,
    )
