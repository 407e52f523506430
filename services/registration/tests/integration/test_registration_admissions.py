"""Facilities and admissions through registration's HTTP API against real Kafka and PostgreSQL: the
institutional encounter from admission to discharge, on the encounter topic, and its refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from billing_testing.harness import ServiceHarness, envelopes, read_topic
from registration.entrypoints import SERVICE

ADDRESS = {"line1": "1 Hospital Way", "city": "Springfield", "state": "IL", "postal_code": "62701"}
FACILITY = {
    "name": "Springfield General Hospital",
    "npi": "1234567893",
    "tax_id": "12-3456789",
    "kind": "hospital",
    "address": ADDRESS,
}
ATTENDING = {
    "npi": "1245319599",
    "name": {"given": "Ann", "family": "Doe"},
    "taxonomy_code": "207R00000X",
    "role": "rendering",
    "address": ADDRESS,
}
PATIENT = {
    "mrn": "MRN-9001",
    "name": {"given": "Josephine", "family": "Quackenbush"},
    "birth_date": "1950-03-11",
    "sex": "F",
    "address": {
        "line1": "742 Evergreen Terrace",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62704",
    },
}
PHI_VALUES = ("MRN-9001", "Josephine", "Quackenbush", "1950-03-11", "Evergreen")


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        yield harness


async def hospital(svc: ServiceHarness) -> dict[str, str]:
    admin = svc.client(["admin"])
    desk = svc.client(["front_desk"])
    facility = await admin.post("/facilities", json=FACILITY)
    attending = await admin.post("/providers", json=ATTENDING)
    patient = await desk.post("/patients", json=PATIENT)
    for response in (facility, attending, patient):
        assert response.status_code == 201, response.text
    return {
        "facility_id": facility.json()["facility_id"],
        "attending_provider_id": attending.json()["provider_id"],
        "patient_id": patient.json()["patient_id"],
    }


def admission_body(ids: dict[str, str], **changes: Any) -> dict[str, Any]:
    body = {
        **ids,
        "setting": "inpatient",
        "admitted_at": "2026-03-10T22:30:00-05:00",
        "admission_type": "1",
        "admission_source": "1",
    }
    return {**body, **changes}


async def count(svc: ServiceHarness, sql: str) -> int:
    async with svc.runtime.pool.acquire() as connection:
        return int(await connection.fetchval(sql))


def problem(response: httpx.Response) -> dict[str, str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


async def test_a_stay_is_admitted_discharged_once_and_published_on_the_encounter_topic(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    ids = await hospital(svc)
    desk = svc.client(["front_desk"])
    admitted = await desk.post("/admissions", json=admission_body(ids), headers={"Idempotency-Key": "adm-1"})
    assert admitted.status_code == 201, admitted.text
    encounter_id = admitted.json()["encounter_id"]
    replay = await desk.post("/admissions", json=admission_body(ids), headers={"Idempotency-Key": "adm-1"})
    assert replay.json() == admitted.json()

    discharge = {"discharged_at": "2026-03-14T10:15:00-05:00", "discharge_status": "01"}
    closed = await desk.post(f"/admissions/{encounter_id}/discharge", json=discharge)
    assert closed.status_code == 200, closed.text
    assert closed.json()["discharge_status"] == "01"
    again = await desk.post(f"/admissions/{encounter_id}/discharge", json=discharge)
    assert again.status_code == 409
    assert (await desk.post("/admissions/no-such-stay/discharge", json=discharge)).status_code == 404

    read = (await svc.client(["coder"]).get(f"/admissions/{encounter_id}")).json()
    assert read == {
        **admission_body(ids),
        "encounter_id": encounter_id,
        "patient_sex": "F",
        "patient_age_years": 75,  # born 1950-03-11, admitted the evening of 2026-03-10: 76 the next day
        "status": "discharged",
        "discharged_at": "2026-03-14T10:15:00-05:00",
        "discharge_status": "01",
    }
    facility = (await svc.client(["biller"]).get(f"/facilities/{ids['facility_id']}")).json()
    assert (facility["npi"], facility["tax_id"], facility["kind"]) == ("1234567893", "123456789", "hospital")

    assert await svc.published() == 5  # facility, attending, patient, admission, discharge

    records = await read_topic(kafka_bootstrap, f"{topic_prefix}billing.registration.encounter", expect=2)
    events = envelopes(records)
    assert [e.event_type for e in events] == ["AdmissionOpened", "AdmissionDischarged"]
    assert {r.key for r in records} == {encounter_id.encode()}
    opened, discharged = (e.payload for e in events)
    assert opened["facility_id"] == ids["facility_id"]
    assert opened["attending_provider_id"] == ids["attending_provider_id"]
    assert opened["admitted_at"] == "2026-03-10T22:30:00-05:00"
    assert (opened["admission_type"], opened["admission_source"], opened["setting"]) == (
        "1",
        "1",
        "inpatient",
    )
    assert discharged["discharge_status"] == "01"
    (facility_record,) = await read_topic(
        kafka_bootstrap, f"{topic_prefix}billing.registration.facility", expect=1
    )
    assert envelopes([facility_record])[0].payload["address"]["line1"] == "1 Hospital Way"
    everything = b"".join(r.value for r in records)
    for value in PHI_VALUES:
        assert value.encode() not in everything, value


async def test_bad_admissions_and_facilities_list_every_field_and_store_nothing(svc: ServiceHarness) -> None:
    ids = await hospital(svc)
    desk = svc.client(["front_desk"])
    admin = svc.client(["admin"])
    events_before = await count(svc, "SELECT count(*) FROM events")
    bad = await desk.post(
        "/admissions",
        json=admission_body(
            ids,
            facility_id="no-such-facility",
            attending_provider_id=None,
            setting="observation",
            admitted_at="2999-01-01T00:00:00Z",
            admission_type="6",
        ),
    )
    assert bad.status_code == 422
    assert problem(bad) == {
        "facility_id": "no such facility in this tenant",
        "attending_provider_id": "is required",
        "setting": "must be one of inpatient, outpatient",
        "admitted_at": "must not be in the future",
        "admission_type": "must be one of 1, 2, 3, 4, 5, 9",
    }
    duplicate = await admin.post("/facilities", json=FACILITY)
    assert duplicate.status_code == 409
    assert (await desk.post("/facilities", json=FACILITY)).status_code == 403
    assert await count(svc, "SELECT count(*) FROM events") == events_before
    assert await count(svc, "SELECT count(*) FROM reg_admissions") == 0
    assert (await desk.get("/facilities/no-such-facility")).status_code == 404


async def test_facility_and_admission_views_rebuilt_from_the_log_equal_the_live_ones(
    svc: ServiceHarness,
) -> None:
    from registration.adapters.projections import rebuild

    ids = await hospital(svc)
    desk = svc.client(["front_desk"])
    stay = (await desk.post("/admissions", json=admission_body(ids))).json()["encounter_id"]
    await desk.post(
        f"/admissions/{stay}/discharge",
        json={"discharged_at": "2026-03-12T09:00:00-05:00", "discharge_status": "03"},
    )
    await desk.post("/admissions", json=admission_body(ids, setting="outpatient"))

    async def snapshot() -> dict[str, list[dict[str, Any]]]:
        async with svc.runtime.pool.acquire() as connection:
            return {
                table: [
                    {k: v for k, v in dict(r).items() if k != "seq"}
                    for r in await connection.fetch(f"SELECT * FROM {table} ORDER BY 2, 1")
                ]
                for table in ("reg_facilities", "reg_admissions")
            }

    live = await snapshot()
    assert len(live["reg_admissions"]) == 2
    # facility, attending, patient, two admissions, one discharge
    assert await rebuild(svc.runtime.store) == 6
    assert await snapshot() == live
