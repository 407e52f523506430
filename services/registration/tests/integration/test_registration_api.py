"""Registration through its HTTP API against real Kafka and PostgreSQL: the whole cast of a claim,
the events on billing.registration.*, and every refusal (401/403/404/409/422/428)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from billing_testing.harness import ServiceHarness, envelopes, read_topic
from registration.entrypoints import SERVICE

ADDRESS = {"line1": "10 Clinic Rd", "city": "Springfield", "state": "IL", "postal_code": "62701"}
PATIENT = {
    "mrn": "MRN-4711",
    "name": {"given": "Josephine", "family": "Quackenbush"},
    "birth_date": "1980-02-29",
    "sex": "F",
    "address": {
        "line1": "742 Evergreen Terrace",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62704-1234",
    },
    "phone": "(217) 555-0142",
}
PAYER = {"name": "Acme Health", "edi_payer_id": "ACME1", "claim_filing_indicator": "CI", "address": ADDRESS}
BILLING = {
    "npi": "1234567893",
    "name": "Springfield Family Practice",
    "taxonomy_code": "207Q00000X",
    "tax_id": "12-3456789",
    "role": "billing",
    "address": ADDRESS,
}
RENDERING = {
    "npi": "1245319599",
    "name": {"given": "Ann", "family": "Doe"},
    "taxonomy_code": "207Q00000X",
    "role": "rendering",
    "address": ADDRESS,
}
PHI_VALUES = ("MRN-4711", "Josephine", "Quackenbush", "1980-02-29", "Evergreen", "2175550142", "XYZ987654")


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        yield harness


async def cast(svc: ServiceHarness, tenant: str = "tenant-a") -> dict[str, str]:
    """A payer, a billing and a rendering provider, a patient: what an encounter needs."""
    admin = svc.client(["admin"], tenant=tenant, subject="admin-1")
    desk = svc.client(["front_desk"], tenant=tenant, subject="desk-1")
    payer = await admin.post("/payers", json=PAYER)
    billing = await admin.post("/providers", json=BILLING)
    rendering = await admin.post("/providers", json=RENDERING)
    patient = await desk.post("/patients", json=PATIENT)
    for response in (payer, billing, rendering, patient):
        assert response.status_code == 201, response.text
    return {
        "payer_id": payer.json()["payer_id"],
        "billing_provider_id": billing.json()["provider_id"],
        "rendering_provider_id": rendering.json()["provider_id"],
        "patient_id": patient.json()["patient_id"],
    }


def coverage_body(payer_id: str, **changes: Any) -> dict[str, Any]:
    body = {
        "payer_id": payer_id,
        "member_id": "XYZ987654",
        "group_number": "GRP-1",
        "priority": "primary",
        "relationship_to_subscriber": "self",
        "effective_from": "2024-01-01",
    }
    return {**body, **changes}


def encounter_body(ids: dict[str, str], **changes: Any) -> dict[str, Any]:
    body = {
        "patient_id": ids["patient_id"],
        "billing_provider_id": ids["billing_provider_id"],
        "rendering_provider_id": ids["rendering_provider_id"],
        "service_date": "2025-02-28",
        "place_of_service": "11",
    }
    return {**body, **changes}


async def count(svc: ServiceHarness, sql: str) -> int:
    async with svc.runtime.pool.acquire() as connection:
        return int(await connection.fetchval(sql))


def problem(response: httpx.Response) -> dict[str, str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


async def test_the_whole_cast_of_a_claim_is_registered_and_published(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    ids = await cast(svc)
    desk = svc.client(["front_desk"], subject="desk-1")
    coverage = await desk.post(
        f"/patients/{ids['patient_id']}/coverages", json=coverage_body(ids["payer_id"])
    )
    assert coverage.status_code == 201, coverage.text
    opened = await desk.post("/encounters", json=encounter_body(ids))
    assert opened.status_code == 201, opened.text
    encounter_id = opened.json()["encounter_id"]

    read = await desk.get(f"/encounters/{encounter_id}")
    assert read.json() | {"opened_at": None} == {
        **encounter_body(ids),
        "encounter_id": encounter_id,
        "patient_sex": "F",
        "patient_age_years": 44,  # born on 29 February: not yet 45 on 28 February
        "opened_at": None,
    }
    assert await svc.published() == 6

    topics = {name: f"{topic_prefix}billing.registration.{name}" for name in ("payer", "provider", "patient")}
    topics |= {name: f"{topic_prefix}billing.registration.{name}" for name in ("coverage", "encounter")}
    expected = {"payer": 1, "provider": 2, "patient": 1, "coverage": 1, "encounter": 1}
    published: dict[str, list[Any]] = {}
    for name, topic in topics.items():
        published[name] = await read_topic(kafka_bootstrap, topic, expect=expected[name])
        assert len(published[name]) == expected[name], name

    (patient_record,) = published["patient"]
    headers = dict(patient_record.headers)
    assert patient_record.key == ids["patient_id"].encode()
    assert headers["ce_type"] == b"billing.registration.PatientRegistered.v1"
    assert headers["ce_source"] == b"/billing/registration"
    assert headers["ce_subject"] == ids["patient_id"].encode()
    assert headers["ce_tenant"] == b"tenant-a"
    assert headers["ce_actor"] == b"desk-1"
    assert headers["content-type"] == b"application/json"
    assert headers["ce_id"] and headers["ce_time"] and headers["ce_correlationid"]
    payload = json.loads(patient_record.value)
    for field in ("mrn", "name", "birth_date", "address", "phone"):
        assert payload[field]["key_id"] == ids["patient_id"]
        assert payload[field]["alg"] == "AES-256-GCM"
    assert payload["sex"] == "F"
    assert len(payload["mrn_index"]) == 64

    (coverage_record,) = published["coverage"]
    assert coverage_record.key == coverage.json()["coverage_id"].encode()
    assert json.loads(coverage_record.value)["member_id"]["key_id"] == ids["patient_id"]

    (encounter_record,) = published["encounter"]
    (encounter_event,) = envelopes([encounter_record])
    assert encounter_record.key == encounter_id.encode()
    assert encounter_event.event_type == "EncounterOpened"
    assert encounter_event.payload["patient_age_years"] == 44
    assert encounter_event.payload["patient_sex"] == "F"

    provider_keys = sorted(r.key for r in published["provider"])
    assert provider_keys == sorted(
        [ids["billing_provider_id"].encode(), ids["rendering_provider_id"].encode()]
    )
    assert published["payer"][0].key == ids["payer_id"].encode()

    everything = b"".join(r.value for records in published.values() for r in records)
    for value in PHI_VALUES:
        assert value.encode() not in everything, value


async def test_no_plaintext_patient_data_is_stored_in_the_log_or_the_views(svc: ServiceHarness) -> None:
    ids = await cast(svc)
    desk = svc.client(["front_desk"])
    await desk.post(f"/patients/{ids['patient_id']}/coverages", json=coverage_body(ids["payer_id"]))
    async with svc.runtime.pool.acquire() as connection:
        dump = "".join(
            [
                str(await connection.fetch("SELECT payload::text FROM events")),
                str(await connection.fetch("SELECT * FROM reg_patients")),
                str(await connection.fetch("SELECT * FROM reg_coverages")),
            ]
        )
    for value in PHI_VALUES:
        assert value not in dump, value
    assert "2175550142" not in dump and "62704" not in dump


async def test_a_patient_is_read_back_decrypted_and_by_mrn_through_the_blind_index(
    svc: ServiceHarness,
) -> None:
    ids = await cast(svc)
    desk = svc.client(["front_desk"])
    record = await desk.get(f"/patients/{ids['patient_id']}")
    assert record.status_code == 200
    assert record.headers["etag"] == '"1"'
    body = record.json()
    assert body["mrn"] == "MRN-4711"
    assert body["name"] == PATIENT["name"]
    assert body["birth_date"] == "1980-02-29"
    assert body["address"]["postal_code"] == "627041234"
    assert body["phone"] == "2175550142"
    assert body["version"] == 1

    found = await desk.get("/patients", params={"mrn": " mrn-4711 "})
    assert [p["patient_id"] for p in found.json()["items"]] == [ids["patient_id"]]
    none = await desk.get("/patients", params={"mrn": "MRN-0000"})
    assert none.json() == {"items": [], "next_cursor": None}


async def test_reads_of_a_patient_are_audited_and_only_auditors_list_the_audit(svc: ServiceHarness) -> None:
    ids = await cast(svc)
    patient_id = ids["patient_id"]
    await svc.client(["front_desk"], subject="desk-7").get(f"/patients/{patient_id}")
    await svc.client(["biller"], subject="biller-3").get(f"/patients/{patient_id}/coverages")
    await svc.client(["front_desk"], subject="desk-7").get("/patients", params={"mrn": "MRN-4711"})

    auditor = svc.client(["auditor"], subject="auditor-1")
    audit = await auditor.get("/audit/patient-reads", params={"patient_id": patient_id})
    assert audit.status_code == 200
    rows = [(r["actor"], r["access"], r["patient_id"]) for r in audit.json()["items"]]
    assert rows == [
        ("desk-7", "patient", patient_id),
        ("biller-3", "coverages", patient_id),
        ("desk-7", "patient_by_mrn", patient_id),
    ]
    assert all(r["read_at"] for r in audit.json()["items"])
    by_actor = await auditor.get("/audit/patient-reads", params={"actor": "biller-3"})
    assert [r["access"] for r in by_actor.json()["items"]] == ["coverages"]
    page = await auditor.get("/audit/patient-reads", params={"limit": 2})
    assert len(page.json()["items"]) == 2 and page.json()["next_cursor"]
    rest = await auditor.get(
        "/audit/patient-reads", params={"limit": 2, "cursor": page.json()["next_cursor"]}
    )
    assert len(rest.json()["items"]) == 1 and rest.json()["next_cursor"] is None

    assert (await svc.client(["front_desk"]).get("/audit/patient-reads")).status_code == 403
    assert (await svc.client(["admin"]).get("/audit/patient-reads")).status_code == 403
    # The audit names the platform's patient id and the reader, never patient data.
    text = audit.text
    assert "MRN-4711" not in text and "Quackenbush" not in text


async def test_demographics_change_with_if_match_and_a_stale_version_is_409(svc: ServiceHarness) -> None:
    ids = await cast(svc)
    desk = svc.client(["front_desk"])
    url = f"/patients/{ids['patient_id']}"
    etag = (await desk.get(url)).headers["etag"]

    changed = await desk.patch(
        url, json={"name": {"given": "Jo", "family": "Quackenbush"}}, headers={"If-Match": etag}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"patient_id": ids["patient_id"], "version": 2}
    assert changed.headers["etag"] == '"2"'

    stale = await desk.patch(url, json={"phone": "2175550199"}, headers={"If-Match": etag})
    assert stale.status_code == 409
    assert stale.json()["type"] == "/problems/version-conflict"

    missing = await desk.patch(url, json={"phone": "2175550199"})
    assert missing.status_code == 428

    same = await desk.patch(url, json={"sex": "F"}, headers={"If-Match": '"2"'})
    assert same.json()["version"] == 2  # nothing changed, nothing recorded

    bad = await desk.patch(url, json={"birth_date": "2999-01-01", "mrn": "X"}, headers={"If-Match": '"2"'})
    assert bad.status_code == 422
    assert "mrn" in problem(bad)  # the MRN cannot be changed

    record = (await desk.get(url)).json()
    assert record["name"] == {"given": "Jo", "family": "Quackenbush"}
    assert record["phone"] == "2175550142"
    assert record["version"] == 2
    assert (
        await count(svc, "SELECT count(*) FROM events WHERE event_type = 'PatientDemographicsUpdated'") == 1
    )


async def test_a_second_patient_with_the_same_mrn_is_409_and_nothing_is_stored(svc: ServiceHarness) -> None:
    await cast(svc)
    desk = svc.client(["front_desk"])
    keys_before = await count(svc, "SELECT count(*) FROM phi_data_keys")
    again = await desk.post(
        "/patients", json={**PATIENT, "mrn": "mrn-4711", "name": {"given": "X", "family": "Y"}}
    )
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/duplicate-mrn"
    assert await count(svc, "SELECT count(*) FROM events WHERE event_type = 'PatientRegistered'") == 1
    assert await count(svc, "SELECT count(*) FROM phi_data_keys") == keys_before


async def test_invalid_input_lists_every_field_and_stores_nothing(svc: ServiceHarness) -> None:
    desk = svc.client(["front_desk"])
    admin = svc.client(["admin"])
    patient = await desk.post(
        "/patients",
        json={
            "mrn": "",
            "name": {"given": "Jo"},
            "birth_date": "1899-12-31",
            "sex": "X",
            "address": {"line1": "1 Main St", "city": "Springfield", "state": "ZZ", "postal_code": "1234"},
        },
    )
    assert patient.status_code == 422
    assert problem(patient) == {
        "mrn": "is required",
        "name.family": "is required",
        "birth_date": "must not be before 1900-01-01",
        "sex": "must be one of F, M, U",
        "address.state": "must be a two-letter US state, territory or military code",
        "address.postal_code": "must be a ZIP code of 5 or 9 digits",
    }
    provider = await admin.post(
        "/providers", json={**BILLING, "npi": "1234567890", "taxonomy_code": "207Q", "tax_id": None}
    )
    assert problem(provider) == {
        "npi": "has a wrong check digit",
        "taxonomy_code": "must be a 10-character provider taxonomy code ending in X",
        "tax_id": "is required for a billing provider",
    }
    payer = await admin.post("/payers", json={**PAYER, "claim_filing_indicator": "QQ"})
    assert problem(payer) == {"claim_filing_indicator": "must be one of the code list"}
    shape = await desk.post("/patients", json={"mrn": 12, "nickname": "J"})
    assert shape.status_code == 422
    assert set(problem(shape)) == {"mrn", "nickname"}
    assert await count(svc, "SELECT count(*) FROM events") == 0
    assert await count(svc, "SELECT count(*) FROM phi_data_keys") == 0
    assert await count(svc, "SELECT count(*) FROM reg_patients") == 0


async def test_coverage_rules_overlap_termination_and_reads(svc: ServiceHarness) -> None:
    ids = await cast(svc)
    desk = svc.client(["front_desk"])
    url = f"/patients/{ids['patient_id']}/coverages"
    first = await desk.post(url, json=coverage_body(ids["payer_id"]))
    assert first.status_code == 201
    coverage_id = first.json()["coverage_id"]

    overlap = await desk.post(url, json=coverage_body(ids["payer_id"], effective_from="2025-01-01"))
    assert overlap.status_code == 409
    assert overlap.json()["type"] == "/problems/coverage-overlap"

    secondary = await desk.post(
        url,
        json=coverage_body(
            ids["payer_id"],
            priority="secondary",
            relationship_to_subscriber="spouse",
            subscriber={
                "name": {"given": "Pat", "family": "Q"},
                "birth_date": "1975-04-01",
                "sex": "M",
                "address": ADDRESS,
            },
        ),
    )
    assert secondary.status_code == 201, secondary.text

    no_subscriber = await desk.post(
        url, json=coverage_body(ids["payer_id"], priority="tertiary", relationship_to_subscriber="child")
    )
    assert problem(no_subscriber) == {"subscriber": "is required unless relationship_to_subscriber is self"}
    unknown_payer = await desk.post(
        url, json=coverage_body("no-such-payer", priority="tertiary", effective_to="2023-01-01")
    )
    assert problem(unknown_payer) == {
        "payer_id": "no such payer in this tenant",
        "effective_to": "must not be before effective_from",
    }

    ended = await desk.post(f"/coverages/{coverage_id}/terminate", json={"effective_to": "2024-12-31"})
    assert ended.status_code == 200
    assert ended.json() == {"coverage_id": coverage_id, "effective_to": "2024-12-31", "status": "terminated"}
    twice = await desk.post(f"/coverages/{coverage_id}/terminate", json={"effective_to": "2024-06-30"})
    assert twice.status_code == 409
    after_end = await desk.post(
        url, json=coverage_body(ids["payer_id"], effective_from="2025-01-01", member_id="NEW1")
    )
    assert after_end.status_code == 201, after_end.text

    listing = (await svc.client(["biller"]).get(url)).json()
    assert [(c["priority"], c["status"], c["member_id"]) for c in listing["items"]] == [
        ("primary", "terminated", "XYZ987654"),
        ("secondary", "active", "XYZ987654"),
        ("primary", "active", "NEW1"),
    ]
    assert listing["items"][1]["subscriber"]["name"] == {"given": "Pat", "family": "Q"}
    one = await desk.get(f"/coverages/{coverage_id}")
    assert one.json()["effective_to"] == "2024-12-31"
    assert (await desk.get("/patients/no-such-patient/coverages")).status_code == 404
    assert (
        await desk.post("/patients/no-such-patient/coverages", json=coverage_body(ids["payer_id"]))
    ).status_code == 404
    assert (
        await desk.post("/coverages/no-such/terminate", json={"effective_to": "2024-12-31"})
    ).status_code == 404


async def test_encounter_rules_are_refused_with_precise_errors(svc: ServiceHarness) -> None:
    ids = await cast(svc)
    desk = svc.client(["front_desk"])
    swapped = await desk.post(
        "/encounters",
        json=encounter_body(
            ids,
            billing_provider_id=ids["rendering_provider_id"],
            rendering_provider_id="no-such-provider",
            service_date="2999-01-01",
            place_of_service="28",
        ),
    )
    assert problem(swapped) == {
        "billing_provider_id": "is not enrolled as a billing provider",
        "rendering_provider_id": "no such provider in this tenant",
        "service_date": "must not be in the future",
        "place_of_service": "must be one of the code list",
    }
    before_birth = await desk.post("/encounters", json=encounter_body(ids, service_date="1979-01-01"))
    assert problem(before_birth) == {"service_date": "must not be before the patient's birth date"}
    assert await count(svc, "SELECT count(*) FROM events WHERE event_type = 'EncounterOpened'") == 0
    assert (await desk.get("/encounters/no-such-encounter")).status_code == 404


async def test_an_idempotency_key_replays_the_first_answer_and_creates_nothing_twice(
    svc: ServiceHarness,
) -> None:
    desk = svc.client(["front_desk"])
    headers = {"Idempotency-Key": "register-4711"}
    first = await desk.post("/patients", json=PATIENT, headers=headers)
    again = await desk.post("/patients", json=PATIENT, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["idempotent-replay"] == "true"
    assert await count(svc, "SELECT count(*) FROM events") == 1
    assert await count(svc, "SELECT count(*) FROM reg_patients") == 1

    other = await desk.post("/patients", json={**PATIENT, "mrn": "MRN-4712"}, headers=headers)
    assert other.status_code == 422
    assert problem(other) == {"Idempotency-Key": "was already used for a different request"}
    assert await count(svc, "SELECT count(*) FROM events") == 1

    admin = svc.client(["admin"])
    payers = [
        await admin.post("/payers", json=PAYER, headers={"Idempotency-Key": "payer-1"}) for _ in range(3)
    ]
    assert len({p.json()["payer_id"] for p in payers}) == 1
    assert len((await admin.get("/payers")).json()["items"]) == 1


async def test_tenant_b_cannot_see_or_touch_tenant_a_records(svc: ServiceHarness) -> None:
    ids = await cast(svc, "tenant-a")
    desk_a = svc.client(["front_desk"], tenant="tenant-a")
    coverage = await desk_a.post(
        f"/patients/{ids['patient_id']}/coverages", json=coverage_body(ids["payer_id"])
    )
    encounter = await desk_a.post("/encounters", json=encounter_body(ids))
    coverage_id, encounter_id = coverage.json()["coverage_id"], encounter.json()["encounter_id"]

    desk_b = svc.client(["front_desk"], tenant="tenant-b")
    patient_url = f"/patients/{ids['patient_id']}"
    assert (await desk_b.get(patient_url)).status_code == 404
    assert (
        await desk_b.patch(patient_url, json={"sex": "M"}, headers={"If-Match": '"1"'})
    ).status_code == 404
    assert (await desk_b.get(f"{patient_url}/coverages")).status_code == 404
    assert (
        await desk_b.post(f"{patient_url}/coverages", json=coverage_body(ids["payer_id"]))
    ).status_code == 404
    assert (await desk_b.get(f"/coverages/{coverage_id}")).status_code == 404
    assert (
        await desk_b.post(f"/coverages/{coverage_id}/terminate", json={"effective_to": "2024-12-31"})
    ).status_code == 404
    assert (await desk_b.get(f"/encounters/{encounter_id}")).status_code == 404
    assert (await desk_b.get("/encounters")).json()["items"] == []
    assert (await desk_b.get(f"/payers/{ids['payer_id']}")).status_code == 404
    assert (await desk_b.get(f"/providers/{ids['billing_provider_id']}")).status_code == 404
    assert (await desk_b.get("/patients", params={"mrn": "MRN-4711"})).json()["items"] == []
    assert (await desk_b.get("/patients")).json()["items"] == []
    borrowed = await desk_b.post("/encounters", json=encounter_body(ids))
    assert problem(borrowed) == {
        "patient_id": "no such patient in this tenant",
        "billing_provider_id": "no such provider in this tenant",
        "rendering_provider_id": "no such provider in this tenant",
    }
    # The MRN is unique per tenant, not across tenants.
    assert (await desk_b.post("/patients", json=PATIENT)).status_code == 201
    # Tenant A's record is as it was.
    assert (await desk_a.get(patient_url)).json()["sex"] == "F"


async def test_requests_need_a_token_and_a_role_that_may_act(svc: ServiceHarness) -> None:
    ids = await cast(svc)
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.app), base_url="http://service")
    try:
        assert (await anonymous.post("/patients", json=PATIENT)).status_code == 401
        assert (await anonymous.get(f"/patients/{ids['patient_id']}")).status_code == 401
        forged = await anonymous.get("/payers", headers={"Authorization": "Bearer not-a-token"})
        assert forged.status_code == 401
        assert forged.headers["content-type"].startswith("application/problem+json")
    finally:
        await anonymous.aclose()

    patient_url = f"/patients/{ids['patient_id']}"
    coder, biller, admin, desk = (svc.client([r]) for r in ("coder", "biller", "admin", "front_desk"))
    assert (await coder.post("/patients", json=PATIENT)).status_code == 403
    assert (await admin.post("/patients", json=PATIENT)).status_code == 403
    assert (await desk.post("/payers", json=PAYER)).status_code == 403
    assert (await desk.post("/providers", json=BILLING)).status_code == 403
    assert (await biller.post("/encounters", json=encounter_body(ids))).status_code == 403
    assert (await coder.get(patient_url)).status_code == 403
    assert (await admin.get(patient_url)).status_code == 403
    assert (
        await biller.patch(patient_url, json={"sex": "M"}, headers={"If-Match": '"1"'})
    ).status_code == 403
    # Reading: patient data for front desk, billers and auditors; reference data for everyone.
    assert (await biller.get(patient_url)).status_code == 200
    assert (await svc.client(["auditor"]).get(patient_url)).status_code == 200
    assert (await coder.get("/providers")).status_code == 200
    assert (await coder.get("/payers")).status_code == 200
    assert (await svc.client(["coder", "front_desk"]).post("/payers", json=PAYER)).status_code == 403


async def test_reference_data_and_encounters_are_listed_page_by_page(svc: ServiceHarness) -> None:
    ids = await cast(svc)
    desk = svc.client(["front_desk"])
    for day in ("2025-01-02", "2025-01-03", "2025-01-04"):
        assert (await desk.post("/encounters", json=encounter_body(ids, service_date=day))).status_code == 201
    coder = svc.client(["coder"])
    first = (await coder.get("/encounters", params={"patient_id": ids["patient_id"], "limit": 2})).json()
    rest = (
        await coder.get(
            "/encounters", params={"patient_id": ids["patient_id"], "cursor": first["next_cursor"]}
        )
    ).json()
    assert [e["service_date"] for e in first["items"] + rest["items"]] == [
        "2025-01-02",
        "2025-01-03",
        "2025-01-04",
    ]
    assert rest["next_cursor"] is None
    billing = (await coder.get("/providers", params={"role": "billing"})).json()["items"]
    assert [p["name"] for p in billing] == ["Springfield Family Practice"]
    rendering = (await coder.get(f"/providers/{ids['rendering_provider_id']}")).json()
    assert rendering["name"] == {"given": "Ann", "family": "Doe"}
    payer = (await coder.get(f"/payers/{ids['payer_id']}")).json()
    assert (payer["edi_payer_id"], payer["claim_filing_indicator"], payer["timely_filing_days"]) == (
        "ACME1",
        "CI",
        365,
    )
    assert (await coder.get("/encounters", params={"cursor": "nope"})).status_code == 422


async def test_a_cursor_is_good_only_for_the_list_that_gave_it_out(svc: ServiceHarness) -> None:
    ids = await cast(svc)
    desk = svc.client(["front_desk"])
    for day in ("2025-01-02", "2025-01-03"):
        assert (await desk.post("/encounters", json=encounter_body(ids, service_date=day))).status_code == 201
    coder = svc.client(["coder"])
    first = (await coder.get("/encounters", params={"limit": 1})).json()
    assert first["next_cursor"] is not None

    foreign = await coder.get("/providers", params={"cursor": first["next_cursor"]})
    old_style = await coder.get("/encounters", params={"cursor": "1"})
    too_many = await coder.get("/encounters", params={"limit": 201})
    none = await coder.get("/encounters", params={"limit": 0})

    assert foreign.status_code == 422
    assert [e["field"] for e in foreign.json()["errors"]] == ["cursor"]
    assert old_style.status_code == 422
    assert [e["field"] for e in old_style.json()["errors"]] == ["cursor"]
    assert too_many.status_code == none.status_code == 422
    assert [e["field"] for e in too_many.json()["errors"]] == ["limit"]


async def test_a_destroyed_patient_key_makes_the_record_gone(svc: ServiceHarness) -> None:
    ids = await cast(svc)
    await svc.runtime.vault.destroy(ids["patient_id"])
    response = await svc.client(["front_desk"]).get(f"/patients/{ids['patient_id']}")
    assert response.status_code == 410


async def test_the_views_rebuilt_from_the_log_equal_the_live_ones(svc: ServiceHarness) -> None:
    from registration.adapters.projections import PROJECTION_TABLES, rebuild

    ids = await cast(svc)
    desk = svc.client(["front_desk"])
    coverage = await desk.post(
        f"/patients/{ids['patient_id']}/coverages", json=coverage_body(ids["payer_id"])
    )
    await desk.post(
        f"/coverages/{coverage.json()['coverage_id']}/terminate", json={"effective_to": "2024-06-30"}
    )
    await desk.patch(f"/patients/{ids['patient_id']}", json={"sex": "U"}, headers={"If-Match": '"1"'})
    await desk.post("/encounters", json=encounter_body(ids))

    async def snapshot() -> dict[str, list[dict[str, Any]]]:
        async with svc.runtime.pool.acquire() as connection:
            return {
                table: [
                    {k: v for k, v in dict(r).items() if k != "seq"}
                    for r in await connection.fetch(f"SELECT * FROM {table} ORDER BY 2, 1")
                ]
                for table in PROJECTION_TABLES
            }

    live = await snapshot()
    assert await rebuild(svc.runtime.store) == 8
    assert await snapshot() == live


async def test_forgetting_a_patient_waits_for_the_retention_period_unless_a_legal_order_says_so(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    ids = await cast(svc)
    admin = svc.client(["admin"], subject="privacy-officer")
    desk = svc.client(["front_desk"])
    seen = await desk.post("/encounters", json=encounter_body(ids, service_date=date.today().isoformat()))
    assert seen.status_code == 201, seen.text
    forget = f"/patients/{ids['patient_id']}/forget"

    # Seen today: six years of retention have not passed.
    held = await admin.post(forget, json={"reason": "ticket PRIV-17"})
    assert held.status_code == 409
    assert held.json()["type"] == "/problems/retention-hold"
    assert (await desk.get(f"/patients/{ids['patient_id']}")).status_code == 200
    assert (await desk.post(forget, json={"reason": "x", "legal_order": True})).status_code == 403

    done = await admin.post(forget, json={"reason": "court order 2026-114", "legal_order": True})
    assert done.json() == {"patient_id": ids["patient_id"], "forgotten": True, "forgotten_now": True}
    assert (await desk.get(f"/patients/{ids['patient_id']}")).status_code == 410
    # Not found by MRN any more, and the MRN is free for a new registration.
    assert (await desk.get("/patients", params={"mrn": str(PATIENT["mrn"])})).json()["items"] == []
    assert (await desk.post("/patients", json=PATIENT)).status_code == 201
    again = await admin.post(forget, json={"reason": "court order 2026-114", "legal_order": True})
    assert again.json()["forgotten_now"] is False

    await svc.published()
    records = await read_topic(kafka_bootstrap, f"{topic_prefix}billing.registration.patient", expect=3)
    forgotten = [e for e in envelopes(records) if e.event_type == "PatientForgotten"]
    assert len(forgotten) == 1
    assert forgotten[0].payload == {
        "patient_id": ids["patient_id"],
        "reason": "court order 2026-114",
        "legal_order": True,
    }
    assert forgotten[0].metadata["actor"] == "privacy-officer"
    report = await svc.runtime.store.verify_chain()
    assert report.intact


async def test_a_patient_is_found_by_mrn_in_the_body_and_the_read_is_audited(svc: ServiceHarness) -> None:
    ids = await cast(svc)
    desk = svc.client(["front_desk"], subject="desk-7")
    found = await desk.post("/patients/search", json={"mrn": "MRN-4711"})
    assert found.status_code == 200, found.text
    assert [p["patient_id"] for p in found.json()["items"]] == [ids["patient_id"]]
    assert found.json()["items"][0]["name"] == {"given": "Josephine", "family": "Quackenbush"}
    assert (await desk.post("/patients/search", json={"mrn": "MRN-0000"})).json()["items"] == []
    assert (await desk.post("/patients/search", json={})).status_code == 422
    audit = await svc.client(["auditor"]).get(
        "/audit/patient-reads", params={"patient_id": ids["patient_id"]}
    )
    assert [(r["actor"], r["access"]) for r in audit.json()["items"]] == [("desk-7", "patient_by_mrn")]


# batched intake (POST /intake): many visits in one request and one transaction, all or nothing


async def reference(svc: ServiceHarness) -> dict[str, str]:
    admin = svc.client(["admin"], subject="admin-1")
    payer = await admin.post("/payers", json=PAYER)
    billing = await admin.post("/providers", json=BILLING)
    rendering = await admin.post("/providers", json=RENDERING)
    return {
        "payer_id": payer.json()["payer_id"],
        "billing_provider_id": billing.json()["provider_id"],
        "rendering_provider_id": rendering.json()["provider_id"],
    }


def visit(ref: dict[str, str], n: int, *, insured: bool = True, **patient: Any) -> dict[str, Any]:
    coverage = {
        "payer_id": ref["payer_id"],
        "member_id": f"M{n:06d}",
        "priority": "primary",
        "relationship_to_subscriber": "self",
        "effective_from": "2024-01-01",
    }
    return {
        "patient": {
            "mrn": f"MRN-{n}",
            "name": {"given": "Pat", "family": f"Visitor{n}"},
            "birth_date": "1990-06-15",
            "sex": "M",
            "address": ADDRESS,
        }
        | patient,
        "coverages": [coverage] if insured else [],
        "encounter": {
            "billing_provider_id": ref["billing_provider_id"],
            "rendering_provider_id": ref["rendering_provider_id"],
            "service_date": "2025-03-10",
            "place_of_service": "11",
        },
    }


async def test_a_batch_of_visits_registers_every_patient_coverage_and_encounter(svc: ServiceHarness) -> None:
    ref = await reference(svc)
    desk = svc.client(["front_desk"], subject="desk-1")
    response = await desk.post("/intake", json={"visits": [visit(ref, 1), visit(ref, 2, insured=False)]})
    assert response.status_code == 201, response.text
    first, second = response.json()["visits"]
    assert len(first["coverage_ids"]) == 1 and second["coverage_ids"] == []

    encounter = (await desk.get(f"/encounters/{first['encounter_id']}")).json()
    assert encounter["patient_id"] == first["patient_id"]
    assert encounter["patient_age_years"] == 34  # born 1990-06-15, seen 2025-03-10: birthday not yet reached
    coverages = (await desk.get(f"/patients/{first['patient_id']}/coverages")).json()["items"]
    assert [c["coverage_id"] for c in coverages] == first["coverage_ids"]
    assert (await desk.get(f"/encounters/{second['encounter_id']}")).json()["patient_id"] == second[
        "patient_id"
    ]
    # 2 patients + 1 coverage + 2 encounters, published like single commands' events.
    assert await svc.published() == 3 + 5


async def test_one_bad_visit_refuses_the_batch_naming_its_field_and_stores_nothing(
    svc: ServiceHarness,
) -> None:
    ref = await reference(svc)
    desk = svc.client(["front_desk"], subject="desk-1")
    before = await count(svc, "SELECT count(*) FROM events")
    bad = visit(ref, 2, birth_date="1990-13-45")
    response = await desk.post("/intake", json={"visits": [visit(ref, 1), bad]})
    assert response.status_code == 422, response.text
    assert "visits[1].patient.birth_date" in problem(response)
    assert "1990-13-45" not in response.text

    unknown_payer = visit(ref, 3)
    unknown_payer["coverages"][0]["payer_id"] = "00000000-0000-4000-8000-000000000000"
    response = await desk.post("/intake", json={"visits": [unknown_payer]})
    assert response.status_code == 422, response.text
    assert any(field.startswith("visits[0].coverages[0].") for field in problem(response))
    assert await count(svc, "SELECT count(*) FROM events") == before


async def test_a_batch_is_limited_and_needs_the_front_desk_role(svc: ServiceHarness) -> None:
    ref = await reference(svc)
    coder = svc.client(["coder"], subject="coder-1")
    assert (await coder.post("/intake", json={"visits": [visit(ref, 1)]})).status_code == 403
    desk = svc.client(["front_desk"], subject="desk-1")
    too_many = await desk.post("/intake", json={"visits": [visit(ref, n) for n in range(501)]})
    assert too_many.status_code == 422
    assert "visits" in problem(too_many)
    assert (await desk.post("/intake", json={"visits": []})).status_code == 422


async def test_an_idempotency_key_replays_the_batch_and_creates_nothing_twice(svc: ServiceHarness) -> None:
    ref = await reference(svc)
    desk = svc.client(["front_desk"], subject="desk-1")
    body = {"visits": [visit(ref, 1), visit(ref, 2)]}
    first = await desk.post("/intake", json=body, headers={"Idempotency-Key": "batch-1"})
    again = await desk.post("/intake", json=body, headers={"Idempotency-Key": "batch-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await count(svc, "SELECT count(*) FROM events WHERE event_type = 'EncounterOpened'") == 2
