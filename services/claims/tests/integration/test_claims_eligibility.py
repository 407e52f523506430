"""Eligibility through the real broker and database, and the payer simulator as a separate process:
registration's checks arrive on its topic, leave as one 270 file per payer, and the simulator's
271s land on the inquiries as EligibilityResponseReceived, once."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from billing_x12.eligibility import parse_270
from x12sdk.io import X12ModelReader

from billing_events.contracts.base import Event
from billing_events.contracts.claims import (
    EligibilityInquiryFailed,
    EligibilityInquirySent,
    EligibilityResponseReceived,
)
from billing_testing import builders
from billing_testing.harness import ServiceHarness, envelopes, publish_events, read_topic
from claims.entrypoints import SERVICE
from claims.entrypoints.workers import eligibility_sender, inbound_folder
from claims.settings import ClaimsSettings

pytestmark = pytest.mark.integration

TENANT = "tenant-a"
SERVICE_DATE = date(2026, 3, 2)

# The simulator's payer: a $500.00 deductible, 20% coinsurance, a $25.00 copay for 99213, a
# $4,000.00 out-of-pocket maximum; member INACTIVE-1 is inactive, NOBODY-1 is not known.
RULES = """
payers:
  ACME1:
    name: ACME HEALTH
    tax_id: "060000009"
    address: {line: 1 PAYER WAY, city: HARTFORD, state: CT, zip: "06101"}
    allowed_percent: "80"
    annual_deductible: "500.00"
    coinsurance_percent: "20"
    copays: {"99213": "25.00"}
    eligibility:
      plan_description: ACME GOLD
      out_of_pocket_max: "4000.00"
      inactive_members: ["INACTIVE-1"]
      unknown_members: ["NOBODY-1"]
"""


def new_id() -> str:
    return str(uuid.uuid4())


@asynccontextmanager
async def claims_service(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path, *, wait_seconds: float = 600
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        svc.runtime.extras["claims_settings"] = ClaimsSettings(
            clearinghouse_dir=str(tmp_path / "clearinghouse"), eligibility_reference_wait_seconds=wait_seconds
        )
        yield svc


async def run_payer_simulator(folder: Path, rules: Path) -> None:
    simulator = Path(sys.executable).with_name("payer-simulator")
    process = await asyncio.create_subprocess_exec(
        str(simulator), "--dir", str(folder), "--config", str(rules), "--once", "--settle-seconds", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, errors = await process.communicate()
    assert process.returncode == 0, errors.decode()


async def history(svc: ServiceHarness, stream_id: str) -> list[Event]:
    async with svc.runtime.store.session() as session:
        return [envelope.event() for envelope in await session.load(stream_id)]


async def test_checks_go_out_as_270s_and_the_simulators_271s_answer_them(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    folder = tmp_path / "clearinghouse"
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    payer_id, billing_id = new_id(), new_id()
    members = {"active": "ACME-0001", "inactive": "INACTIVE-1", "unknown": "NOBODY-1"}
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        vault = svc.runtime.vault
        reference: list[Event] = [
            builders.payer_registered(payer_id),
            builders.billing_provider_enrolled(billing_id),
        ]
        checks: dict[str, str] = {}
        requests: list[Event] = []
        for case, member_id in members.items():
            patient_id, coverage_id, check_id = new_id(), new_id(), new_id()
            checks[case] = check_id
            reference.append(await builders.sealed_patient_registered(vault, patient_id))
            reference.append(
                await builders.sealed_coverage_added(
                    vault, coverage_id, patient_id, payer_id, member_id=member_id
                )
            )
            requests.append(
                builders.eligibility_check_requested(
                    check_id,
                    coverage_id=coverage_id,
                    patient_id=patient_id,
                    payer_id=payer_id,
                    service_date=SERVICE_DATE,
                )
            )
        await publish_events(kafka_bootstrap, topic_prefix, reference, tenant=TENANT)
        await svc.drain()
        # The same request delivered twice is one inquiry.
        await publish_events(kafka_bootstrap, topic_prefix, [*requests, requests[0]], tenant=TENANT)
        await svc.drain()

        written = await eligibility_sender(svc.runtime).run_once(datetime.now(UTC))
        assert len(written) == 1  # one file for the tenant's one payer
        text = (folder / "outbound" / written[0]).read_text()
        inquiries = parse_270(text)
        assert sorted(i.reference_id for i in inquiries) == sorted(checks.values())
        assert {i.subscriber.party.identifier for i in inquiries} == set(members.values())
        assert {i.receiver.identifier for i in inquiries} == {builders.BILLING_NPI}
        assert {i.service_date for i in inquiries} == {SERVICE_DATE}
        # x12sdk, a parser independent of ours, reads the same file as three 270s.
        with X12ModelReader(str(folder / "outbound" / written[0])) as sdk:
            read_by_sdk = [next(model.members()) for model in sdk.models()]  # type: ignore[attr-defined]
        assert sorted(member.member_id for member in read_by_sdk) == sorted(members.values())
        # Nothing waits any more: a second round writes nothing.
        assert await eligibility_sender(svc.runtime).run_once(datetime.now(UTC)) == []
        # Nor does a replay of registration's topic (the rows wait again, the inquiries are sent).
        async with svc.runtime.pool.acquire() as connection:
            await connection.execute("UPDATE claims_eligibility_inquiries SET status = 'waiting'")
        assert await eligibility_sender(svc.runtime).run_once(datetime.now(UTC)) == []

        await run_payer_simulator(folder, rules)
        (answer_file,) = (folder / "inbound").glob("*.271.*")
        reader = inbound_folder(svc.runtime)
        (result,) = await reader.run_once()
        assert (result.kind, result.matched_claims, result.unmatched_claims) == ("271", 3, 0)
        # The same 271 again changes nothing.
        (folder / "inbound" / "again.x12").write_bytes(
            (folder / "inbound" / "processed" / answer_file.name).read_bytes()
        )
        (again,) = await reader.run_once()
        assert again.outcome == "duplicate"

        active = await history(svc, checks["active"])
        inactive = await history(svc, checks["inactive"])
        unknown = await history(svc, checks["unknown"])
        await svc.published()
        published = envelopes(
            await read_topic(kafka_bootstrap, f"{topic_prefix}billing.claims.eligibility-inquiry", expect=6)
        )

    assert [type(e) for e in active] == [EligibilityInquirySent, EligibilityResponseReceived]
    sent, answer = active
    assert isinstance(sent, EligibilityInquirySent) and isinstance(answer, EligibilityResponseReceived)
    assert sent.file_name == written[0]
    assert answer.status == "active"
    assert (answer.plan_begin_on, answer.plan_end_on) == (date(2026, 1, 1), date(2026, 12, 31))
    assert answer.deductible_remaining_cents == 50000  # nothing met yet: all of $500.00
    assert answer.out_of_pocket_remaining_cents == 400000  # $4,000.00
    assert answer.copay_cents == 2500  # the 99213 copay, $25.00
    assert answer.coinsurance_basis_points == 2000  # 20%
    assert answer.reasons == ()

    inactive_answer = inactive[-1]
    assert isinstance(inactive_answer, EligibilityResponseReceived)
    assert inactive_answer.status == "inactive"
    assert [r.code for r in inactive_answer.reasons] == ["EB:6"]
    assert inactive_answer.plan_end_on == date(2025, 12, 31)

    unknown_answer = unknown[-1]
    assert isinstance(unknown_answer, EligibilityResponseReceived)
    assert unknown_answer.status == "error"
    assert [r.code for r in unknown_answer.reasons] == ["AAA:75"]
    assert unknown_answer.deductible_remaining_cents is None

    assert (
        sorted(e.event_type for e in published)
        == ["EligibilityInquirySent"] * 3 + ["EligibilityResponseReceived"] * 3
    )
    assert {e.stream_id for e in published} == set(checks.values())


async def test_an_inquiry_waits_for_its_coverage_then_fails_without_it(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    payer_id, billing_id, patient_id = new_id(), new_id(), new_id()
    waiting, missing = new_id(), new_id()
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path, wait_seconds=60) as svc:
        vault = svc.runtime.vault
        coverage_id = new_id()
        await publish_events(
            kafka_bootstrap,
            topic_prefix,
            [
                builders.payer_registered(payer_id),
                builders.billing_provider_enrolled(billing_id),
                await builders.sealed_patient_registered(vault, patient_id),
                builders.eligibility_check_requested(
                    waiting, coverage_id=coverage_id, patient_id=patient_id, payer_id=payer_id
                ),
                builders.eligibility_check_requested(
                    missing, coverage_id=new_id(), patient_id=patient_id, payer_id=payer_id
                ),
            ],
            tenant=TENANT,
        )
        await svc.drain()
        sender = eligibility_sender(svc.runtime)
        now = datetime.now(UTC)
        # The coverage has not arrived: both wait.
        assert await sender.run_once(now) == []
        assert await history(svc, waiting) == [] and await history(svc, missing) == []
        # One coverage arrives; the other never does and fails once the minute is over.
        await publish_events(
            kafka_bootstrap,
            topic_prefix,
            [await builders.sealed_coverage_added(vault, coverage_id, patient_id, payer_id)],
            tenant=TENANT,
        )
        await svc.drain()
        assert len(await sender.run_once(now + timedelta(seconds=61))) == 1
        sent = await history(svc, waiting)
        failed = await history(svc, missing)

    assert [type(e) for e in sent] == [EligibilityInquirySent]
    (failure,) = failed
    assert isinstance(failure, EligibilityInquiryFailed)
    assert [r.code for r in failure.reasons] == ["REF:missing"]
