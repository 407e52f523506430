"""The reporting service's subscriptions: one consumer group over every topic of the platform, and one
over finance's topics for the finance reports' facts."""

from __future__ import annotations

from billing_events.consumer import Subscription
from billing_service.runtime import Runtime
from reporting.adapters.finance_projections import finance_subscription
from reporting.adapters.projections import projection_subscription


def subscriptions(_runtime: Runtime) -> list[Subscription]:
    return [projection_subscription(), finance_subscription()]
