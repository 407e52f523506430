"""HL7 v2 ADT intake against real PostgreSQL and Kafka: A04 then A08 register and update a patient
(ACK AA), over HTTP and MLLP; a malformed message gets AR and stores nothing; a resent control id
changes nothing; patient data never reaches the logs."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import hl7
import httpx
import pytest
from hl7.mllp import open_hl7_connection

from billing_testing.harness import ServiceHarness
from registration.entrypoints import SERVICE
from registration.entrypoints.hl7 import mllp_listener

TENANT = "tenant-a"
A04 = (
    "MSH|^~\\&|EPIC|GENERAL|BILLING|REG|20260302120000||ADT^A04^ADT_A01|{control}|P|2.5.1\r"
    "EVN|A04|20260302120000\r"
    "PID|1||MRN-9001^^^GENERAL^MR||Noether^Emmy||19820323|F|||"
    "12 Elm Street^^Cambridge^MA^02139||(617)555-0123\r"
    "PV1|1|O\r"
)
A08 = (
    "MSH|^~\\&|EPIC|GENERAL|BILLING|REG|20260305090000||ADT^A08^ADT_A01|{control}|P|2.5.1\r"
    "EVN|A08|20260305090000\r"
    "PID|1||MRN-9001^^^GENERAL^MR||Noether-Weyl^Emmy||19820323|F|||"
    "99 Oak Avenue^^Princeton^NJ^08540||(609)555-0111\r"
)
PHI = (
    "MRN-9001",
    "Noether",
    "19820323",
    "1982-03-23",
    "Elm Street",
    "Oak Avenue",
    "555-0123",
    "555-0111",
    "6175550123",
    "6095550111",
)


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        yield harness


async def post(client: httpx.AsyncClient, message: str) -> hl7.Message:
    response = await client.post(
        "/hl7/v2", content=message, headers={"content-type": "x-application/hl7-v2+er7"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("x-application/hl7-v2+er7")
    return hl7.parse(response.text)


def ack_code(ack: hl7.Message) -> str:
    return str(ack.extract_field("MSA", 1, 1, 1, 1))


async def event_count(svc: ServiceHarness) -> int:
    async with svc.runtime.pool.acquire() as connection:
        return int(await connection.fetchval("SELECT count(*) FROM events"))


async def patient_by_mrn(svc: ServiceHarness, mrn: str) -> dict[str, object] | None:
    response = await svc.client(["front_desk"]).get("/patients", params={"mrn": mrn})
    items = response.json()["items"]
    return items[0] if items else None


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.text: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "httpx":
            return  # the test's own client, whose query strings carry the MRN it looks up
        self.text.append(record.getMessage() + json.dumps(record.__dict__, default=str))


async def test_a04_then_a08_register_and_update_a_patient_and_a_resent_control_id_changes_nothing(
    svc: ServiceHarness,
) -> None:
    logs = Records()
    logging.getLogger().addHandler(logs)
    try:
        engine = svc.client(["front_desk"], subject="interface-engine")
        registered = await post(engine, A04.format(control="CTRL-0001"))
        assert ack_code(registered) == "AA"
        assert str(registered.extract_field("MSA", 1, 2, 1, 1)) == "CTRL-0001"
        patient = await patient_by_mrn(svc, "MRN-9001")
        assert patient is not None
        assert patient["name"] == {"given": "Emmy", "family": "Noether"}
        assert patient["birth_date"] == "1982-03-23"
        assert patient["address"]["city"] == "Cambridge"  # type: ignore[index]

        updated = await post(engine, A08.format(control="CTRL-0002"))
        assert ack_code(updated) == "AA"
        patient = await patient_by_mrn(svc, "MRN-9001")
        assert patient is not None
        assert patient["name"] == {"given": "Emmy", "family": "Noether-Weyl"}
        assert patient["address"]["city"] == "Princeton"  # type: ignore[index]
        assert patient["phone"] == "6095550111"

        # The same message again (an interface engine retrying): the first answer, nothing appended.
        before = await event_count(svc)
        again = await post(engine, A08.format(control="CTRL-0002"))
        assert ack_code(again) == "AA"
        reregistered = await post(engine, A04.format(control="CTRL-0001"))
        assert ack_code(reregistered) == "AA"
        assert await event_count(svc) == before
        assert (await patient_by_mrn(svc, "MRN-9001"))["name"]["family"] == "Noether-Weyl"  # type: ignore[index]
        # A different message under a used control id is rejected and changes nothing.
        reused = await post(engine, A04.format(control="CTRL-0002"))
        assert ack_code(reused) == "AR"
        assert await event_count(svc) == before

        # An A04 for a known MRN (the next outpatient visit) updates instead of duplicating.
        revisit = await post(engine, A04.format(control="CTRL-0003"))
        assert ack_code(revisit) == "AA"
        async with svc.runtime.pool.acquire() as connection:
            assert await connection.fetchval("SELECT count(*) FROM reg_patients") == 1
    finally:
        logging.getLogger().removeHandler(logs)
    everything = "\n".join(logs.text)
    for value in PHI:
        assert value not in everything


async def test_a_malformed_message_gets_ar_and_stores_nothing(svc: ServiceHarness) -> None:
    engine = svc.client(["front_desk"])
    for broken in (
        "this is not HL7 at all: Noether Emmy 19820323",
        A04.format(control=""),  # no message control id
        A04.format(control="CTRL-X").replace("MSH|^~\\&|", "MSH|"),
        "",
    ):
        ack = await post(engine, broken)
        assert ack_code(ack) == "AR"
        assert "Noether" not in str(ack)
    unsupported = await post(engine, A04.format(control="CTRL-ADMIT").replace("ADT^A04", "ADT^A01"))
    assert ack_code(unsupported) == "AR"
    assert "admissions" in str(unsupported.extract_field("MSA", 1, 3, 1, 1))
    assert await event_count(svc) == 0
    async with svc.runtime.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM reg_hl7_messages") == 0


async def test_a_message_the_rules_refuse_gets_ae_naming_the_field(svc: ServiceHarness) -> None:
    engine = svc.client(["front_desk"])
    ack = await post(engine, A04.format(control="CTRL-BAD").replace("|19820323|", "|19821399|"))
    assert ack_code(ack) == "AE"
    assert "PID-7" in str(ack.extract_field("MSA", 1, 3, 1, 1))
    assert await event_count(svc) == 0
    unknown = await post(engine, A08.format(control="CTRL-UNKNOWN"))
    assert ack_code(unknown) == "AE"


async def test_only_the_front_desk_role_may_post_messages(svc: ServiceHarness) -> None:
    response = await svc.client(["biller"]).post("/hl7/v2", content=A04.format(control="C1"))
    assert response.status_code == 403


async def test_the_mllp_listener_acknowledges_over_a_socket(svc: ServiceHarness) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    listener = mllp_listener(svc.runtime, port=port, tenant=TENANT)
    assert listener is not None
    stop = asyncio.Event()
    task = asyncio.create_task(listener(stop))
    try:
        for _ in range(50):
            try:
                reader, writer = await open_hl7_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.05)
        writer.writemessage(hl7.parse(A04.format(control="MLLP-1")))
        ack = await asyncio.wait_for(reader.readmessage(), 10)
        assert ack_code(ack) == "AA"
        writer.writeblock(b"garbage")
        assert ack_code(await asyncio.wait_for(reader.readmessage(), 10)) == "AR"
        writer.close()
        await writer.wait_closed()
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert (await patient_by_mrn(svc, "MRN-9001")) is not None


async def test_the_same_message_sent_concurrently_registers_one_patient(svc: ServiceHarness) -> None:
    engine = svc.client(["front_desk"])
    acks = await asyncio.gather(*(post(engine, A04.format(control="CTRL-RACE")) for _ in range(5)))
    assert {ack_code(ack) for ack in acks} == {"AA"}
    assert await event_count(svc) == 1
