"""Through the real broker and database: an encounter taken through adjudication, as its upstream
services publish it, reads back as valid FHIR R4 resources with hand-computed amounts; Bulk Data
exports NDJSON that parses with fhir.resources; nothing crosses tenants; every read is audited and no
patient data reaches the logs."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from billing_events.consumer import replay
from billing_events.contracts.base import Event
from billing_events.contracts.claims import (
    AdjudicatedLine,
    CasAdjustment,
    ClaimAdjudicated,
    ClaimCreated,
    ClaimLine,
)
from billing_events.contracts.coding import CodedLine, EncounterCoded
from billing_events.contracts.invoicing import Adjustment, InsurancePaymentPosted, PostedLine
from billing_events.contracts.registration import (
    Address,
    CoverageAdded,
    EncounterOpened,
    PatientDemographicsUpdated,
    PatientRegistered,
    PayerRegistered,
    ProviderEnrolled,
)
from billing_testing.harness import ServiceHarness, publish_events
from billing_testing.plugin import database_url_for
from interop.adapters.projections import projection_subscription
from interop.domain.resources import RESOURCE_TYPES
from interop.entrypoints import SERVICE
from invoicing.entrypoints import SERVICE as INVOICING

TENANT, OTHER = "tenant-a", "tenant-b"
SERVICE_DATE = date(2026, 3, 2)
FHIR_JSON = "application/fhir+json"
MRN, FAMILY, MEMBER_ID = "MRN-0042", "Lovelace", "W987654321"
CLINIC = Address(line1="100 Main Street", city="Boston", state="MA", postal_code="02110")


def new_id() -> str:
    return str(uuid.uuid4())


def parsed(body: dict[str, Any]) -> Any:
    """Validate any resource the API returned with the fhir.resources model of its type."""
    model = RESOURCE_TYPES[body["resourceType"]]
    return model.model_validate(body)


def amounts(adjudications: list[dict[str, Any]]) -> dict[str, Decimal]:
    """{category code or CARC reason: amount} of an adjudication list (amounts as exact decimals)."""
    found: dict[str, Decimal] = {}
    for entry in adjudications:
        if "amount" not in entry:
            continue
        key = entry["category"]["coding"][0]["code"]
        if "reason" in entry:
            key = f"{key}:{entry['reason']['coding'][0]['code']}"
        found[key] = Decimal(str(entry["amount"]["value"]))
    return found


# Line 1: 150.00 = 80.00 paid + 50.00 CO-45 (contract) + 20.00 PR-2 (coinsurance).
# Line 2:  25.00 = 10.00 paid +  5.00 CO-45 (contract) + 10.00 PR-1 (deductible).
PAID = {1: 8000, 2: 1000}
ADJUSTMENTS = {1: (("CO", "45", 5000), ("PR", "2", 2000)), 2: (("CO", "45", 500), ("PR", "1", 1000))}


def _adjustments(line_number: int) -> list[dict[str, Any]]:
    return [
        {"group": group, "reason_code": reason, "amount_cents": amount}
        for group, reason, amount in ADJUSTMENTS[line_number]
    ]


@dataclass
class Visit:
    """One patient's encounter from registration to the posted 835, as the upstream services publish it."""

    payer_id: str = ""
    billing_id: str = ""
    rendering_id: str = ""
    patient_id: str = ""
    coverage_id: str = ""
    encounter_id: str = ""
    claim_id: str = ""
    invoice_id: str = ""

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, new_id())

    async def events(self, svc: ServiceHarness) -> list[Event]:
        vault = svc.runtime.vault
        phi = await vault.seal_fields(
            self.patient_id,
            {
                "mrn": MRN,
                "name": {"given": "Ada", "family": FAMILY},
                "birth_date": "1985-12-10",
                "address": {
                    "line1": "12 Elm Street",
                    "city": "Cambridge",
                    "state": "MA",
                    "postal_code": "02139",
                },
                "phone": "617-555-0100",
                "member_id": MEMBER_ID,
            },
        )
        lines = (
            ClaimLine(line_number=1, line_control_number="L1", code="99213", units=1, charge_cents=15000,
                      diagnosis_pointers=(1,)),
            ClaimLine(line_number=2, line_control_number="L2", code="36415", units=1, charge_cents=2500,
                      diagnosis_pointers=(1, 2)),
        )  # fmt: skip
        return [
            PayerRegistered(
                payer_id=self.payer_id, name="Acme Health", edi_payer_id="ACME1", claim_filing_indicator="CI"
            ),
            ProviderEnrolled(
                provider_id=self.billing_id,
                npi="1234567893",
                role="billing",
                organization_name="Harbor Family Medicine",
                taxonomy_code="207Q00000X",
                tax_id="041234567",
                address=CLINIC,
            ),
            ProviderEnrolled(
                provider_id=self.rendering_id,
                npi="1245319599",
                role="rendering",
                given_name="Grace",
                family_name="Hopper",
                taxonomy_code="207Q00000X",
                address=CLINIC,
            ),
            PatientRegistered(
                patient_id=self.patient_id,
                mrn=phi["mrn"],
                mrn_index="index",
                name=phi["name"],
                birth_date=phi["birth_date"],
                sex="F",
                address=phi["address"],
                phone=phi["phone"],
            ),
            CoverageAdded(
                coverage_id=self.coverage_id,
                patient_id=self.patient_id,
                payer_id=self.payer_id,
                member_id=phi["member_id"],
                group_number="GRP-7",
                priority="primary",
                relationship_to_subscriber="self",
                effective_from=date(2026, 1, 1),
            ),
            EncounterOpened(
                encounter_id=self.encounter_id,
                patient_id=self.patient_id,
                billing_provider_id=self.billing_id,
                rendering_provider_id=self.rendering_id,
                service_date=SERVICE_DATE,
                place_of_service="11",
                patient_sex="F",
                patient_age_years=40,
            ),
            EncounterCoded(
                encounter_id=self.encounter_id,
                patient_id=self.patient_id,
                coding_version=1,
                service_date=SERVICE_DATE,
                billing_provider_id=self.billing_id,
                rendering_provider_id=self.rendering_id,
                place_of_service="11",
                diagnoses=("E11.9", "I10"),
                lines=tuple(
                    CodedLine(
                        line_number=line.line_number,
                        code=line.code,
                        code_system="CPT",
                        units=1,
                        diagnosis_pointers=line.diagnosis_pointers,
                    )
                    for line in lines
                ),
            ),
            ClaimCreated(
                claim_id=self.claim_id,
                patient_control_number="PCN1",
                invoice_id=self.invoice_id,
                encounter_id=self.encounter_id,
                patient_id=self.patient_id,
                coverage_id=self.coverage_id,
                payer_id=self.payer_id,
                service_date=SERVICE_DATE,
                diagnoses=("E11.9", "I10"),
                lines=lines,
                total_charge_cents=17500,
                billing_provider_id=self.billing_id,
                rendering_provider_id=self.rendering_id,
                place_of_service="11",
            ),
            ClaimAdjudicated(
                claim_id=self.claim_id,
                invoice_id=self.invoice_id,
                remittance_id=new_id(),
                payer_id=self.payer_id,
                payer_claim_control_number="PAYER-CCN-1",
                claim_status_code="1",
                outcome="paid",
                total_charge_cents=17500,
                paid_cents=9000,
                patient_responsibility_cents=3000,
                lines=tuple(
                    AdjudicatedLine(
                        line_number=line.line_number,
                        code=line.code,
                        charge_cents=line.charge_cents,
                        paid_cents=PAID[line.line_number],
                        adjustments=tuple(CasAdjustment(**a) for a in _adjustments(line.line_number)),
                    )
                    for line in lines
                ),
                adjudicated_on=date(2026, 3, 20),
            ),
            InsurancePaymentPosted(
                invoice_id=self.invoice_id,
                claim_id=self.claim_id,
                payer_id=self.payer_id,
                adjudication_id=new_id(),
                paid_cents=9000,
                contractual_adjustment_cents=5500,
                other_adjustment_cents=0,
                patient_responsibility_cents=3000,
                posted_on=date(2026, 3, 21),
                lines=tuple(
                    PostedLine(
                        line_number=n,
                        paid_cents=PAID[n],
                        adjustments=tuple(Adjustment(**a) for a in _adjustments(n)),
                    )
                    for n in (1, 2)
                ),
            ),
        ]


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.text: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.text.append(record.getMessage() + json.dumps(record.__dict__, default=str))


@pytest.fixture
async def interop(database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> Any:
    async with ServiceHarness.start(SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        yield svc


async def play(
    svc: ServiceHarness, kafka_bootstrap: str, prefix: str, events: list[Event], tenant: str
) -> None:
    await publish_events(kafka_bootstrap, prefix, events, tenant=tenant)
    await svc.drain()


async def fhir_get(client: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params) if params else await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body: dict[str, Any] = response.json()
    if body["resourceType"] == "Bundle":
        Bundle.model_validate(body)
        for entry in body.get("entry", []):
            parsed(entry["resource"])
    elif body["resourceType"] == "CapabilityStatement":
        CapabilityStatement.model_validate(body)
    else:
        parsed(body)
    return body


async def test_an_adjudicated_encounter_reads_as_valid_fhir_with_the_posted_amounts(
    interop: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    logs = Records()
    logging.getLogger().addHandler(logs)
    try:
        visit = Visit()
        await play(interop, kafka_bootstrap, topic_prefix, await visit.events(interop), TENANT)
        client = interop.client(["biller"], subject="analyst-1")

        patient = await fhir_get(client, f"/fhir/Patient/{visit.patient_id}")
        assert patient["name"][0] == {"use": "official", "family": FAMILY, "given": ["Ada"]}
        assert patient["identifier"][0]["value"] == MRN
        assert (patient["gender"], patient["birthDate"]) == ("female", "1985-12-10")

        coverage = await fhir_get(client, f"/fhir/Coverage/{visit.coverage_id}")
        assert coverage["subscriberId"] == MEMBER_ID
        assert coverage["beneficiary"]["reference"] == f"Patient/{visit.patient_id}"
        assert coverage["payor"][0]["reference"] == f"Organization/{visit.payer_id}"
        assert coverage["order"] == 1

        encounter = await fhir_get(client, f"/fhir/Encounter/{visit.encounter_id}")
        assert [c["coding"][0]["code"] for c in encounter["reasonCode"]] == ["E11.9", "I10"]
        assert encounter["period"]["start"] == SERVICE_DATE.isoformat()

        claim = await fhir_get(client, f"/fhir/Claim/{visit.claim_id}")
        assert Decimal(str(claim["total"]["value"])) == Decimal("175.00")
        assert [i["productOrService"]["coding"][0]["code"] for i in claim["item"]] == ["99213", "36415"]
        assert claim["insurance"][0]["coverage"]["reference"] == f"Coverage/{visit.coverage_id}"
        assert claim["provider"]["reference"] == f"Organization/{visit.billing_id}"
        assert claim["careTeam"][0]["provider"]["reference"] == f"Practitioner/{visit.rendering_id}"

        response = await fhir_get(client, f"/fhir/ClaimResponse/{visit.claim_id}")
        assert response["outcome"] == "complete"
        assert Decimal(str(response["payment"]["amount"]["value"])) == Decimal("90.00")
        assert amounts(response["item"][0]["adjudication"]) == {
            "submitted": Decimal("150"), "benefit": Decimal("80"),
            "discount:45": Decimal("50"), "coinsurance:2": Decimal("20"),
        }  # fmt: skip

        eob = await fhir_get(client, f"/fhir/ExplanationOfBenefit/{visit.claim_id}")
        # The EOB's payment is the posted insurance payment: 80.00 + 10.00.
        assert Decimal(str(eob["payment"]["amount"]["value"])) == Decimal("90.00")
        assert amounts(eob["total"]) == {
            "submitted": Decimal("175"), "eligible": Decimal("120"), "paidtoprovider": Decimal("90"),
            "benefit": Decimal("90"), "memberliability": Decimal("30"), "discount": Decimal("55"),
            "noncovered": Decimal("0"),
        }  # fmt: skip
        assert amounts(eob["item"][0]["adjudication"]) == {
            "submitted": Decimal("150"), "eligible": Decimal("100"), "paidtoprovider": Decimal("80"),
            "benefit": Decimal("80"), "memberliability": Decimal("20"),
            "discount:45": Decimal("50"), "coinsurance:2": Decimal("20"),
        }  # fmt: skip
        assert amounts(eob["item"][1]["adjudication"])["deductible:1"] == Decimal("10")
        assert eob["insurer"]["reference"] == f"Organization/{visit.payer_id}"
        assert eob["claim"]["reference"] == f"Claim/{visit.claim_id}"

        payer = await fhir_get(client, f"/fhir/Organization/{visit.payer_id}")
        assert payer["name"] == "Acme Health"
        clinic = await fhir_get(client, f"/fhir/Organization/{visit.billing_id}")
        assert clinic["identifier"][0]["value"] == "1234567893"
        doctor = await fhir_get(client, f"/fhir/Practitioner/{visit.rendering_id}")
        assert doctor["name"][0]["family"] == "Hopper"

        # search by patient, each type
        for resource_type, expected in (
            ("Coverage", visit.coverage_id),
            ("Encounter", visit.encounter_id),
            ("Claim", visit.claim_id),
            ("ClaimResponse", visit.claim_id),
            ("ExplanationOfBenefit", visit.claim_id),
        ):
            bundle = await fhir_get(client, f"/fhir/{resource_type}", patient=f"Patient/{visit.patient_id}")
            assert [e["resource"]["id"] for e in bundle["entry"]] == [expected], resource_type
        organizations = await fhir_get(client, "/fhir/Organization")
        assert {e["resource"]["id"] for e in organizations["entry"]} == {visit.payer_id, visit.billing_id}
        metadata = await fhir_get(client, "/fhir/metadata")
        assert metadata["fhirVersion"] == "4.0.1"

        # every read of the patient's data was audited under the reader's name
        audit = await interop.client(["auditor"]).get(
            "/audit/patient-reads",
            params={"patient_id": visit.patient_id, "actor": "analyst-1", "limit": 200},
        )
        assert audit.status_code == 200
        assert {row["access"] for row in audit.json()["items"]} >= {
            "fhir-read:Patient", "fhir-read:Coverage", "fhir-read:ExplanationOfBenefit",
            "fhir-search:Claim",
        }  # fmt: skip
    finally:
        logging.getLogger().removeHandler(logs)
    everything = "\n".join(logs.text)
    for secret in (MRN, FAMILY, MEMBER_ID, "1985-12-10", "617-555-0100"):
        assert secret not in everything


async def test_search_pages_and_filters_by_last_updated(
    interop: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    visits = [Visit() for _ in range(3)]
    events = [e for v in visits for e in await v.events(interop)]
    await play(interop, kafka_bootstrap, topic_prefix, events, TENANT)
    client = interop.client(["auditor"])

    seen: list[str] = []
    bundle = await fhir_get(client, "/fhir/Patient", _count="2")
    while True:
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not following:
            break
        bundle = await fhir_get(client, following[0].removeprefix("http://service"))
    assert sorted(seen) == sorted(v.patient_id for v in visits)

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert "entry" not in await fhir_get(client, "/fhir/Claim", _lastUpdated=f"ge{tomorrow}")
    recent = await fhir_get(client, "/fhir/Claim", _lastUpdated=f"gt{hour_ago}")
    assert len(recent["entry"]) == 3
    bad = await client.get("/fhir/Claim", params={"_lastUpdated": "yesterday"})
    assert bad.status_code == 422


async def test_a_demographics_update_changes_the_patient_resource(
    interop: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    visit = Visit()
    await play(interop, kafka_bootstrap, topic_prefix, (await visit.events(interop))[:4], TENANT)
    sealed = await interop.runtime.vault.seal_fields(
        visit.patient_id, {"name": {"given": "Ada", "family": "King"}}
    )
    update = PatientDemographicsUpdated(patient_id=visit.patient_id, name=sealed["name"])
    await play(interop, kafka_bootstrap, topic_prefix, [update], TENANT)
    patient = await fhir_get(interop.client(["front_desk"]), f"/fhir/Patient/{visit.patient_id}")
    assert patient["name"][0]["family"] == "King"


async def _export(client: httpx.AsyncClient, path: str, **params: str) -> dict[str, Any]:
    kick_off = await client.get(path, params=params, headers={"Prefer": "respond-async"})
    assert kick_off.status_code == 202, kick_off.text
    status_url = kick_off.headers["content-location"].removeprefix("http://service")
    for _ in range(200):
        status = await client.get(status_url)
        if status.status_code == 200:
            manifest: dict[str, Any] = status.json()
            return manifest
        assert status.status_code == 202, status.text
        await asyncio.sleep(0.05)
    raise AssertionError("the export did not complete")


async def _ndjson(client: httpx.AsyncClient, manifest: dict[str, Any]) -> dict[str, list[Any]]:
    files: dict[str, list[Any]] = {}
    for output in manifest["output"]:
        response = await client.get(output["url"].removeprefix("http://service"))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/fhir+ndjson")
        lines = [line for line in response.text.split("\n") if line]
        assert len(lines) == output["count"]
        files.setdefault(output["type"], []).extend(
            RESOURCE_TYPES[output["type"]].model_validate_json(line) for line in lines
        )
    return files


async def test_bulk_export_writes_ndjson_that_parses_as_fhir_for_the_callers_tenant_only(
    interop: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    mine, theirs = Visit(), Visit()
    await play(interop, kafka_bootstrap, topic_prefix, await mine.events(interop), TENANT)
    await play(interop, kafka_bootstrap, topic_prefix, await theirs.events(interop), OTHER)
    client = interop.client(["biller"])

    manifest = await _export(client, "/fhir/$export")
    assert manifest["requiresAccessToken"] is True
    files = await _ndjson(client, manifest)
    assert set(files) == {
        "Patient", "Coverage", "Encounter", "Claim", "ClaimResponse", "ExplanationOfBenefit",
        "Organization", "Practitioner",
    }  # fmt: skip
    assert [p.id for p in files["Patient"]] == [mine.patient_id]
    assert [e.id for e in files["ExplanationOfBenefit"]] == [mine.claim_id]
    assert files["ExplanationOfBenefit"][0].payment.amount.value == Decimal("90.00")
    assert {o.id for o in files["Organization"]} == {mine.payer_id, mine.billing_id}

    chosen = await _ndjson(client, await _export(client, "/fhir/Patient/$export", _type="Patient,Claim"))
    assert set(chosen) == {"Patient", "Claim"}
    later = datetime.now(UTC).isoformat()
    assert (await _export(client, "/fhir/$export", _since=later))["output"] == []
    refused = await client.get("/fhir/Patient/$export", params={"_type": "Organization"})
    assert refused.status_code == 422

    # The other tenant sees its own export only, and none of this tenant's ids or files.
    other = interop.client(["biller"], tenant=OTHER)
    theirs_files = await _ndjson(other, await _export(other, "/fhir/$export", _type="Patient"))
    assert [p.id for p in theirs_files["Patient"]] == [theirs.patient_id]
    status_path = manifest["output"][0]["url"].removeprefix("http://service")
    assert (await other.get(status_path)).status_code == 404


async def test_a_tenant_cannot_read_another_tenants_resources(
    interop: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    visit = Visit()
    await play(interop, kafka_bootstrap, topic_prefix, await visit.events(interop), TENANT)
    other = interop.client(["biller"], tenant=OTHER)
    for path in (
        f"/fhir/Patient/{visit.patient_id}",
        f"/fhir/Coverage/{visit.coverage_id}",
        f"/fhir/Claim/{visit.claim_id}",
        f"/fhir/ExplanationOfBenefit/{visit.claim_id}",
        f"/fhir/Organization/{visit.payer_id}",
    ):
        assert (await other.get(path)).status_code == 404, path
    bundle = await fhir_get(other, "/fhir/Claim", patient=visit.patient_id)
    assert "entry" not in bundle
    assert (await interop.client(["coder"]).get(f"/fhir/Patient/{visit.patient_id}")).status_code == 403


async def test_the_eob_payment_equals_what_invoicing_posted_from_the_same_adjudication(
    interop: ServiceHarness, database_server_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    """Invoicing itself (not a test's event) posts the adjudication to its ledger; interop's EOB shows it."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(database_server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        async with ServiceHarness.start(
            INVOICING,
            database_url_for(database_server_url, name),
            kafka_bootstrap,
            topic_prefix,
            tmp_path / "inv",
        ) as invoicing:
            schedule = {
                "effective_from": "2026-01-01",
                "rows": [{"code": "99213", "amount_cents": 15000}, {"code": "36415", "amount_cents": 2500}],
            }
            assert (
                await invoicing.client(["admin"]).put("/fee-schedules/standard", json=schedule)
            ).status_code == 201
            visit = Visit()
            events = await visit.events(interop)
            upstream, claim_events = events[:7], events[7:9]  # registration and coding; the claim's events
            await publish_events(kafka_bootstrap, topic_prefix, upstream, tenant=TENANT)
            await invoicing.drain()
            await invoicing.published()
            listed = await invoicing.client(["biller"]).get(
                "/invoices", params={"encounter_id": visit.encounter_id}
            )
            (invoice,) = listed.json()["items"]
            assert invoice["total_charge_cents"] == 17500
            # Claims would create the claim from this invoice and record the payer's 835 against it.
            created, adjudicated = (
                e.model_copy(update={"invoice_id": invoice["invoice_id"]}) for e in claim_events
            )
            await publish_events(kafka_bootstrap, topic_prefix, [created, adjudicated], tenant=TENANT)
            await invoicing.drain()
            await invoicing.published()
            ledger = (await invoicing.client(["biller"]).get(f"/invoices/{invoice['invoice_id']}")).json()
            await interop.drain()
    finally:
        admin = await asyncpg.connect(database_server_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    eob = await fhir_get(interop.client(["biller"]), f"/fhir/ExplanationOfBenefit/{visit.claim_id}")
    assert ledger["paid_cents"] == 9000
    assert Decimal(str(eob["payment"]["amount"]["value"])) * 100 == ledger["paid_cents"]
    totals = amounts(eob["total"])
    assert totals["memberliability"] * 100 == ledger["patient_responsibility_cents"]
    assert totals["discount"] * 100 == ledger["adjustment_cents"]


async def test_rebuilding_from_the_topics_gives_the_same_resources(
    interop: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    visits = [Visit() for _ in range(2)]
    events = [e for v in visits for e in await v.events(interop)]
    await play(interop, kafka_bootstrap, topic_prefix, events, TENANT)
    client = interop.client(["auditor"])
    types = (
        "Patient",
        "Coverage",
        "Encounter",
        "Claim",
        "ClaimResponse",
        "ExplanationOfBenefit",
        "Organization",
    )

    async def snapshot() -> list[Any]:
        return [(await fhir_get(client, f"/fhir/{t}", _count="100")).get("entry") for t in types]

    before = await snapshot()
    for consumer in interop.consumers:  # a rebuild runs with the live consumers stopped
        await consumer.stop()
    replayed = await replay(interop.runtime.store, interop.runtime.kafka, projection_subscription())
    assert replayed == len(events)
    assert await snapshot() == before


async def test_an_export_whose_process_ended_is_reported_failed(interop: ServiceHarness) -> None:
    async with interop.runtime.pool.acquire() as connection:
        await connection.execute(
            "INSERT INTO interop_exports (export_id, tenant, requested_by, request_url, level, types, "
            "status, transaction_time, heartbeat) VALUES ('stalled', $1, 'x', 'x', 'system', '{Patient}', "
            "'in-progress', now() - interval '1 hour', now() - interval '1 hour')",
            TENANT,
        )
    client = interop.client(["biller"])
    status = await client.get("/fhir/$export-status/stalled")
    assert status.status_code == 500
    assert "start another" in status.json()["detail"]
    assert (
        await interop.client(["biller"], tenant=OTHER).get("/fhir/$export-status/stalled")
    ).status_code == 404
