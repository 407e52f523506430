"""PatientForgotten in claims: the patient's sealed reference data is blanked and the 837 files that
named the patient are purged from the clearinghouse's outbound folder; other patients keep theirs, the
claims stay (the billing record, by id only), and a second delivery changes nothing."""

from __future__ import annotations

from pathlib import Path

from billing_events.contracts.registration import PatientForgotten
from claims.domain.identifiers import claim_id_for
from claims.entrypoints.workers import submission

from .test_claims_outbound import TENANT, Clinic, claims_service, outbound, play


async def test_a_forgotten_patient_leaves_no_837_file_and_no_sealed_demographics(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    forgotten, kept = Clinic(), Clinic()  # two payers: each patient's claim goes in a file of its own
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        forgotten_invoice, kept_invoice = forgotten.invoice(), kept.invoice()
        events = [*await forgotten.reference(svc), *await kept.reference(svc)]
        await play(svc, kafka_bootstrap, topic_prefix, [*events, forgotten_invoice, kept_invoice])
        await submission(svc.runtime).run_once()
        files_before = outbound(tmp_path)
        assert len(files_before) == 2

        gone = PatientForgotten(patient_id=forgotten.patient_id, reason="ticket 4711")
        await play(svc, kafka_bootstrap, topic_prefix, [gone, gone])  # delivered twice: applied once

        remaining = outbound(tmp_path)
        assert len(remaining) == 1
        async with svc.runtime.pool.acquire() as db:
            patients = {
                row["patient_id"]: row
                for row in await db.fetch("SELECT patient_id, name, birth_date, address FROM claims_patients")
            }
            coverages = {
                row["patient_id"]: row
                for row in await db.fetch("SELECT patient_id, member_id, subscriber FROM claims_coverages")
            }
            batches = await db.fetch("SELECT file_name, claim_ids FROM submission_batches")
        forgotten_claim = claim_id_for(TENANT, forgotten_invoice.invoice_id)
        kept_claim = claim_id_for(TENANT, kept_invoice.invoice_id)
        files_of = {claim: row["file_name"] for row in batches for claim in row["claim_ids"]}
        assert remaining[0].name == files_of[kept_claim]
        assert files_of[forgotten_claim] not in {p.name for p in remaining}

        assert (patients[forgotten.patient_id]["name"], patients[forgotten.patient_id]["birth_date"]) == (
            None,
            None,
        )
        assert patients[forgotten.patient_id]["address"] is None
        assert coverages[forgotten.patient_id]["member_id"] is None
        assert patients[kept.patient_id]["name"] is not None
        assert coverages[kept.patient_id]["member_id"] is not None
        # The claim itself stays, as the practice's billing record.
        biller = svc.client(["biller"])
        assert (await biller.get(f"/claims/{forgotten_claim}")).status_code == 200
