"""A hospital's claim through the real broker and database: an institutional invoice becomes an 837I
valid for pyx12 beside the physician's 837P for the same stay, and a DRG payment with MIA posts to it
to the cent."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from billing_x12 import (
    Adjustment,
    Amount,
    ClaimPayment,
    Entity,
    EnvelopeRef,
    InpatientAdjudication,
    Party,
    PaymentInfo,
    Remittance,
    ServicePayment,
    parse_837i,
    write_835,
)

from billing_events.contracts.coding import DrgAssignment, InstitutionalDiagnosis, InstitutionalProcedure
from billing_events.contracts.invoicing import (
    InstitutionalBill,
    InstitutionalLine,
    InvoiceLine,
    InvoiceVoided,
)
from billing_events.contracts.registration import Address, FacilityRegistered
from billing_testing import builders
from billing_testing.harness import ServiceHarness, envelopes, publish_events, read_topic
from billing_testing.x12 import pyx12_errors
from claims.domain.identifiers import claim_id_for
from claims.entrypoints import SERVICE
from claims.entrypoints.workers import submission
from claims.settings import ClaimsSettings

TENANT = "tenant-a"
TODAY = dt.date.today()
ADMITTED = dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(21, 40), tzinfo=dt.UTC)
DISCHARGED = dt.datetime.combine(TODAY, dt.time(11, 15), tzinfo=dt.UTC)


def new_id() -> str:
    return str(uuid.uuid4())


@asynccontextmanager
async def claims_service(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        svc.runtime.extras["claims_settings"] = ClaimsSettings(
            clearinghouse_dir=str(tmp_path / "clearinghouse")
        )
        yield svc


def stay_bill(facility_id: str, attending_id: str) -> InstitutionalBill:
    return InstitutionalBill(
        facility_id=facility_id,
        setting="inpatient",
        type_of_bill="11",
        statement_from=ADMITTED.date(),
        statement_to=DISCHARGED.date(),
        admitted_at=ADMITTED,
        discharged_at=DISCHARGED,
        admission_type="1",
        admission_source="1",
        discharge_status="01",
        attending_provider_id=attending_id,
        principal_diagnosis=InstitutionalDiagnosis(code="M16.11", poa="Y"),
        admitting_diagnosis="M25.551",
        diagnoses=(
            InstitutionalDiagnosis(code="I10", poa="Y"),
            InstitutionalDiagnosis(code="Z79.4", poa="1"),
        ),
        procedures=(InstitutionalProcedure(code="0SR9019", date=ADMITTED.date() + dt.timedelta(days=1)),),
        drg=DrgAssignment(
            code="470", weight="1.9000", description="Hip replacement", mdc="08", grouper="test"
        ),
        lines=(
            InstitutionalLine(
                line_number=1, charge_code="RB", revenue_code="0120", service_date=ADMITTED.date()
            ),
            InstitutionalLine(
                line_number=2,
                charge_code="OR",
                revenue_code="0360",
                hcpcs="27130",
                service_date=ADMITTED.date(),
            ),
            InstitutionalLine(
                line_number=3, charge_code="RX", revenue_code="0250", service_date=ADMITTED.date()
            ),
        ),
    )


async def test_an_institutional_invoice_leaves_as_an_837i_and_its_drg_payment_posts_to_the_cent(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    payer_id, group_id, physician_id, patient_id, coverage_id, facility_id = (new_id() for _ in range(6))
    stay = new_id()
    async with claims_service(database_url, kafka_bootstrap, topic_prefix, tmp_path) as svc:
        vault = svc.runtime.vault
        hospital_invoice = builders.invoice_issued(
            new_id(),
            encounter_id=stay,
            patient_id=patient_id,
            coverage_id=coverage_id,
            payer_id=payer_id,
            billing_provider_id=facility_id,
            rendering_provider_id=physician_id,
            service_date=ADMITTED.date(),
            place_of_service="21",
            diagnoses=("M16.11", "I10", "Z79.4"),
            # 3 x 2,000.00 + 8,500.50 + 10 x 12.25: 6,000.00 + 8,500.50 + 122.50 = 14,623.00
            lines=(
                InvoiceLine(
                    line_number=1, code="0120", units=3, unit_price_cents=200000, charge_cents=600000
                ),
                InvoiceLine(
                    line_number=2, code="27130", units=1, unit_price_cents=850050, charge_cents=850050
                ),
                InvoiceLine(line_number=3, code="0250", units=10, unit_price_cents=1225, charge_cents=12250),
            ),
            fee_schedule="chargemaster",
        ).model_copy(update={"institutional": stay_bill(facility_id, physician_id)})
        physician_invoice = builders.invoice_issued(
            new_id(),
            encounter_id=new_id(),
            patient_id=patient_id,
            coverage_id=coverage_id,
            payer_id=payer_id,
            billing_provider_id=group_id,
            rendering_provider_id=physician_id,
            service_date=ADMITTED.date() + dt.timedelta(days=1),
        )
        events = [
            builders.payer_registered(payer_id),
            builders.billing_provider_enrolled(group_id),
            builders.rendering_provider_enrolled(physician_id),
            FacilityRegistered(
                facility_id=facility_id,
                name="Harbor General Hospital",
                npi="1234567893",
                tax_id="047654321",
                kind="hospital",
                address=Address(line1="1 Harbor Way", city="Boston", state="MA", postal_code="021102001"),
            ),
            await builders.sealed_patient_registered(vault, patient_id),
            await builders.sealed_coverage_added(vault, coverage_id, patient_id, payer_id),
            hospital_invoice,
            physician_invoice,
        ]
        await publish_events(kafka_bootstrap, topic_prefix, events, tenant=TENANT)
        await svc.drain()
        # One file per form: the 837I and the 837P of the same stay leave side by side.
        await submission(svc.runtime).run_once()
        files = sorted((tmp_path / "clearinghouse" / "outbound").glob("*.x12"))
        texts = [f.read_text() for f in files]
        institutional = [t for t in texts if "005010X223A2" in t]
        professional = [t for t in texts if "005010X222A1" in t]
        assert len(institutional) == 1 and len(professional) == 1
        assert sorted(f.name[:4] for f in files) == ["837I", "837P"]
        assert pyx12_errors(institutional[0]) == []
        (sent,) = parse_837i(institutional[0])
        assert (sent.type_of_bill, sent.frequency_code, sent.drg) == ("11", "1", "470")
        assert sent.charge_cents == 1462300 == sent.line_charge_total_cents
        # POA 1 (exempt) travels blank.
        assert [(d.qualifier, d.code, d.poa) for d in sent.diagnoses] == [
            ("ABK", "M1611", "Y"),
            ("ABJ", "M25551", None),
            ("ABF", "I10", "Y"),
            ("ABF", "Z794", None),
        ]

        biller = svc.client(["biller"])
        claim_id = claim_id_for(TENANT, hospital_invoice.invoice_id)
        claim = (await biller.get(f"/claims/{claim_id}")).json()
        assert (claim["kind"], claim["status"]) == ("institutional", "submitted")
        single = await biller.get(f"/claims/{claim_id}/837")
        assert "005010X223A2" in single.text and "CLM*" + claim["patient_control_number"] in single.text
        physician = claim_id_for(TENANT, physician_invoice.invoice_id)
        assert (await biller.get(f"/claims/{physician}")).json()["kind"] == "professional"

        # The payer pays DRG 470: 1.9000 x 6,000.00 = 11,400.00, shared over the lines by charge:
        # 467,756 + 662,694 + 9,550 = 1,140,000 cents; CO-45 the rest of each line:
        # 132,244 + 187,356 + 2,700 = 322,300 = 1,462,300 - 1,140,000.
        receiver = institutional[0].split("*")[6].strip()
        shares = ((600000, 467756), (850050, 662694), (12250, 9550))
        lines = tuple(
            ServicePayment(
                procedure_qualifier="NU" if not line.hcpcs else "HC",
                code=line.hcpcs or line.revenue_code,
                revenue_code=line.revenue_code if line.hcpcs else None,
                charge_cents=charge,
                paid_cents=paid,
                units=line.units,
                adjustments=(Adjustment("CO", "45", charge - paid),),
                line_control_number=line.line_control_number,
                amounts=(Amount("B6", paid),),
            )
            for line, (charge, paid) in zip(sent.lines, shares, strict=True)
        )
        remittance = Remittance(
            envelope=EnvelopeRef("000000501", "501", "0001"),
            payment=PaymentInfo("I", 1140000, "C", "CHK", TODAY),
            trace_number="DRG-TRACE-1",
            originating_company_id="1060000001",
            payer=Entity("PR", "ACME HEALTH"),
            payee=Entity("PE", "HARBOR GENERAL HOSPITAL", "XX", "1234567893"),
            claims=(
                ClaimPayment(
                    patient_control_number=sent.patient_control_number,
                    status_code="1",
                    charge_cents=1462300,
                    paid_cents=1140000,
                    claim_filing_indicator="CI",
                    payer_claim_control_number="ICN-DRG-1",
                    facility_code="11",
                    frequency_code="1",
                    parties=(Party("QC", "1", "DOE", "JANE", id_qualifier="MI", identifier="M1"),),
                    inpatient=InpatientAdjudication(covered_days=3, drg_amount_cents=1140000),
                    service_lines=lines,
                ),
            ),
        )
        text = write_835(
            [remittance],
            sender_id="ACME1",
            receiver_id=receiver,
            interchange_control_number=501,
            group_control_number=501,
            created=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        )
        posted = await biller.post("/remittances", content=text)
        assert posted.status_code == 202, posted.text
        await svc.drain()
        await svc.published()
        after = (await biller.get(f"/claims/{claim_id}")).json()
        assert (after["status"], after["paid_cents"]) == ("paid", 1140000)
        records = await read_topic(kafka_bootstrap, f"{topic_prefix}billing.claims.claim", expect=1)
        adjudicated = [
            e.payload
            for e in envelopes(records)
            if e.event_type == "ClaimAdjudicated" and e.stream_id == claim_id
        ]
        assert [line["paid_cents"] for line in adjudicated[0]["lines"]] == [467756, 662694, 9550]

        # Late charges replace the bill: the paid claim is closed, never voided with a frequency 8.
        replaced = InvoiceVoided(
            invoice_id=hospital_invoice.invoice_id,
            encounter_id=stay,
            reason="replaced by a bill with late charges",
            replaced_by_invoice_id=new_id(),
        )
        await publish_events(kafka_bootstrap, topic_prefix, [replaced], tenant=TENANT)
        await svc.drain()
        await submission(svc.runtime).run_once()
        assert (await biller.get(f"/claims/{claim_id}")).json()["status"] == "closed"
        assert sorted((tmp_path / "clearinghouse" / "outbound").glob("*.x12")) == files
