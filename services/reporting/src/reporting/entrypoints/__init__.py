"""The reporting service: A/R aging, revenue, denials and KPIs from every topic, profitability and the
other finance reports from finance's topics, and a dashboard."""

from billing_service.runtime import ServiceDefinition
from reporting.adapters.finance_projections import FINANCE_SQL
from reporting.adapters.projections import PROJECTIONS_SQL
from reporting.entrypoints.api import router
from reporting.entrypoints.consumers import subscriptions
from reporting.entrypoints.finance_api import router as finance_router

SERVICE = ServiceDefinition(
    name="reporting",
    port=8005,
    title="Billing reporting",
    routers=lambda: [router, finance_router],
    subscriptions=subscriptions,
    schema_sql=PROJECTIONS_SQL + FINANCE_SQL,
)

__all__ = ["SERVICE"]
