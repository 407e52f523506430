"""Bulk Data export throughput of the interop service: resources written to NDJSON per second.

    python bench/interop_bench.py [--patients N]      (needs DATABASE_URL, a server URL)

Fills a fresh database through interop's own projection handlers (N patients, each with a coverage,
an encounter, and a claim adjudicated and posted: 6 patient-compartment resources, plus the payer and
two providers), then runs the export application as the API's background task does, and prints
`interop export: X resources/s`. Patient and Coverage decrypt PHI per resource (AES-GCM, the data key
from the key store once per patient per minute), so the figure includes that cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg

from billing_events.contracts.base import Event
from billing_events.contracts.claims import (
    AdjudicatedLine,
    CasAdjustment,
    ClaimAdjudicated,
    ClaimCreated,
    ClaimLine,
)
from billing_events.contracts.invoicing import Adjustment, InsurancePaymentPosted, PostedLine
from billing_events.contracts.registration import (
    Address,
    CoverageAdded,
    EncounterOpened,
    PatientRegistered,
    PayerRegistered,
    ProviderEnrolled,
)
from billing_events.envelope import EventEnvelope
from billing_service.runtime import open_runtime
from billing_service.settings import ServiceSettings
from interop.adapters.projections import projection_subscription
from interop.adapters.queries import InteropViews, views_on
from interop.application.export import ExportJob, run_export
from interop.application.reads import Reader
from interop.domain.export import export_request
from interop.domain.resources import RESOURCE_TYPES
from interop.entrypoints import SERVICE

TENANT = "bench"
CLINIC = Address(line1="1 Main St", city="Boston", state="MA", postal_code="02110")


def with_database(server_url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def envelope(event: Event, stream_version: int = 1) -> EventEnvelope:
    return EventEnvelope(
        event_id=str(uuid.uuid4()),
        event_type=event.event_type,
        version=event.version,
        source=event.service,
        stream_id=event.subject(),
        tenant=TENANT,
        occurred_at=datetime.now(UTC),
        payload=event.model_dump(mode="json"),
        stream_version=stream_version,
    )


async def patient_events(
    vault: Any, payer_id: str, billing_id: str, rendering_id: str, i: int
) -> list[Event]:
    patient_id, coverage_id, encounter_id, claim_id, invoice_id = (str(uuid.uuid4()) for _ in range(5))
    phi = await vault.seal_fields(
        patient_id,
        {
            "mrn": f"MRN-{i}",
            "name": {"given": "Pat", "family": f"Bench{i}"},
            "birth_date": "1970-01-01",
            "address": {"line1": f"{i} Elm St", "city": "Boston", "state": "MA", "postal_code": "02110"},
            "phone": "6175550100",
            "member_id": f"W{i:09d}",
        },
    )
    line = ClaimLine(
        line_number=1,
        line_control_number="1",
        code="99213",
        units=1,
        charge_cents=15000,
        diagnosis_pointers=(1,),
    )
    cas = (CasAdjustment(group="CO", reason_code="45", amount_cents=5000),)
    return [
        PatientRegistered(
            patient_id=patient_id,
            mrn=phi["mrn"],
            mrn_index=str(i),
            name=phi["name"],
            birth_date=phi["birth_date"],
            sex="F",
            address=phi["address"],
            phone=phi["phone"],
        ),
        CoverageAdded(
            coverage_id=coverage_id,
            patient_id=patient_id,
            payer_id=payer_id,
            member_id=phi["member_id"],
            priority="primary",
            relationship_to_subscriber="self",
            effective_from=date(2026, 1, 1),
        ),
        EncounterOpened(
            encounter_id=encounter_id,
            patient_id=patient_id,
            billing_provider_id=billing_id,
            rendering_provider_id=rendering_id,
            service_date=date(2026, 3, 2),
            place_of_service="11",
            patient_sex="F",
            patient_age_years=56,
        ),
        ClaimCreated(
            claim_id=claim_id,
            patient_control_number=str(i),
            invoice_id=invoice_id,
            encounter_id=encounter_id,
            patient_id=patient_id,
            coverage_id=coverage_id,
            payer_id=payer_id,
            service_date=date(2026, 3, 2),
            diagnoses=("E11.9",),
            lines=(line,),
            total_charge_cents=15000,
            billing_provider_id=billing_id,
            rendering_provider_id=rendering_id,
            place_of_service="11",
        ),
        ClaimAdjudicated(
            claim_id=claim_id,
            invoice_id=invoice_id,
            remittance_id="r",
            payer_id=payer_id,
            payer_claim_control_number=str(i),
            claim_status_code="1",
            outcome="paid",
            total_charge_cents=15000,
            paid_cents=10000,
            patient_responsibility_cents=0,
            lines=(
                AdjudicatedLine(
                    line_number=1, code="99213", charge_cents=15000, paid_cents=10000, adjustments=cas
                ),
            ),
            adjudicated_on=date(2026, 3, 20),
        ),
        InsurancePaymentPosted(
            invoice_id=invoice_id,
            claim_id=claim_id,
            payer_id=payer_id,
            adjudication_id=str(uuid.uuid4()),
            paid_cents=10000,
            contractual_adjustment_cents=5000,
            other_adjustment_cents=0,
            patient_responsibility_cents=0,
            posted_on=date(2026, 3, 21),
            lines=(
                PostedLine(
                    line_number=1,
                    paid_cents=10000,
                    adjustments=(Adjustment(group="CO", reason_code="45", amount_cents=5000),),
                ),
            ),
        ),
    ]


async def run(patients: int) -> dict[str, Any]:
    server_url = os.environ["DATABASE_URL"]
    name = f"bench_interop_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    database = with_database(server_url, name)
    state = Path(tempfile.mkdtemp(prefix="interop-bench-"))
    settings = ServiceSettings(
        service_name="interop",
        database_url=database,
        phi_keys_database_url=database,
        BILLING_STATE_DIR=str(state),
        create_databases=False,
    )
    runtime = await open_runtime(SERVICE, settings)
    try:
        handlers = projection_subscription().handlers
        payer_id, billing_id, rendering_id = (str(uuid.uuid4()) for _ in range(3))
        reference: list[Event] = [
            PayerRegistered(payer_id=payer_id, name="Acme", edi_payer_id="A1", claim_filing_indicator="CI"),
            ProviderEnrolled(provider_id=billing_id, npi="1234567893", role="billing",
                             organization_name="Clinic", taxonomy_code="207Q00000X", address=CLINIC),
            ProviderEnrolled(provider_id=rendering_id, npi="1245319599", role="rendering", given_name="Ann",
                             family_name="Doe", taxonomy_code="207Q00000X", address=CLINIC),
        ]  # fmt: skip
        seeded = time.perf_counter()
        for start in range(0, patients, 200):
            events = list(reference) if start == 0 else []
            for i in range(start, min(patients, start + 200)):
                events += await patient_events(runtime.vault, payer_id, billing_id, rendering_id, i)
            async with runtime.store.session() as session:
                for event in events:
                    await handlers[event.event_type](session, envelope(event))
        seed_seconds = time.perf_counter() - seeded
        results: dict[str, Any] = {"patients": patients, "seed_s": round(seed_seconds, 2)}
        reader = Reader(tenant=TENANT, actor="bench", roles=["auditor"], correlation_id=None)
        for label, types in (
            ("all", None),
            ("Patient", "Patient"),
            ("ExplanationOfBenefit", "ExplanationOfBenefit"),
        ):
            export_id = str(uuid.uuid4())
            request = export_request("system", types, None, None)
            async with runtime.pool.acquire() as connection:
                await InteropViews(connection).create_export(
                    export_id=export_id,
                    tenant=TENANT,
                    requested_by="bench",
                    request_url="bench",
                    level="system",
                    types=request.types,
                    since=None,
                    transaction_time=datetime.now(UTC),
                )
            job = ExportJob(export_id, reader, request, state / export_id)
            began = time.perf_counter()
            await run_export(partial(views_on, runtime.pool), runtime.vault, job)
            seconds = time.perf_counter() - began
            async with runtime.pool.acquire() as connection:
                row = await InteropViews(connection).export(TENANT, export_id)
            assert row is not None and row["status"] == "completed", row
            count = sum(entry["count"] for entry in row["output"])
            # Outside the timing: every line written parses as its fhir.resources model.
            for entry in row["output"]:
                model = RESOURCE_TYPES[entry["type"]]
                with (job.folder / entry["name"]).open() as lines:
                    for line in lines:
                        model.model_validate_json(line)
            results[label] = {
                "resources": count,
                "seconds": round(seconds, 3),
                "per_s": round(count / seconds),
            }
        return results
    finally:
        await runtime.close()
        shutil.rmtree(state, ignore_errors=True)
        admin = await asyncpg.connect(server_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=2000)
    results = asyncio.run(run(parser.parse_args().patients))
    print(f"seeded {results['patients']} patients in {results['seed_s']} s")
    for label in ("Patient", "ExplanationOfBenefit", "all"):
        figures = results[label]
        print(
            f"  {label:<22} {figures['resources']:>7} resources in {figures['seconds']:>6} s: "
            f"{figures['per_s']}/s"
        )
    print(f"interop export: {results['all']['per_s']} resources/s")


if __name__ == "__main__":
    main()
