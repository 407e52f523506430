"""Outbound through the real broker and database: an insurance invoice becomes a valid 837P in the
clearinghouse's outbound folder; claims that would be rejected wait in the work queue until fixed."""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager, suppress
from datetime import date
from pathlib import Path
from typing import Any, cast

import pyx12.params
import pyx12.x12n_document

from billing_events.contracts.base import Event
from billing_testing import builders
from billing_testing.harness import ServiceHarness, envelopes, publish_events, read_topic
from claims.adapters.rebuild import rebuild_claims_view
from claims.domain.identifiers import claim_id_for
from claims.entrypoints import SERVICE
from claims.entrypoints.workers import submission, workers
from claims.settings import ClaimsSettings

TENANT = "tenant-a"
SERVICE_DATE = date.today()
# The claims table's columns that come from the log (times and the row sequence are the table's own).
REBUILT = (
    "claim_id, tenant, invoice_id, patient_id, payer_id, patient_control_number, status, pending_frequency, "
    "findings, payer_claim_control_number, paid_cents, adjudication, last_batch_id, version"
)


def new_id() -> str:
    return str(uuid.uuid4())


class Clinic:
    """One tenant's reference data, as registration would publish it."""

    def __init__(self) -> None:
        self.payer_id, self.billing_id, self.rendering_id = new_id(), new_id(), new_id()
        self.patient_id, self.coverage_id = new_id(), new_id()

    async def reference(self, svc: ServiceHarness, **patient: Any) -> list[Event]:
        vault = svc.runtime.vault
        return [
            builders.payer_registered(self.payer_id),
            builders.billing_provider_enrolled(self.billing_id),
            builders.rendering_provider_enrolled(self.rendering_id),
            await builders.sealed_patient_registered(vault, self.patient_id, **patient),
            await builders.sealed_coverage_added(vault, self.coverage_id, self.patient_id, self.payer_id),
        ]

    def invoice(self, invoice_id: str | None = None, **changes: Any) -> Any:
        values: dict[str, Any] = {
            "encounter_id": new_id(),
            "patient_id": self.patient_id,
            "coverage_id": self.coverage_id,
            "payer_id": self.payer_id,
            "billing_provider_id": self.billing_id,
            "rendering_provider_id": self.rendering_id,
            "service_date": SERVICE_DATE,
        } | changes
        return builders.invoice_issued(invoice_id or new_id(), **values)


@asynccontextmanager
async def claims_service(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        svc.runtime.extras["claims_settings"] = ClaimsSettings(
            clearinghouse_dir=str(tmp_path / "clearinghouse")
        )
        yield svc


async def play(svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str, events: list[Event]) -> None:
    await publish_events(kafka_bootstrap, topic_prefix, events, tenant=TENANT)
    await svc.drain()


def outbound(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "clearinghouse" / "outbound").glob("*.x12"))


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def pyx12_errors(x12: str) -> list[str]:
    handler = _Errors()
    logging.getLogger("pyx12").addHandler(handler)
    try:
        valid = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=io.StringIO(x12), fd_997=None, fd_html=None
        )
    finally:
        logging.getLogger("pyx12").removeHandler(handler)
    return handler.messages if handler.messages or valid else ["invalid"]


async def test_an_insurance_invoice_leaves_as_a_valid_837p_in_the_outbound_folder(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    clinic = Clinic()
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        invoice = clinic.invoice()
        self_pay = clinic.invoice(responsibility="self_pay", coverage_id=None, payer_id=None)
        reference = await clinic.reference(svc)
        # The same InvoiceIssued twice (a redelivery from another relay run) still makes one claim.
        await play(svc, kafka_bootstrap, topic_prefix, [*reference, invoice, invoice, self_pay])

        sent = await submission(svc.runtime).run_once()

        biller = svc.client(["biller"])
        listed = (await biller.get("/claims", params={"invoice_id": invoice.invoice_id})).json()["items"]
        claim_id = claim_id_for(TENANT, invoice.invoice_id)
        claim = (await biller.get(f"/claims/{claim_id}")).json()
        history = (await svc.client(["auditor"]).get(f"/claims/{claim_id}/history")).json()
        single = await biller.get(f"/claims/{claim_id}/837")
        phi_reads = (await svc.client(["auditor"]).get("/audit/phi-reads")).json()["items"]
        other_tenant = await svc.client(["biller"], tenant="tenant-b").get(f"/claims/{claim_id}")
        self_pay_claims = (await biller.get("/claims", params={"invoice_id": self_pay.invoice_id})).json()
        await svc.published()
        async with svc.runtime.pool.acquire() as db:
            stored = ""
            for table in ("claims", "claims_patients", "claims_coverages", "claim_submissions"):
                stored += " ".join(str(row) for row in await db.fetch(f"SELECT * FROM {table}"))
            live = [dict(r) for r in await db.fetch(f"SELECT {REBUILT} FROM claims ORDER BY seq")]
            await rebuild_claims_view(svc.runtime, lambda done, total: None)
            rebuilt = [dict(r) for r in await db.fetch(f"SELECT {REBUILT} FROM claims ORDER BY seq")]

    files = outbound(tmp_path)
    assert len(sent) == 1 and len(files) == 1
    # The 837 holds PHI: its read is audited (issue 16).
    assert [(r["claim_id"], r["access"], r["actor"]) for r in phi_reads] == [
        (claim_id, "claim_837", "tester")
    ]
    x12 = files[0].read_text()
    assert pyx12_errors(x12) == []
    assert f"CLM*{claim['patient_control_number']}*140***11:B:1*Y*A*Y*Y~" in x12
    assert "NM1*IL*1*GONZALEZ*MARIA****MI*XJH123456789~" in x12  # decrypted only for the file
    assert "N4*CAMBRIDGE*MA*02139~" in x12
    assert [c["claim_id"] for c in listed] == [claim_id]
    assert claim["status"] == "submitted"
    assert claim["total_charge_cents"] == 14000
    assert [line["line_control_number"] for line in claim["lines"]] == [
        f"{claim['patient_control_number']}-1",
        f"{claim['patient_control_number']}-2",
    ]
    assert [item["event_type"] for item in history["items"]] == [
        "ClaimCreated",
        "ClaimReady",
        "ClaimSubmitted",
    ]
    (sent_file,) = history["files"]
    assert sent_file["file_name"] == files[0].name
    assert sent_file["interchange_control_number"] == "000000001"
    assert sent_file["transaction_set_control_number"] == "0001"
    assert single.status_code == 200 and single.headers["content-type"].startswith("text/plain")
    assert pyx12_errors(single.text) == []
    assert "ISA*00*" in single.text and "*000000001*0*P*:~" in single.text
    assert other_tenant.status_code == 404
    assert rebuilt == live and len(live) == 1
    assert self_pay_claims["items"] == []
    assert "Gonzalez" not in stored and "GONZALEZ" not in stored and "XJH123456789" not in stored

    published = envelopes(await read_topic(kafka_bootstrap, f"{topic_prefix}billing.claims.claim", expect=3))
    assert [e.event_type for e in published] == ["ClaimCreated", "ClaimReady", "ClaimSubmitted"]
    batches = envelopes(
        await read_topic(kafka_bootstrap, f"{topic_prefix}billing.claims.submission-batch", expect=1)
    )
    assert [(e.event_type, e.payload["claim_ids"]) for e in batches] == [("SubmissionBatchSent", [claim_id])]


async def test_a_claim_that_becomes_due_wakes_the_submission_worker_instead_of_waiting_for_its_round(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    """The worker's round comes every minute here; the claim leaves a moment after it became due,
    woken by the claims table (NOTIFY claims_to_send), as it would be in a worker process of its own."""
    clinic = Clinic()
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        svc.runtime.extras["claims_settings"] = ClaimsSettings(
            clearinghouse_dir=str(tmp_path / "clearinghouse"),
            submission_interval_seconds=60,
            submission_linger_seconds=0.1,
        )
        stop = asyncio.Event()
        round_or_wake = cast(Coroutine[Any, Any, None], workers(svc.runtime)[0](stop))
        sender = asyncio.create_task(round_or_wake)
        try:
            await asyncio.sleep(0.5)  # its first round found nothing; the next is a minute away
            assert outbound(tmp_path) == []
            await play(svc, kafka_bootstrap, topic_prefix, [*await clinic.reference(svc), clinic.invoice()])
            waited = 0.0
            while not outbound(tmp_path) and waited < 15:
                await asyncio.sleep(0.1)
                waited += 0.1
        finally:
            stop.set()
            await sender
    assert len(outbound(tmp_path)) == 1, "the claim waited for the worker's next round"


async def test_claims_that_would_be_rejected_wait_in_the_work_queue_until_fixed_upstream(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    clinic = Clinic()
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        reference = await clinic.reference(svc, address={**builders.HOME, "state": "XX"})
        payer, billing, rendering, patient, coverage = reference
        # The invoice arrives before the billing provider and the coverage are known.
        invoice = clinic.invoice()
        await play(svc, kafka_bootstrap, topic_prefix, [payer, rendering, patient, invoice])
        biller = svc.client(["biller"])
        queue = (await biller.get("/claims", params={"status": "scrub_failed"})).json()["items"]

        await play(svc, kafka_bootstrap, topic_prefix, [billing, coverage])
        fixed = (await biller.get("/claims", params={"invoice_id": invoice.invoice_id})).json()["items"]
        # The address can only be checked decrypted, while the 837 is written: the claim is held back.
        nothing_sent = await submission(svc.runtime).run_once()
        held = (await biller.get("/claims", params={"status": "scrub_failed"})).json()["items"]

        corrected = await svc.runtime.vault.seal_fields(clinic.patient_id, {"address": builders.HOME})
        update = builders.patient_demographics_updated(clinic.patient_id, address=corrected["address"])
        await play(svc, kafka_bootstrap, topic_prefix, [update])
        sent = await submission(svc.runtime).run_once()
        final = (await biller.get(f"/claims/{claim_id_for(TENANT, invoice.invoice_id)}")).json()
        auditor_resubmits = await svc.client(["auditor"]).post(
            f"/claims/{final['claim_id']}/resubmit", json={"reason": "x"}
        )

    (waiting,) = queue
    assert {(f["edit_id"], f["field"]) for f in waiting["findings"]} == {
        ("SCRUB-BILLING-NPI", "billing_provider_id"),
        ("SCRUB-SUBSCRIBER", "coverage_id"),
    }
    assert fixed[0]["status"] == "ready" and fixed[0]["findings"] == []
    assert nothing_sent == []
    assert [(f["edit_id"], f["field"]) for f in held[0]["findings"]] == [
        ("SCRUB-PATIENT", "patient.address.state")
    ]
    assert len(sent) == 1 and final["status"] == "submitted"
    assert pyx12_errors(outbound(tmp_path)[0].read_text()) == []
    assert auditor_resubmits.status_code == 403


async def test_control_numbers_never_repeat_across_batches_and_restarts(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    clinic = Clinic()
    other_payer = new_id()
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        reference = await clinic.reference(svc)
        second_coverage = await builders.sealed_coverage_added(
            svc.runtime.vault, new_id(), clinic.patient_id, other_payer, priority="secondary"
        )
        await play(
            svc,
            kafka_bootstrap,
            topic_prefix,
            [
                *reference,
                builders.payer_registered(other_payer, name="Globex Care", edi_payer_id="GLBX2"),
                second_coverage,
            ],
        )
        # Two payers: two files, one per payer, in one round.
        await play(
            svc,
            kafka_bootstrap,
            topic_prefix,
            [clinic.invoice(), clinic.invoice(coverage_id=second_coverage.coverage_id, payer_id=other_payer)],
        )
        first_round = await submission(svc.runtime).run_once()

        # The writer dies after the batch committed and before its file was written.
        await play(
            svc,
            kafka_bootstrap,
            topic_prefix,
            [clinic.invoice(lines=(builders.invoice_line(1, "99214", 18000),))],
        )
        crashing = submission(svc.runtime)

        def die(name: str, content: str) -> object:
            raise OSError("disk gone")

        crashing.outbox.write_outbound = die  # type: ignore[method-assign]
        with suppress(OSError):
            await crashing.run_once()
        files_after_crash = outbound(tmp_path)

    # A restart: a new process on the same database finishes the file, then sends new claims.
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        recovered = await submission(svc.runtime).finish_unwritten()
        await play(
            svc,
            kafka_bootstrap,
            topic_prefix,
            [clinic.invoice(lines=(builders.invoice_line(1, "99215", 21000),))],
        )
        after_restart = await submission(svc.runtime).run_once()
        async with svc.runtime.pool.acquire() as db:
            numbers = [
                r["control_number"]
                for r in await db.fetch("SELECT control_number FROM submission_batches ORDER BY created_at")
            ]
            submitted = await db.fetchval("SELECT count(*) FROM events WHERE event_type = 'ClaimSubmitted'")

    files = outbound(tmp_path)
    isa13 = sorted(f.read_text().split("*")[13] for f in files)
    assert len(first_round) == 2 and len(files_after_crash) == 2
    assert recovered == 1 and len(after_restart) == 1
    assert numbers == [1, 2, 3, 4]
    assert isa13 == ["000000001", "000000002", "000000003", "000000004"]
    assert submitted == 4  # each claim once: the rewritten file is the same batch, not a new one
    for file in files:
        assert pyx12_errors(file.read_text()) == []


async def test_voiding_an_invoice_voids_its_claim_and_releases_a_duplicate(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    clinic = Clinic()
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        reference = await clinic.reference(svc)
        sent_first, twin = clinic.invoice(), clinic.invoice()
        await play(svc, kafka_bootstrap, topic_prefix, [*reference, sent_first])
        await submission(svc.runtime).run_once()
        # The same patient, payer, date and codes again: a duplicate, held back.
        await play(svc, kafka_bootstrap, topic_prefix, [twin])
        biller = svc.client(["biller"])
        twin_id = claim_id_for(TENANT, twin.invoice_id)
        held = (await biller.get(f"/claims/{twin_id}")).json()

        voided = builders.invoice_voided(sent_first.invoice_id, sent_first.encounter_id, reason="recoded")
        await play(svc, kafka_bootstrap, topic_prefix, [voided])
        await submission(svc.runtime).run_once()
        first = (await biller.get(f"/claims/{claim_id_for(TENANT, sent_first.invoice_id)}")).json()
        released = (await biller.get(f"/claims/{twin_id}")).json()

        never_sent = clinic.invoice(service_date=date.fromordinal(SERVICE_DATE.toordinal() - 1))
        await play(svc, kafka_bootstrap, topic_prefix, [never_sent])
        void_unsent = builders.invoice_voided(never_sent.invoice_id, never_sent.encounter_id, reason="x")
        await play(svc, kafka_bootstrap, topic_prefix, [void_unsent])
        unsent = (await biller.get(f"/claims/{claim_id_for(TENANT, never_sent.invoice_id)}")).json()
        await submission(svc.runtime).run_once()

    assert [f["edit_id"] for f in held["findings"]] == ["SCRUB-DUPLICATE"]
    assert first["status"] == "voided"
    assert [s["frequency_code"] for s in first["submissions"]] == ["1", "8"]
    assert released["status"] == "submitted"
    assert unsent["status"] == "voided" and unsent["submissions"] == []
    texts = [f.read_text() for f in outbound(tmp_path)]
    void_file = next(t for t in texts if ":B:8*" in t)
    assert f"REF*F8*{first['patient_control_number']}~" in void_file
    assert all(pyx12_errors(t) == [] for t in texts)
    assert len(texts) == 2  # the void and the released twin left together, in one file to the payer
