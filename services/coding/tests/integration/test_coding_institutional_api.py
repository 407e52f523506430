"""Institutional coding through coding's HTTP API, against the real broker and database: registration's
AdmissionOpened/AdmissionDischarged are played onto Kafka, the coder codes the stay, and
InstitutionalEncounterCoded (with POA, ICD-10-PCS and the MS-DRG) is read back from coding's topic."""

from __future__ import annotations

import shutil
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from billing_events.contracts.registration import AdmissionDischarged, AdmissionOpened
from billing_service.runtime import ServiceDefinition
from billing_testing.harness import ServiceHarness, envelopes, publish_events, read_topic
from coding.entrypoints import coding_service
from coding.settings import PACKAGED_REFERENCE_DIR, CodingSettings

TOPIC = "billing.coding.encounter-coding"
EASTERN = timezone(timedelta(hours=-4))
ADMITTED = datetime(2026, 5, 4, 6, 30, tzinfo=EASTERN)
DISCHARGED = datetime(2026, 5, 6, 14, 0, tzinfo=EASTERN)
KNEE_STAY: dict[str, Any] = {
    "principal_diagnosis": {"code": "M17.11", "poa": "Y"},  # primary osteoarthritis, right knee
    "admitting_diagnosis": "M17.11",
    "diagnoses": [{"code": "E11.9", "poa": "Y"}, {"code": "Z68.41", "poa": None}],
    "procedures": [{"code": "0SRC0J9", "date": "2026-05-04"}],  # right total knee, cemented, open
}


def service(tmp_path: Path) -> ServiceDefinition:
    reference = tmp_path / "reference"
    shutil.copytree(PACKAGED_REFERENCE_DIR, reference)
    return coding_service(CodingSettings(reference_dir=reference))


def admission(setting: str = "inpatient") -> AdmissionOpened:
    return AdmissionOpened(
        encounter_id=str(uuid.uuid4()),
        patient_id=str(uuid.uuid4()),
        facility_id="fac-1",
        attending_provider_id="doc-1",
        setting=setting,
        admitted_at=ADMITTED,
        admission_type="3",
        admission_source="1",
        patient_sex="F",
        patient_age_years=68,
    )


def discharged(stay: AdmissionOpened) -> AdmissionDischarged:
    return AdmissionDischarged(
        encounter_id=stay.encounter_id,
        patient_id=stay.patient_id,
        facility_id=stay.facility_id,
        setting=stay.setting,
        admitted_at=stay.admitted_at,
        discharged_at=DISCHARGED,
        discharge_status="01",
    )


async def test_an_inpatient_stay_is_coded_with_poa_pcs_and_its_drg_then_recoded(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    stay = admission()
    url = f"/encounters/{stay.encounter_id}/coding"
    async with ServiceHarness.start(
        service(tmp_path), database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as svc:
        await publish_events(kafka_bootstrap, topic_prefix, [stay, discharged(stay)], tenant=svc.tenant)
        await svc.drain()
        coder = svc.client(["coder"], subject="coder-3")
        first = await coder.put(url, json=KNEE_STAY)
        again = await coder.put(url, json=KNEE_STAY)
        with_mcc = {
            **KNEE_STAY,
            "diagnoses": [*KNEE_STAY["diagnoses"], {"code": "J96.01", "poa": "Y"}],
            "reason": "query answered: acute respiratory failure on admission",
        }
        recoded = await coder.put(url, json=with_mcc, headers={"If-Match": '"1"'})
        read = await svc.client(["biller"]).get(url)
        await svc.published()
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["coding_version"], body["changed"], body["kind"]) == (1, True, "institutional")
    # Discharged 2026-05-06: grouper v43.1, FY 2026 weight of DRG 470 (IPPS Table 5) is 1.9289.
    assert (body["drg"]["code"], body["drg"]["weight"]) == ("470", "1.9289")
    assert body["diagnoses"] == [{"code": "E11.9", "poa": "Y"}, {"code": "Z68.41", "poa": "1"}]
    assert body["warnings"] == []
    assert (again.json()["coding_version"], again.json()["changed"]) == (1, False)
    assert recoded.status_code == 200, recoded.text
    # J96.01 is an MCC present on admission: DRG 469, FY 2026 weight 3.0332.
    assert (recoded.json()["drg"]["code"], recoded.json()["drg"]["weight"]) == ("469", "3.0332")
    assert read.json()["coding_version"] == 2 and read.json()["coded_by"] == "coder-3"
    assert read.headers["etag"] == '"2"'

    events = envelopes(await read_topic(kafka_bootstrap, f"{topic_prefix}{TOPIC}", expect=2))
    assert [e.event_type for e in events] == ["InstitutionalEncounterCoded"] * 2
    coded, recoding = (e.payload for e in events)
    assert coded["principal_diagnosis"] == {"code": "M17.11", "poa": "Y"}
    assert coded["procedures"] == [{"code": "0SRC0J9", "date": "2026-05-04"}]
    assert coded["admitted_at"] == "2026-05-04T06:30:00-04:00"
    assert (coded["facility_id"], coded["attending_provider_id"], coded["setting"]) == (
        "fac-1",
        "doc-1",
        "inpatient",
    )
    assert coded["drg"]["grouper"].startswith("MS-DRG v43.1")
    assert (recoding["coding_version"], recoding["previous_version"]) == (2, 1)
    # Sealed on Kafka under the patient's key; in clear through coding's own API.
    assert recoding["reason"] == "(sealed)" and "respiratory" not in str(recoding)
    assert recoding["sealed_reason"]["key_id"] == stay.patient_id
    assert read.json()["reason"] == "query answered: acute respiratory failure on admission"
    assert "sealed_reason" not in read.json()


async def test_refused_codings_list_every_edit_and_store_nothing(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    stay, visit = admission(), admission("outpatient")
    async with ServiceHarness.start(
        service(tmp_path), database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as svc:
        await publish_events(
            kafka_bootstrap, topic_prefix, [stay, discharged(stay), visit], tenant=svc.tenant
        )
        await svc.drain()
        coder = svc.client(["coder"])
        url = f"/encounters/{stay.encounter_id}/coding"
        bad = await coder.put(
            url,
            json={
                **KNEE_STAY,
                "principal_diagnosis": "M17.11",  # no POA here, nor in the list
                "procedures": [{"code": "0SR90ZZ", "date": "2026-05-04"}],
            },
        )
        professional = await coder.put(url, json={"diagnoses": ["M17.11"], "lines": []})
        malformed = await coder.put(url, json={**KNEE_STAY, "procedures": [{"code": "0SRC0J9"}]})
        outpatient = await coder.put(
            f"/encounters/{visit.encounter_id}/coding",
            json={"principal_diagnosis": "N39.0", "diagnoses": []},
        )
        unknown = await coder.put(f"/encounters/{uuid.uuid4()}/coding", json=KNEE_STAY)
        stored = await svc.client(["biller"]).get(url)
    assert bad.status_code == 422
    assert {(e["field"], e["edit_id"]) for e in bad.json()["errors"]} == {
        ("principal_diagnosis.poa", "POA-REQUIRED"),
        ("procedures[0].code", "PCS-INVALID"),
    }
    assert professional.status_code == 422
    assert [e["field"] for e in professional.json()["errors"]] == ["principal_diagnosis"]
    assert malformed.status_code == 422
    assert [e["field"] for e in malformed.json()["errors"]] == ["procedures.0.date"]
    assert outpatient.status_code == 200, outpatient.text
    assert outpatient.json()["drg"] is None and outpatient.json()["setting"] == "outpatient"
    assert unknown.status_code == 404
    assert stored.status_code == 404
