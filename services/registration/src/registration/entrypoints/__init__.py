"""The registration service as the runtime runs it (`billing serve|relay|replay registration`)."""

from __future__ import annotations

from collections.abc import Callable

from billing_service.runtime import Runtime, ServiceDefinition
from registration.adapters.adt_log import HL7_SQL
from registration.adapters.projections import PROJECTION_TABLES, PROJECTIONS_SQL, rebuild
from registration.entrypoints import hl7, intake
from registration.entrypoints.api import router
from registration.entrypoints.consumers import subscriptions


async def rebuild_views(runtime: Runtime, progress: Callable[[int, int], None]) -> int:
    return await rebuild(runtime.store, progress=progress)


SERVICE = ServiceDefinition(
    decrypts_phi=True,
    name="registration",
    port=8001,
    title="Registration: patients, coverages, providers, payers, encounters",
    routers=lambda: [router, intake.router, hl7.router],
    schema_sql=PROJECTIONS_SQL + HL7_SQL,
    # Claims' answers to eligibility checks, recorded as events of registration's own log.
    subscriptions=subscriptions,
    # The HL7 v2 MLLP listener, when REGISTRATION_HL7_MLLP_PORT is set.
    workers=hl7.workers,
    # Its views come from its own log (the eligibility answers it consumes become its own events).
    rebuild_from_log=rebuild_views,
    log_tables=PROJECTION_TABLES,
    # Its views keep versions, never log positions: appends wait for the commit, so that an intake
    # batch's transaction (hundreds of visits, three commands each) holds the log's head for one
    # round trip, not from its first visit's append to its commit while every other waits.
    appends_at_commit=True,
)
