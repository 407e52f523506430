"""Inbound through the real broker and database: acknowledgements and remittances land on the right
claim and line, exactly once; bad files change nothing; corrected claims go back out. Also the
round trip with the payer simulator, a separate process, through the clearinghouse folder."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pyx12.params
import pyx12.x12n_document
from billing_x12 import (
    ClaimAck,
    ClaimAcknowledgement,
    EnvelopeRef,
    GroupResponse,
    Party,
    StatusCode,
    StatusInfo,
    TransactionSetResponse,
    write_277ca,
    write_999,
)

from billing_events.contracts.base import Event
from billing_testing import builders
from billing_testing.harness import ServiceHarness, publish_events
from claims.domain.identifiers import claim_id_for
from claims.entrypoints import SERVICE
from claims.entrypoints.workers import inbound_folder, submission
from claims.settings import ClaimsSettings

TENANT = "tenant-a"
TODAY = date.today()
NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None, second=0, microsecond=0)


def new_id() -> str:
    return str(uuid.uuid4())


@asynccontextmanager
async def claims_service(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        folder = str(tmp_path / "clearinghouse")
        svc.runtime.extras["claims_settings"] = ClaimsSettings(clearinghouse_dir=folder)
        yield svc


async def set_up_claims(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str, invoices: list[dict[str, Any]]
) -> list[Any]:
    """Reference data and one invoice per entry, all to the payer ACME1; returns the invoices."""
    payer_id, billing_id, rendering_id, patient_id, coverage_id = (new_id() for _ in range(5))
    vault = svc.runtime.vault
    events: list[Event] = [
        builders.payer_registered(payer_id),
        builders.billing_provider_enrolled(billing_id),
        builders.rendering_provider_enrolled(rendering_id),
        await builders.sealed_patient_registered(vault, patient_id),
        await builders.sealed_coverage_added(vault, coverage_id, patient_id, payer_id),
    ]
    issued = [
        builders.invoice_issued(
            new_id(),
            encounter_id=new_id(),
            patient_id=patient_id,
            coverage_id=coverage_id,
            payer_id=payer_id,
            billing_provider_id=billing_id,
            rendering_provider_id=rendering_id,
            service_date=TODAY,
            **changes,
        )
        for changes in invoices
    ]
    await publish_events(kafka_bootstrap, topic_prefix, [*events, *issued], tenant=TENANT)
    await svc.drain()
    return issued


def pyx12_valid(x12: str) -> bool:
    errors: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            errors.append(record.getMessage())

    handler = Collect(logging.ERROR)
    logging.getLogger("pyx12").addHandler(handler)
    try:
        valid = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=io.StringIO(x12), fd_997=None, fd_html=None
        )
    finally:
        logging.getLogger("pyx12").removeHandler(handler)
    return bool(valid) and not errors


def ack_999(receiver: str, number: int, accepted: bool) -> str:
    status = "A" if accepted else "R"
    group = GroupResponse(
        functional_id="HC",
        group_control_number=str(number),
        status=status,
        included_count=1,
        received_count=1,
        accepted_count=1 if accepted else 0,
        version="005010X222A1",
        transaction_sets=(
            TransactionSetResponse(
                "837", f"{number:04d}", status, "005010X222A1", () if accepted else ("5",)
            ),
        ),
    )
    return write_999(
        [group],
        sender_id="ACME1",
        receiver_id=receiver,
        interchange_control_number=900 + number,
        group_control_number=900 + number,
        first_transaction_set_control_number=1,
        created=NOW,
    )


def ack_277(receiver: str, answers: list[tuple[str, StatusCode, str | None]]) -> str:
    claims = tuple(
        ClaimAck(
            patient_control_number=number,
            statuses=(StatusInfo((status,), TODAY, "WQ" if status.category == "A2" else "U", 14000),),
            payer_claim_control_number=payer_number,
            service_date_from=TODAY,
            service_date_to=TODAY,
            patient=Party("QC", "1", "GONZALEZ", "MARIA", id_qualifier="MI", identifier="XJH123456789"),
            billing_provider=Party("85", "2", "HARBOR", id_qualifier="XX", identifier="1234567893"),
        )
        for number, status, payer_number in answers
    )
    acknowledgement = ClaimAcknowledgement(
        envelope=EnvelopeRef("000000950", "950", "0001"),
        reference_id="277CA950",
        created=NOW,
        payer=Party("PR", "2", "ACME HEALTH", id_qualifier="PI", identifier="ACME1"),
        receiver=Party("41", "2", "HARBOR BILLING", id_qualifier="46", identifier=receiver),
        receiver_trace_number="1",
        receiver_statuses=(StatusInfo((StatusCode("A1", "19", "PR"),), TODAY, "WQ", 28000),),
        received_date=TODAY,
        processed_date=TODAY,
        claims=claims,
    )
    return write_277ca(
        [acknowledgement],
        sender_id="ACME1",
        receiver_id=receiver,
        interchange_control_number=950,
        group_control_number=950,
        created=NOW,
    )


def remittance_835(receiver: str, number: int, trace: str, amount: str, claims: list[str]) -> str:
    day = TODAY.strftime("%Y%m%d")
    body = [
        f"BPR*I*{amount}*C*CHK************{day}",
        f"TRN*1*{trace}*1999999999",
        "N1*PR*ACME HEALTH",
        "N3*1 PAYER WAY",
        "N4*HARTFORD*CT*06101",
        "REF*2U*ACME1",
        "N1*PE*HARBOR FAMILY MEDICINE*XX*1234567893",
        "LX*1",
        *claims,
    ]
    segments = [
        f"ISA*00*{' ' * 10}*00*{' ' * 10}*ZZ*{'ACME1':<15}*ZZ*{receiver:<15}*{NOW:%y%m%d}*0900*^*00501*"
        f"{number:09d}*0*P*:",
        f"GS*HP*ACME1*{receiver}*{day}*0900*{number}*X*005010X221A1",
        "ST*835*0001",
        *body,
        f"SE*{len(body) + 2}*0001",
        f"GE*1*{number}",
        f"IEA*1*{number:09d}",
    ]
    return "~\n".join(segments) + "~\n"


def partial_payment(pcn: str) -> list[str]:
    """Line 1 paid 80.00 (CO-45 25.00, PR-2 20.00); line 2 denied CO-97 15.00: CLP 140 - 80 = 60."""
    day = TODAY.strftime("%Y%m%d")
    return [
        f"CLP*{pcn}*1*140*80*20*12*ICN-A",
        "SVC*HC:99213:25*125*80**1",
        f"DTM*472*{day}",
        "CAS*CO*45*25",
        "CAS*PR*2*20",
        f"REF*6R*{pcn}-1",
        "SVC*HC:81002*15*0**2",
        f"DTM*472*{day}",
        "CAS*CO*97*15",
        f"REF*6R*{pcn}-2",
        "LQ*HE*M80",
    ]


async def test_answers_from_the_api_land_on_the_right_claim_and_line_exactly_once(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        first, second = await set_up_claims(
            svc, kafka_bootstrap, topic_prefix, [{}, {"lines": (builders.invoice_line(1, "99214", 14000),)}]
        )
        await submission(svc.runtime).run_once()
        (sent,) = sorted((tmp_path / "clearinghouse" / "outbound").glob("*.x12"))
        receiver = sent.read_text().split("*")[6].strip()  # our ISA06: the payer answers to it
        biller = svc.client(["biller"])
        a_id, b_id = claim_id_for(TENANT, first.invoice_id), claim_id_for(TENANT, second.invoice_id)
        a = (await biller.get(f"/claims/{a_id}")).json()
        b = (await biller.get(f"/claims/{b_id}")).json()

        file_ack = await biller.post("/acknowledgements", content=ack_999(receiver, 1, accepted=True))
        claim_ack = await biller.post(
            "/acknowledgements",
            content=ack_277(
                receiver,
                [
                    (a["patient_control_number"], StatusCode("A2", "20", "PR"), "ICN-A"),
                    (b["patient_control_number"], StatusCode("A7", "562", "85"), None),
                ],
            ),
        )
        pcn = a["patient_control_number"]
        unknown = ["CLP*UNKNOWN1*4*50*0**12*ICN-X", "CAS*CO*31*50"]
        remittance = remittance_835(receiver, 960, "TRACE-1", "80", [*partial_payment(pcn), *unknown])
        paid = await biller.post("/remittances", content=remittance, headers={"X-File-Name": "era-1.835"})
        same_file = await biller.post("/remittances", content=remittance)
        # The same payment (payer and TRN02) in another interchange changes nothing either.
        same_payment = await biller.post(
            "/remittances",
            content=remittance_835(receiver, 961, "TRACE-1", "80", [*partial_payment(pcn), *unknown]),
        )
        off_by_a_cent = [*partial_payment(pcn)[:4], "CAS*PR*2*19", *partial_payment(pcn)[5:]]
        unbalanced = await biller.post(
            "/remittances", content=remittance_835(receiver, 962, "TRACE-2", "80", off_by_a_cent)
        )
        wrong_kind = await biller.post("/acknowledgements", content=remittance)
        auditor_posts = await svc.client(["auditor"]).post("/remittances", content=remittance)

        a_after = (await biller.get(f"/claims/{a_id}")).json()
        b_after = (await biller.get(f"/claims/{b_id}")).json()
        denials = (await svc.client(["auditor"]).get("/denials")).json()["items"]
        unmatched = (await biller.get("/remittances/unmatched")).json()["items"]
        b_history = (await biller.get(f"/claims/{b_id}/history")).json()

        replace_a = await biller.post(
            f"/claims/{a_id}/resubmit",
            json={"reason": "line 2 documentation", "corrections": ["notes attached"]},
        )
        again_b = await biller.post(f"/claims/{b_id}/resubmit", json={"reason": "NPI fixed at registration"})
        too_early = await biller.post(f"/claims/{a_id}/resubmit", json={"reason": "twice"})
        await submission(svc.runtime).run_once()
        resent = (await biller.get(f"/claims/{a_id}/837")).text
        a_history = (await biller.get(f"/claims/{a_id}/history")).json()
        async with svc.runtime.pool.acquire() as db:
            adjudications = await db.fetch(
                "SELECT payload FROM events WHERE event_type = 'ClaimAdjudicated' ORDER BY position"
            )
            remittances = await db.fetchval(
                "SELECT count(*) FROM events WHERE event_type = 'RemittanceReceived'"
            )

    assert (file_ack.status_code, file_ack.json()["acknowledged"]) == (202, 2)
    assert claim_ack.json() == {
        "kind": "277CA", "duplicate_file": False, "acknowledged": 1, "rejected": 1, "unmatched_claims": 0
    }  # fmt: skip
    assert paid.status_code == 202
    assert (paid.json()["matched_claims"], paid.json()["unmatched_claims"]) == (1, 1)
    assert same_file.json()["duplicate_file"] is True
    assert same_payment.json()["duplicate_file"] is False
    assert same_payment.json()["remittance_id"] == paid.json()["remittance_id"]
    assert unbalanced.status_code == 422
    assert "does not balance" in unbalanced.json()["errors"][0]["message"]
    assert wrong_kind.status_code == 422 and auditor_posts.status_code == 403
    assert remittances == 1
    (adjudicated,) = [r["payload"] for r in adjudications]
    assert (
        adjudicated["outcome"],
        adjudicated["paid_cents"],
        adjudicated["patient_responsibility_cents"],
    ) == (
        "partially_paid",
        8000,
        2000,
    )
    assert [(line["line_number"], line["paid_cents"]) for line in adjudicated["lines"]] == [(1, 8000), (2, 0)]
    assert (a_after["status"], a_after["payer_claim_control_number"], a_after["paid_cents"]) == (
        "partially_paid",
        "ICN-A",
        8000,
    )
    assert b_after["status"] == "rejected"
    resubmitted = next(i for i in a_history["items"] if i["event_type"] == "ClaimResubmitted")
    # The biller's words are sealed under the patient's key: none of them is in the log in clear.
    assert (resubmitted["data"]["reason"], resubmitted["data"]["corrections"]) == ("(sealed)", [])
    assert "documentation" not in str(resubmitted["data"]) and "notes" not in str(resubmitted["data"])
    rejection = next(i for i in b_history["items"] if i["event_type"] == "ClaimRejected")
    assert rejection["data"]["reasons"] == [
        {"code": "A7:562:85", "description": "rejected for invalid information (claim status code 562)"}
    ]
    (denial,) = denials
    assert denial["claim_id"] == a_id and denial["at_stake_cents"] == 1500
    assert [
        (line["line_number"], line["adjustments"], line["remark_codes"]) for line in denial["denied_lines"]
    ] == [(2, [{"group": "CO", "reason_code": "97", "amount_cents": 1500}], ["M80"])]
    assert [(u["patient_control_number"], u["claim_status_code"]) for u in unmatched] == [("UNKNOWN1", "4")]
    assert replace_a.json()["frequency_code"] == "7" and again_b.json()["frequency_code"] == "1"
    assert too_early.status_code == 409
    assert "CLM*" + a["patient_control_number"] + "*140***11:B:7*" in resent
    assert "REF*F8*ICN-A~" in resent
    assert pyx12_valid(resent)
    files = [(f["direction"], f["type"]) for f in a_history["files"]]
    assert files == [
        ("outbound", "837P"),
        ("inbound", "999"),
        ("inbound", "277CA"),
        ("inbound", "835"),
        ("outbound", "837P"),
    ]
    assert a_history["files"][3]["file_name"] == "era-1.835"


RULES = """
payers:
  ACME1:
    name: ACME HEALTH
    tax_id: "060000009"
    address: {line: 1 PAYER WAY, city: HARTFORD, state: CT, zip: "06101"}
    allowed_percent: "80"
    annual_deductible: "0"
    coinsurance_percent: "20"
    modifier_rules:
      - codes: ["99213"]
        modifier: "25"
        rarc: M20
"""


async def run_payer_simulator(folder: Path, rules: Path) -> None:
    simulator = Path(sys.executable).with_name("payer-simulator")
    process = await asyncio.create_subprocess_exec(
        str(simulator), "--dir", str(folder), "--config", str(rules), "--once", "--settle-seconds", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, errors = await process.communicate()
    assert process.returncode == 0, errors.decode()


async def test_a_round_trip_with_the_payer_simulator_through_the_clearinghouse_folder(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    folder = tmp_path / "clearinghouse"
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        with_modifier, without_modifier = await set_up_claims(
            svc,
            kafka_bootstrap,
            topic_prefix,
            [
                {},
                {
                    "lines": (
                        builders.invoice_line(1, "99213", 12500),
                        builders.invoice_line(2, "81002", 1500, units=2),
                    )
                },
            ],
        )
        await submission(svc.runtime).run_once()
        await run_payer_simulator(folder, rules)
        answers = sorted(p.name for p in (folder / "inbound").glob("*.x12"))
        (folder / "inbound" / "junk.x12").write_text("this is not X12")
        reader = inbound_folder(svc.runtime)
        first_pass = await reader.run_once()
        # A file delivered twice is ingested once.
        era = next((folder / "inbound" / "processed").glob("*.835.*"))
        (folder / "inbound" / "again.x12").write_bytes(era.read_bytes())
        second_pass = await reader.run_once()
        biller = svc.client(["biller"])
        paid = (await biller.get(f"/claims/{claim_id_for(TENANT, with_modifier.invoice_id)}")).json()
        partial = (await biller.get(f"/claims/{claim_id_for(TENANT, without_modifier.invoice_id)}")).json()

    assert len(answers) == 3  # a 999, one 277CA for both claims, one 835
    assert sorted(r.kind for r in first_pass) == ["277CA", "835", "999"]
    claim_acks = next(r for r in first_pass if r.kind == "277CA")
    assert (claim_acks.acknowledged, claim_acks.rejected, claim_acks.unmatched_claims) == (2, 0, 0)
    assert [(r.kind, r.outcome) for r in second_pass] == [("835", "duplicate")]
    assert sorted(p.name for p in (folder / "inbound").iterdir() if p.is_file()) == []
    assert (folder / "inbound" / "rejected" / "junk.x12").exists()
    assert "not a readable X12 file" in (folder / "inbound" / "rejected" / "junk.x12.reason.txt").read_text()
    # Allowed 80%: 99213-25 125.00 -> 100.00, coinsurance 20% = 20.00, paid 80.00; 81002 15.00 -> 12.00,
    # coinsurance 2.40, paid 9.60. Without modifier 25 the visit line is denied CO-4 (M20).
    assert (paid["status"], paid["paid_cents"], paid["patient_responsibility_cents"]) == ("paid", 8960, 2240)
    assert (partial["status"], partial["paid_cents"], partial["patient_responsibility_cents"]) == (
        "partially_paid",
        960,
        240,
    )
    assert paid["payer_claim_control_number"].startswith("SIM")
    denied_line = next(line for line in partial["adjudication"]["lines"] if line["paid_cents"] == 0)
    assert (denied_line["line_number"], denied_line["adjustments"][0]["reason_code"]) == (1, "4")


async def test_the_duplicate_file_check_is_kept_per_tenant(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    """Tenant B sending the bytes tenant A sent is B's first file: B learns nothing about A (issue 16)."""
    remittance = remittance_835(
        "NOBODYKNOWN", 970, "TRACE-T", "0", ["CLP*NOSUCHPCN*4*50*0**12*ICN-T", "CAS*CO*31*50"]
    )
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        first_a = await svc.client(["biller"], tenant="tenant-a").post("/remittances", content=remittance)
        first_b = await svc.client(["biller"], tenant="tenant-b").post("/remittances", content=remittance)
        again_a = await svc.client(["biller"], tenant="tenant-a").post("/remittances", content=remittance)
    assert first_a.status_code == first_b.status_code == again_a.status_code == 202, first_b.text
    assert first_a.json()["duplicate_file"] is False
    assert first_b.json()["duplicate_file"] is False
    assert again_a.json()["duplicate_file"] is True
