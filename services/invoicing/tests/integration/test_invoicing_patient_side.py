"""The patient's side against the real broker and database: payer contracts, estimates, ACA preventive
services and financial assistance, through the API and the topics. Amounts worked out by hand."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from billing_testing import builders
from billing_testing.harness import ServiceHarness, envelopes, publish_events, read_topic
from invoicing.domain import ids
from invoicing.entrypoints import SERVICE

TENANT = "tenant-a"
PATIENT = "11111111-1111-4111-8111-111111111111"
PAYER = "22222222-2222-4222-8222-222222222222"
COVERAGE = "33333333-3333-4333-8333-333333333333"
ENCOUNTER = "44444444-4444-4444-8444-444444444444"
SELF_PAY_PATIENT = "55555555-5555-4555-8555-555555555555"
PROVIDER = "66666666-6666-4666-8666-666666666666"
INVOICE = ids.invoice_id(TENANT, ENCOUNTER, 1)

SCHEDULE = {
    "effective_from": "2026-01-01",
    "rows": [
        {"code": "99213", "amount_cents": 12500},
        {"code": "99213", "modifier": "25", "amount_cents": 14000},
        {"code": "81002", "amount_cents": 1500},
        {"code": "99396", "amount_cents": 20000},
    ],
}
CONTRACT = {
    "effective_from": "2026-01-01",
    "rows": [
        {"code": "99213", "allowed_cents": 10000},
        {"code": "81002", "allowed_cents": 1000},
        {"code": "99396", "allowed_cents": 16000},
    ],
}


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        assert (
            await harness.client(["admin"]).put("/fee-schedules/standard", json=SCHEDULE)
        ).status_code == 201
        yield harness


async def play(svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str, *events: Any) -> None:
    await publish_events(kafka_bootstrap, topic_prefix, list(events), tenant=TENANT)
    await svc.drain()
    await svc.published()
    await svc.drain()  # invoicing's own policies on its invoice topic (financial assistance)
    await svc.published()


async def invoice_of(svc: ServiceHarness, invoice_id: str = INVOICE) -> dict[str, Any]:
    response = await svc.client(["biller"]).get(f"/invoices/{invoice_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["total_charge_cents"] == body["paid_cents"] + body["adjustment_cents"] + body["balance_cents"]
    return body


# Payer contracts.


async def test_a_contract_is_imported_in_versions_and_read_back(svc: ServiceHarness) -> None:
    admin = svc.client(["admin"])
    first = await admin.put(f"/contracts/{PAYER}", json=CONTRACT)
    assert first.status_code == 201, first.text
    assert (first.json()["row_count"], first.json()["versions"]) == (3, 1)
    again = await admin.put(f"/contracts/{PAYER}", json=CONTRACT)
    assert (again.status_code, again.json()["changed"]) == (200, False)
    csv = "code,modifier,allowed_cents\n99213,,10500\n81002,,1100\n"
    later = await admin.put(
        f"/contracts/{PAYER}?effective_from=2026-07-01&requires_modifier_33=true",
        content=csv,
        headers={"Content-Type": "text/csv"},
    )
    assert later.status_code == 201, later.text
    in_march = (await admin.get(f"/contracts/{PAYER}", params={"effective_on": "2026-03-02"})).json()
    assert [(r["code"], r["allowed_cents"]) for r in in_march["rows"]] == [
        ("81002", 1000),
        ("99213", 10000),
        ("99396", 16000),
    ]
    latest = (await admin.get(f"/contracts/{PAYER}")).json()
    assert (latest["effective_from"], latest["requires_modifier_33"]) == ("2026-07-01", True)


async def test_a_contract_with_a_bad_row_is_refused_whole(svc: ServiceHarness) -> None:
    admin = svc.client(["admin"])
    csv = "code,modifier,allowed_cents\n99213,,10000\n81002,,-5\n"
    refused = await admin.put(
        f"/contracts/{PAYER}?effective_from=2026-01-01", content=csv, headers={"Content-Type": "text/csv"}
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["line 3.allowed_cents"]
    assert (await admin.get(f"/contracts/{PAYER}")).status_code == 404
    assert (await svc.client(["biller"]).put(f"/contracts/{PAYER}", json=CONTRACT)).status_code == 403


# ACA preventive services.


async def covered_preventive_visit(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str, *lines: Any
) -> None:
    assert (await svc.client(["admin"]).put(f"/contracts/{PAYER}", json=CONTRACT)).status_code == 201
    await play(
        svc,
        kafka_bootstrap,
        topic_prefix,
        builders.payer_registered(PAYER),
        builders.coverage_added(COVERAGE, PATIENT, PAYER),
        builders.encounter_coded(ENCOUNTER, PATIENT, diagnoses=("Z00.00", "E11.9"), lines=lines),
    )


async def test_a_preventive_visit_honoured_by_the_payer_leaves_the_patient_nothing(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await covered_preventive_visit(svc, kafka_bootstrap, topic_prefix, builders.coded_line(1, "99396"))
    issued = await invoice_of(svc)
    assert (issued["preventive_line_numbers"], issued["in_network"]) == ([1], True)
    # 99396: charge 20000, allowed 16000 paid in full, CO-45 4000.
    paid = builders.claim_adjudicated(
        INVOICE, PAYER, lines=(builders.adjudicated_line(1, "99396", 20000, 16000, ("CO", "45", 4000)),)
    )
    await play(svc, kafka_bootstrap, topic_prefix, paid)
    shown = await invoice_of(svc)
    assert (shown["patient_responsibility_cents"], shown["balance_cents"], shown["status"]) == (
        0,
        0,
        "settled",
    )
    queue = (await svc.client(["biller"]).get("/work-queues/preventive-cost-sharing")).json()
    assert queue["items"] == []


async def test_pr_on_a_preventive_line_is_withheld_and_the_claim_queued_for_appeal(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await covered_preventive_visit(
        svc,
        kafka_bootstrap,
        topic_prefix,
        builders.coded_line(1, "99396", diagnosis_pointers=(1,)),
        builders.coded_line(2, "99213", modifiers=("25",), diagnosis_pointers=(2,)),
    )
    # The payer applied the deductible to the preventive visit (PR-1 16000 of its 16000 allowed) and a
    # copay to the problem visit (99213-25: charge 14000, allowed 10000, PR-3 3000, paid 7000).
    answer = builders.claim_adjudicated(
        INVOICE,
        PAYER,
        lines=(
            builders.adjudicated_line(1, "99396", 20000, 0, ("CO", "45", 4000), ("PR", "1", 16000)),
            builders.adjudicated_line(2, "99213", 14000, 7000, ("CO", "45", 4000), ("PR", "3", 3000)),
        ),
    )
    await play(svc, kafka_bootstrap, topic_prefix, answer)
    shown = await invoice_of(svc)
    # Charges 34000 = 7000 paid + 8000 CO + 19000 open: 3000 the patient's copay, 16000 withheld
    # from the patient and still the payer's.
    assert (shown["balance_cents"], shown["patient_responsibility_cents"]) == (19000, 3000)
    assert (shown["insurance_balance_cents"], shown["preventive_cost_sharing_cents"]) == (16000, 16000)
    statement = (await svc.client(["front_desk"]).get(f"/patients/{PATIENT}/statement")).json()
    assert statement["amount_due_cents"] == 3000

    queue = (await svc.client(["biller"]).get("/work-queues/preventive-cost-sharing")).json()
    assert [(i["invoice_id"], i["preventive_cost_sharing_cents"]) for i in queue["items"]] == [
        (INVOICE, 16000)
    ]
    assert queue["items"][0]["lines"] == [
        {
            "line_number": 1,
            "code": "99396",
            "claim_id": "claim-1",
            "adjustments": ["PR-1"],
            "amount_cents": 16000,
        }
    ]
    report = (
        await svc.client(["auditor"]).get(
            "/preventive-services/report", params={"from": "2026-03-01", "to": "2026-03-31"}
        )
    ).json()
    assert report["items"] == [
        {
            "code": "99396",
            "lines": 1,
            "charge_cents": 20000,
            "in_network_lines": 1,
            "payer_cost_sharing_withheld_cents": 16000,
            "patient_cost_sharing_cents": 0,
        }
    ]
    assert report["table"]["as_of"]

    posted = envelopes(
        await read_topic(kafka_bootstrap, f"{topic_prefix}billing.invoicing.invoice", expect=2)
    )
    assert posted[-1].payload["preventive_cost_sharing_cents"] == 16000
    assert posted[-1].payload["patient_responsibility_cents"] == 3000


# Estimates.


async def test_an_insured_estimate_uses_the_contract_and_the_latest_eligibility_answer(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    assert (await svc.client(["admin"]).put(f"/contracts/{PAYER}", json=CONTRACT)).status_code == 201
    await play(
        svc,
        kafka_bootstrap,
        topic_prefix,
        builders.coverage_added(COVERAGE, PATIENT, PAYER),
        builders.eligibility_check_answered(
            "check-1", coverage_id=COVERAGE, patient_id=PATIENT, deductible_remaining_cents=5000
        ),
    )
    body = {
        "patient_id": PATIENT,
        "service_date": "2026-03-02",
        "lines": [{"code": "99213", "units": 1}, {"code": "81002", "units": 2}],
    }
    front_desk = svc.client(["front_desk"])
    created = await front_desk.post("/estimates", json=body, headers={"Idempotency-Key": "est-1"})
    assert created.status_code == 201, created.text
    estimate = created.json()
    # 99213: charge 12500, allowed 10000: copay 3000, deductible 5000 (all that is left), 20% of 2000
    # = 400: patient 8400. 81002 x2: charge 3000, allowed 2000: 20% = 400. Patient 8800, payer
    # 12000 - 8800 = 3200.
    assert (estimate["kind"], estimate["coverage_id"]) == ("insured", COVERAGE)
    assert (
        estimate["total_charge_cents"],
        estimate["expected_payer_cents"],
        estimate["patient_estimate_cents"],
    ) == (
        15500,
        3200,
        8800,
    )
    assert estimate["benefits"]["source"] == "eligibility-check:check-1"
    repeated = await front_desk.post("/estimates", json=body, headers={"Idempotency-Key": "est-1"})
    assert repeated.json()["estimate_id"] == estimate["estimate_id"]
    shown = (await front_desk.get(f"/estimates/{estimate['estimate_id']}")).json()
    assert shown["patient_estimate_cents"] == 8800
    await svc.published()
    recorded = envelopes(
        await read_topic(kafka_bootstrap, f"{topic_prefix}billing.invoicing.estimate", expect=1)
    )
    assert [e.event_type for e in recorded] == ["EstimateIssued"]


async def test_a_self_pay_patient_gets_a_good_faith_estimate(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await play(svc, kafka_bootstrap, topic_prefix, builders.billing_provider_enrolled(PROVIDER))
    created = await svc.client(["front_desk"]).post(
        "/estimates",
        json={
            "patient_id": SELF_PAY_PATIENT,
            "service_date": "2026-03-02",
            "billing_provider_id": PROVIDER,
            "lines": [{"code": "99213", "units": 1}, {"code": "81002", "units": 2}],
        },
    )
    assert created.status_code == 201, created.text
    estimate = created.json()
    assert estimate["kind"] == "good_faith"
    assert (estimate["patient_estimate_cents"], estimate["expected_payer_cents"]) == (
        15500,
        0,
    )  # 12500 + 2 x 1500
    gfe = estimate["good_faith_estimate"]
    assert gfe["expected_service_date"] == "2026-03-02"
    assert (gfe["convening_provider"]["npi"], gfe["convening_provider"]["tax_id"]) == (
        builders.BILLING_NPI,
        "04-1234567",
    )
    assert gfe["dispute_threshold_cents"] == 40000
    assert any("not a contract" in text for text in gfe["disclaimers"])


async def test_an_estimate_of_a_code_without_a_price_is_refused(svc: ServiceHarness) -> None:
    refused = await svc.client(["front_desk"]).post(
        "/estimates",
        json={"patient_id": PATIENT, "service_date": "2026-03-02", "lines": [{"code": "70450", "units": 1}]},
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["lines.0.code"]


# Financial assistance.

POLICY = {
    "effective_from": "2026-01-01",
    "agb_percent": 45,
    "tiers": [
        {"max_fpl_percent": 200, "discount_percent": 100},
        {"max_fpl_percent": 400, "discount_percent": 40},
    ],
    "fpl": {
        "year": 2025,
        "source": "HHS poverty guidelines, 90 FR 5917",
        "rows": [
            {"household_size": 1, "amount_cents": 1565000},
            {"household_size": 2, "amount_cents": 2115000},
        ],
        "per_additional_person_cents": 550000,
    },
}


async def test_an_eligible_patient_is_charged_no_more_than_agb(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    assert (await svc.client(["admin"]).put("/financial-assistance-policy", json=POLICY)).status_code == 201
    visit = builders.encounter_coded(ENCOUNTER, SELF_PAY_PATIENT, lines=(builders.coded_line(1, "99213"),))
    await play(svc, kafka_bootstrap, topic_prefix, visit)
    assert (await invoice_of(svc))["patient_responsibility_cents"] == 12500  # self-pay, 99213

    applied = await svc.client(["front_desk"]).post(
        f"/patients/{SELF_PAY_PATIENT}/financial-assistance-applications",
        json={"household_size": 2, "household_income_cents": 6_000_000, "received_on": "2026-04-01"},
        headers={"Idempotency-Key": "fap-1"},
    )
    assert applied.status_code == 201, applied.text
    decided = applied.json()
    # 60,000 / 21,150 = 283%: the 40% tier. Discounted 12500 - 5000 = 7500; AGB 45% of 12500 = 5625:
    # charged the lower, 5625, so 12500 - 5625 = 6875 is written off as charity.
    assert (decided["eligible"], decided["discount_percent"], decided["agb_percent"]) == (True, 40, 45)
    assert [(w["invoice_id"], w["amount_cents"]) for w in decided["charity_write_offs"]] == [(INVOICE, 6875)]
    assert "6000000" not in applied.text
    shown = await invoice_of(svc)
    assert (shown["adjustment_cents"], shown["balance_cents"], shown["patient_responsibility_cents"]) == (
        6875,
        5625,
        5625,
    )

    # A later visit of the eligible patient is brought to AGB as soon as it is invoiced.
    second = builders.encounter_coded(
        "77777777-7777-4777-8777-777777777777", SELF_PAY_PATIENT, lines=(builders.coded_line(1, "99213"),)
    )
    await play(svc, kafka_bootstrap, topic_prefix, second)
    later = await invoice_of(svc, ids.invoice_id(TENANT, "77777777-7777-4777-8777-777777777777", 1))
    assert (later["adjustment_cents"], later["patient_responsibility_cents"]) == (6875, 5625)

    status = (await svc.client(["biller"]).get(f"/patients/{SELF_PAY_PATIENT}/financial-assistance")).json()
    assert status["charity_write_offs_due"] == []
    assert [d["discount_percent"] for d in status["determinations"]] == [40]
    # The self-pay invoice's statement is the first: no extraordinary collection before 120 days after it.
    first = date.fromisoformat(status["first_statement_on"])
    assert status["extraordinary_collection_allowed_from"] == (first + timedelta(days=120)).isoformat()
    assert status["extraordinary_collection_allowed"] is False
    too_early = await svc.client(["biller"]).post(
        f"/patients/{SELF_PAY_PATIENT}/extraordinary-collection-actions", json={"action": "credit_reporting"}
    )
    assert too_early.status_code == 409
    assert status["extraordinary_collection_allowed_from"] in too_early.json()["detail"]

    await svc.published()
    decisions = envelopes(
        await read_topic(
            kafka_bootstrap, f"{topic_prefix}billing.invoicing.financial-assistance-application", expect=1
        )
    )
    payload = decisions[0].payload
    assert payload["household"]["alg"] == "AES-256-GCM"
    assert "6000000" not in json.dumps(payload)
    opened = await svc.runtime.vault.open(decisions[0].event().household, "household")  # type: ignore[attr-defined]
    assert opened == {"household_size": 2, "household_income_cents": 6_000_000, "fpl_percent": 283}
    write_offs = [
        e.payload
        for e in envelopes(
            await read_topic(kafka_bootstrap, f"{topic_prefix}billing.invoicing.invoice", expect=6)
        )
        if e.event_type == "WriteOffPosted"
    ]
    assert [(w["reason"], w["amount_cents"]) for w in write_offs] == [("charity", 6875), ("charity", 6875)]


async def test_an_application_without_a_policy_or_with_a_bad_household_is_refused(
    svc: ServiceHarness,
) -> None:
    front_desk = svc.client(["front_desk"])
    path = f"/patients/{PATIENT}/financial-assistance-applications"
    no_policy = await front_desk.post(path, json={"household_size": 2, "household_income_cents": 100})
    assert no_policy.status_code == 422
    assert [e["field"] for e in no_policy.json()["errors"]] == ["received_on"]
    bad = await front_desk.post(path, json={"household_size": 0, "household_income_cents": 123456})
    assert bad.status_code == 422
    assert "123456" not in bad.text


async def test_a_policy_with_absurd_or_disordered_figures_is_refused(svc: ServiceHarness) -> None:
    admin = svc.client(["admin"])
    absurd = await admin.put("/financial-assistance-policy", json={**POLICY, "agb_percent": "1e100000"})
    assert absurd.status_code == 422
    assert [e["field"] for e in absurd.json()["errors"]] == ["agb_percent"]
    disordered = {**POLICY, "tiers": list(reversed(POLICY["tiers"]))}  # type: ignore[call-overload]
    refused = await admin.put("/financial-assistance-policy", json=disordered)
    assert refused.status_code == 422
    assert "tiers" in [e["field"] for e in refused.json()["errors"]]
    assert (await admin.get("/financial-assistance-policy")).status_code == 404
