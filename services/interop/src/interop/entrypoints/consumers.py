"""The interop service's subscription: one consumer group over registration, coding, invoicing and claims."""

from __future__ import annotations

from billing_events.consumer import Subscription
from billing_service.runtime import Runtime
from interop.adapters.projections import projection_subscription


def subscriptions(_runtime: Runtime) -> list[Subscription]:
    return [projection_subscription()]
