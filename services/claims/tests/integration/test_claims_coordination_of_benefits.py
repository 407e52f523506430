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
from claims.adapters.rebuild import rebuild_claims_view
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
    svc: ServiceHarness,
    kafka_bootstrap: str,
    topic_prefix: str,
    sequences: tuple[str, ...],
    payer_table: dict[str, tuple[str, str, str]] = PAYERS,
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
        edi, name, indicator = payer_table[sequence]
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
    sequence: str,
    receiver: str,
    number: int,
    amount: str,
    claim: list[str],
    trace: int | None = None,
    *,
    payer_table: dict[str, tuple[str, str, str]] = PAYERS,
    provider_level: tuple[str, ...] = (),
) -> str:
    edi, name, _ = payer_table[sequence]
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
        *provider_level,
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


# Globex's answer, paying the 25.00 Acme left: Acme's claim number and line numbers (REF*6R).
GLOBEX_FORWARDED = [
    ["SVC*HC:99213:25*125*20**1", "CAS*OA*23*105"],
    ["SVC*HC:81002*15*5**1", "CAS*OA*23*10"],
]


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
        await biller.post(
            "/remittances",
            content=remittance_835(
                "secondary", receiver, 972, "25", answer(spcn, "2", "25", "0", "ICN-G", GLOBEX_FORWARDED)
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
                "secondary", receiver, 991, "25", answer(pcn, "2", "25", "0", "ICN-G", GLOBEX_FORWARDED)
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


async def test_the_next_payers_answer_that_came_before_the_crossover_posts_when_the_crossover_does(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    """Two payers' files, read in either order (by two replicas, say): Globex's answer to the claim
    Acme forwarded is read first. It answers no claim yet and waits, held; Acme's crossover answer
    then posts it to the claim recorded for Globex, once, as a biller's match would have."""
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        invoice, payers = await insured_invoice(svc, kafka_bootstrap, topic_prefix, ("primary", "secondary"))
        await submission(svc.runtime).run_once()
        receiver = await receiver_of(tmp_path)
        biller = svc.client(["biller"])
        primary_id = claim_id_for(TENANT, invoice.invoice_id)
        secondary_id = successor_claim_id(TENANT, invoice.invoice_id, "secondary")
        pcn = (await biller.get(f"/claims/{primary_id}")).json()["patient_control_number"]
        early = await biller.post(
            "/remittances",
            content=remittance_835(
                "secondary", receiver, 989, "25", answer(pcn, "2", "25", "0", "ICN-G", GLOBEX_FORWARDED)
            ),
        )
        untouched = (await biller.get(f"/claims/{primary_id}")).json()
        waiting = (await biller.get("/remittances/unmatched")).json()["items"]
        await biller.post(
            "/remittances",
            content=remittance_835(
                "primary", receiver, 990, "90", answer(pcn, "19", "90", "25", "ICN-A", ACME_PAYS_PART)
            ),
        )
        primary = (await biller.get(f"/claims/{primary_id}")).json()
        recorded = (await biller.get(f"/claims/{secondary_id}")).json()
        left = (await biller.get("/remittances/unmatched")).json()["items"]
        overdue = (await biller.get("/crossovers/overdue", params={"days": 0})).json()["items"]
        # The same Globex file again (a replica's retry, a re-sent file) posts nothing more.
        again = await biller.post(
            "/remittances",
            content=remittance_835(
                "secondary", receiver, 989, "25", answer(pcn, "2", "25", "0", "ICN-G", GLOBEX_FORWARDED)
            ),
        )
        after = (await biller.get(f"/claims/{secondary_id}")).json()
        sent = await submission(svc.runtime).run_once()

    assert (early.json()["matched_claims"], early.json()["unmatched_claims"]) == (0, 1)
    assert (untouched["status"], untouched["paid_cents"]) == ("submitted", 0)
    assert [item["patient_control_number"] for item in waiting] == [pcn]
    # Acme paid 90.00 and forwarded; Globex's 25.00, held until then, is on the claim recorded for it.
    assert (primary["paid_cents"], primary["adjudication"]["crossover"]) == (9000, True)
    assert (recorded["payer_id"], recorded["status"], recorded["paid_cents"]) == (
        payers["secondary"],
        "paid",
        2500,
    )
    assert (recorded["predecessor_claim_id"], recorded["last_batch_id"]) == (primary_id, None)
    assert left == [] and overdue == []
    assert again.json()["duplicate_file"] is True and after["paid_cents"] == 2500
    assert sent == []


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


# Remittance completeness: a primary's correction, PLB, a held payment matched, a paper EOB ----------


def segments_of(x12: str) -> list[str]:
    return [s.strip() for s in x12.split("~") if s.strip()]


async def test_a_primary_reversal_and_correction_replaces_the_secondary_claim_with_ref_f8(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        invoice, _payers = await insured_invoice(svc, kafka_bootstrap, topic_prefix, ("primary", "secondary"))
        await submission(svc.runtime).run_once()
        receiver = await receiver_of(tmp_path)
        biller = svc.client(["biller"])
        primary_id = claim_id_for(TENANT, invoice.invoice_id)
        secondary_id = successor_claim_id(TENANT, invoice.invoice_id, "secondary")
        pcn = (await biller.get(f"/claims/{primary_id}")).json()["patient_control_number"]
        await biller.post(
            "/remittances",
            content=remittance_835(
                "primary", receiver, 1001, "90", answer(pcn, "1", "90", "25", "ICN-A", ACME_PAYS_PART)
            ),
        )
        await submission(svc.runtime).run_once()  # the secondary claim leaves, frequency 1
        spcn = (await biller.get(f"/claims/{secondary_id}")).json()["patient_control_number"]
        # Acme takes its answer back (CLP02 22, every amount negated) and answers again: it now pays
        # line 1 90.00 (CO-45 25.00, PR-2 10.00) and line 2 10.00 (PR-3 5.00): 100.00 paid, 15.00
        # left. BPR02 = -90.00 + 100.00 = 10.00.
        reversal = [
            f"CLP*{pcn}*22*-140*-90*-25*12*ICN-A",
            "SVC*HC:99213:25*-125*-80**-1",
            f"DTM*472*{DAY}",
            "CAS*CO*45*-25",
            "CAS*PR*2*-20",
            f"REF*6R*{pcn}-1",
            "SVC*HC:81002*-15*-10**-1",
            f"DTM*472*{DAY}",
            "CAS*PR*3*-5",
            f"REF*6R*{pcn}-2",
        ]
        corrected = answer(
            pcn,
            "1",
            "100",
            "15",
            "ICN-A2",
            [
                ["SVC*HC:99213:25*125*90**1", "CAS*CO*45*25", "CAS*PR*2*10"],
                ["SVC*HC:81002*15*10**1", "CAS*PR*3*5"],
            ],
        )
        await biller.post(
            "/remittances", content=remittance_835("primary", receiver, 1002, "10", reversal + corrected)
        )
        replaced = (await biller.get(f"/claims/{secondary_id}")).json()
        primary = (await biller.get(f"/claims/{primary_id}")).json()
        sent = await submission(svc.runtime).run_once()
        replacement_837 = (await biller.get(f"/claims/{secondary_id}/837")).text
        history = (await biller.get(f"/claims/{secondary_id}/history")).json()

    # Acme now pays 100.00 in all: 90.00 - 90.00 + 100.00; the patient's part from it is 15.00.
    assert (primary["paid_cents"], primary["patient_responsibility_cents"]) == (10000, 1500)
    assert (replaced["status"], replaced["awaiting_submission"]) == ("resubmitted", True)
    assert len(sent) == 1
    assert pyx12_errors(replacement_837) == []
    segments = segments_of(replacement_837)
    # Frequency 7, and REF*F8 names the claim it replaces: our CLM01 (Globex has given no number).
    assert f"CLM*{spcn}*140***11:B:7*Y*A*Y*Y" in segments
    assert f"REF*F8*{spcn}" in segments
    # Loop 2320 carries Acme's answer as it stands: 100.00 paid, 15.00 left (it was 90.00 and 25.00).
    start = segments.index("SBR*P*18*GRP-001******CI")
    assert segments[start + 1 : start + 3] == ["AMT*D*100", "AMT*EAF*15"]
    assert [s for s in segments if s.startswith("SVD*")] == [
        "SVD*ACME1*90*HC:99213:25**1",
        "SVD*ACME1*10*HC:81002**1",
    ]
    kinds = [item["event_type"] for item in history["items"]]
    assert kinds[-3:] == ["ClaimPriorPayersRevised", "ClaimResubmitted", "ClaimSubmitted"]


async def test_plb_recoupment_a_held_payment_matched_and_a_paper_eob_post_on_one_path(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        invoice, payers = await insured_invoice(svc, kafka_bootstrap, topic_prefix, ("primary", "secondary"))
        await submission(svc.runtime).run_once()
        receiver = await receiver_of(tmp_path)
        biller = svc.client(["biller"])
        auditor = svc.client(["auditor"])
        primary_id = claim_id_for(TENANT, invoice.invoice_id)
        secondary_id = successor_claim_id(TENANT, invoice.invoice_id, "secondary")
        pcn = (await biller.get(f"/claims/{primary_id}")).json()["patient_control_number"]
        # Acme's answer names our claim by a garbled CLP01; its PLB recoups 30.00 of an earlier
        # overpayment (WO, referring to that claim) and adds 1.25 of interest (L6, negative).
        # BPR02 = 90.00 - (30.00 - 1.25) = 61.25.
        garbled = "X" + pcn[1:]
        posted = await biller.post(
            "/remittances",
            content=remittance_835(
                "primary",
                receiver,
                1101,
                "61.25",
                answer(garbled, "1", "90", "25", "ICN-A", ACME_PAYS_PART),
                provider_level=(f"PLB*1234567893*{TODAY.year}1231*WO:ICN-OLD-7*30*L6*-1.25",),
            ),
        )
        remittance_id = posted.json()["remittance_id"]
        held = (await auditor.get("/remittances/unmatched")).json()["items"]
        before_match = (await biller.get(f"/claims/{primary_id}")).json()
        payment = (await auditor.get(f"/remittances/{remittance_id}")).json()
        ledger = (await auditor.get("/provider-adjustments")).json()

        path = f"/remittances/{remittance_id}/claims/{garbled}/match"
        matched = await biller.post(path, json={"claim_id": primary_id}, headers={"Idempotency-Key": "m-1"})
        again = await biller.post(path, json={"claim_id": primary_id}, headers={"Idempotency-Key": "m-2"})
        elsewhere = await biller.post(
            path, json={"claim_id": secondary_id}, headers={"Idempotency-Key": "m-3"}
        )
        after_match = (await biller.get(f"/claims/{primary_id}")).json()
        secondary = (await biller.get(f"/claims/{secondary_id}")).json()
        held_after = (await auditor.get("/remittances/unmatched")).json()["items"]

        # Globex sends no ERA: its paper EOB pays the 25.00 left (line 1 20.00, line 2 5.00), each
        # line's OA-23 being Acme's part (125.00 - 20.00 = 105.00; 15.00 - 5.00 = 10.00).
        eob = {
            "payer_id": payers["secondary"],
            "claim_id": secondary_id,
            "check_number": "CHK-7001",
            "paid_on": TODAY.isoformat(),
            "lines": [
                {
                    "line_number": 1,
                    "paid_cents": 2000,
                    "adjustments": [{"group": "OA", "reason_code": "23", "amount_cents": 10500}],
                    "patient_responsibility_cents": 0,
                },
                {
                    "line_number": 2,
                    "paid_cents": 500,
                    "adjustments": [{"group": "OA", "reason_code": "23", "amount_cents": 1000}],
                },
            ],
        }
        unbalanced = {**eob, "lines": [{**eob["lines"][0], "paid_cents": 1900}, eob["lines"][1]]}  # type: ignore[dict-item]
        refused = await biller.post("/remittances/paper-eobs", json=unbalanced)
        keyed = await biller.post("/remittances/paper-eobs", json=eob, headers={"Idempotency-Key": "e-1"})
        keyed_again = await biller.post(
            "/remittances/paper-eobs", json=eob, headers={"Idempotency-Key": "e-2"}
        )
        paid = (await biller.get(f"/claims/{secondary_id}")).json()

        async def held_rows() -> list[dict[str, Any]]:
            async with svc.runtime.pool.acquire() as db:
                return [
                    dict(r)
                    for r in await db.fetch(
                        "SELECT remittance_id, patient_control_number, payer_claim_control_number, "
                        "claim_status_code, charge_cents, paid_cents, payer_name, matched_claim_id, "
                        "received_at, matched_at FROM unmatched_remittance_claims ORDER BY 1, 2, 4"
                    )
                ]

        held_before = await held_rows()
        # `billing replay claims` rebuilds the provider-level ledger and the held payments (with the
        # matches made since) from the log, the same.
        await rebuild_claims_view(svc.runtime, lambda _done, _total: None)
        rebuilt = (await auditor.get("/provider-adjustments")).json()
        held_rebuilt = await held_rows()
        async with svc.runtime.pool.acquire() as db:
            answers = [
                (r["payload"]["claim_id"], r["payload"]["paid_cents"], r["payload"]["next_payer_id"])
                for r in await db.fetch(
                    "SELECT payload FROM events WHERE event_type = 'ClaimAdjudicated' ORDER BY position"
                )
            ]

    assert (posted.json()["matched_claims"], posted.json()["unmatched_claims"]) == (0, 1)
    assert [(h["remittance_id"], h["patient_control_number"], h["paid_cents"]) for h in held] == [
        (remittance_id, garbled, 9000)
    ]
    assert before_match["paid_cents"] == 0
    # The payment reconciles: 61.25 = 90.00 - 28.75; the PLB sits on the provider-level ledger.
    assert (payment["payment_cents"], payment["claim_paid_cents"], payment["provider_adjustment_cents"]) == (
        6125,
        9000,
        2875,
    )
    assert payment["balanced"] is True
    assert [(i["reason_code"], i["reference"], i["amount_cents"]) for i in ledger["items"]] == [
        ("WO", "ICN-OLD-7", 3000),
        ("L6", None, -125),
    ]
    assert ledger["totals"] == {"by_reason": {"L6": -125, "WO": 3000}, "amount_cents": 2875}
    assert (rebuilt["items"], rebuilt["totals"]) == (ledger["items"], ledger["totals"])
    times = ("received_at", "matched_at")
    assert [{k: v for k, v in r.items() if k not in times} for r in held_rebuilt] == [
        {k: v for k, v in r.items() if k not in times} for r in held_before
    ]
    assert [(r["patient_control_number"], r["matched_claim_id"]) for r in held_rebuilt] == [
        (garbled, primary_id)
    ]
    # The rebuilt times are the events' (the live ones the posting's clock), moments apart.
    for live, again_row in zip(held_before, held_rebuilt, strict=True):
        assert all(abs((again_row[t] - live[t]).total_seconds()) < 5 for t in times)

    assert matched.status_code == 200 and matched.json()["posted"] is True
    assert again.status_code == 200 and again.json()["posted"] is False
    assert elsewhere.status_code == 422
    assert [e["field"] for e in elsewhere.json()["errors"]] == ["claim_id"]
    # Posted as it would have been at once: 90.00 paid, 25.00 left, the secondary billed for it.
    assert (
        after_match["status"],
        after_match["paid_cents"],
        after_match["patient_responsibility_cents"],
    ) == (
        "paid",
        9000,
        2500,
    )
    assert (secondary["payer_id"], secondary["status"]) == (payers["secondary"], "ready")
    assert held_after == []

    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["lines[0].adjustments"]
    assert keyed.status_code == 202 and keyed.json()["duplicate"] is False
    assert keyed.json()["matched_claim_ids"] == [secondary_id]
    assert (keyed_again.json()["remittance_id"], keyed_again.json()["duplicate"]) == (
        keyed.json()["remittance_id"],
        True,
    )
    assert (paid["status"], paid["paid_cents"], paid["patient_responsibility_cents"]) == ("paid", 2500, 0)
    # One answer per payer, in order; the secondary names no one after it. 140.00 = 90.00 + 25.00
    # (CO-45) + 25.00: nothing left to the patient.
    assert answers == [(primary_id, 9000, payers["secondary"]), (secondary_id, 2500, None)]
    assert 9000 + 2500 + 2500 == 14000


MEDICARE_MEDICAID = {
    "primary": ("MCARE", "MEDICARE PART B", "MB"),
    "secondary": ("MCAID", "STATE MEDICAID", "MC"),
}
MEDICARE_MEDIGAP = {
    "primary": ("MCARE", "MEDICARE PART B", "MB"),
    "secondary": ("GAPF1", "MEDIGAP PLAN F", "CI"),
}
# Medicare allows 100.00 of 99213-25 (CO-45 25.00) and pays 80%: 80.00, coinsurance PR-2 20.00;
# 81002 allowed 15.00, paid 12.00, PR-2 3.00. 140.00 = 92.00 + 25.00 + 23.00 left.
MEDICARE_PAYS = [
    ["SVC*HC:99213:25*125*80**1", "CAS*CO*45*25", "CAS*PR*2*20"],
    ["SVC*HC:81002*15*12**1", "CAS*PR*2*3"],
]
# The supplemental payer pays the 23.00 coinsurance; OA-23 reports Medicare's part of each line.
SUPPLEMENT_PAYS = [
    ["SVC*HC:99213:25*125*20**1", "CAS*OA*23*105"],
    ["SVC*HC:81002*15*3**1", "CAS*OA*23*12"],
]


async def test_medicare_crosses_over_to_medicaid_as_payer_of_last_resort_and_the_patient_owes_nothing(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    table = MEDICARE_MEDICAID
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        invoice, payers = await insured_invoice(
            svc, kafka_bootstrap, topic_prefix, ("primary", "secondary"), table
        )
        await submission(svc.runtime).run_once()
        receiver = await receiver_of(tmp_path)
        biller = svc.client(["biller"])
        primary_id = claim_id_for(TENANT, invoice.invoice_id)
        medicaid_id = successor_claim_id(TENANT, invoice.invoice_id, "secondary")
        pcn = (await biller.get(f"/claims/{primary_id}")).json()["patient_control_number"]
        # Medicare processes as primary and forwards to Medicaid itself (MA18 on the claim).
        medicare = answer(pcn, "1", "92", "23", "MCR-1", MEDICARE_PAYS)
        await biller.post(
            "/remittances",
            content=remittance_835(
                "primary",
                receiver,
                1201,
                "92",
                [medicare[0], "MOA***MA18", *medicare[1:]],
                payer_table=table,
            ),
        )
        not_sent = await biller.get(f"/claims/{medicaid_id}")
        sent = await submission(svc.runtime).run_once()
        await biller.post(
            "/remittances",
            content=remittance_835(
                "secondary",
                receiver,
                1202,
                "23",
                answer(pcn, "2", "23", "0", "MCD-1", SUPPLEMENT_PAYS),
                payer_table=table,
            ),
        )
        medicaid = (await biller.get(f"/claims/{medicaid_id}")).json()
        async with svc.runtime.pool.acquire() as db:
            answers = [
                r["payload"]
                for r in await db.fetch(
                    "SELECT payload FROM events WHERE event_type = 'ClaimAdjudicated' ORDER BY position"
                )
            ]

    assert not_sent.status_code == 404 and sent == []  # no claim of ours goes to Medicaid
    medicare_answer, medicaid_answer = answers
    assert (medicare_answer["crossover"], medicare_answer["next_payer_id"]) == (True, payers["secondary"])
    assert (medicaid["payer_id"], medicaid["sequence"], medicaid["last_batch_id"]) == (
        payers["secondary"],
        "secondary",
        None,
    )
    # Medicaid, the last payer, pays the 23.00 and leaves the patient nothing:
    # 140.00 = 92.00 (Medicare) + 25.00 (CO-45) + 23.00 (Medicaid).
    assert (medicaid["paid_cents"], medicaid["patient_responsibility_cents"]) == (2300, 0)
    assert (medicaid_answer["next_payer_id"], medicaid_answer["patient_responsibility_cents"]) == (None, 0)
    assert 9200 + 2500 + 2300 == 14000


async def test_medicare_then_a_medigap_plan_billed_on_its_own_claim(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    table = MEDICARE_MEDIGAP
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        invoice, _payers = await insured_invoice(
            svc, kafka_bootstrap, topic_prefix, ("primary", "secondary"), table
        )
        await submission(svc.runtime).run_once()
        receiver = await receiver_of(tmp_path)
        biller = svc.client(["biller"])
        primary_id = claim_id_for(TENANT, invoice.invoice_id)
        medigap_id = successor_claim_id(TENANT, invoice.invoice_id, "secondary")
        pcn = (await biller.get(f"/claims/{primary_id}")).json()["patient_control_number"]
        # No crossover agreement with this plan: Medicare's answer names no forwarding.
        await biller.post(
            "/remittances",
            content=remittance_835(
                "primary", receiver, 1301, "92", answer(pcn, "1", "92", "23", "MCR-2", MEDICARE_PAYS),
                payer_table=table,
            ),
        )  # fmt: skip
        sent = await submission(svc.runtime).run_once()
        medigap_837 = (await biller.get(f"/claims/{medigap_id}/837")).text
        gpcn = (await biller.get(f"/claims/{medigap_id}")).json()["patient_control_number"]
        await biller.post(
            "/remittances",
            content=remittance_835(
                "secondary", receiver, 1302, "23", answer(gpcn, "2", "23", "0", "GAP-1", SUPPLEMENT_PAYS),
                payer_table=table,
            ),
        )  # fmt: skip
        medigap = (await biller.get(f"/claims/{medigap_id}")).json()

    assert len(sent) == 1
    assert pyx12_errors(medigap_837) == []
    segments = segments_of(medigap_837)
    assert "SBR*S*18*GRP-001******CI" in segments  # billed to the Medigap plan
    start = segments.index("SBR*P*18*GRP-001******MB")  # loop 2320: Medicare's answer
    assert segments[start + 1 : start + 3] == ["AMT*D*92", "AMT*EAF*23"]
    assert (medigap["status"], medigap["paid_cents"], medigap["patient_responsibility_cents"]) == (
        "paid",
        2300,
        0,
    )


async def test_a_payer_that_garbles_thousands_of_claim_numbers_is_posted_held_and_read_back_whole(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    # 2,500 answers none of which names a claim of ours: every one is held. Held whole on one event
    # they would be about 1.2 MiB, over the store's limit, and the payment could never be posted.
    count = 2_500
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        await insured_invoice(svc, kafka_bootstrap, topic_prefix, ("primary",))
        await submission(svc.runtime).run_once()
        receiver = await receiver_of(tmp_path)
        biller = svc.client(["biller"])
        clps = [
            segment
            for n in range(count)
            for segment in answer(f"GARBLED{n:06d}", "1", "90", "25", f"ICN-G{n}", ACME_PAYS_PART)
        ]
        # BPR02 = 2,500 x 90.00 = 225,000.00.
        posted = await biller.post(
            "/remittances", content=remittance_835("primary", receiver, 1201, "225000", clps)
        )
        remittance_id = posted.json()["remittance_id"]
        payment = await biller.get(f"/remittances/{remittance_id}")
        waiting = (await biller.get("/remittances/unmatched", params={"limit": 100})).json()
        async with svc.runtime.pool.acquire() as db:
            sizes = [
                r["size"]
                for r in await db.fetch(
                    "SELECT octet_length(payload::text) AS size FROM events WHERE stream_id = $1",
                    remittance_id,
                )
            ]

    assert posted.status_code == 202, posted.text
    assert (posted.json()["matched_claims"], posted.json()["unmatched_claims"]) == (0, count)
    assert payment.status_code == 200, payment.text
    body = payment.json()
    assert (body["payment_cents"], body["claim_paid_cents"], body["balanced"]) == (
        22_500_000,
        22_500_000,
        True,
    )
    assert len(body["held_claims"]) == count
    assert body["held_claims"][-1]["patient_control_number"] == f"GARBLED{count - 1:06d}"
    assert len(waiting["items"]) == 100 and waiting["next_cursor"]  # the first page of the work list
    assert len(sizes) > 2 and max(sizes) < 512 * 1024
