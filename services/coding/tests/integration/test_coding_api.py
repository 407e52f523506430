"""The coding service through HTTP, against the real broker and database: registration's events are
played onto Kafka, the coder uses the API, and coding's events are read back from its topic."""

from __future__ import annotations

import shutil
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from billing_events.contracts.registration import EncounterOpened, PatientDemographicsUpdated
from billing_events.envelope import EventEnvelope
from billing_service.runtime import ServiceDefinition
from billing_testing.harness import ServiceHarness, envelopes, publish_events, read_topic
from coding.domain.values import Sex
from coding.entrypoints import coding_service
from coding.entrypoints.codesets import run as import_codesets
from coding.settings import PACKAGED_REFERENCE_DIR, CodingSettings

TOPIC = "billing.coding.encounter-coding"


def service(tmp_path: Path, *, older_release: bool = False) -> ServiceDefinition:
    """The service on the shipped demo tables, plus (optionally) a small older ICD-10-CM release."""
    reference = tmp_path / "reference"
    shutil.copytree(PACKAGED_REFERENCE_DIR, reference)
    if older_release:
        # A test release effective 2025-10-01 in the CMS order-file layout. Its contents are test
        # data: R05 billable (a header from the April 2026 release on), R05.1 absent.
        order = tmp_path / "icd10cm_order_2026.txt"
        rows = [("R05", 1, "Cough"), ("Z3482", 1, "Encounter for supervision of other normal pregnancy")]
        order.write_text(
            "".join(f"{n:05d} {c:<7} {b} {d[:60]:<60} {d}\n" for n, (c, b, d) in enumerate(rows, 1))
        )
        import_codesets(["icd10cm", str(order), "--into", str(reference)])
    return coding_service(CodingSettings(reference_dir=reference))


def opened(service_date: date = date(2026, 5, 12), sex: Sex = "M", age: int = 54) -> EncounterOpened:
    return EncounterOpened(
        encounter_id=str(uuid.uuid4()),
        patient_id=str(uuid.uuid4()),
        billing_provider_id="org-1",
        rendering_provider_id="doc-1",
        service_date=service_date,
        place_of_service="11",
        patient_sex=sex,
        patient_age_years=age,
    )


VISIT: dict[str, Any] = {
    "diagnoses": ["E11.9", "I10"],
    "lines": [
        {"code": "99214", "modifiers": ["25"], "units": 1, "diagnosis_pointers": [1, 2]},
        {"code": "20610", "modifiers": ["RT"], "units": 1, "diagnosis_pointers": [1]},
        {"code": "36415", "units": 1, "diagnosis_pointers": [1]},
    ],
}


async def coding_events(kafka_bootstrap: str, topic_prefix: str, expect: int) -> list[EventEnvelope]:
    return envelopes(await read_topic(kafka_bootstrap, f"{topic_prefix}{TOPIC}", expect=expect))


async def test_a_coder_codes_and_recodes_an_encounter_and_the_events_reach_kafka(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    encounter = opened()
    url = f"/encounters/{encounter.encounter_id}/coding"
    async with ServiceHarness.start(
        service(tmp_path), database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as svc:
        await publish_events(kafka_bootstrap, topic_prefix, [encounter], tenant=svc.tenant)
        await svc.drain()
        coder = svc.client(["coder"], subject="coder-7")

        first = await coder.put(url, json=VISIT)
        again = await coder.put(url, json=VISIT)
        recoded = await coder.put(
            url,
            json={**VISIT, "diagnoses": ["E11.65", "I10"], "reason": "documentation shows hyperglycemia"},
            headers={"If-Match": '"1"'},
        )
        stale = await coder.put(url, json=VISIT, headers={"If-Match": '"1"'})
        read = await svc.client(["biller"]).get(url)
        await svc.published()
    events = await coding_events(kafka_bootstrap, topic_prefix, expect=2)

    assert first.status_code == 200
    assert (first.json()["coding_version"], first.json()["changed"]) == (1, True)
    assert (again.status_code, again.json()["coding_version"], again.json()["changed"]) == (200, 1, False)
    assert (recoded.status_code, recoded.json()["coding_version"]) == (200, 2)
    assert stale.status_code == 409
    assert read.status_code == 200
    assert read.headers["etag"] == '"2"'
    body = read.json()
    assert (body["coding_version"], body["diagnoses"], body["coded_by"]) == (2, ["E11.65", "I10"], "coder-7")
    assert body["reason"] == "documentation shows hyperglycemia"

    assert [e.event_type for e in events] == ["EncounterCoded", "EncounterRecoded"]
    coded, recoding = (e.payload for e in events)
    assert coded == {
        "encounter_id": encounter.encounter_id,
        "patient_id": encounter.patient_id,
        "coding_version": 1,
        "service_date": "2026-05-12",
        "billing_provider_id": "org-1",
        "rendering_provider_id": "doc-1",
        "place_of_service": "11",
        "diagnoses": ["E11.9", "I10"],
        "lines": [
            {
                "line_number": 1,
                "code": "99214",
                "code_system": "CPT",
                "modifiers": ["25"],
                "units": 1,
                "diagnosis_pointers": [1, 2],
            },
            {
                "line_number": 2,
                "code": "20610",
                "code_system": "CPT",
                "modifiers": ["RT"],
                "units": 1,
                "diagnosis_pointers": [1],
            },
            {
                "line_number": 3,
                "code": "36415",
                "code_system": "CPT",
                "modifiers": [],
                "units": 1,
                "diagnosis_pointers": [1],
            },
        ],
        "warnings": [],
    }
    assert (recoding["coding_version"], recoding["previous_version"]) == (2, 1)
    assert recoding["diagnoses"] == ["E11.65", "I10"]
    # The coder's words are sealed under the patient's key on Kafka (and in the log), read in clear
    # through the API only.
    assert recoding["reason"] == "(sealed)"
    assert recoding["sealed_reason"]["key_id"] == encounter.patient_id
    assert "hyperglycemia" not in str(recoding)
    assert recoded.json()["reason"] == "documentation shows hyperglycemia"
    assert "sealed_reason" not in body
    assert all(e.stream_id == encounter.encounter_id and e.tenant == "tenant-a" for e in events)
    assert all(e.metadata["actor"] == "coder-7" for e in events)


async def test_failed_edits_answer_422_with_every_error_and_store_nothing(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    encounter = opened(sex="M", age=30)
    url = f"/encounters/{encounter.encounter_id}/coding"
    bad = {
        "diagnoses": ["E11", "O80", "P59.9"],
        "lines": [
            {"code": "99213", "modifiers": ["ZZ"], "units": 0, "diagnosis_pointers": [4]},
            {"code": "20610", "diagnosis_pointers": [1]},
            {"code": "John Smith", "diagnosis_pointers": [1]},
        ],
    }
    async with ServiceHarness.start(
        service(tmp_path), database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as svc:
        await publish_events(kafka_bootstrap, topic_prefix, [encounter], tenant=svc.tenant)
        await svc.drain()
        refused = await svc.client(["coder"]).put(url, json=bad)
        unknown = await svc.client(["coder"]).put(f"/encounters/{uuid.uuid4()}/coding", json=VISIT)
        other_tenant = await svc.client(["coder"], tenant="tenant-b").put(url, json=VISIT)
        biller_writes = await svc.client(["biller"]).put(url, json=VISIT)
        nothing_yet = await svc.client(["auditor"]).get(url)
        no_role = await svc.client([]).get(url)
        anonymous = await svc.client(["auditor"]).get(url, headers={"Authorization": ""})
        log = await svc.runtime.store.read_all()

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert [(e["edit_id"], e["field"]) for e in problem["errors"]] == [
        ("ICD-NONBILLABLE", "diagnoses[0]"),
        ("SEX-CONFLICT", "diagnoses[1]"),
        ("NCCI-PTP", "lines[0].code"),
        ("MOD-UNKNOWN", "lines[0].modifiers[0]"),
        ("UNITS-RANGE", "lines[0].units"),
        ("PTR-INVALID", "lines[0].diagnosis_pointers[0]"),
        ("CPT-FORMAT", "lines[2].code"),
    ]
    assert all(e["severity"] == "error" and e["message"] for e in problem["errors"])
    assert [(w["edit_id"], w["field"]) for w in problem["warnings"]] == [("AGE-NEWBORN", "diagnoses[2]")]
    assert "John" not in refused.text and "JOHN" not in refused.text
    assert unknown.status_code == 404
    assert "registration" in unknown.json()["detail"]
    assert other_tenant.status_code == 404
    assert biller_writes.status_code == 403
    assert nothing_yet.status_code == 404
    assert no_role.status_code == 403
    assert anonymous.status_code == 401
    assert log == []


async def test_the_service_date_picks_the_release_and_a_sex_correction_reaches_the_edits(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    before_april = opened(service_date=date(2025, 11, 3), sex="F", age=31)
    after_april = opened(service_date=date(2026, 5, 12), sex="F", age=31)
    cough = {"diagnoses": ["R05"], "lines": [{"code": "99213", "diagnosis_pointers": [1]}]}
    new_cough = {"diagnoses": ["R05.1"], "lines": [{"code": "99213", "diagnosis_pointers": [1]}]}
    prenatal = {"diagnoses": ["Z34.82"], "lines": [{"code": "99213", "diagnosis_pointers": [1]}]}
    async with ServiceHarness.start(
        service(tmp_path, older_release=True), database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as svc:
        await publish_events(kafka_bootstrap, topic_prefix, [before_april, after_april], tenant=svc.tenant)
        await svc.drain()
        coder = svc.client(["coder"])
        old_release_ok = await coder.put(f"/encounters/{before_april.encounter_id}/coding", json=cough)
        not_yet = await coder.put(f"/encounters/{before_april.encounter_id}/coding", json=new_cough)
        header_now = await coder.put(f"/encounters/{after_april.encounter_id}/coding", json=cough)
        female_ok = await coder.put(f"/encounters/{after_april.encounter_id}/coding", json=prenatal)

        correction = PatientDemographicsUpdated(patient_id=after_april.patient_id, sex="M")
        await publish_events(kafka_bootstrap, topic_prefix, [correction], tenant=svc.tenant)
        await svc.drain()
        after_correction = await coder.put(f"/encounters/{after_april.encounter_id}/coding", json=prenatal)

    assert old_release_ok.status_code == 200
    assert not_yet.status_code == 422
    assert [(e["edit_id"], e["field"]) for e in not_yet.json()["errors"]] == [("ICD-DATE", "diagnoses[0]")]
    assert "2026-04-01" in not_yet.json()["errors"][0]["message"]
    assert header_now.status_code == 422
    assert [e["edit_id"] for e in header_now.json()["errors"]] == ["ICD-NONBILLABLE"]
    assert female_ok.status_code == 200
    assert after_correction.status_code == 422
    assert [e["edit_id"] for e in after_correction.json()["errors"]] == ["SEX-CONFLICT"]


async def test_an_admin_imports_the_tenants_cpt_list_and_coders_search_codes(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    encounter = opened()
    url = f"/encounters/{encounter.encounter_id}/coding"
    visit = {"diagnoses": ["I10"], "lines": [{"code": "99214", "diagnosis_pointers": [1]}]}
    async with ServiceHarness.start(
        service(tmp_path), database_url, kafka_bootstrap, topic_prefix, tmp_path, consume=True
    ) as svc:
        await publish_events(kafka_bootstrap, topic_prefix, [encounter], tenant=svc.tenant)
        await svc.drain()
        admin, coder = svc.client(["admin"]), svc.client(["coder"])
        typo = await admin.put(
            "/code-lists/cpt", content="code\n99213\n9921X\n", headers={"content-type": "text/csv"}
        )
        imported = await admin.put(
            "/code-lists/cpt", content="code\n99213\n36415\n", headers={"content-type": "text/csv"}
        )
        status = await coder.get("/code-lists/cpt")
        unlicensed = await coder.put(url, json=visit)
        coder_may_not_import = await coder.put("/code-lists/cpt", json={"codes": ["99214"]})
        await admin.put("/code-lists/cpt", json={"codes": ["99213", "99214"]})
        licensed = await coder.put(url, json=visit)
        forgotten = await admin.delete("/code-lists/cpt")

        words = await coder.get(
            "/codes/icd10cm", params={"q": "type 2 diabetes without complications", "date": "2026-05-12"}
        )
        prefix = await coder.get("/codes/icd10cm", params={"q": "E11.6", "date": "2026-05-12", "limit": 3})
        page_two = await coder.get(
            "/codes/icd10cm", params={"q": "E11.6", "date": "2026-05-12", "limit": 3, "cursor": "3"}
        )
        uncovered = await coder.get("/codes/icd10cm", params={"q": "E11.9", "date": "2026-11-27"})
        edits = await svc.client(["auditor"]).get("/edits")

    assert typo.status_code == 422
    assert typo.json()["errors"] == [
        {"field": "lines[1]", "message": "9921X is not a CPT code (5 digits, or 4 digits and F, T, U or M)."}
    ]
    assert imported.status_code == 200 and imported.json()["codes"] == 2
    assert status.json()["imported"] is True and status.json()["codes"] == 2
    assert unlicensed.status_code == 422
    assert [(e["edit_id"], e["field"]) for e in unlicensed.json()["errors"]] == [
        ("CPT-UNLICENSED", "lines[0].code")
    ]
    assert coder_may_not_import.status_code == 403
    assert licensed.status_code == 200
    assert forgotten.status_code == 204

    assert words.status_code == 200
    assert words.json()["items"][0] == {
        "code": "E11.9",
        "description": "Type 2 diabetes mellitus without complications",
        "billable": True,
    }
    assert words.json()["release"] == "2026-04-01" and words.json()["release_covers_date"] is True
    assert [h["code"] for h in prefix.json()["items"]] == ["E11.6", "E11.61", "E11.610"]
    assert prefix.json()["next_cursor"] == "3"
    assert [h["code"] for h in page_two.json()["items"]] == ["E11.618", "E11.62", "E11.620"]
    assert uncovered.json()["release_covers_date"] is False
    assert {"ICD-INVALID", "NCCI-PTP", "MUE", "AGE-MATERNITY"} <= {
        e["edit_id"] for e in edits.json()["items"]
    }


async def test_a_batch_of_codings_answers_each_encounter_on_its_own(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    first, second, refused = opened(), opened(), opened(sex="M", age=30)
    unknown = str(uuid.uuid4())
    bad = {"diagnoses": ["O80"], "lines": [{"code": "99213", "units": 1, "diagnosis_pointers": [1]}]}
    async with ServiceHarness.start(
        service(tmp_path), database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as svc:
        await publish_events(kafka_bootstrap, topic_prefix, [first, second, refused], tenant=svc.tenant)
        await svc.drain()
        coder = svc.client(["coder"], subject="coder-7")
        batch = {
            "codings": [
                {"encounter_id": first.encounter_id, **VISIT},
                {"encounter_id": unknown, **VISIT},
                {"encounter_id": refused.encounter_id, **bad},
                {"encounter_id": second.encounter_id, **VISIT},
            ]
        }
        answer = await coder.post("/codings", json=batch)
        again = await coder.post("/codings", json={"codings": batch["codings"][:1]})
        biller = await svc.client(["biller"]).post("/codings", json=batch)
        too_many = await coder.post("/codings", json={"codings": batch["codings"][:1] * 501})
        read = await coder.get(f"/encounters/{second.encounter_id}/coding")
        await svc.published()
    events = await coding_events(kafka_bootstrap, topic_prefix, expect=2)

    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [(r["encounter_id"], r["status"]) for r in results] == [
        (first.encounter_id, 200),
        (unknown, 404),
        (refused.encounter_id, 422),
        (second.encounter_id, 200),
    ]
    assert (results[0]["coding_version"], results[0]["changed"]) == (1, True)
    assert [e["edit_id"] for e in results[2]["errors"]] == ["SEX-CONFLICT"]
    # The refused and the unknown encounter stored nothing; the two others one EncounterCoded each.
    assert sorted(e.stream_id for e in events) == sorted([first.encounter_id, second.encounter_id])
    assert [e.event_type for e in events] == ["EncounterCoded", "EncounterCoded"]
    assert again.json()["results"][0] | {"status": 200, "changed": False} == again.json()["results"][0]
    assert read.json()["diagnoses"] == VISIT["diagnoses"]
    assert biller.status_code == 403
    assert too_many.status_code == 422
