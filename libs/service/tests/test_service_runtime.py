"""The service runtime end to end in one process: HTTP command -> event -> Kafka -> consumer -> event.

Proves Idempotency-Key replay, problem details, and that one trace follows a request through every
event it causes.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from billing_events.consumer import Subscription, handlers
from billing_events.contracts.registration import PayerRegistered, ProviderEnrolled
from billing_events.envelope import EventEnvelope
from billing_events.store import Session
from billing_service.auth import Principal, Role, require
from billing_service.commands import idempotent, metadata_caused_by, metadata_from
from billing_service.runtime import ServiceDefinition
from billing_testing.harness import ServiceHarness

router = APIRouter()


class NewPayer(BaseModel):
    name: str
    edi_payer_id: str


@router.post("/payers", status_code=201)
async def register_payer(
    body: NewPayer, request: Request, principal: Annotated[Principal, Depends(require(Role.ADMIN))]
) -> JSONResponse:
    payer_id = str(uuid.uuid4())
    event = PayerRegistered(
        payer_id=payer_id, name=body.name, edi_payer_id=body.edi_payer_id, claim_filing_indicator="CI"
    )

    async def action(session: Session) -> tuple[int, dict[str, Any]]:
        await session.append(payer_id, "payer", 0, [event], metadata_from(request, principal))
        return 201, {"payer_id": payer_id}

    return await idempotent(request, principal, action)


async def enrol_a_provider_for_each_payer(session: Session, envelope: EventEnvelope) -> None:
    payer = envelope.event()
    assert isinstance(payer, PayerRegistered)
    provider_id = str(uuid.uuid5(uuid.NAMESPACE_URL, payer.payer_id))
    caused = ProviderEnrolled(
        provider_id=provider_id,
        npi="1234567893",
        role="billing",
        organization_name=f"clinic of {payer.name}",
        taxonomy_code="207Q00000X",
        address={"line1": "1 Main St", "city": "Boston", "state": "MA", "postal_code": "021101234"},
    )
    await session.append(provider_id, "provider", 0, [caused], metadata_caused_by(envelope))


TOY = ServiceDefinition(
    name="registration",
    port=0,
    title="toy",
    routers=lambda: [router],
    subscriptions=lambda _runtime: [
        Subscription(
            "toy-policy",
            [("registration", "payer")],
            handlers((PayerRegistered, enrol_a_provider_for_each_payer)),
        )
    ],
)

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_one_trace_follows_a_request_through_the_events_it_causes(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    async with ServiceHarness.start(TOY, database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        response = await svc.client(["admin"], subject="admin-7").post(
            "/payers",
            json={"name": "Acme Health", "edi_payer_id": "ACME1"},
            headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01", "X-Correlation-ID": "req-1"},
        )
        assert response.status_code == 201
        await svc.published()
        await svc.drain()
        log = await svc.runtime.store.read_all()

    payer_event, provider_event = log
    assert payer_event.event_type == "PayerRegistered"
    assert payer_event.metadata["traceparent"].split("-")[1] == TRACE_ID
    assert payer_event.metadata["actor"] == "admin-7"
    assert provider_event.event_type == "ProviderEnrolled"
    assert provider_event.metadata["traceparent"].split("-")[1] == TRACE_ID
    assert provider_event.metadata["causation_id"] == payer_event.event_id
    assert provider_event.metadata["correlation_id"] == "req-1"


async def test_a_retried_post_with_the_same_idempotency_key_creates_nothing_twice(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    async with ServiceHarness.start(
        TOY, database_url, kafka_bootstrap, topic_prefix, tmp_path, consume=False
    ) as svc:
        client = svc.client(["admin"])
        body = {"name": "Acme Health", "edi_payer_id": "ACME1"}
        first = await client.post("/payers", json=body, headers={"Idempotency-Key": "k-1"})
        again = await client.post("/payers", json=body, headers={"Idempotency-Key": "k-1"})
        other_body = await client.post(
            "/payers", json={**body, "name": "Other"}, headers={"Idempotency-Key": "k-1"}
        )
        other_tenant = await svc.client(["admin"], tenant="tenant-b").post(
            "/payers", json=body, headers={"Idempotency-Key": "k-1"}
        )
        log = await svc.runtime.store.read_all()

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replay"] == "true"
    assert other_body.status_code == 422
    assert other_body.json()["errors"] == [
        {"field": "Idempotency-Key", "message": "was already used for a different request"}
    ]
    assert other_tenant.status_code == 201
    assert len(log) == 2  # one per tenant


async def test_invalid_input_lists_every_field_without_echoing_values(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    async with ServiceHarness.start(
        TOY, database_url, kafka_bootstrap, topic_prefix, tmp_path, consume=False
    ) as svc:
        response = await svc.client(["admin"]).post("/payers", json={"name": ["Jane Doe"]})
        forbidden = await svc.client(["coder"]).post("/payers", json={"name": "x", "edi_payer_id": "y"})
        log = await svc.runtime.store.read_all()

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert sorted(e["field"] for e in response.json()["errors"]) == ["edi_payer_id", "name"]
    assert "Jane Doe" not in response.text
    assert forbidden.status_code == 403
    assert log == []


async def test_the_asyncapi_document_lists_published_and_consumed_topics_with_their_schemas(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    async with ServiceHarness.start(
        TOY, database_url, kafka_bootstrap, topic_prefix, tmp_path, consume=False
    ) as svc:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.app), base_url="http://service")
        document = (await client.get("/asyncapi.json")).json()
        await client.aclose()

    payer = document["channels"]["billing_registration_payer"]
    assert payer["address"] == "billing.registration.payer"
    message = document["components"]["messages"]["PayerRegistered_v1"]
    assert message["name"] == "billing.registration.PayerRegistered.v1"
    assert "edi_payer_id" in message["payload"]["properties"]
    assert document["operations"]["consume_billing_registration_payer"]["action"] == "receive"
    assert document["operations"]["publish_billing_registration_payer"]["action"] == "send"
