"""Coordination of benefits and remittance completeness end to end (issue 20): registration -> coding
-> invoicing -> claims -> the payer simulator -> 835 -> the invoice's ledger -> reporting, nothing
mocked.

Every expected amount is worked out by hand in the comments from the suite's fee schedule
(conftest.py: 99214 900.00, 99213 120.00, 97810 80.00, 36415 15.00) and the simulator's demo rule
table (services/payer-simulator/demo-rules.yaml), whose COB rule is documented there: as secondary or
tertiary a payer works out its normal benefit per line, then pays (standard COB) the lesser of that
and the balance left = charge - what earlier payers paid - what they wrote off (not PR, not OA-23);
OA-23 = charge - balance left; the shortfall is the patient's, as the payer's own copay (PR-3),
deductible (PR-1) and coinsurance (PR-2) in that order.

  DEMO-AETNA     allowed 80%, no deductible, coinsurance 20%; 99214 beside another code needs 25
  DEMO-MEDICARE  allowed 62.5%, deductible 257.00, coinsurance 20%; member MCR-DUAL-0001 is enrolled
                 for crossover to DEMO-MEDICAID (crossover_members)
  DEMO-BCBS      contract 99214 148.75, 36415 12.75; deductible 100.00, coinsurance 10%, copay 30.00
                 on 99214
  DEMO-MEDICAID  allowed 60%, no cost sharing (payer of last resort)
  DEMO-UHC       allowed 80%, coinsurance 20%; echoes only 10 characters of CLM01 in CLP01

Visits are dated 45 days back, a day no other module uses, so the 31-60 bucket of the A/R aging
holds this module's balances alone and each test asserts how its own balances move in it."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from billing_cli import demo
from billing_testing.platform import Platform, eventually
from billing_testing.x12 import pyx12_errors

from .test_revenue_cycle import claims_of, code

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TODAY = date.today()
SERVICE_DAY = TODAY - timedelta(days=45)
BUCKET = "31-60"
# A billing provider of this module's own for the PLB test: the simulator carries a payer's negative
# balance per payer and billing provider, so no other module's payments are recouped by it.
PLB_PROVIDER_NPI = "1538000013"


async def call(
    platform: Platform, method: str, service: str, path: str, role: str, body: Any = None, key: str = ""
) -> Any:
    headers = platform.headers(role) | ({"Idempotency-Key": key} if key else {})
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.request(method, f"{platform.url(service)}{path}", json=body, headers=headers)
    assert response.status_code in (200, 201, 202), response.text
    return response.json()


async def get(platform: Platform, service: str, path: str, role: str = "biller") -> Any:
    return await call(platform, "GET", service, path, role)


@pytest.fixture(scope="module")
async def payers(platform: Platform, reference: demo.Reference) -> dict[str, str]:
    """The demo's three payers and the ones only this module registers."""
    ids = dict(zip(("aetna", "medicare", "bcbs"), reference.payer_ids, strict=True))
    for name, edi, indicator in (
        ("medicaid", "DEMO-MEDICAID", "MC"),
        ("uhc", "DEMO-UHC", "CI"),
        # No ERA: the simulator answers no claim to a payer not in its table (a paper-only payer).
        ("paper", "E2E-PAPER", "CI"),
    ):
        body = {"name": f"E2E {name}", "edi_payer_id": edi, "claim_filing_indicator": indicator}
        ids[name] = (await call(platform, "POST", "registration", "/payers", "admin", body, f"cob-{edi}"))[
            "payer_id"
        ]
    return ids


async def new_patient(platform: Platform, coverages: list[tuple[str, str, str]]) -> str:
    """A patient with (payer_id, priority, member_id) coverages."""
    body = {
        "mrn": f"E2E-COB-{uuid.uuid4().hex[:8]}",
        "name": {"given": "Cora", "family": "Benefit"},
        "birth_date": "1948-03-02",
        "sex": "F",
        "address": {"line1": "20 Payer Row", "city": "Springfield", "state": "IL", "postal_code": "62701"},
    }
    patient_id: str = (await call(platform, "POST", "registration", "/patients", "front_desk", body))[
        "patient_id"
    ]
    for payer_id, priority, member_id in coverages:
        coverage = {
            "payer_id": payer_id,
            "member_id": member_id,
            "priority": priority,
            "relationship_to_subscriber": "self",
            "effective_from": "2020-01-01",
        }
        await call(
            platform, "POST", "registration", f"/patients/{patient_id}/coverages", "front_desk", coverage
        )
    return patient_id


def member() -> str:
    return f"M{uuid.uuid4().hex[:9].upper()}"


async def visit(
    platform: Platform,
    reference: demo.Reference,
    patient_id: str,
    lines: list[tuple[str, list[str]]],
    diagnoses: list[str],
    billing_provider_id: str | None = None,
) -> str:
    body = {
        "patient_id": patient_id,
        "billing_provider_id": billing_provider_id or reference.billing_provider_id,
        "rendering_provider_id": reference.rendering_provider_ids[0],
        "service_date": SERVICE_DAY.isoformat(),
        "place_of_service": "11",
    }
    encounter_id: str = (await call(platform, "POST", "registration", "/encounters", "front_desk", body))[
        "encounter_id"
    ]
    await code(platform, encounter_id, lines, diagnoses)
    return encounter_id


async def live_invoice(platform: Platform, encounter_id: str) -> dict[str, Any] | None:
    items = (await get(platform, "invoicing", f"/invoices?encounter_id={encounter_id}"))["items"]
    live = [i for i in items if i["status"] != "voided"]
    return live[0] if len(live) == 1 else None


async def settled_invoice(
    platform: Platform, encounter_id: str, paid_cents: int, what: str, timeout: float = 90
) -> dict[str, Any]:
    """The encounter's invoice once its insurance payments reach `paid_cents` and no payer is awaited."""

    async def check() -> dict[str, Any] | None:
        found = await live_invoice(platform, encounter_id)
        if found and found["insurance_paid_cents"] == paid_cents and not found["awaiting_next_payer"]:
            return found
        return None

    return await eventually(check, timeout=timeout, what=what)


def reconciles(invoice: dict[str, Any]) -> None:
    """charges = payments + adjustments + outstanding, and each payer's part with the patient's."""
    assert (
        invoice["total_charge_cents"]
        == invoice["paid_cents"] + invoice["adjustment_cents"] + invoice["balance_cents"]
    )
    by_payer = invoice["by_payer"]
    assert sum(p["paid_cents"] for p in by_payer) + invoice["patient_paid_cents"] == invoice["paid_cents"]
    assert (
        sum(p["adjustment_cents"] for p in by_payer) + invoice["patient_written_off_cents"]
        == (invoice["adjustment_cents"])
    )


def payer_rows(invoice: dict[str, Any]) -> list[tuple[str, str, int, int]]:
    return [
        (p["sequence"], p["payer_id"], p["paid_cents"], p["adjustment_cents"]) for p in invoice["by_payer"]
    ]


async def aging_by_party(platform: Platform) -> dict[str, int]:
    """The 31-60 bucket (this module's visits alone) of A/R by responsible party."""
    report = await get(platform, "reporting", f"/reports/ar-aging?as_of={TODAY}")
    return {row["party"]: row["buckets_cents"][BUCKET] for row in report["by_responsible_party"]}


async def aging_moves(platform: Platform, before: dict[str, int], expected: dict[str, int]) -> None:
    """Wait for the A/R by responsible party to move by `expected` (other parties unchanged)."""

    async def moved() -> dict[str, int] | None:
        now = await aging_by_party(platform)
        delta = {party: now.get(party, 0) - before.get(party, 0) for party in now}
        wanted = {party: expected.get(party, 0) for party in now}
        return delta if delta == wanted else None

    try:
        await eventually(moved, timeout=60, what="the A/R by responsible party")
    except AssertionError:
        now = await aging_by_party(platform)
        raise AssertionError(f"A/R by party: before {before}, now {now}, expected moves {expected}") from None


def segments(x12: str) -> list[str]:
    return [s.strip() for s in x12.split("~") if s.strip()]


async def test_primary_pays_part_the_secondary_bills_and_pays_and_the_patient_owes_what_neither_paid(
    platform: Platform, reference: demo.Reference, payers: dict[str, str]
) -> None:
    before = await aging_by_party(platform)
    patient_id = await new_patient(
        platform, [(payers["aetna"], "primary", member()), (payers["bcbs"], "secondary", member())]
    )
    encounter_id = await visit(
        platform, reference, patient_id, [("36415", []), ("99214", ["25"])], ["E11.9", "I10"]
    )
    # Aetna (primary), per line:
    #   36415  15.00: allowed 80% = 12.00, CO-45 3.00, PR-2 20% = 2.40, paid 9.60
    #   99214 900.00: allowed 720.00, CO-45 180.00, PR-2 144.00, paid 576.00
    #   paid 585.60, CO-45 183.00, left to the patient unless a secondary pays: 146.40
    # BCBS (secondary), normal benefit for a new member (deductible 100.00 unmet), line by line:
    #   36415: allowed 12.75, deductible 12.75, paid 0.00
    #   99214: allowed 148.75, copay 30.00, deductible 87.25 (what is left of 100.00), coinsurance 10%
    #          of 31.50 = 3.15, paid 148.75 - 30.00 - 87.25 - 3.15 = 28.35
    # Balance left = charge - Aetna's payment - Aetna's CO: 15.00 - 9.60 - 3.00 = 2.40 and
    # 900.00 - 576.00 - 180.00 = 144.00. Standard COB pays min(normal, balance left):
    #   36415: min(0.00, 2.40) = 0.00; shortfall 2.40 -> PR-1 2.40 (its deductible); OA-23 12.60
    #   99214: min(28.35, 144.00) = 28.35; shortfall 115.65 -> PR-3 30.00, PR-1 85.65; OA-23 756.00
    # BCBS pays 28.35; the patient owes 2.40 + 115.65 = 118.05 (not Aetna's 146.40).
    # 915.00 = 585.60 + 28.35 (paid) + 183.00 (CO-45) + 118.05 (patient).
    invoice = await settled_invoice(platform, encounter_id, 58_560 + 2_835, "both payers' payments posted")
    assert invoice["total_charge_cents"] == 91_500
    assert invoice["paid_cents"] == 61_395
    assert invoice["adjustment_cents"] == 18_300  # OA-23 adjusts nothing: it is Aetna's part
    assert invoice["patient_responsibility_cents"] == invoice["balance_cents"] == 11_805
    assert payer_rows(invoice) == [
        ("primary", payers["aetna"], 58_560, 18_300),
        ("secondary", payers["bcbs"], 2_835, 0),
    ]
    reconciles(invoice)
    statement = await get(platform, "invoicing", f"/patients/{patient_id}/statement", "front_desk")
    assert statement["amount_due_cents"] == 11_805

    primary, secondary = sorted(
        await claims_of(platform, encounter_id), key=lambda c: c["sequence"] != "primary"
    )
    assert (primary["payer_id"], primary["status"], primary["paid_cents"]) == (
        payers["aetna"],
        "paid",
        58_560,
    )
    assert (secondary["sequence"], secondary["payer_id"]) == ("secondary", payers["bcbs"])
    assert secondary["predecessor_claim_id"] == primary["claim_id"]
    assert (secondary["status"], secondary["paid_cents"], secondary["patient_responsibility_cents"]) == (
        "paid",
        2_835,
        11_805,
    )
    async with httpx.AsyncClient(timeout=30) as client:
        sent = await client.get(
            f"{platform.url('claims')}/claims/{secondary['claim_id']}/837", headers=platform.headers("biller")
        )
    assert sent.status_code == 200, sent.text
    assert pyx12_errors(sent.text) == []
    x12 = segments(sent.text)
    assert any(s.startswith("SBR*S*") for s in x12)  # billed to BCBS as secondary
    # Loop 2320: Aetna's answer, 585.60 paid and 146.40 left; loop 2430 per line, with its CAS.
    assert "AMT*D*585.6" in x12 and "AMT*EAF*146.4" in x12
    assert "NM1*PR*2*DEMO AETNA*****PI*DEMO-AETNA" in x12 or any(
        s.startswith("NM1*PR*2*") and s.endswith("*PI*DEMO-AETNA") for s in x12
    )
    first = x12.index("SVD*DEMO-AETNA*9.6*HC:36415**1")
    assert x12[first + 1 : first + 3] == ["CAS*CO*45*3", "CAS*PR*2*2.4"]
    second = x12.index("SVD*DEMO-AETNA*576*HC:99214:25**1")
    assert x12[second + 1 : second + 3] == ["CAS*CO*45*180", "CAS*PR*2*144"]

    # The whole balance is the patient's now; no payer owes any of it.
    await aging_moves(platform, before, {"patient": 11_805})


async def test_a_secondary_that_leaves_a_balance_bills_the_tertiary(
    platform: Platform, reference: demo.Reference, payers: dict[str, str]
) -> None:
    before = await aging_by_party(platform)
    patient_id = await new_patient(
        platform,
        [
            (payers["aetna"], "primary", member()),
            (payers["bcbs"], "secondary", member()),
            (payers["medicaid"], "tertiary", member()),
        ],
    )
    encounter_id = await visit(
        platform, reference, patient_id, [("36415", []), ("99214", ["25"])], ["E11.9", "I10"]
    )
    # Aetna and BCBS answer as in the test above (585.60 and 28.35 paid, 183.00 CO-45, 118.05 left).
    # Medicaid (tertiary): normal benefit 60% of the charge, no cost sharing: 9.00 and 540.00.
    # Balance left = charge - both payers' payments and write-offs (OA-23 and PR are not):
    #   36415: 15.00 - 9.60 - 3.00 - 0.00 = 2.40 -> pays min(9.00, 2.40) = 2.40
    #   99214: 900.00 - 576.00 - 180.00 - 28.35 = 115.65 -> pays min(540.00, 115.65) = 115.65
    # Medicaid pays 118.05; the patient owes nothing. 915.00 = 585.60 + 28.35 + 118.05 + 183.00.
    invoice = await settled_invoice(
        platform, encounter_id, 58_560 + 2_835 + 11_805, "three payers' payments posted", timeout=120
    )
    assert (invoice["paid_cents"], invoice["adjustment_cents"]) == (73_200, 18_300)
    assert invoice["balance_cents"] == invoice["patient_responsibility_cents"] == 0
    assert invoice["status"] == "settled"
    assert payer_rows(invoice) == [
        ("primary", payers["aetna"], 58_560, 18_300),
        ("secondary", payers["bcbs"], 2_835, 0),
        ("tertiary", payers["medicaid"], 11_805, 0),
    ]
    reconciles(invoice)
    claims = {c["sequence"]: c for c in await claims_of(platform, encounter_id)}
    tertiary = claims["tertiary"]
    assert (tertiary["payer_id"], tertiary["predecessor_claim_id"]) == (
        payers["medicaid"],
        claims["secondary"]["claim_id"],
    )
    async with httpx.AsyncClient(timeout=30) as client:
        sent = await client.get(
            f"{platform.url('claims')}/claims/{tertiary['claim_id']}/837", headers=platform.headers("biller")
        )
    assert pyx12_errors(sent.text) == []
    x12 = segments(sent.text)
    assert any(s.startswith("SBR*T*") and s.endswith("*MC") for s in x12)
    # Both earlier answers, in order: Aetna's 585.60 (146.40 left), BCBS's 28.35 (118.05 left).
    assert [s for s in x12 if s.startswith("AMT*D*")] == ["AMT*D*585.6", "AMT*D*28.35"]
    assert [s for s in x12 if s.startswith("AMT*EAF*")] == ["AMT*EAF*146.4", "AMT*EAF*118.05"]
    assert [s for s in x12 if s.startswith("SVD*")] == [
        "SVD*DEMO-AETNA*9.6*HC:36415**1",
        "SVD*DEMO-BCBS*0*HC:36415**1",
        "SVD*DEMO-AETNA*576*HC:99214:25**1",
        "SVD*DEMO-BCBS*28.35*HC:99214:25**1",
    ]
    await aging_moves(platform, before, {})  # settled: nobody owes anything of it


async def test_medicare_crosses_over_to_medicaid_the_payer_of_last_resort_and_the_patient_owes_nothing(
    platform: Platform, reference: demo.Reference, payers: dict[str, str]
) -> None:
    """The crossover case and the Medicare + Medicaid case at once: Medicare forwards the claim to the
    state plan itself (the member is on its COBA list), so the platform sends Medicaid nothing."""
    before = await aging_by_party(platform)
    patient_id = await new_patient(
        platform,
        [(payers["medicare"], "primary", "MCR-DUAL-0001"), (payers["medicaid"], "secondary", member())],
    )
    encounter_id = await visit(platform, reference, patient_id, [("99214", [])], ["E11.9"])
    # Medicare: 900.00 allowed 62.5% = 562.50, CO-45 337.50; the member's deductible 257.00 (PR-1),
    # coinsurance 20% of 305.50 = 61.10 (PR-2); pays 244.40; CLP02 19 + MA18: forwarded to Medicaid.
    # Medicaid as secondary: normal benefit 60% = 540.00; balance left 900.00 - 244.40 - 337.50 =
    # 318.10 -> pays min(540.00, 318.10) = 318.10; OA-23 581.90; nothing for the dual-eligible patient.
    # 900.00 = 244.40 + 318.10 + 337.50.
    invoice = await settled_invoice(platform, encounter_id, 24_440 + 31_810, "Medicare's and Medicaid's 835s")
    assert (invoice["paid_cents"], invoice["adjustment_cents"]) == (56_250, 33_750)
    assert invoice["balance_cents"] == invoice["patient_responsibility_cents"] == 0
    assert payer_rows(invoice) == [
        ("primary", payers["medicare"], 24_440, 33_750),
        ("secondary", payers["medicaid"], 31_810, 0),
    ]
    reconciles(invoice)
    statement = await get(platform, "invoicing", f"/patients/{patient_id}/statement", "front_desk")
    assert statement["amount_due_cents"] == 0

    claims = {c["sequence"]: c for c in await claims_of(platform, encounter_id)}
    medicare = await get(platform, "claims", f"/claims/{claims['primary']['claim_id']}")
    medicaid = await get(platform, "claims", f"/claims/{claims['secondary']['claim_id']}")
    assert medicare["adjudication"]["claim_status_code"] == "19" and medicare["adjudication"]["crossover"]
    assert (medicare["paid_cents"], medicare["patient_responsibility_cents"]) == (24_440, 31_810)
    # The claim recorded for Medicaid was never sent: no batch, no 837 of ours.
    # The invoice settled, so claims closed both after posting Medicaid's 318.10.
    assert (medicaid["payer_id"], medicaid["status"], medicaid["paid_cents"]) == (
        payers["medicaid"],
        "closed",
        31_810,
    )
    assert medicaid["last_batch_id"] is None
    overdue = (await get(platform, "claims", "/crossovers/overdue?days=0"))["items"]
    assert medicare["claim_id"] not in [c["claim_id"] for c in overdue]
    await aging_moves(platform, before, {})


async def test_plb_recoupment_of_a_voided_claim_from_a_later_payment_reconciles(
    platform: Platform, reference: demo.Reference, payers: dict[str, str]
) -> None:
    provider = {
        "npi": PLB_PROVIDER_NPI,
        "name": "Recoupment Clinic",
        "taxonomy_code": "207Q00000X",
        "tax_id": "371234599",
        "role": "billing",
        "address": demo.ADDRESS,
    }
    provider_id = (await call(platform, "POST", "registration", "/providers", "admin", provider, "cob-plb"))[
        "provider_id"
    ]
    patient_id = await new_patient(platform, [(payers["aetna"], "primary", member())])
    first = await visit(platform, reference, patient_id, [("99214", [])], ["E11.9"], provider_id)
    # Aetna pays 99214 alone: 900.00 allowed 720.00, coinsurance 144.00, paid 576.00.
    await settled_invoice(platform, first, 57_600, "the first visit paid")
    # The coder corrects the visit to acupuncture, which Aetna does not cover: the paid claim is
    # voided at Aetna (frequency 8; its 835 reverses the 576.00) and the new claim is denied (CO-96,
    # paid 0.00). A payment cannot be negative: the 835 carries 576.00 forward on its PLB (FB,
    # -576.00) whichever order the two answers come in, since the denial pays nothing.
    await code(platform, first, [("97810", [])], ["M54.50"])

    async def recoded() -> dict[str, Any] | None:
        found = await live_invoice(platform, first)
        return found if found and found["status"] == "denied" else None

    denied = await eventually(recoded, timeout=120, what="the recoded visit denied")
    assert (denied["total_charge_cents"], denied["paid_cents"], denied["balance_cents"]) == (8_000, 0, 8_000)

    async def carried() -> list[dict[str, Any]] | None:
        items = [
            i
            for i in (await get(platform, "claims", "/provider-adjustments?limit=200", "auditor"))["items"]
            if i["provider_identifier"] == PLB_PROVIDER_NPI
        ]
        return items if sum(i["amount_cents"] for i in items) == -57_600 else None

    (forward,) = await eventually(carried, timeout=120, what="the reversal carried forward on the PLB")
    assert (forward["reason_code"], forward["amount_cents"]) == ("FB", -57_600)

    # The next visit's payment repays it: 99214-25 576.00 + 36415 9.60 = 585.60 paid on the claim,
    # 576.00 of it recouped (PLB FB +576.00), so the check (BPR02) is 9.60.
    second = await visit(
        platform, reference, patient_id, [("36415", []), ("99214", ["25"])], ["E11.9"], provider_id
    )
    paid = await settled_invoice(platform, second, 58_560, "the second visit paid in full on its claim")
    assert paid["balance_cents"] == paid["patient_responsibility_cents"] == 14_640  # 2.40 + 144.00
    reconciles(paid)

    async def recouped() -> list[dict[str, Any]] | None:
        items = [
            i
            for i in (await get(platform, "claims", "/provider-adjustments?limit=200", "auditor"))["items"]
            if i["provider_identifier"] == PLB_PROVIDER_NPI
        ]
        return items if len(items) == 2 else None

    items = await eventually(recouped, timeout=60, what="the recoupment on the PLB")
    assert sorted((i["reason_code"], i["amount_cents"]) for i in items) == [("FB", -57_600), ("FB", 57_600)]
    recoupment = next(i for i in items if i["amount_cents"] > 0)
    remittance = await get(platform, "claims", f"/remittances/{recoupment['remittance_id']}", "auditor")
    assert (remittance["payment_cents"], remittance["claim_paid_cents"]) == (960, 58_560)
    assert (remittance["provider_adjustment_cents"], remittance["balanced"]) == (57_600, True)
    # The voided claim's invoice: Aetna's 576.00 was posted, then reversed; nothing stays paid.
    voided = [i for i in (await get(platform, "invoicing", f"/invoices?encounter_id={first}"))["items"]]
    assert sum(i["paid_cents"] for i in voided) == 0
    for each in voided:
        reconciles(each)


async def test_an_unmatched_era_posts_once_a_biller_matches_it(
    platform: Platform, reference: demo.Reference, payers: dict[str, str]
) -> None:
    patient_id = await new_patient(platform, [(payers["uhc"], "primary", member())])
    encounter_id = await visit(platform, reference, patient_id, [("99213", [])], ["J06.9"])

    async def held() -> dict[str, Any] | None:
        found_claims = await claims_of(platform, encounter_id)
        if not found_claims:
            return None
        claim = found_claims[0]
        pcn = claim["patient_control_number"]
        items = (await get(platform, "claims", "/remittances/unmatched", "auditor"))["items"]
        found = [h for h in items if h["patient_control_number"] == pcn[:10]]
        return {"claim": claim, "held": found[0]} if found else None

    found = await eventually(held, timeout=90, what="UHC's ERA held, unmatched")
    claim, payment = found["claim"], found["held"]
    # UHC: 99213 120.00 allowed 80% = 96.00, CO-45 24.00, coinsurance 20% = 19.20, paid 76.80;
    # until matched the claim shows nothing paid and the invoice is untouched.
    assert payment["paid_cents"] == 7_680
    assert (await get(platform, "claims", f"/claims/{claim['claim_id']}"))["paid_cents"] == 0
    untouched = await live_invoice(platform, encounter_id)
    assert untouched is not None and untouched["paid_cents"] == 0 and untouched["balance_cents"] == 12_000

    path = f"/remittances/{payment['remittance_id']}/claims/{payment['patient_control_number']}/match"
    matched = await call(
        platform, "POST", "claims", path, "biller", {"claim_id": claim["claim_id"]}, "cob-m1"
    )
    assert matched["posted"] is True
    again = await call(platform, "POST", "claims", path, "biller", {"claim_id": claim["claim_id"]}, "cob-m2")
    assert again["posted"] is False  # the same match posts nothing twice

    invoice = await settled_invoice(platform, encounter_id, 7_680, "the matched payment posted")
    # 120.00 = 76.80 paid + 24.00 CO-45 + 19.20 the patient's coinsurance.
    assert (invoice["adjustment_cents"], invoice["balance_cents"]) == (2_400, 1_920)
    assert invoice["patient_responsibility_cents"] == 1_920
    assert payer_rows(invoice) == [("primary", payers["uhc"], 7_680, 2_400)]
    reconciles(invoice)
    unmatched = (await get(platform, "claims", "/remittances/unmatched", "auditor"))["items"]
    assert payment["remittance_id"] not in [h["remittance_id"] for h in unmatched]


async def test_a_paper_eob_posts_as_an_835_would(
    platform: Platform, reference: demo.Reference, payers: dict[str, str]
) -> None:
    before = await aging_by_party(platform)
    patient_id = await new_patient(platform, [(payers["paper"], "primary", member())])
    encounter_id = await visit(platform, reference, patient_id, [("99213", [])], ["J06.9"])

    async def submitted() -> dict[str, Any] | None:
        found = await claims_of(platform, encounter_id)
        return found[0] if found and found[0]["status"] == "submitted" else None

    claim = await eventually(submitted, timeout=90, what="the claim sent to the paper-only payer")
    # Until the payer answers, the primary owes the whole 120.00.
    await aging_moves(platform, before, {"primary": 12_000})
    # The EOB keyed from paper: allowed 90.00, paid 72.00, CO-45 30.00, coinsurance PR-2 18.00.
    eob = {
        "payer_id": payers["paper"],
        "claim_id": claim["claim_id"],
        "check_number": "E2E-CHK-20",
        "paid_on": TODAY.isoformat(),
        "lines": [
            {
                "line_number": 1,
                "paid_cents": 7_200,
                "adjustments": [
                    {"group": "CO", "reason_code": "45", "amount_cents": 3_000},
                    {"group": "PR", "reason_code": "2", "amount_cents": 1_800},
                ],
            }
        ],
    }
    posted = await call(platform, "POST", "claims", "/remittances/paper-eobs", "biller", eob, "cob-eob-1")
    assert posted["matched_claim_ids"] == [claim["claim_id"]] and posted["duplicate"] is False
    again = await call(platform, "POST", "claims", "/remittances/paper-eobs", "biller", eob, "cob-eob-2")
    assert (again["remittance_id"], again["duplicate"]) == (posted["remittance_id"], True)

    invoice = await settled_invoice(platform, encounter_id, 7_200, "the paper EOB posted")
    # 120.00 = 72.00 + 30.00 + 18.00, the patient's.
    assert (
        invoice["adjustment_cents"],
        invoice["balance_cents"],
        invoice["patient_responsibility_cents"],
    ) == (
        3_000,
        1_800,
        1_800,
    )
    reconciles(invoice)
    answered = await get(platform, "claims", f"/claims/{claim['claim_id']}")
    assert (answered["status"], answered["paid_cents"]) == ("paid", 7_200)
    await aging_moves(platform, before, {"patient": 1_800})


def row_of(rows: list[dict[str, Any]], key: str, payer_id: str, edi: str) -> dict[str, Any]:
    (row,) = [r for r in rows if r[key] in (payer_id, edi)]
    return row


async def test_revenue_and_denials_keep_their_meaning_with_later_payers(
    platform: Platform, payers: dict[str, str]
) -> None:
    """After the tests above (they wait for their postings), from the payers only this module bills.
    A later payer's OA-23 (the earlier payers' part) is no adjustment and no denial."""
    window = f"from={SERVICE_DAY}&to={TODAY}"
    revenue = await get(platform, "reporting", f"/reports/revenue?{window}&group_by=payer")
    assert revenue["reconciliation"]["reconciled"] is True
    # UHC's matched ERA: 120.00 charged, 76.80 paid, 24.00 CO-45. The paper EOB: 120.00, 72.00, 30.00.
    for payer, edi, paid, contractual in (
        ("uhc", "DEMO-UHC", 7_680, 2_400),
        ("paper", "E2E-PAPER", 7_200, 3_000),
    ):
        row = row_of(revenue["rows"], "group_key", payers[payer], edi)
        assert (row["gross_charges_cents"], row["insurance_payments_cents"]) == (12_000, paid), row
        assert (row["contractual_adjustments_cents"], row["other_adjustments_cents"]) == (contractual, 0), row
    denials = await get(platform, "reporting", f"/reports/denials?{window}")
    # Medicaid answered twice (the tertiary claim, the crossover) and paid both: its OA-23 of
    # 12.60 + 756.00 + 28.35 and 581.90 is the earlier payers' part, no denial.
    medicaid = row_of(denials["by_payer"], "payer_key", payers["medicaid"], "DEMO-MEDICAID")
    assert (medicaid["adjudicated_claims"], medicaid["denied_claims"], medicaid["denied_charge_cents"]) == (
        2,
        0,
        0,
    )
    uhc = row_of(denials["by_payer"], "payer_key", payers["uhc"], "DEMO-UHC")
    assert (uhc["adjudicated_claims"], uhc["denied_claims"]) == (1, 0)
