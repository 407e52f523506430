"""PatientForgotten in coding: the patient's sex, the one fact about the patient coding keeps in clear,
becomes unknown (U) on their encounters and the correction row goes; other patients keep theirs; a
second delivery changes nothing."""

from __future__ import annotations

from pathlib import Path

from billing_events.contracts.registration import PatientDemographicsUpdated, PatientForgotten
from billing_testing.harness import ServiceHarness, publish_events

from .test_coding_api import opened, service


async def test_a_forgotten_patient_leaves_no_sex_in_codings_views(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    forgotten, kept = opened(sex="F"), opened(sex="M")
    async with ServiceHarness.start(
        service(tmp_path), database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as svc:
        corrected = PatientDemographicsUpdated(patient_id=forgotten.patient_id, sex="M")
        await publish_events(kafka_bootstrap, topic_prefix, [forgotten, kept, corrected], tenant=svc.tenant)
        await svc.drain()
        gone = PatientForgotten(patient_id=forgotten.patient_id, reason="ticket 4711")
        await publish_events(kafka_bootstrap, topic_prefix, [gone, gone], tenant=svc.tenant)
        await svc.drain()
        async with svc.runtime.pool.acquire() as db:
            sexes = dict(await db.fetch("SELECT patient_id, patient_sex FROM coding_encounters"))
            corrections = await db.fetch("SELECT patient_id FROM coding_patient_sex")

    assert sexes == {forgotten.patient_id: "U", kept.patient_id: "M"}
    assert corrections == []
