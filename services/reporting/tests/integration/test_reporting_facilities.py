"""A facility registered in registration becomes a name reporting labels revenue and A/R with; its
event is applied, not dead-lettered (the projection once left out the NOT NULL npi and role)."""

from __future__ import annotations

from pathlib import Path

from billing_events.contracts.registration import Address, FacilityRegistered
from billing_testing.harness import ServiceHarness, publish_events
from reporting.entrypoints import SERVICE

FACILITY = FacilityRegistered(
    facility_id="facility-1",
    name="Springfield General Hospital",
    npi="1234567893",
    tax_id="371234567",
    kind="hospital",
    address=Address(line1="1 Hospital Way", city="Springfield", state="IL", postal_code="62701"),
)


async def test_a_registered_facility_is_a_named_billing_party(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    async with ServiceHarness.start(SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        await publish_events(kafka_bootstrap, topic_prefix, [FACILITY], tenant=svc.tenant)
        await svc.drain()
        async with svc.runtime.pool.acquire() as db:
            row = await db.fetchrow(
                "SELECT npi, role, name FROM reporting_providers WHERE provider_id = 'facility-1'"
            )
            dead = await db.fetchval("SELECT count(*) FROM dead_letters")
    assert row is not None and dict(row) == {
        "npi": "1234567893",
        "role": "facility",
        "name": "Springfield General Hospital",
    }
    assert dead == 0
