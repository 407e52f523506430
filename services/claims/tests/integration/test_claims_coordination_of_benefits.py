"""Coordination of benefits through the real broker and database: a primary that pays part bills the
secondary on a claim of its own (an 837P valid per pyx12, carrying the primary's answer), the
secondary's 835 posts to it, a tertiary follows a secondary that leaves a balance, and a crossover
sends nothing. Amounts computed by hand in each test."""

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

from billing_events.contracts.base import Event
from billing_testing import builders
from billing_testing.harness import ServiceHarness, publish_events
from claims.domain.coordination import successor_claim_id
from claims.domain.identifiers import claim_id_for
from claims.entrypoints import SERVICE
from claims.entrypoints.workers import inbound_folder, submission
from claims.settings import ClaimsSettings

TENANT = "tenant-a"
TODAY = date.today()
DAY = TODAY.strftime("%Y%m%d")
NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None, second=0, microsecond=0)
PAYERS = {
    "primary": ("ACME1", "ACME HEALTH", "CI"),
    "secondary": ("GLBX2", "GLOBEX CARE", "BL"),
    "tertiary": ("SMCD9", "STATE MEDICAID", "MC"),
}


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


async def insured_invoice(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str, sequences: tuple[str, ...]
) -> tuple[Any, dict[str, str]]:
    """A patient covered by one payer per sequence; the invoice (140.00: 99213-25 125.00 and 81002
    15.00) goes to the primary. Returns the invoice and the payer id of each sequence."""
    billing_id, rendering_id, patient_id = new_id(), new_id(), new_id()
    vault = svc.runtime.vault
    payer_ids = {sequence: new_id() for sequence in sequences}
    coverage_ids = {sequence: new_id() for sequence in sequences}
    events: list[Event] = [
        builders.billing_provider_enrolled(billing_id),
        builders.rendering_provider_enrolled(rendering_id),
        await builders.sealed_patient_registered(vault, patient_id),
    ]
    for sequence in sequences:
        edi, name, indicator = PAYERS[sequence]
        events.append(
            builders.payer_registered(
                payer_ids[sequence], name=name, edi_payer_id=edi, claim_filing_indicator=indicator
            )
        )
        events.append(
            await builders.sealed_coverage_added(
                vault,
                coverage_ids[sequence],
                patient_id,
                payer_ids[sequence],
                member_id=f"M-{edi}-01",
                priority=sequence,  # type: ignore[arg-type]
            )
        )
    invoice = builders.invoice_issued(
        new_id(),
        encounter_id=new_id(),
        patient_id=patient_id,
        coverage_id=coverage_ids["primary"],
        payer_id=payer_ids["primary"],
        billing_provider_id=billing_id,
        rendering_provider_id=rendering_id,
        service_date=TODAY,
    )
    await publish_events(kafka_bootstrap, topic_prefix, [*events, invoice], tenant=TENANT)
    await svc.drain()
    return invoice, payer_ids


def pyx12_errors(x12: str) -> list[str]:
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
    return errors if errors or valid else ["pyx12 found the file invalid"]


def remittance_835(
    sequence: str, receiver: str, number: int, amount: str, claim: list[str], trace: int | None = None
) -> str:
    edi, name, _ = PAYERS[sequence]
    body = [
        f"BPR*I*{amount}*C*CHK************{DAY}",
        f"TRN*1*TRACE-{edi}-{trace or number}*1999999999",
        f"N1*PR*{name}",
        "N3*1 PAYER WAY",
        "N4*HARTFORD*CT*06101",
        f"REF*2U*{edi}",
        "N1*PE*HARBOR FAMILY MEDICINE*XX*1234567893",
        "LX*1",
        *claim,
    ]
    segments = [
        f"ISA*00*{' ' * 10}*00*{' ' * 10}*ZZ*{edi:<15}*ZZ*{receiver:<15}*{NOW:%y%m%d}*0900*^*00501*"
        f"{number:09d}*0*P*:",
        f"GS*HP*{edi}*{receiver}*{DAY}*0900*{number}*X*005010X221A1",
        "ST*835*0001",
        *body,
        f"SE*{len(body) + 2}*0001",
        f"GE*1*{number}",
        f"IEA*1*{number:09d}",
    ]
    return "~\n".join(segments) + "~\n"


def answer(pcn: str, status: str, paid: str, patient: str, icn: str, lines: list[list[str]]) -> list[str]:
    out = [f"CLP*{pcn}*{status}*140*{paid}*{patient}*12*{icn}"]
    for number, (svc, *cas) in enumerate(lines, start=1):
        out += [svc, f"DTM*472*{DAY}", *cas, f"REF*6R*{pcn}-{number}"]
    return out


# Acme (primary): 99213-25 125.00 paid 80.00, CO-45 25.00, PR-2 20.00; 81002 15.00 paid 10.00, PR-3 5.00.
# 140.00 = 90.00 paid + 25.00 written off + 25.00 left to the patient, unless a secondary pays it.
ACME_PAYS_PART = [
    ["SVC*HC:99213:25*125*80**1", "CAS*CO*45*25", "CAS*PR*2*20"],
    ["SVC*HC:81002*15*10**1", "CAS*PR*3*5"],
]


async def receiver_of(tmp_path: Path) -> str:
    (sent, *_) = sorted((tmp_path / "clearinghouse" / "outbound").glob("*.x12"))
    return sent.read_text().split("*")[6].strip()  # our ISA06: the payer answers to it


async def test_a_primary_that_pays_part_bills_the_secondary_which_pays_the_rest(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        invoice, payers = await insured_invoice(svc, kafka_bootstrap, topic_prefix, ("primary", "secondary"))
        await submission(svc.runtime).run_once()
        receiver = await receiver_of(tmp_path)
        biller = svc.client(["biller"])
        primary_id = claim_id_for(TENANT, invoice.invoice_id)
        secondary_id = successor_claim_id(TENANT, invoice.invoice_id, "secondary")
        primary = (await biller.get(f"/claims/{primary_id}")).json()
        pcn = primary["patient_control_number"]
        era = remittance_835(
            "primary", receiver, 970, "90", answer(pcn, "1", "90", "25", "ICN-A", ACME_PAYS_PART)
        )
        posted = await biller.post("/remittances", content=era)
        # The same payment (payer and trace number) in another interchange bills no second claim.
        again = await biller.post(
            "/remittances",
            content=remittance_835(
                "primary", receiver, 971, "90", answer(pcn, "1", "90", "25", "ICN-A", ACME_PAYS_PART), 970
            ),
        )
        created = (await biller.get(f"/claims/{secondary_id}")).json()
        sent = await submission(svc.runtime).run_once()
        secondary_837 = (await biller.get(f"/claims/{secondary_id}/837")).text
        secondary = (await biller.get(f"/claims/{secondary_id}")).json()
        spcn = secondary["patient_control_number"]
        # Globex pays the 25.00 left: 20.00 on line 1, 5.00 on line 2; OA-23 reports Acme's
        # 105.00 (80.00 + 25.00) and 10.00 as the prior payer's impact.
        globex = [
            ["SVC*HC:99213:25*125*20**1", "CAS*OA*23*105"],
            ["SVC*HC:81002*15*5**1", "CAS*OA*23*10"],
        ]
        await biller.post(
            "/remittances",
            content=remittance_835(
                "secondary", receiver, 972, "25", answer(spcn, "2", "25", "0", "ICN-G", globex)
            ),
        )
        paid = (await biller.get(f"/claims/{secondary_id}")).json()
        listed = (await biller.get("/claims", params={"invoice_id": invoice.invoice_id})).json()["items"]
        async with svc.runtime.pool.acquire() as db:
            adjudications = [
                r["payload"]
                for r in await db.fetch(
                    "SELECT payload FROM events WHERE event_type = 'ClaimAdjudicated' ORDER BY position"
                )
            ]

    assert posted.status_code == 202 and again.json()["duplicate_file"] is False
    assert (created["sequence"], created["predecessor_claim_id"]) == ("secondary", primary_id)
    assert (created["payer_id"], created["status"]) == (payers["secondary"], "ready")
    assert len(sent) == 1
    assert pyx12_errors(secondary_837) == []
    segments = [s.strip() for s in secondary_837.split("~") if s.strip()]
    assert "SBR*S*18*GRP-001******BL" in segments  # billed to Globex, its filing indicator
    assert f"CLM*{spcn}*140***11:B:1*Y*A*Y*Y" in segments
    start = segments.index("SBR*P*18*GRP-001******CI")  # loop 2320: Acme, what it paid and left
    assert segments[start + 1 : start + 4] == ["AMT*D*90", "AMT*EAF*25", "OI***Y***Y"]
    assert "NM1*PR*2*ACME HEALTH*****PI*ACME1" in segments
    line_1 = segments.index(f"REF*6R*{spcn}-1")
    assert segments[line_1 + 1 : line_1 + 5] == [
        "SVD*ACME1*80*HC:99213:25**1",
        "CAS*CO*45*25",
        "CAS*PR*2*20",
        f"DTP*573*D8*{DAY}",
    ]
    assert segments[segments.index(f"REF*6R*{spcn}-2") + 1] == "SVD*ACME1*10*HC:81002**1"
    primary_answer, secondary_answer = adjudications
    assert (primary_answer["sequence"], primary_answer["next_payer_id"]) == ("primary", payers["secondary"])
    assert (secondary_answer["sequence"], secondary_answer["next_payer_id"]) == ("secondary", None)
    assert (paid["status"], paid["paid_cents"], paid["patient_responsibility_cents"]) == ("paid", 2500, 0)
    assert [(c["sequence"], c["status"]) for c in listed] == [("primary", "paid"), ("secondary", "paid")]
    # 140.00 = 90.00 (Acme) + 25.00 (CO-45) + 25.00 (Globex): nothing is left to the patient.
    assert 9000 + 2500 + 2500 == 14000


async def test_a_secondary_that_leaves_a_balance_bills_the_tertiary(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        invoice, payers = await insured_invoice(
            svc, kafka_bootstrap, topic_prefix, ("primary", "secondary", "tertiary")
        )
        await submission(svc.runtime).run_once()
        receiver = await receiver_of(tmp_path)
        biller = svc.client(["biller"])
        pcn = (await biller.get(f"/claims/{claim_id_for(TENANT, invoice.invoice_id)}")).json()[
            "patient_control_number"
        ]
        await biller.post(
            "/remittances",
            content=remittance_835(
                "primary", receiver, 980, "90", answer(pcn, "1", "90", "25", "ICN-A", ACME_PAYS_PART)
            ),
        )
        await submission(svc.runtime).run_once()
        secondary_id = successor_claim_id(TENANT, invoice.invoice_id, "secondary")
        spcn = (await biller.get(f"/claims/{secondary_id}")).json()["patient_control_number"]
        # Globex pays 15.00 of line 1's 20.00 (5.00 stays PR-2) and nothing of line 2's 5.00 (PR-3).
        globex = [
            ["SVC*HC:99213:25*125*15**1", "CAS*OA*23*105", "CAS*PR*2*5"],
            ["SVC*HC:81002*15*0**1", "CAS*OA*23*10", "CAS*PR*3*5"],
        ]
        await biller.post(
            "/remittances",
            content=remittance_835(
                "secondary", receiver, 981, "15", answer(spcn, "2", "15", "10", "ICN-G", globex)
            ),
        )
        tertiary_id = successor_claim_id(TENANT, invoice.invoice_id, "tertiary")
        tertiary = (await biller.get(f"/claims/{tertiary_id}")).json()
        await submission(svc.runtime).run_once()
        tertiary_837 = (await biller.get(f"/claims/{tertiary_id}/837")).text

    assert (tertiary["sequence"], tertiary["predecessor_claim_id"]) == ("tertiary", secondary_id)
    assert tertiary["payer_id"] == payers["tertiary"]
    assert pyx12_errors(tertiary_837) == []
    segments = [s.strip() for s in tertiary_837.split("~") if s.strip()]
    assert "SBR*T*18*GRP-001******MC" in segments
    # 140.00 - (90.00 + 25.00) - 15.00 = 10.00 left for the state plan; both earlier answers reported.
    assert [s for s in segments if s.startswith("AMT*D*")] == ["AMT*D*90", "AMT*D*15"]
    assert [s for s in segments if s.startswith("AMT*EAF*")] == ["AMT*EAF*25", "AMT*EAF*10"]
    assert [s for s in segments if s.startswith("SVD*")] == [
        "SVD*ACME1*80*HC:99213:25**1",
        "SVD*GLBX2*15*HC:99213:25**1",
        "SVD*ACME1*10*HC:81002**1",
        "SVD*GLBX2*0*HC:81002**1",
    ]


async def test_a_crossover_sends_no_secondary_claim_and_posts_the_secondarys_answer(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        invoice, payers = await insured_invoice(svc, kafka_bootstrap, topic_prefix, ("primary", "secondary"))
        await submission(svc.runtime).run_once()
        receiver = await receiver_of(tmp_path)
        biller = svc.client(["biller"])
        primary_id = claim_id_for(TENANT, invoice.invoice_id)
        secondary_id = successor_claim_id(TENANT, invoice.invoice_id, "secondary")
        pcn = (await biller.get(f"/claims/{primary_id}")).json()["patient_control_number"]
        globex = [
            ["SVC*HC:99213:25*125*20**1", "CAS*OA*23*105"],
            ["SVC*HC:81002*15*5**1", "CAS*OA*23*10"],
        ]
        # Globex's answer before Acme forwarded anything answers no claim: it waits, unmatched.
        early = await biller.post(
            "/remittances",
            content=remittance_835(
                "secondary", receiver, 989, "25", answer(pcn, "2", "25", "0", "ICN-G", globex)
            ),
        )
        untouched = (await biller.get(f"/claims/{primary_id}")).json()
        # CLP02 19: processed as primary, forwarded to the secondary payer.
        await biller.post(
            "/remittances",
            content=remittance_835(
                "primary", receiver, 990, "90", answer(pcn, "19", "90", "25", "ICN-A", ACME_PAYS_PART)
            ),
        )
        not_billed = await biller.get(f"/claims/{secondary_id}")
        sent = await submission(svc.runtime).run_once()
        overdue_now = (await biller.get("/crossovers/overdue", params={"days": 0})).json()["items"]
        not_yet = (await biller.get("/crossovers/overdue")).json()["items"]  # 30 days by default
        # Globex answers the claim Acme forwarded: Acme's claim number and line numbers (REF*6R).
        await biller.post(
            "/remittances",
            content=remittance_835(
                "secondary", receiver, 991, "25", answer(pcn, "2", "25", "0", "ICN-G", globex)
            ),
        )
        primary = (await biller.get(f"/claims/{primary_id}")).json()
        recorded = (await biller.get(f"/claims/{secondary_id}")).json()
        answered = (await biller.get("/crossovers/overdue", params={"days": 0})).json()["items"]
        sent_after = await submission(svc.runtime).run_once()
        async with svc.runtime.pool.acquire() as db:
            payloads = [
                r["payload"]
                for r in await db.fetch(
                    "SELECT payload FROM events WHERE event_type = 'ClaimAdjudicated' ORDER BY position"
                )
            ]

    assert (early.json()["matched_claims"], early.json()["unmatched_claims"]) == (0, 1)
    assert (untouched["status"], untouched["paid_cents"]) == ("submitted", 0)
    assert not_billed.status_code == 404 and sent == []
    assert [(c["claim_id"], c["awaiting_payer_id"]) for c in overdue_now] == [
        (primary_id, payers["secondary"])
    ]
    assert not_yet == []
    first, second = payloads
    assert (first["crossover"], first["next_payer_id"]) == (True, payers["secondary"])
    assert (second["claim_id"], second["payer_id"], second["sequence"]) == (
        secondary_id,
        payers["secondary"],
        "secondary",
    )
    # Acme's answer stays Acme's; Globex's 25.00 posts to the claim recorded for Globex, never sent.
    assert (primary["paid_cents"], primary["payer_id"]) == (9000, payers["primary"])
    assert (recorded["sequence"], recorded["predecessor_claim_id"]) == ("secondary", primary_id)
    assert (recorded["status"], recorded["paid_cents"], recorded["last_batch_id"]) == ("paid", 2500, None)
    assert [line["line_number"] for line in second["lines"]] == [1, 2]
    assert answered == [] and sent_after == []


SIMULATED_PAYERS = """
payers:
  ACME1:
    name: ACME HEALTH
    tax_id: "060000009"
    address: {line: 1 PAYER WAY, city: HARTFORD, state: CT, zip: "06101"}
    allowed_percent: "80"
    coinsurance_percent: "20"
  GLBX2:
    name: GLOBEX CARE
    tax_id: "060000019"
    address: {line: 2 PAYER WAY, city: HARTFORD, state: CT, zip: "06101"}
    allowed_percent: "90"
    coinsurance_percent: "10"
    cob_rule: standard
"""


async def run_payer_simulator(folder: Path, rules: Path) -> None:
    simulator = Path(sys.executable).with_name("payer-simulator")
    process = await asyncio.create_subprocess_exec(
        str(simulator), "--dir", str(folder), "--config", str(rules), "--once", "--settle-seconds", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, errors = await process.communicate()
    assert process.returncode == 0, errors.decode()


async def test_a_round_trip_with_the_payer_simulator_as_primary_then_secondary(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    folder = tmp_path / "clearinghouse"
    rules = tmp_path / "rules.yaml"
    rules.write_text(SIMULATED_PAYERS)
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        invoice, payers = await insured_invoice(svc, kafka_bootstrap, topic_prefix, ("primary", "secondary"))
        reader = inbound_folder(svc.runtime)
        await submission(svc.runtime).run_once()
        await run_payer_simulator(folder, rules)
        await reader.run_once()
        sent = await submission(svc.runtime).run_once()
        await run_payer_simulator(folder, rules)
        await reader.run_once()
        biller = svc.client(["biller"])
        primary = (await biller.get(f"/claims/{claim_id_for(TENANT, invoice.invoice_id)}")).json()
        secondary_id = successor_claim_id(TENANT, invoice.invoice_id, "secondary")
        secondary = (await biller.get(f"/claims/{secondary_id}")).json()
        secondary_837 = (await biller.get(f"/claims/{secondary_id}/837")).text

    assert len(sent) == 1 and pyx12_errors(secondary_837) == []
    # Acme: 125.00 allowed 100.00, 20% coinsurance 20.00, pays 80.00; 15.00 allowed 12.00, 2.40, 9.60.
    assert (primary["status"], primary["paid_cents"], primary["patient_responsibility_cents"]) == (
        "paid",
        8960,
        2240,
    )
    # Globex normally pays 101.25 and 12.15 (90% allowed, 10% coinsurance): the lesser of that and the
    # 20.00 and 2.40 Acme left, so 22.40 and nothing for the patient.
    assert (secondary["status"], secondary["payer_id"]) == ("paid", payers["secondary"])
    assert (secondary["paid_cents"], secondary["patient_responsibility_cents"]) == (2240, 0)
    lines = secondary["adjudication"]["lines"]
    assert [
        [(a["group"], a["reason_code"], a["amount_cents"]) for a in line["adjustments"]] for line in lines
    ] == [[("OA", "23", 10500)], [("OA", "23", 1260)]]


async def test_a_round_trip_where_the_simulated_primary_crosses_the_claim_over(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    folder = tmp_path / "clearinghouse"
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        SIMULATED_PAYERS.replace(
            'coinsurance_percent: "20"', 'coinsurance_percent: "20"\n    crossover_to: GLBX2'
        )
    )
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        invoice, payers = await insured_invoice(svc, kafka_bootstrap, topic_prefix, ("primary", "secondary"))
        await submission(svc.runtime).run_once()
        await run_payer_simulator(folder, rules)
        ingested = await inbound_folder(svc.runtime).run_once()
        sent = await submission(svc.runtime).run_once()
        biller = svc.client(["biller"])
        primary = (await biller.get(f"/claims/{claim_id_for(TENANT, invoice.invoice_id)}")).json()
        secondary = (
            await biller.get(f"/claims/{successor_claim_id(TENANT, invoice.invoice_id, 'secondary')}")
        ).json()
        overdue = (await biller.get("/crossovers/overdue", params={"days": 0})).json()["items"]

    assert sorted(r.kind for r in ingested) == ["277CA", "835", "835", "999"]
    assert sent == []  # nothing billed to Globex: Acme forwarded the claim
    assert (primary["adjudication"]["claim_status_code"], primary["adjudication"]["crossover"]) == (
        "19",
        True,
    )
    assert (primary["paid_cents"], primary["patient_responsibility_cents"]) == (8960, 2240)
    # Globex answers as secondary under standard COB: the 20.00 and 2.40 Acme left.
    assert (secondary["payer_id"], secondary["status"], secondary["paid_cents"]) == (
        payers["secondary"],
        "paid",
        2240,
    )
    assert (secondary["sequence"], secondary["last_batch_id"]) == ("secondary", None)
    assert overdue == []
