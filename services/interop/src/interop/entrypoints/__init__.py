"""The interop service: a FHIR R4 API and FHIR Bulk Data export over the platform's events."""

from billing_service.runtime import ServiceDefinition
from interop.adapters.projections import PROJECTIONS_SQL
from interop.entrypoints.api import router
from interop.entrypoints.consumers import subscriptions

SERVICE = ServiceDefinition(
    decrypts_phi=True,
    name="interop",
    port=8007,
    title="Interop: FHIR R4 API and Bulk Data export",
    routers=lambda: [router],
    subscriptions=subscriptions,
    schema_sql=PROJECTIONS_SQL,
)

__all__ = ["SERVICE"]
