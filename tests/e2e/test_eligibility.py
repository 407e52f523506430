"""Eligibility end to end: registration asks, claims sends a 270 through the clearinghouse folder,
the payer simulator answers a 271 from its demo rule table, claims reads it and registration shows
the answer on the check and on the coverage. Expected benefits by hand from
services/payer-simulator/demo-rules.yaml (DEMO-BCBS)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest

from billing_cli import demo
from billing_testing.platform import Platform, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TODAY = date.today()
HOME = {"line1": "1 Test Way", "city": "Springfield", "state": "IL", "postal_code": "62701"}
BCBS = 2  # demo.seed registers DEMO-AETNA, DEMO-MEDICARE, DEMO-BCBS in this order


async def covered_patient(platform: Platform, reference: demo.Reference, member_id: str) -> str:
    desk = platform.headers("front_desk")
    async with httpx.AsyncClient(timeout=30) as client:
        patient = await client.post(
            f"{platform.url('registration')}/patients",
            json={
                "mrn": f"E2E-ELIG-{uuid.uuid4().hex[:10]}",
                "name": {"given": "Eli", "family": "Gibility"},
                "birth_date": "1970-04-01",
                "sex": "M",
                "address": {
                    "line1": "1 Test Way",
                    "city": "Springfield",
                    "state": "IL",
                    "postal_code": "62701",
                },
            },
            headers=desk,
        )
        assert patient.status_code == 201, patient.text
        coverage = await client.post(
            f"{platform.url('registration')}/patients/{patient.json()['patient_id']}/coverages",
            json={
                "payer_id": reference.payer_ids[BCBS],
                "member_id": member_id,
                "priority": "primary",
                "relationship_to_subscriber": "self",
                "effective_from": "2020-01-01",
            },
            headers=desk,
        )
        assert coverage.status_code == 201, coverage.text
    return str(coverage.json()["coverage_id"])


async def answered_check(platform: Platform, coverage_id: str) -> dict[str, Any]:
    desk = platform.headers("front_desk")
    async with httpx.AsyncClient(timeout=30) as client:
        asked = await client.post(
            f"{platform.url('registration')}/coverages/{coverage_id}/eligibility-checks",
            json={"service_date": TODAY.isoformat()},
            headers={**desk, "Idempotency-Key": f"e2e-elig-{coverage_id}"},
        )
        assert asked.status_code == 202, asked.text
        check_id = asked.json()["check_id"]

        async def answered() -> dict[str, Any] | None:
            response = await client.get(
                f"{platform.url('registration')}/eligibility-checks/{check_id}", headers=desk
            )
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return None if body["status"] == "pending" else body

        return await eventually(answered, timeout=90, what="the 271's answer on the check")


async def test_an_eligibility_check_gets_the_271_answer_on_the_coverage(
    platform: Platform, reference: demo.Reference
) -> None:
    coverage_id = await covered_patient(platform, reference, f"BCBS-{uuid.uuid4().hex[:8].upper()}")
    check = await answered_check(platform, coverage_id)

    assert check["status"] == "active"
    assert (check["plan_begin_on"], check["plan_end_on"]) == (
        date(TODAY.year, 1, 1).isoformat(),
        date(TODAY.year, 12, 31).isoformat(),
    )
    # DEMO-BCBS: a $100.00 annual deductible, none of it met by a new member = 10000 cents; the
    # 99213 copay $30.00 = 3000; 10% coinsurance; out-of-pocket max $3,000.00, nothing met = 300000.
    assert check["benefits"] == {
        "deductible_remaining_cents": 10000,
        "copay_cents": 3000,
        "coinsurance_percent": 10,
        "coinsurance_basis_points": 1000,
        "out_of_pocket_remaining_cents": 300000,
    }
    async with httpx.AsyncClient(timeout=30) as client:
        coverage = await client.get(
            f"{platform.url('registration')}/coverages/{coverage_id}", headers=platform.headers("biller")
        )
    assert coverage.status_code == 200, coverage.text
    assert coverage.json()["eligibility"] == check


async def test_an_inactive_member_and_an_unknown_member(
    platform: Platform, reference: demo.Reference
) -> None:
    inactive = await answered_check(platform, await covered_patient(platform, reference, "BCBS-INACTIVE-01"))
    unknown = await answered_check(platform, await covered_patient(platform, reference, "BCBS-UNKNOWN-01"))

    assert (inactive["status"], inactive["benefits"]) == ("inactive", None)
    assert [r["code"] for r in inactive["reasons"]] == ["EB:6"]
    assert inactive["plan_end_on"] == date(TODAY.year - 1, 12, 31).isoformat()
    assert (unknown["status"], unknown["benefits"]) == ("error", None)
    assert unknown["reasons"] == [{"code": "AAA:75", "description": "subscriber/insured not found (2100C)"}]
