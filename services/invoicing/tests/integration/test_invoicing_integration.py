"""Invoicing against the real broker and database: upstream events in, priced invoices and postings out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from billing_testing import builders
from billing_testing.harness import ServiceHarness, envelopes, publish_events, read_topic
from invoicing.adapters.projections import OWN_TABLES, rebuild
from invoicing.domain import ids
from invoicing.entrypoints import SERVICE

TENANT = "tenant-a"
PATIENT = "11111111-1111-4111-8111-111111111111"
PAYER = "22222222-2222-4222-8222-222222222222"
COVERAGE = "33333333-3333-4333-8333-333333333333"
ENCOUNTER = "44444444-4444-4444-8444-444444444444"
INVOICE = ids.invoice_id(TENANT, ENCOUNTER, 1)
# The patient's primary coverage, as registration published it (without a group number).
COVERAGE_ADDED = builders.coverage_added(COVERAGE, PATIENT, PAYER, group_number=None)


SCHEDULE_2026 = {
    "effective_from": "2026-01-01",
    "rows": [
        {"code": "99213", "amount_cents": 12500},
        {"code": "99213", "modifier": "25", "amount_cents": 14000},
        {"code": "81002", "amount_cents": 1500},
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
    """Upstream services publish; invoicing consumes, and its relay publishes what that caused."""
    await publish_events(kafka_bootstrap, topic_prefix, list(events), tenant=TENANT)
    await svc.drain()
    await svc.published()


async def invoice_of(svc: ServiceHarness, invoice_id: str = INVOICE) -> dict[str, Any]:
    response = await svc.client(["biller"]).get(f"/invoices/{invoice_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_coded_encounter_with_coverage_ends_as_a_priced_invoice_on_the_topic(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    imported = await svc.client(["admin"]).put("/fee-schedules/standard", json=SCHEDULE_2026)
    assert imported.status_code == 201, imported.text

    await play(
        svc,
        kafka_bootstrap,
        topic_prefix,
        builders.payer_registered(PAYER),
        COVERAGE_ADDED,
        builders.encounter_coded(ENCOUNTER, PATIENT),
    )

    records = await read_topic(kafka_bootstrap, f"{topic_prefix}billing.invoicing.invoice", expect=1)
    published = envelopes(records)
    assert [e.event_type for e in published] == ["InvoiceIssued"]
    issued = published[0]
    assert issued.stream_id == INVOICE
    assert issued.tenant == TENANT
    assert issued.payload["responsibility"] == "insurance"
    assert issued.payload["coverage_id"] == COVERAGE
    assert issued.payload["payer_id"] == PAYER
    assert issued.payload["fee_schedule"] == "standard"
    # 99213-25 has its own price (140.00); 81002 has none with a modifier: 2 x 15.00.
    assert [(ln["unit_price_cents"], ln["units"], ln["charge_cents"]) for ln in issued.payload["lines"]] == [
        (14000, 1, 14000),
        (1500, 2, 3000),
    ]
    assert issued.payload["total_charge_cents"] == 17000

    shown = await invoice_of(svc)
    assert shown["status"] == "open"
    assert shown["payer_name"] == "Acme Health"
    assert (shown["total_charge_cents"], shown["paid_cents"], shown["balance_cents"]) == (17000, 0, 17000)


async def test_an_adjudication_updates_the_balances_a_statement_follows_and_a_reversal_undoes_it(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await svc.client(["admin"]).put("/fee-schedules/standard", json=SCHEDULE_2026)
    await play(
        svc,
        kafka_bootstrap,
        topic_prefix,
        COVERAGE_ADDED,
        builders.encounter_coded(ENCOUNTER, PATIENT),
    )

    paid = builders.claim_adjudicated(
        INVOICE,
        PAYER,
        lines=(
            builders.adjudicated_line(1, "99213", 14000, 9000, ("CO", "45", 3000), ("PR", "3", 2000)),
            builders.adjudicated_line(2, "81002", 3000, 2000, ("CO", "45", 500), ("PR", "2", 500)),
        ),
    )
    await play(svc, kafka_bootstrap, topic_prefix, paid)

    shown = await invoice_of(svc)
    # 17000 charged = 11000 paid + 3500 contractual + 2500 still owed, all of it by the patient (PR).
    assert shown["paid_cents"] == 11000
    assert shown["adjustment_cents"] == 3500
    assert shown["balance_cents"] == 2500
    assert shown["patient_responsibility_cents"] == 2500
    assert shown["status"] == "open"
    assert [p["kind"] for p in shown["postings"]] == ["charge", "insurance_payment"]
    assert shown["postings"][-1]["balance_after_cents"] == 2500

    statement = (await svc.client(["front_desk"]).get(f"/patients/{PATIENT}/statement")).json()
    assert statement["amount_due_cents"] == 2500
    assert [item["invoice_id"] for item in statement["open_items"]] == [INVOICE]
    assert statement["statements"][0]["amount_due_cents"] == 2500
    assert statement["statements"][0]["due_date"] == "2026-05-01"  # 30 days after adjudication

    # The patient pays 30.00 for 25.00 owed: the invoice settles and 5.00 is credit.
    payment = await svc.client(["front_desk"]).post(
        f"/invoices/{INVOICE}/payments",
        json={"amount_cents": 3000, "method": "card", "received_on": "2026-04-10"},
        headers={"Idempotency-Key": "pay-card-1"},
    )
    assert payment.status_code == 201, payment.text
    assert (payment.json()["applied_cents"], payment.json()["credit_cents"]) == (2500, 500)
    shown = await invoice_of(svc)
    assert (shown["status"], shown["balance_cents"], shown["settled_on"]) == ("settled", 0, "2026-04-10")
    statement = (await svc.client(["front_desk"]).get(f"/patients/{PATIENT}/statement")).json()
    assert (statement["amount_due_cents"], statement["credit_cents"], statement["open_items"]) == (0, 500, [])

    # The payer takes its payment back (claim status 22): the invoice owes all but what the patient paid.
    reversal = builders.claim_adjudicated(
        INVOICE,
        PAYER,
        claim_status_code="22",
        outcome="reversed",
        remittance_id="remit-2",
        total_charge_cents=17000,
        lines=(
            builders.adjudicated_line(1, "99213", -14000, -9000),
            builders.adjudicated_line(2, "81002", -3000, -2000),
        ),
    )
    await play(svc, kafka_bootstrap, topic_prefix, reversal)
    shown = await invoice_of(svc)
    assert (shown["paid_cents"], shown["adjustment_cents"], shown["balance_cents"]) == (2500, 0, 14500)
    assert shown["status"] == "open"
    assert shown["postings"][1]["reversed_by"] == shown["postings"][-1]["posting_id"]

    await svc.published()
    records = await read_topic(kafka_bootstrap, f"{topic_prefix}billing.invoicing.invoice", expect=5)
    assert [e.event_type for e in envelopes(records)] == [
        "InvoiceIssued",
        "InsurancePaymentPosted",
        "PatientPaymentApplied",
        "InvoiceSettled",
        "InsurancePaymentPosted",
    ]
    accounts = await read_topic(kafka_bootstrap, f"{topic_prefix}billing.invoicing.patient-account", expect=3)
    # The payment left nothing due, so the statement cycle the adjudication's statement opened ends.
    assert [e.event_type for e in envelopes(accounts)] == [
        "PatientStatementIssued",
        "PatientPaymentReceived",
        "DunningCycleEnded",
    ]


async def test_a_denied_claim_leaves_the_balance_open_with_its_reasons(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await svc.client(["admin"]).put("/fee-schedules/standard", json=SCHEDULE_2026)
    await play(
        svc,
        kafka_bootstrap,
        topic_prefix,
        COVERAGE_ADDED,
        builders.encounter_coded(ENCOUNTER, PATIENT),
    )

    denied = builders.claim_adjudicated(
        INVOICE,
        PAYER,
        claim_status_code="4",
        outcome="denied",
        lines=(
            builders.adjudicated_line(1, "99213", 14000, 0, ("CO", "50", 14000)),
            builders.adjudicated_line(2, "81002", 3000, 0, ("CO", "50", 3000)),
        ),
    )
    await play(svc, kafka_bootstrap, topic_prefix, denied)

    shown = await invoice_of(svc)
    assert shown["status"] == "denied"
    assert shown["denial_reasons"] == ["CO-50"]
    assert (shown["paid_cents"], shown["adjustment_cents"], shown["balance_cents"]) == (0, 0, 17000)
    assert shown["patient_responsibility_cents"] == 0
    listed = (await svc.client(["auditor"]).get("/invoices", params={"status": "denied"})).json()
    assert [i["invoice_id"] for i in listed["items"]] == [INVOICE]


async def test_an_unpriced_line_holds_the_invoice_until_a_schedule_prices_it(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    # No coverage: the patient pays themselves.
    await play(svc, kafka_bootstrap, topic_prefix, builders.encounter_coded(ENCOUNTER, PATIENT))

    held = (await svc.client(["biller"]).get("/invoices", params={"status": "held"})).json()["items"]
    assert [i["invoice_id"] for i in held] == [INVOICE]
    assert [(e["line_number"], e["code"]) for e in held[0]["pricing_errors"]] == [(1, "99213"), (2, "81002")]
    assert "no fee schedule is in effect on 2026-03-02" in held[0]["pricing_errors"][0]["reason"]
    assert held[0]["total_charge_cents"] == 0

    imported = await svc.client(["admin"]).put(
        "/fee-schedules/standard",
        content=b"code,modifier,amount_cents\n99213,,12500\n81002,,1500\n",
        params={"effective_from": "2026-01-01"},
        headers={"Content-Type": "text/csv"},
    )
    assert imported.status_code == 201, imported.text
    await svc.published()  # the import reaches invoicing's own policy through its topic
    await svc.drain()

    shown = await invoice_of(svc)
    assert shown["status"] == "open"
    assert shown["pricing_errors"] == []
    assert shown["responsibility"] == "self_pay"
    # No 99213-25 price: the code's own price, 125.00, plus 2 x 15.00.
    assert shown["total_charge_cents"] == 15500
    assert shown["patient_responsibility_cents"] == 15500
    statement = (await svc.client(["biller"]).get(f"/patients/{PATIENT}/statement")).json()
    assert statement["amount_due_cents"] == 15500
    assert len(statement["statements"]) == 1


async def test_recoding_voids_the_live_invoice_and_redelivery_creates_nothing_twice(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await svc.client(["admin"]).put("/fee-schedules/standard", json=SCHEDULE_2026)
    first = builders.encounter_coded(ENCOUNTER, PATIENT)
    await play(
        svc,
        kafka_bootstrap,
        topic_prefix,
        COVERAGE_ADDED,
        first,
        first,
    )
    await play(svc, kafka_bootstrap, topic_prefix, first)  # replayed later, under a new event id

    only_81002 = (builders.CODED_LINES[1],)
    await play(
        svc, kafka_bootstrap, topic_prefix, builders.encounter_recoded(ENCOUNTER, PATIENT, lines=only_81002)
    )

    listed = (await svc.client(["biller"]).get("/invoices", params={"encounter_id": ENCOUNTER})).json()[
        "items"
    ]
    assert [(i["coding_version"], i["status"]) for i in listed] == [(1, "voided"), (2, "open")]
    old, new = listed
    assert (old["total_charge_cents"], old["balance_cents"]) == (0, 0)  # the charge is taken back
    assert old["superseded_by_coding_version"] == 2
    assert new["invoice_id"] == ids.invoice_id(TENANT, ENCOUNTER, 2)
    assert new["total_charge_cents"] == 3000

    records = await read_topic(kafka_bootstrap, f"{topic_prefix}billing.invoicing.invoice", expect=3)
    assert sorted(e.event_type for e in envelopes(records)) == [
        "InvoiceIssued",
        "InvoiceIssued",
        "InvoiceVoided",
    ]


BAD_CSV = b"code,modifier,amount_cents\n99213,,12500\n\n81002,,15.00\n9921,,100\n"


@pytest.mark.parametrize(
    ("content_type", "body", "params", "expected"),
    [
        (
            "text/csv",
            BAD_CSV,
            {"effective_from": "2026-06-01"},
            [
                ("line 4.amount_cents", "line 4: amount_cents must be a whole number of cents"),
                ("line 5.code", "line 5: code must be a CPT"),
            ],
        ),
        (
            "application/json",
            b'{"effective_from": "2026-06-01",\n "rows": [\n  {"code": "99213", "amount_cents": 12500},\n'
            b'  {"code": "99213", "amount_cents": 0}\n ]}',
            {},
            [("rows.1.amount_cents", "line 4 (row 2): amount_cents must be greater than zero")],
        ),
    ],
)
async def test_a_bad_fee_schedule_file_names_its_lines_and_changes_nothing(
    svc: ServiceHarness,
    content_type: str,
    body: bytes,
    params: dict[str, str],
    expected: list[tuple[str, str]],
) -> None:
    admin = svc.client(["admin"])
    assert (await admin.put("/fee-schedules/standard", json=SCHEDULE_2026)).status_code == 201
    before = (await admin.get("/fee-schedules")).json()

    refused = await admin.put(
        "/fee-schedules/standard", content=body, params=params, headers={"Content-Type": content_type}
    )

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    errors = refused.json()["errors"]
    assert [e["field"] for e in errors] == [field for field, _ in expected]
    for error, (_, message) in zip(errors, expected, strict=True):
        assert error["message"].startswith(message)
    assert (await admin.get("/fee-schedules")).json() == before
    log = await svc.runtime.store.read_all()
    assert [e.event_type for e in log] == ["FeeScheduleImported"]


async def test_roles_tenants_and_invalid_payments_are_refused(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    assert (await svc.client(["coder"]).put("/fee-schedules/standard", json=SCHEDULE_2026)).status_code == 403
    await svc.client(["admin"]).put("/fee-schedules/standard", json=SCHEDULE_2026)
    await play(svc, kafka_bootstrap, topic_prefix, builders.encounter_coded(ENCOUNTER, PATIENT))

    assert (await svc.client(["front_desk"]).get(f"/invoices/{INVOICE}")).status_code == 403
    assert (await svc.client(["biller"], tenant="tenant-b").get(f"/invoices/{INVOICE}")).status_code == 404
    other_tenant_payment = await svc.client(["biller"], tenant="tenant-b").post(
        f"/invoices/{INVOICE}/payments",
        json={"amount_cents": 100, "method": "cash", "received_on": "2026-04-01"},
        headers={"Idempotency-Key": "pay-other-tenant"},
    )
    assert other_tenant_payment.status_code == 404

    bad = await svc.client(["biller"]).post(
        f"/invoices/{INVOICE}/payments",
        json={"amount_cents": 12.5, "method": "bitcoin", "received_on": 20260401},
        headers={"Idempotency-Key": "pay-bad"},
    )
    assert bad.status_code == 422
    assert sorted(e["field"] for e in bad.json()["errors"]) == ["amount_cents", "method", "received_on"]
    assert "12.5" not in bad.text  # problem details never echo input

    body = {"amount_cents": 1000, "method": "cash", "received_on": "2026-04-01"}
    # Money never moves twice: a payment without an Idempotency-Key is refused before anything happens.
    keyless = await svc.client(["biller"]).post(f"/invoices/{INVOICE}/payments", json=body)
    assert keyless.status_code == 428
    assert keyless.json()["type"] == "/problems/idempotency-key-required"
    assert (await invoice_of(svc))["paid_cents"] == 0
    key = {"Idempotency-Key": "pay-1"}
    first = await svc.client(["biller"]).post(f"/invoices/{INVOICE}/payments", json=body, headers=key)
    again = await svc.client(["biller"]).post(f"/invoices/{INVOICE}/payments", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    shown = await invoice_of(svc)
    assert (shown["patient_paid_cents"], shown["balance_cents"]) == (1000, 16000)


async def snapshot(svc: ServiceHarness) -> dict[str, list[dict[str, Any]]]:
    async with svc.runtime.pool.acquire() as connection:
        return {
            table: [dict(r) for r in await connection.fetch(f"SELECT * FROM {table} ORDER BY 1, 2, 3")]
            for table in OWN_TABLES
        }


async def test_the_read_models_rebuilt_from_the_log_equal_the_live_ones(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await svc.client(["admin"]).put("/fee-schedules/standard", json=SCHEDULE_2026)
    other_encounter = "55555555-5555-4555-8555-555555555555"
    unpriced = (builders.coded_line(1, "J3490", code_system="HCPCS"),)
    await play(
        svc,
        kafka_bootstrap,
        topic_prefix,
        COVERAGE_ADDED,
        builders.encounter_coded(ENCOUNTER, PATIENT),
        builders.encounter_coded(other_encounter, PATIENT, lines=unpriced),
    )
    paid = builders.claim_adjudicated(
        INVOICE,
        PAYER,
        total_charge_cents=17000,
        lines=(builders.adjudicated_line(1, "99213", 14000, 10000, ("PR", "3", 4000)),),
    )
    await play(svc, kafka_bootstrap, topic_prefix, paid)
    await svc.client(["biller"]).post(
        f"/invoices/{INVOICE}/payments",
        json={"amount_cents": 1500, "method": "check", "received_on": "2026-04-02"},
        headers={"Idempotency-Key": "pay-check-1"},
    )
    live = await snapshot(svc)
    assert [len(live[t]) for t in OWN_TABLES] == [1, 2, 1]  # one schedule version, two invoices, one account

    events = await rebuild(svc.runtime.store)

    assert events == len(await svc.runtime.store.read_all())
    assert await snapshot(svc) == live


async def test_a_coverage_that_arrives_after_the_coding_takes_over_the_unpaid_self_pay_invoice(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    imported = await svc.client(["admin"]).put("/fee-schedules/standard", json=SCHEDULE_2026)
    assert imported.status_code == 201, imported.text
    await play(svc, kafka_bootstrap, topic_prefix, builders.encounter_coded(ENCOUNTER, PATIENT))
    assert (await invoice_of(svc))["responsibility"] == "self_pay"

    # Registration recorded the coverage first, but its topic reached invoicing later.
    await play(
        svc,
        kafka_bootstrap,
        topic_prefix,
        builders.payer_registered(PAYER),
        COVERAGE_ADDED,
    )

    replacement = ids.reassigned_invoice_id(TENANT, ENCOUNTER, 1, COVERAGE)
    assert (await invoice_of(svc))["status"] == "voided"
    taken_over = await invoice_of(svc, replacement)
    assert taken_over["status"] == "open"
    assert (taken_over["responsibility"], taken_over["payer_id"]) == ("insurance", PAYER)
    assert taken_over["total_charge_cents"] == 17000  # 140.00 + 2 x 15.00, the same coding
    published = envelopes(
        await read_topic(kafka_bootstrap, f"{topic_prefix}billing.invoicing.invoice", expect=3)
    )
    assert [(e.event_type, e.stream_id) for e in published if e.event_type != "InvoiceIssued"] == [
        ("InvoiceVoided", INVOICE)
    ]
    # The two invoices are different streams, so different partitions: compare by invoice, not order.
    issued = {e.stream_id: e.payload["responsibility"] for e in published if e.event_type == "InvoiceIssued"}
    assert issued == {INVOICE: "self_pay", replacement: "insurance"}
    # Redelivering the coding does not undo the hand-over.
    await svc.runtime.store.pool.execute("DELETE FROM processed_events")
    await play(svc, kafka_bootstrap, topic_prefix, builders.encounter_coded(ENCOUNTER, PATIENT))
    assert (await invoice_of(svc, replacement))["status"] == "open"


async def test_a_chargemaster_sized_fee_schedule_is_published_in_parts_and_still_prices_the_next_invoice(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    # 60,000 rows, as a hospital's chargemaster, holding the two codes the encounter needs.
    rows = [
        {"code": f"A{n:04d}", "modifier": m, "amount_cents": 100 + n}
        for n in range(10_000)
        for m in (None, "26", "TC", "59", "25", "76")
    ]
    rows[0:2] = [
        {"code": "99213", "modifier": "25", "amount_cents": 14000},
        {"code": "81002", "amount_cents": 1500},
    ]
    assert len(rows) == 60_000
    imported = await svc.client(["admin"]).put(
        "/fee-schedules/hospital", json={"effective_from": "2026-01-01", "rows": rows}
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["row_count"] == 60_000

    await play(
        svc,
        kafka_bootstrap,
        topic_prefix,
        builders.payer_registered(PAYER),
        COVERAGE_ADDED,
    )
    await play(svc, kafka_bootstrap, topic_prefix, builders.encounter_coded(ENCOUNTER, PATIENT))

    parts = await read_topic(kafka_bootstrap, f"{topic_prefix}billing.invoicing.fee-schedule", expect=31)
    assert [e.event_type for e in envelopes(parts)] == ["FeeScheduleRowsStaged"] * 30 + [
        "FeeScheduleImported"
    ]
    assert max(len(record.value or b"") for record in parts) < 256 * 1024
    records = await read_topic(kafka_bootstrap, f"{topic_prefix}billing.invoicing.invoice", expect=1)
    issued = envelopes(records)[0]
    # 99213-25 at 140.00 and 2 x 81002 at 15.00, from the big schedule.
    assert issued.payload["fee_schedule"] == "hospital"
    assert issued.payload["total_charge_cents"] == 17000
