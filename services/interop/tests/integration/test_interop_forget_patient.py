"""PatientForgotten in interop: FHIR no longer knows the patient's Patient and Coverage, and every Bulk
Data export whose NDJSON holds the patient (decrypted, in clear) is deleted with its files; exports
without the patient stay; a second delivery changes nothing."""

from __future__ import annotations

from pathlib import Path

from billing_events.contracts.registration import PatientForgotten
from billing_testing.harness import ServiceHarness

from .test_interop_fhir import FAMILY, TENANT, Visit, _export, interop, play

__all__ = ["interop"]  # the fixture, shared with the FHIR tests


async def test_a_forgotten_patient_leaves_no_fhir_resource_and_no_export_file(
    interop: ServiceHarness, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    kept, forgotten = Visit(), Visit()
    client = interop.client(["biller"])
    await play(interop, kafka_bootstrap, topic_prefix, await kept.events(interop), TENANT)
    without = await _export(client, "/fhir/$export", _type="Patient")
    await play(interop, kafka_bootstrap, topic_prefix, await forgotten.events(interop), TENANT)
    holding = await _export(client, "/fhir/$export", _type="Patient,Coverage")
    exports = tmp_path / "interop-exports" / TENANT
    holding_id = holding["output"][0]["url"].split("/")[-2]
    assert any(FAMILY in p.read_text() for p in (exports / holding_id).glob("*.ndjson"))

    gone = PatientForgotten(patient_id=forgotten.patient_id, reason="ticket 4711")
    await play(interop, kafka_bootstrap, topic_prefix, [gone, gone], TENANT)  # twice: applied once

    assert (await client.get(f"/fhir/Patient/{forgotten.patient_id}")).status_code == 404
    assert (await client.get(f"/fhir/Patient/{kept.patient_id}")).status_code == 200
    coverages = (await client.get("/fhir/Coverage", params={"patient": forgotten.patient_id})).json()
    assert coverages.get("entry", []) == []
    # The export that held the patient is gone, files and all; the one without stays readable.
    assert list((exports / holding_id).glob("*.ndjson")) == []
    assert (await client.get(f"/fhir/$export-status/{holding_id}")).status_code == 404
    without_id = without["output"][0]["url"].split("/")[-2]
    assert (await client.get(f"/fhir/$export-status/{without_id}")).status_code == 200
    left = "".join(p.read_text() for p in exports.rglob("*.ndjson"))
    assert forgotten.patient_id not in left
