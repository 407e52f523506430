"""Eligibility checks in registration against real Kafka and PostgreSQL: asked over HTTP, published
with ids only, answered by claims' events (played here), shown on the check and the coverage, once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from billing_events.contracts.registration import EligibilityCheckAnswered
from billing_testing import builders
from billing_testing.harness import ServiceHarness, envelopes, publish_events, read_topic
from registration.entrypoints import SERVICE
from registration.settings import registration_settings

pytestmark = pytest.mark.integration

TENANT = "tenant-a"
CHECK_TOPIC = "billing.registration.eligibility-check"
ADDRESS = {"line1": "10 Clinic Rd", "city": "Springfield", "state": "IL", "postal_code": "62701"}
PATIENT = {
    "mrn": "MRN-5150",
    "name": {"given": "Josephine", "family": "Quackenbush"},
    "birth_date": "1980-02-29",
    "sex": "F",
    "address": ADDRESS,
}
PHI_VALUES = ("MRN-5150", "Josephine", "Quackenbush", "1980-02-29", "XYZ987654")


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        yield harness


async def coverage(svc: ServiceHarness) -> dict[str, str]:
    admin = svc.client(["admin"], tenant=TENANT)
    desk = svc.client(["front_desk"], tenant=TENANT)
    payer = await admin.post(
        "/payers", json={"name": "Acme Health", "edi_payer_id": "ACME1", "claim_filing_indicator": "CI"}
    )
    billing = await admin.post(
        "/providers",
        json={
            "npi": "1234567893",
            "name": "Springfield Family Practice",
            "taxonomy_code": "207Q00000X",
            "tax_id": "12-3456789",
            "role": "billing",
            "address": ADDRESS,
        },
    )
    patient = await desk.post("/patients", json=PATIENT)
    for response in (payer, billing, patient):
        assert response.status_code == 201, response.text
    ids = {
        "payer_id": payer.json()["payer_id"],
        "provider_id": billing.json()["provider_id"],
        "patient_id": patient.json()["patient_id"],
    }
    added = await desk.post(
        f"/patients/{ids['patient_id']}/coverages",
        json={
            "payer_id": ids["payer_id"],
            "member_id": "XYZ987654",
            "priority": "primary",
            "relationship_to_subscriber": "self",
            "effective_from": "2024-01-01",
        },
    )
    assert added.status_code == 201, added.text
    return {**ids, "coverage_id": added.json()["coverage_id"]}


async def test_a_check_is_asked_then_answered_on_the_check_and_the_coverage(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    ids = await coverage(svc)
    desk = svc.client(["front_desk"], tenant=TENANT)
    path = f"/coverages/{ids['coverage_id']}/eligibility-checks"
    asked = await desk.post(path, json={"service_date": "2026-03-02"}, headers={"Idempotency-Key": "elig-1"})
    again = await desk.post(path, json={"service_date": "2026-03-02"}, headers={"Idempotency-Key": "elig-1"})
    assert asked.status_code == 202, asked.text
    assert again.status_code == 202 and again.json() == asked.json()
    check_id = asked.json()["check_id"]

    pending = (await desk.get(f"/eligibility-checks/{check_id}")).json()
    assert (pending["status"], pending["benefits"], pending["answered_at"]) == ("pending", None, None)
    assert (pending["service_date"], pending["provider_id"]) == ("2026-03-02", ids["provider_id"])
    before = (await desk.get(f"/coverages/{ids['coverage_id']}")).json()
    assert before["eligibility"] is None  # asked, not answered

    await svc.published()
    (record,) = await read_topic(
        kafka_bootstrap, f"{topic_prefix}billing.registration.eligibility-check", expect=1
    )
    (requested,) = envelopes([record])
    assert requested.event_type == "EligibilityCheckRequested"
    assert requested.payload == {
        "check_id": check_id,
        "coverage_id": ids["coverage_id"],
        "patient_id": ids["patient_id"],
        "payer_id": ids["payer_id"],
        "service_date": "2026-03-02",
        "provider_id": ids["provider_id"],
    }
    assert not any(value in json.dumps(requested.payload) for value in PHI_VALUES)

    # Claims answers: $150.00 deductible left, $30.00 copay, 20%, $2,500.00 out of pocket left.
    answer = builders.eligibility_response_received(
        check_id, coverage_id=ids["coverage_id"], patient_id=ids["patient_id"], payer_id=ids["payer_id"]
    )
    late = builders.eligibility_inquiry_failed(
        check_id, coverage_id=ids["coverage_id"], patient_id=ids["patient_id"], payer_id=ids["payer_id"]
    )
    await publish_events(kafka_bootstrap, topic_prefix, [answer, answer, late], tenant=TENANT)
    await svc.drain()

    checked = (await desk.get(f"/eligibility-checks/{check_id}")).json()
    biller = svc.client(["biller"], tenant=TENANT)
    on_coverage = (await biller.get(f"/coverages/{ids['coverage_id']}")).json()
    listed = (await biller.get(f"/patients/{ids['patient_id']}/coverages")).json()["items"]
    other_tenant = await svc.client(["front_desk"], tenant="tenant-b").get(f"/eligibility-checks/{check_id}")
    coder = await svc.client(["coder"], tenant=TENANT).get(f"/eligibility-checks/{check_id}")
    async with svc.runtime.store.session() as session:
        stream = [envelope.event() for envelope in await session.load(check_id)]

    assert checked["status"] == "active"
    assert (checked["plan_begin_on"], checked["plan_end_on"]) == ("2026-01-01", "2026-12-31")
    assert checked["benefits"] == {
        "deductible_remaining_cents": 15000,
        "copay_cents": 3000,
        "coinsurance_percent": 20,  # 2000 basis points / 100
        "coinsurance_basis_points": 2000,
        "out_of_pocket_remaining_cents": 250000,
    }
    assert checked["reasons"] == []
    assert on_coverage["eligibility"] == checked
    assert [c["eligibility"] for c in listed] == [checked]
    # The same answer twice and a late failure changed nothing: one answer in the check's stream.
    assert [type(e).__name__ for e in stream] == ["EligibilityCheckRequested", "EligibilityCheckAnswered"]
    assert other_tenant.status_code == 404
    assert coder.status_code == 403


async def test_a_failed_inquiry_is_an_error_with_its_reasons_and_the_views_rebuild(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    from registration.adapters.projections import rebuild

    ids = await coverage(svc)
    biller = svc.client(["biller"], tenant=TENANT)
    asked = await biller.post(f"/coverages/{ids['coverage_id']}/eligibility-checks")
    assert asked.status_code == 202, asked.text
    check_id = asked.json()["check_id"]
    failed = builders.eligibility_response_received(
        check_id,
        coverage_id=ids["coverage_id"],
        patient_id=ids["patient_id"],
        payer_id=ids["payer_id"],
        status="error",
        plan_begin_on=None,
        plan_end_on=None,
        deductible_remaining_cents=None,
        copay_cents=None,
        coinsurance_basis_points=None,
        out_of_pocket_remaining_cents=None,
        reasons=(("AAA:75", "subscriber/insured not found (2100C)"),),
    )
    await publish_events(kafka_bootstrap, topic_prefix, [failed], tenant=TENANT)
    await svc.drain()
    live = (await biller.get(f"/eligibility-checks/{check_id}")).json()
    assert (live["status"], live["benefits"]) == ("error", None)
    assert live["reasons"] == [{"code": "AAA:75", "description": "subscriber/insured not found (2100C)"}]

    await rebuild(svc.runtime.store)
    rebuilt = (await biller.get(f"/eligibility-checks/{check_id}")).json()
    assert rebuilt == live
    await svc.published()
    answered = [
        e
        for e in envelopes(
            await read_topic(
                kafka_bootstrap, f"{topic_prefix}billing.registration.eligibility-check", expect=2
            )
        )
        if e.event_type == "EligibilityCheckAnswered"
    ]
    assert [EligibilityCheckAnswered.model_validate(e.payload).status for e in answered] == ["error"]


async def test_refusals(svc: ServiceHarness) -> None:
    ids = await coverage(svc)
    desk = svc.client(["front_desk"], tenant=TENANT)
    path = f"/coverages/{ids['coverage_id']}/eligibility-checks"
    cases: list[tuple[Any, int, dict[str, str]]] = [
        (await desk.post("/coverages/no-such-coverage/eligibility-checks"), 404, {}),
        (await svc.client(["coder"], tenant=TENANT).post(path), 403, {}),
        (await svc.client(["admin"], tenant=TENANT).post(path), 403, {}),
        (await svc.client(["front_desk"], tenant="tenant-b").post(path), 404, {}),
        (
            await desk.post(path, json={"service_date": "tomorrow", "provider_id": "nobody"}),
            422,
            {
                "service_date": "must be a date as YYYY-MM-DD",
                "provider_id": "no such provider in this tenant",
            },
        ),
        (await desk.get("/eligibility-checks/no-such-check"), 404, {}),
    ]
    for response, status, errors in cases:
        assert response.status_code == status, response.text
        if errors:
            assert {e["field"]: e["message"] for e in response.json()["errors"]} == errors
    async with svc.runtime.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM reg_eligibility_checks") == 0


async def test_opening_an_encounter_checks_a_coverage_not_checked_lately(
    svc: ServiceHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRATION_ELIGIBILITY_CHECK_ON_ENCOUNTER_DAYS", "30")
    registration_settings.cache_clear()
    try:
        ids = await coverage(svc)
        desk = svc.client(["front_desk"], tenant=TENANT)
        rendering = await svc.client(["admin"], tenant=TENANT).post(
            "/providers",
            json={
                "npi": "1245319599",
                "name": {"given": "Ann", "family": "Doe"},
                "taxonomy_code": "207Q00000X",
                "role": "rendering",
                "address": ADDRESS,
            },
        )
        encounter = {
            "patient_id": ids["patient_id"],
            "billing_provider_id": ids["provider_id"],
            "rendering_provider_id": rendering.json()["provider_id"],
            "service_date": "2025-02-28",
            "place_of_service": "11",
        }
        first = await desk.post("/encounters", json=encounter)
        second = await desk.post("/encounters", json=encounter)
    finally:
        registration_settings.cache_clear()
    assert first.status_code == 201 and second.status_code == 201
    async with svc.runtime.pool.acquire() as connection:
        checks = await connection.fetch(
            "SELECT coverage_id, service_date, provider_id, status FROM reg_eligibility_checks"
        )
    # One check for the coverage in force on 2025-02-28; the second encounter finds it pending.
    assert [dict(c) for c in checks] == [
        {
            "coverage_id": ids["coverage_id"],
            "service_date": date(2025, 2, 28),
            "provider_id": ids["provider_id"],
            "status": "pending",
        }
    ]
