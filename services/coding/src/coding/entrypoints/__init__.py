"""The coding service as the runtime runs it: `billing serve|consume|relay coding`."""

from __future__ import annotations

from fastapi import APIRouter

from billing_service.runtime import ServiceDefinition
from coding.adapters.projections import PROJECTIONS_SQL
from coding.adapters.reference import ReferenceProvider
from coding.entrypoints.api import router_for
from coding.entrypoints.consumers import subscriptions
from coding.settings import CodingSettings


def coding_service(settings: CodingSettings | None = None) -> ServiceDefinition:
    """The service with its code sets from `settings` (tests point them at small files)."""
    provider = ReferenceProvider(settings or CodingSettings())

    def routers() -> list[APIRouter]:
        if provider.settings.warm_on_start:
            provider.warm()
        return [router_for(provider)]

    return ServiceDefinition(
        name="coding",
        port=8002,
        title="Coding",
        routers=routers,
        subscriptions=subscriptions,
        schema_sql=PROJECTIONS_SQL,
        # Seals a coder's free text (the reason for a recoding) under the patient's key.
        decrypts_phi=True,
        # Its views keep versions, never log positions: a batch of codings holds the log's head for
        # one round trip at commit, not from its first coding's append on.
        appends_at_commit=True,
    )


SERVICE = coding_service()
