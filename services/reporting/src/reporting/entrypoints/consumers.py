"""The reporting service's subscriptions: one consumer group over every topic of the platform."""

from __future__ import annotations

from billing_events.consumer import Subscription
from billing_service.runtime import Runtime
from reporting.adapters.projections import projection_subscription


def subscriptions(_runtime: Runtime) -> list[Subscription]:
    return [projection_subscription()]
