"""The reporting service: A/R aging, revenue, denials and KPIs from every topic, and a dashboard."""

from billing_service.runtime import ServiceDefinition
from reporting.adapters.projections import PROJECTIONS_SQL
from reporting.entrypoints.api import router
from reporting.entrypoints.consumers import subscriptions

SERVICE = ServiceDefinition(
    name="reporting",
    port=8005,
    title="Billing reporting",
    routers=lambda: [router],
    subscriptions=subscriptions,
    schema_sql=PROJECTIONS_SQL,
)

__all__ = ["SERVICE"]
