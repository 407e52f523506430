"""A stay's institutional invoice on the real servers: admission, institutional coding and charges in,
the invoice final at discharge (bill hold 0), late charges after it on a replacement bill."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from billing_events.contracts.coding import (
    DrgAssignment,
    InstitutionalDiagnosis,
    InstitutionalEncounterCoded,
    InstitutionalProcedure,
)
from billing_events.contracts.registration import AdmissionDischarged, AdmissionOpened
from billing_testing import builders
from billing_testing.harness import ServiceHarness, envelopes, publish_events, read_topic
from invoicing.domain import ids
from invoicing.entrypoints import SERVICE

pytestmark = pytest.mark.integration

TENANT = "tenant-a"
PATIENT = "11111111-1111-4111-8111-111111111111"
PAYER = "22222222-2222-4222-8222-222222222222"
COVERAGE = "33333333-3333-4333-8333-333333333333"
STAY = "55555555-5555-4555-8555-555555555555"
FACILITY = "66666666-6666-4666-8666-666666666666"
ATTENDING = "77777777-7777-4777-8777-777777777777"
ADMITTED = datetime(2026, 3, 2, 21, 40, tzinfo=UTC)
DISCHARGED = datetime(2026, 3, 5, 11, 15, tzinfo=UTC)

OPENED = AdmissionOpened(
    encounter_id=STAY,
    patient_id=PATIENT,
    facility_id=FACILITY,
    attending_provider_id=ATTENDING,
    setting="inpatient",
    admitted_at=ADMITTED,
    admission_type="1",
    admission_source="1",
    patient_sex="F",
    patient_age_years=75,
)
CODED = InstitutionalEncounterCoded(
    encounter_id=STAY,
    patient_id=PATIENT,
    coding_version=1,
    facility_id=FACILITY,
    attending_provider_id=ATTENDING,
    setting="inpatient",
    admitted_at=ADMITTED,
    principal_diagnosis=InstitutionalDiagnosis(code="M16.11", poa="Y"),
    admitting_diagnosis="M25.551",
    diagnoses=(InstitutionalDiagnosis(code="I10", poa="Y"),),
    procedures=(InstitutionalProcedure(code="0SR9019", date=date(2026, 3, 3)),),
    drg=DrgAssignment(
        code="470",
        weight="1.9000",
        description="Major hip and knee joint replacement",
        mdc="08",
        grouper="test",
    ),
)
DISCHARGE = AdmissionDischarged(
    encounter_id=STAY,
    patient_id=PATIENT,
    facility_id=FACILITY,
    setting="inpatient",
    admitted_at=ADMITTED,
    discharged_at=DISCHARGED,
    discharge_status="01",
)
CHARGEMASTER = {
    "effective_from": "2026-01-01",
    "rows": [
        {
            "charge_code": "RB-MED",
            "description": "Room and board",
            "revenue_code": "0120",
            "amount_cents": 200000,
        },
        {
            "charge_code": "OR-1H",
            "description": "Operating room",
            "revenue_code": "0360",
            "hcpcs": "27130",
            "amount_cents": 850050,
        },
        {"charge_code": "RX-1", "description": "Pharmacy", "revenue_code": "0250", "amount_cents": 1225},
    ],
}


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        yield harness


async def play(svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str, *events: Any) -> None:
    await publish_events(kafka_bootstrap, topic_prefix, list(events), tenant=TENANT)
    await svc.drain()
    await svc.published()


async def charge(svc: ServiceHarness, *lines: tuple[str, int, str]) -> dict[str, Any]:
    answer = await svc.client(["front_desk"]).post(
        f"/encounters/{STAY}/charges",
        json={"lines": [{"charge_code": c, "units": u, "service_date": d} for c, u, d in lines]},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_the_stay_is_billed_at_discharge_and_late_charges_replace_the_bill(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    assert (await svc.client(["admin"]).put("/chargemaster", json=CHARGEMASTER)).status_code == 200
    await play(
        svc,
        kafka_bootstrap,
        topic_prefix,
        builders.payer_registered(PAYER),
        builders.coverage_added(COVERAGE, PATIENT, PAYER),
        OPENED,
        CODED,
    )
    await charge(svc, ("RB-MED", 3, "2026-03-02"), ("OR-1H", 1, "2026-03-03"))
    first = await charge(svc, ("RX-1", 10, "2026-03-03"))
    assert first["late"] is False
    # 3 x 2,000.00 + 8,500.50 + 10 x 12.25 = 6,000.00 + 8,500.50 + 122.50 = 14,623.00
    assert first["encounter_total_charge_cents"] == 1462300
    listed = await svc.client(["biller"]).get("/invoices", params={"encounter_id": STAY})
    assert listed.json()["items"] == []  # not final before discharge

    await play(svc, kafka_bootstrap, topic_prefix, DISCHARGE)
    records = await read_topic(kafka_bootstrap, f"{topic_prefix}billing.invoicing.invoice", expect=1)
    (issued,) = envelopes(records)
    assert issued.stream_id == ids.institutional_invoice_id(TENANT, STAY, 1)
    payload = issued.payload
    assert payload["total_charge_cents"] == 1462300
    assert payload["payer_id"] == PAYER and payload["billing_provider_id"] == FACILITY
    bill = payload["institutional"]
    assert (bill["type_of_bill"], bill["frequency_code"]) == ("11", "1")
    assert (bill["statement_from"], bill["statement_to"]) == ("2026-03-02", "2026-03-05")
    assert bill["drg"]["code"] == "470" and bill["discharge_status"] == "01"
    assert [(line["revenue_code"], line["hcpcs"]) for line in bill["lines"]] == [
        ("0120", None),
        ("0360", "27130"),
        ("0250", None),
    ]

    shown = (await svc.client(["biller"]).get(f"/invoices/{issued.stream_id}")).json()
    assert shown["kind"] == "institutional" and shown["institutional"]["type_of_bill"] == "11"
    assert (shown["total_charge_cents"], shown["balance_cents"]) == (1462300, 1462300)

    late = await charge(svc, ("RX-1", 2, "2026-03-05"))
    assert late["late"] is True
    await svc.published()
    records = await read_topic(kafka_bootstrap, f"{topic_prefix}billing.invoicing.invoice", expect=3)
    # Each invoice is its own key: the topic orders the events of one invoice, not across them.
    kinds = {(e.event_type, e.stream_id) for e in envelopes(records)}
    replacement_id = ids.institutional_invoice_id(TENANT, STAY, 2)
    assert kinds == {
        ("InvoiceIssued", ids.institutional_invoice_id(TENANT, STAY, 1)),
        ("InvoiceVoided", ids.institutional_invoice_id(TENANT, STAY, 1)),
        ("InvoiceIssued", replacement_id),
    }
    (replacement,) = [
        e.payload
        for e in envelopes(records)
        if e.stream_id == replacement_id and e.event_type == "InvoiceIssued"
    ]
    # Every line again plus 2 x 12.25: 14,623.00 + 24.50 = 14,647.50; it replaces the first bill.
    assert replacement["total_charge_cents"] == 1464750
    assert replacement["institutional"]["frequency_code"] == "7"
    assert replacement["institutional"]["replaces_invoice_id"] == ids.institutional_invoice_id(
        TENANT, STAY, 1
    )


async def test_a_recoded_stay_is_billed_again_but_the_same_codes_again_change_nothing(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    assert (await svc.client(["admin"]).put("/chargemaster", json=CHARGEMASTER)).status_code == 200
    await charge(svc, ("RB-MED", 3, "2026-03-02"))
    await play(svc, kafka_bootstrap, topic_prefix, OPENED, DISCHARGE, CODED)
    first = ids.institutional_invoice_id(TENANT, STAY, 1)
    # The same codes as version 2 (a provisional DRG made final): no new bill.
    same = CODED.model_copy(update={"coding_version": 2, "previous_version": 1})
    # Version 3 drops the procedure and groups to another DRG: the bill is voided and issued again.
    assert CODED.drg is not None
    other_drg = CODED.drg.model_copy(update={"code": "553", "weight": "0.8000"})
    recoded = CODED.model_copy(
        update={"coding_version": 3, "previous_version": 2, "procedures": (), "drg": other_drg}
    )
    await play(svc, kafka_bootstrap, topic_prefix, same)
    listed = (await svc.client(["biller"]).get("/invoices", params={"encounter_id": STAY})).json()["items"]
    assert [(i["invoice_id"], i["status"]) for i in listed] == [(first, "open")]
    await play(svc, kafka_bootstrap, topic_prefix, recoded)
    records = await read_topic(kafka_bootstrap, f"{topic_prefix}billing.invoicing.invoice", expect=3)
    second = ids.institutional_invoice_id(TENANT, STAY, 2)
    assert {(e.event_type, e.stream_id) for e in envelopes(records)} == {
        ("InvoiceIssued", first),
        ("InvoiceVoided", first),
        ("InvoiceIssued", second),
    }
    (again,) = [e.payload for e in envelopes(records) if e.stream_id == second]
    assert again["coding_version"] == 3 and again["institutional"]["drg"]["code"] == "553"
    # 3 x 2,000.00, as before.
    assert again["total_charge_cents"] == 600000
