"""The reporting read model in PostgreSQL: one append-only table of facts per kind of event.

Handlers only insert what an event says, with its event time, and never read other rows, so the
order in which topics are consumed does not matter and a rebuild from the topics gives the same
rows. Reports join the facts when they are asked for (see FactsReader).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from billing_events.consumer import Handler, Subscription, handlers
from billing_events.contracts.claims import (
    ClaimAcknowledged,
    ClaimAdjudicated,
    ClaimClosed,
    ClaimCreated,
    ClaimReady,
    ClaimRejected,
    ClaimResubmitted,
    ClaimScrubFailed,
    ClaimSubmitted,
    ClaimVoided,
    RemittanceReceived,
)
from billing_events.contracts.invoicing import (
    InsurancePaymentPosted,
    InvoiceIssued,
    InvoiceVoided,
    PatientCreditApplied,
    PatientCreditReleased,
    PatientPaymentReceived,
    PatientStatementIssued,
    WriteOffPosted,
)
from billing_events.contracts.registration import FacilityRegistered, PayerRegistered, ProviderEnrolled
from billing_events.envelope import EventEnvelope
from billing_events.kafka import topics_carrying
from billing_events.store import Session
from reporting.application.reports import ReportTooLarge
from reporting.domain.facts import (
    AdjudicatedLine,
    Adjudication,
    Adjustment,
    ChargeLine,
    ClaimStep,
    CreatedClaim,
    Facts,
    HospitalBill,
    InsurancePosting,
    IssuedInvoice,
    PatientCredit,
    PatientPayment,
    PostedLine,
    ProviderAdjustment,
    Stamp,
    Statement,
    VoidedInvoice,
    WriteOff,
)

FACT_TABLES = [
    "reporting_invoices",
    "reporting_invoice_voids",
    "reporting_insurance_postings",
    "reporting_patient_payments",
    "reporting_statements",
    "reporting_claims",
    "reporting_claim_steps",
    "reporting_adjudications",
    "reporting_provider_adjustments",
    "reporting_write_offs",
    "reporting_patient_credits",
]
OWNED_TABLES = ["reporting_payers", "reporting_providers", *FACT_TABLES]

# Every fact row ends with when it was recorded: the event's id, time (ce_time) and stream version.
_RECORDED = "event_id text NOT NULL, recorded_at timestamptz NOT NULL, stream_version integer NOT NULL"

PROJECTIONS_SQL = f"""
CREATE TABLE IF NOT EXISTS reporting_payers (
    tenant text NOT NULL, payer_id text NOT NULL, name text NOT NULL,
    PRIMARY KEY (tenant, payer_id)
);
CREATE TABLE IF NOT EXISTS reporting_providers (
    tenant text NOT NULL, provider_id text NOT NULL, npi text NOT NULL, role text NOT NULL,
    name text NOT NULL,
    PRIMARY KEY (tenant, provider_id)
);
CREATE TABLE IF NOT EXISTS reporting_invoices (
    tenant text NOT NULL, invoice_id text NOT NULL, encounter_id text NOT NULL,
    coding_version integer NOT NULL, service_date date NOT NULL, responsibility text NOT NULL,
    payer_id text, billing_provider_id text NOT NULL, rendering_provider_id text NOT NULL,
    total_charge_cents bigint NOT NULL, lines jsonb NOT NULL, fee_schedule text NOT NULL, {_RECORDED},
    PRIMARY KEY (tenant, invoice_id)
);
CREATE TABLE IF NOT EXISTS reporting_invoice_voids (
    tenant text NOT NULL, invoice_id text NOT NULL, encounter_id text NOT NULL, reason text NOT NULL,
    superseded_by_coding_version integer, {_RECORDED},
    PRIMARY KEY (tenant, invoice_id)
);
CREATE TABLE IF NOT EXISTS reporting_insurance_postings (
    tenant text NOT NULL, invoice_id text NOT NULL, claim_id text NOT NULL, payer_id text NOT NULL,
    adjudication_id text NOT NULL, reversal boolean NOT NULL, denied boolean NOT NULL,
    paid_cents bigint NOT NULL, contractual_adjustment_cents bigint NOT NULL,
    other_adjustment_cents bigint NOT NULL, patient_responsibility_cents bigint NOT NULL,
    denial_reasons jsonb NOT NULL, lines jsonb NOT NULL, posted_on date NOT NULL, {_RECORDED},
    PRIMARY KEY (event_id)
);
ALTER TABLE reporting_insurance_postings ADD COLUMN IF NOT EXISTS sequence text NOT NULL DEFAULT 'primary';
-- Hospital bills (added later): the institutional part of an invoice, as the facts need it.
ALTER TABLE reporting_invoices ADD COLUMN IF NOT EXISTS hospital jsonb;
ALTER TABLE reporting_insurance_postings ADD COLUMN IF NOT EXISTS awaiting_next_payer boolean NOT NULL
    DEFAULT false;
CREATE TABLE IF NOT EXISTS reporting_patient_payments (
    tenant text NOT NULL, payment_id text NOT NULL, invoice_id text NOT NULL, amount_cents bigint NOT NULL,
    applied_cents bigint NOT NULL, credit_cents bigint NOT NULL, method text NOT NULL,
    received_on date NOT NULL, {_RECORDED},
    PRIMARY KEY (event_id)
);
CREATE TABLE IF NOT EXISTS reporting_statements (
    tenant text NOT NULL, statement_id text NOT NULL, statement_date date NOT NULL, due_date date NOT NULL,
    amount_due_cents bigint NOT NULL, invoice_ids jsonb NOT NULL, {_RECORDED},
    PRIMARY KEY (event_id)
);
CREATE TABLE IF NOT EXISTS reporting_claims (
    tenant text NOT NULL, claim_id text NOT NULL, invoice_id text NOT NULL, encounter_id text NOT NULL,
    payer_id text NOT NULL, service_date date NOT NULL, total_charge_cents bigint NOT NULL, {_RECORDED},
    PRIMARY KEY (tenant, claim_id)
);
CREATE TABLE IF NOT EXISTS reporting_claim_steps (
    tenant text NOT NULL, claim_id text NOT NULL, step text NOT NULL, detail jsonb NOT NULL, {_RECORDED},
    PRIMARY KEY (event_id)
);
CREATE TABLE IF NOT EXISTS reporting_adjudications (
    tenant text NOT NULL, claim_id text NOT NULL, invoice_id text NOT NULL, remittance_id text NOT NULL,
    payer_id text NOT NULL, outcome text NOT NULL, claim_status_code text NOT NULL,
    total_charge_cents bigint NOT NULL, paid_cents bigint NOT NULL,
    patient_responsibility_cents bigint NOT NULL, claim_adjustments jsonb NOT NULL, lines jsonb NOT NULL,
    adjudicated_on date NOT NULL, {_RECORDED},
    PRIMARY KEY (event_id)
);
ALTER TABLE reporting_adjudications ADD COLUMN IF NOT EXISTS sequence text NOT NULL DEFAULT 'primary';
ALTER TABLE reporting_adjudications ADD COLUMN IF NOT EXISTS next_payer_id text;
CREATE TABLE IF NOT EXISTS reporting_provider_adjustments (
    tenant text NOT NULL, remittance_id text NOT NULL, item integer NOT NULL, payer_id text,
    reason_code text NOT NULL, amount_cents bigint NOT NULL, payment_date date NOT NULL, {_RECORDED},
    PRIMARY KEY (event_id, item)
);
CREATE TABLE IF NOT EXISTS reporting_write_offs (
    tenant text NOT NULL, invoice_id text NOT NULL, write_off_id text NOT NULL, party text NOT NULL,
    reason text NOT NULL, amount_cents bigint NOT NULL, written_off_on date NOT NULL, {_RECORDED},
    PRIMARY KEY (event_id)
);
CREATE TABLE IF NOT EXISTS reporting_patient_credits (
    tenant text NOT NULL, invoice_id text NOT NULL, credit_id text NOT NULL, amount_cents bigint NOT NULL,
    moved_on date NOT NULL, {_RECORDED},
    PRIMARY KEY (event_id)
);
""" + "".join(
    f"CREATE INDEX IF NOT EXISTS {table}_recorded ON {table} (tenant, recorded_at);\n"
    for table in FACT_TABLES
)


def _insert(
    session: Session, table: str, envelope: EventEnvelope, values: dict[str, Any], *, stamped: bool = True
) -> None:
    """Insert one row of the event's tenant; a fact row is stamped with when its event was recorded."""
    row = {"tenant": envelope.tenant, **values}
    if stamped:
        row |= {
            "event_id": envelope.event_id,
            "recorded_at": envelope.occurred_at,
            "stream_version": envelope.stream_version or 0,
        }
    columns = ", ".join(row)
    parameters = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    # Facts are only inserted, never read back while consuming: a poll's rows go in one executemany.
    session.defer(f"INSERT INTO {table} ({columns}) VALUES ({parameters})", *row.values())


def _dump(items: Sequence[Any]) -> list[Any]:
    return [item.model_dump(mode="json") for item in items]


async def on_payer_registered(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, PayerRegistered)
    values = {"payer_id": event.payer_id, "name": event.name}
    _insert(session, "reporting_payers", envelope, values, stamped=False)


async def on_provider_enrolled(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, ProviderEnrolled)
    person = " ".join(part for part in (event.given_name, event.family_name) if part)
    values = {
        "provider_id": event.provider_id,
        "npi": event.npi,
        "role": event.role,
        "name": event.organization_name or person or event.npi,
    }
    _insert(session, "reporting_providers", envelope, values, stamped=False)


async def on_invoice_issued(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, InvoiceIssued)
    values = event.model_dump(
        include={
            "invoice_id",
            "encounter_id",
            "coding_version",
            "service_date",
            "responsibility",
            "payer_id",
            "billing_provider_id",
            "rendering_provider_id",
            "total_charge_cents",
            "fee_schedule",
        }
    )
    hospital = None
    bill = event.institutional
    if bill is not None:
        hospital = {
            "facility_id": bill.facility_id,
            "setting": bill.setting,
            "frequency_code": bill.frequency_code,
            "discharged_on": bill.discharged_at.date().isoformat(),
            "drg_code": bill.drg.code if bill.drg else None,
            # Weights are 4-decimal strings ("1.9000"): kept as an integer of ten-thousandths.
            "drg_weight_ten_thousandths": int(Decimal(bill.drg.weight) * 10_000) if bill.drg else None,
            "revenue_codes": {str(line.line_number): line.revenue_code for line in bill.lines},
        }
    values |= {"lines": _dump(event.lines), "hospital": hospital}
    _insert(session, "reporting_invoices", envelope, values)


def _hospital(stored: dict[str, Any] | None) -> HospitalBill | None:
    if not stored:
        return None
    return HospitalBill(
        facility_id=stored["facility_id"],
        setting=stored["setting"],
        frequency_code=stored["frequency_code"],
        discharged_on=date.fromisoformat(stored["discharged_on"]),
        drg_code=stored["drg_code"],
        drg_weight_ten_thousandths=stored["drg_weight_ten_thousandths"],
        revenue_codes={int(number): code for number, code in stored["revenue_codes"].items()},
    )


async def on_facility_registered(session: Session, envelope: EventEnvelope) -> None:
    """A facility is named in the reports as a provider is (revenue and A/R by facility)."""
    event = envelope.event()
    assert isinstance(event, FacilityRegistered)
    # A facility bills as an organisation: its name labels revenue and A/R by facility.
    values = {"provider_id": event.facility_id, "npi": event.npi, "role": "facility", "name": event.name}
    _insert(session, "reporting_providers", envelope, values, stamped=False)


async def on_invoice_voided(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, InvoiceVoided)
    values = event.model_dump(
        include={"invoice_id", "encounter_id", "reason", "superseded_by_coding_version"}
    )
    _insert(session, "reporting_invoice_voids", envelope, values)


async def on_insurance_payment_posted(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, InsurancePaymentPosted)
    values = event.model_dump(
        include={
            "invoice_id",
            "claim_id",
            "payer_id",
            "adjudication_id",
            "reversal",
            "denied",
            "paid_cents",
            "contractual_adjustment_cents",
            "other_adjustment_cents",
            "patient_responsibility_cents",
            "posted_on",
            "sequence",
            "awaiting_next_payer",
        }
    )
    values |= {"lines": _dump(event.lines), "denial_reasons": list(event.denial_reasons)}
    _insert(session, "reporting_insurance_postings", envelope, values)


async def on_patient_payment_received(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, PatientPaymentReceived)
    # The patient's id is left behind: the reports need none.
    values = event.model_dump(
        include={
            "payment_id",
            "invoice_id",
            "amount_cents",
            "applied_cents",
            "credit_cents",
            "method",
            "received_on",
        }
    )
    _insert(session, "reporting_patient_payments", envelope, values)


async def on_statement_issued(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, PatientStatementIssued)
    values = event.model_dump(include={"statement_id", "statement_date", "due_date", "amount_due_cents"})
    values["invoice_ids"] = list(event.invoice_ids)
    _insert(session, "reporting_statements", envelope, values)


async def on_write_off_posted(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, WriteOffPosted)
    values = event.model_dump(
        include={"invoice_id", "write_off_id", "party", "reason", "amount_cents", "written_off_on"}
    )
    _insert(session, "reporting_write_offs", envelope, values)


async def on_patient_credit(session: Session, envelope: EventEnvelope) -> None:
    """Credit onto an invoice counts as the patient's payment on it, credit released from it as less."""
    event = envelope.event()
    if isinstance(event, PatientCreditApplied):
        amount, moved_on = event.amount_cents, event.applied_on
    else:
        assert isinstance(event, PatientCreditReleased)
        amount, moved_on = -event.amount_cents, event.released_on
    values = {
        "invoice_id": event.invoice_id,
        "credit_id": event.credit_id,
        "amount_cents": amount,
        "moved_on": moved_on,
    }
    _insert(session, "reporting_patient_credits", envelope, values)


async def on_claim_created(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, ClaimCreated)
    values = event.model_dump(
        include={"claim_id", "invoice_id", "encounter_id", "payer_id", "service_date", "total_charge_cents"}
    )
    _insert(session, "reporting_claims", envelope, values)


# The claim's steps that the KPIs count, with what is worth keeping of each (codes, never free text
# that could carry patient data).
STEPS: dict[str, tuple[str, Any]] = {
    ClaimScrubFailed.event_type: ("scrub_failed", lambda e: {"edits": [f.edit_id for f in e.failures]}),
    ClaimReady.event_type: ("ready", lambda e: {}),
    ClaimSubmitted.event_type: ("submitted", lambda e: {"frequency_code": e.frequency_code}),
    ClaimAcknowledged.event_type: ("acknowledged", lambda e: {"acknowledgement": e.acknowledgement}),
    ClaimRejected.event_type: ("rejected", lambda e: {"reasons": [r.code for r in e.reasons]}),
    ClaimResubmitted.event_type: ("resubmitted", lambda e: {"frequency_code": e.frequency_code}),
    ClaimClosed.event_type: ("closed", lambda e: {}),
    ClaimVoided.event_type: ("voided", lambda e: {}),
}


async def on_claim_step(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    step, detail = STEPS[envelope.event_type]
    _insert(
        session,
        "reporting_claim_steps",
        envelope,
        {"claim_id": event.subject(), "step": step, "detail": detail(event)},
    )


async def on_claim_adjudicated(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, ClaimAdjudicated)
    values = event.model_dump(
        include={
            "claim_id",
            "invoice_id",
            "remittance_id",
            "payer_id",
            "outcome",
            "claim_status_code",
            "total_charge_cents",
            "paid_cents",
            "patient_responsibility_cents",
            "adjudicated_on",
            "sequence",
            "next_payer_id",
        }
    )
    values["claim_adjustments"] = _dump(event.claim_adjustments)
    # Remark codes and control numbers are not reported on; lines keep codes and cents.
    values["lines"] = [
        line.model_dump(
            mode="json", include={"line_number", "code", "charge_cents", "paid_cents", "adjustments"}
        )
        for line in event.lines
    ]
    _insert(session, "reporting_adjudications", envelope, values)


async def on_remittance_received(session: Session, envelope: EventEnvelope) -> None:
    """Each PLB reason of a payment: provider-level money, in revenue's cash, on no invoice."""
    event = envelope.event()
    assert isinstance(event, RemittanceReceived)
    for item, adjustment in enumerate(event.provider_adjustments, start=1):
        values = {
            "remittance_id": event.remittance_id,
            "item": item,
            "payer_id": event.payer_id,
            "reason_code": adjustment.reason_code,
            "amount_cents": adjustment.amount_cents,
            "payment_date": event.payment_date,
        }
        _insert(session, "reporting_provider_adjustments", envelope, values)


def projection_handlers() -> dict[str, Handler]:
    return handlers(
        (PayerRegistered, on_payer_registered),
        (ProviderEnrolled, on_provider_enrolled),
        (InvoiceIssued, on_invoice_issued),
        (FacilityRegistered, on_facility_registered),
        (InvoiceVoided, on_invoice_voided),
        (InsurancePaymentPosted, on_insurance_payment_posted),
        (PatientPaymentReceived, on_patient_payment_received),
        (PatientStatementIssued, on_statement_issued),
        (WriteOffPosted, on_write_off_posted),
        (PatientCreditApplied, on_patient_credit),
        (PatientCreditReleased, on_patient_credit),
        (ClaimCreated, on_claim_created),
        (ClaimScrubFailed, on_claim_step),
        (ClaimReady, on_claim_step),
        (ClaimSubmitted, on_claim_step),
        (ClaimAcknowledged, on_claim_step),
        (ClaimRejected, on_claim_step),
        (ClaimResubmitted, on_claim_step),
        (ClaimClosed, on_claim_step),
        (ClaimVoided, on_claim_step),
        (ClaimAdjudicated, on_claim_adjudicated),
        (RemittanceReceived, on_remittance_received),
    )


class FactsReader:
    """Loads one tenant's facts as known at the end of a day in the reporting time zone."""

    def __init__(self, pool: asyncpg.Pool, zone: ZoneInfo, *, max_facts: int | None = None) -> None:
        self.pool = pool
        self.zone = zone
        self.max_facts = max_facts

    def cutoff(self, day: date) -> datetime:
        """The first instant after `day` ends in the reporting time zone."""
        return datetime.combine(day + timedelta(days=1), time(), tzinfo=self.zone)

    def _stamp(self, row: asyncpg.Record) -> Stamp:
        at: datetime = row["recorded_at"]
        return Stamp(at, row["stream_version"], row["event_id"], at.astimezone(self.zone).date())

    async def load(self, tenant: str, known_on: date) -> Facts:
        cut = self.cutoff(known_on)
        async with self.pool.acquire() as connection, connection.transaction(isolation="repeatable_read"):

            async def rows(table: str) -> list[asyncpg.Record]:
                return list(
                    await connection.fetch(
                        f"SELECT * FROM {table} WHERE tenant = $1 AND recorded_at < $2", tenant, cut
                    )
                )

            if self.max_facts is not None:
                # Counted in the same snapshot the rows are read from, on the same indexes, before
                # anything is materialised: past the limit nothing is read (ReportTooLarge, a 422).
                facts = await connection.fetchval(
                    " + ".join(
                        f"(SELECT count(*) FROM {table} WHERE tenant = $1 AND recorded_at < $2)"
                        for table in FACT_TABLES
                    ).join(("SELECT ", "")),
                    tenant,
                    cut,
                )
                if facts > self.max_facts:
                    raise ReportTooLarge(facts, self.max_facts)
            payers = await connection.fetch(
                "SELECT payer_id, name FROM reporting_payers WHERE tenant = $1", tenant
            )
            providers = await connection.fetch(
                "SELECT provider_id, name FROM reporting_providers WHERE tenant = $1", tenant
            )
            invoices = await rows("reporting_invoices")
            voids = await rows("reporting_invoice_voids")
            postings = await rows("reporting_insurance_postings")
            payments = await rows("reporting_patient_payments")
            statements = await rows("reporting_statements")
            claims = await rows("reporting_claims")
            steps = await rows("reporting_claim_steps")
            adjudications = await rows("reporting_adjudications")
            provider_adjustments = await rows("reporting_provider_adjustments")
            write_offs = await rows("reporting_write_offs")
            credits = await rows("reporting_patient_credits")
        return Facts(
            invoices=tuple(self._invoice(r) for r in invoices),
            voids=tuple(VoidedInvoice(r["invoice_id"], self._stamp(r)) for r in voids),
            insurance_postings=tuple(self._posting(r) for r in postings),
            patient_payments=tuple(
                PatientPayment(
                    r["payment_id"],
                    r["invoice_id"],
                    r["amount_cents"],
                    r["applied_cents"],
                    r["received_on"],
                    self._stamp(r),
                )
                for r in payments
            ),
            statements=tuple(
                Statement(r["statement_id"], r["statement_date"], r["amount_due_cents"], self._stamp(r))
                for r in statements
            ),
            claims=tuple(
                CreatedClaim(
                    r["claim_id"],
                    r["invoice_id"],
                    r["payer_id"],
                    r["service_date"],
                    r["total_charge_cents"],
                    self._stamp(r),
                )
                for r in claims
            ),
            claim_steps=tuple(ClaimStep(r["claim_id"], r["step"], self._stamp(r)) for r in steps),
            adjudications=tuple(self._adjudication(r) for r in adjudications),
            provider_adjustments=tuple(
                ProviderAdjustment(
                    r["remittance_id"],
                    r["payer_id"],
                    r["reason_code"],
                    r["amount_cents"],
                    r["payment_date"],
                    self._stamp(r),
                )
                for r in provider_adjustments
            ),
            write_offs=tuple(
                WriteOff(r["invoice_id"], r["party"], r["reason"], r["amount_cents"], self._stamp(r))
                for r in write_offs
            ),
            patient_credits=tuple(
                PatientCredit(r["invoice_id"], r["amount_cents"], self._stamp(r)) for r in credits
            ),
            payer_names={r["payer_id"]: r["name"] for r in payers},
            provider_names={r["provider_id"]: r["name"] for r in providers},
        )

    def _invoice(self, r: asyncpg.Record) -> IssuedInvoice:
        return IssuedInvoice(
            invoice_id=r["invoice_id"],
            encounter_id=r["encounter_id"],
            coding_version=r["coding_version"],
            service_date=r["service_date"],
            responsibility=r["responsibility"],
            payer_id=r["payer_id"],
            billing_provider_id=r["billing_provider_id"],
            rendering_provider_id=r["rendering_provider_id"],
            total_charge_cents=r["total_charge_cents"],
            lines=tuple(ChargeLine(ln["line_number"], ln["code"], ln["charge_cents"]) for ln in r["lines"]),
            stamp=self._stamp(r),
            hospital=_hospital(r["hospital"]),
        )

    def _posting(self, r: asyncpg.Record) -> InsurancePosting:
        return InsurancePosting(
            invoice_id=r["invoice_id"],
            claim_id=r["claim_id"],
            payer_id=r["payer_id"],
            reversal=r["reversal"],
            denied=r["denied"],
            paid_cents=r["paid_cents"],
            contractual_adjustment_cents=r["contractual_adjustment_cents"],
            other_adjustment_cents=r["other_adjustment_cents"],
            patient_responsibility_cents=r["patient_responsibility_cents"],
            posted_on=r["posted_on"],
            sequence=r["sequence"],
            awaiting_next_payer=r["awaiting_next_payer"],
            lines=tuple(
                PostedLine(ln["line_number"], ln["paid_cents"], _adjustments(ln["adjustments"]))
                for ln in r["lines"]
            ),
            stamp=self._stamp(r),
        )

    def _adjudication(self, r: asyncpg.Record) -> Adjudication:
        return Adjudication(
            claim_id=r["claim_id"],
            invoice_id=r["invoice_id"],
            payer_id=r["payer_id"],
            outcome=r["outcome"],
            total_charge_cents=r["total_charge_cents"],
            paid_cents=r["paid_cents"],
            patient_responsibility_cents=r["patient_responsibility_cents"],
            adjudicated_on=r["adjudicated_on"],
            claim_adjustments=_adjustments(r["claim_adjustments"]),
            lines=tuple(
                AdjudicatedLine(
                    ln["line_number"],
                    ln["code"],
                    ln["charge_cents"],
                    ln["paid_cents"],
                    _adjustments(ln["adjustments"]),
                )
                for ln in r["lines"]
            ),
            stamp=self._stamp(r),
            sequence=r["sequence"],
            next_payer_id=r["next_payer_id"],
        )


def _adjustments(items: list[dict[str, Any]]) -> tuple[Adjustment, ...]:
    return tuple(Adjustment(a["group"], a["reason_code"], a["amount_cents"]) for a in items)


SUBSCRIPTION_NAME = "reporting"


def projection_subscription() -> Subscription:
    """One consumer group over the topics of the event types it reports on; each becomes facts."""
    handled = projection_handlers()
    return Subscription(
        name=SUBSCRIPTION_NAME,
        topics=topics_carrying(handled),
        handlers=handled,
        owned_tables=OWNED_TABLES,
    )
