"""Invoicing's policies on the in-memory unit of work: recoding supersedes, a late coverage takes
over an unpaid self-pay invoice, a new fee schedule prices held invoices. No I/O: the log is
billing_testing's fake and the read models a dictionary, so each case runs in milliseconds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from billing_events.contracts.invoicing import (
    CodedInvoiceLine,
    FeeScheduleImported,
    FeeScheduleRow,
    InvoiceIssued,
    InvoiceVoided,
    PatientStatementIssued,
)
from billing_events.envelope import Metadata
from billing_events.unit_of_work import UnitOfWork
from billing_testing import builders
from billing_testing.fakes import InMemoryEventSession
from invoicing.application import handlers
from invoicing.application.ports import CreditCandidates, EncounterInvoice, FeeScheduleVersion, Unit
from invoicing.domain import ids
from invoicing.domain.invoice import ApplyPatientPayment, Coding, InvoiceState, PrimaryCoverage
from invoicing.domain.patient_account import OpenItem, PatientAccountState
from invoicing.domain.pricing import PriceList

TENANT = "tenant-a"
PATIENT = "patient-1"
ENCOUNTER = "encounter-1"
DAY = date(2026, 3, 2)
META = Metadata(tenant=TENANT, actor="test")
PRICES = PriceList.of("standard", date(2026, 1, 1), [FeeScheduleRow(code="99213", amount_cents=12500)])


@dataclass
class InMemoryViews:
    """invoicing.application.ports.Views over dictionaries, with the same answers as the SQL."""

    price_list: PriceList | None = PRICES
    coverages: dict[str, PrimaryCoverage] = field(default_factory=dict)
    invoices: dict[str, InvoiceState] = field(default_factory=dict)
    accounts: dict[str, PatientAccountState] = field(default_factory=dict)

    async def price_list_on(self, tenant: str, service_date: date) -> PriceList | None:
        return self.price_list

    async def primary_coverage_on(
        self, tenant: str, patient_id: str, service_date: date
    ) -> PrimaryCoverage | None:
        return self.coverages.get(patient_id)

    async def invoices_of_encounter(self, tenant: str, encounter_id: str) -> list[EncounterInvoice]:
        found = [s for s in self.invoices.values() if s.encounter_id == encounter_id]
        return [
            EncounterInvoice(s.invoice_id, s.coding_version, s.status)
            for s in sorted(found, key=lambda s: s.coding_version)
        ]

    async def held_invoice_ids(self, tenant: str) -> list[str]:
        return [i for i, s in self.invoices.items() if s.status == "held"]

    async def self_pay_invoice_ids(self, tenant: str, patient_id: str) -> list[str]:
        return [
            i
            for i, s in self.invoices.items()
            if s.patient_id == patient_id and s.responsibility == "self_pay" and s.status != "voided"
        ]

    async def open_items(self, tenant: str, patient_id: str) -> list[OpenItem]:
        return [
            OpenItem(i, s.patient_responsibility_cents, s.service_date)
            for i, s in self.invoices.items()
            if s.patient_id == patient_id and s.patient_responsibility_cents > 0
        ]

    async def credit_candidates(self, tenant: str, patient_id: str) -> CreditCandidates:
        account = self.accounts.get(patient_id)
        releasable = tuple(
            i
            for i, s in self.invoices.items()
            if s.patient_id == patient_id
            and (s.balance_cents < 0 or s.status == "voided")
            and s.patient_paid_cents > 0
        )
        return CreditCandidates(account.credit_cents if account else 0, releasable)

    async def save_invoice(
        self, tenant: str, state: InvoiceState, first_position: int, last_position: int
    ) -> None:
        self.invoices[state.invoice_id] = state

    async def save_account(self, tenant: str, state: PatientAccountState, last_position: int) -> None:
        assert state.patient_id is not None
        self.accounts[state.patient_id] = state

    async def save_fee_schedule_version(
        self, tenant: str, version: FeeScheduleVersion, position: int, imported_at: datetime
    ) -> None:
        self.price_list = PriceList.of(version.name, version.effective_from, version.rows)


def unit(views: InMemoryViews | None = None) -> tuple[Unit, InMemoryEventSession, InMemoryViews]:
    log = InMemoryEventSession("invoicing")
    read_models = views or InMemoryViews()
    return UnitOfWork(log, read_models), log, read_models


def coding(version: int, code: str = "99213", units: int = 1) -> Coding:
    return Coding(
        encounter_id=ENCOUNTER,
        patient_id=PATIENT,
        coding_version=version,
        service_date=DAY,
        billing_provider_id="prov-b",
        rendering_provider_id="prov-r",
        place_of_service="11",
        diagnoses=("E11.9",),
        lines=(CodedInvoiceLine(line_number=1, code=code, units=units, diagnosis_pointers=(1,)),),
    )


async def test_recoding_voids_the_live_invoice_and_issues_one_for_the_new_version() -> None:
    work, log, views = unit()
    views.coverages[PATIENT] = PrimaryCoverage("cov-1", "payer-1")
    await handlers.invoice_coding(work, META, coding(1), DAY)
    await handlers.invoice_coding(work, META, coding(2, units=2), DAY)

    first, second = ids.invoice_id(TENANT, ENCOUNTER, 1), ids.invoice_id(TENANT, ENCOUNTER, 2)
    assert [type(e) for e in log.events(first)] == [InvoiceIssued, InvoiceVoided]
    issued = log.events(second)
    assert [type(e) for e in issued] == [InvoiceIssued]
    assert isinstance(issued[0], InvoiceIssued)
    assert issued[0].total_charge_cents == 2 * 12500  # two units at $125.00
    assert (views.invoices[first].status, views.invoices[second].status) == ("voided", "open")


async def test_an_older_coding_arriving_after_a_newer_one_changes_nothing() -> None:
    work, log, _ = unit()
    await handlers.invoice_coding(work, META, coding(2), DAY)
    before = len(log.log)
    await handlers.invoice_coding(work, META, coding(1), DAY)
    assert len(log.log) == before


async def test_a_late_coverage_takes_over_the_unpaid_self_pay_invoice() -> None:
    work, log, views = unit()
    await handlers.invoice_coding(work, META, coding(1), DAY)  # no coverage yet: self-pay
    self_pay = ids.invoice_id(TENANT, ENCOUNTER, 1)
    assert views.invoices[self_pay].responsibility == "self_pay"
    assert any(isinstance(e, PatientStatementIssued) for e in log.events(PATIENT))

    views.coverages[PATIENT] = PrimaryCoverage("cov-1", "payer-1")
    moved = await handlers.reassign_to_late_coverage(work, META, PATIENT)

    replacement = ids.reassigned_invoice_id(TENANT, ENCOUNTER, 1, "cov-1")
    assert moved == 1
    assert views.invoices[self_pay].status == "voided"
    taken_over = views.invoices[replacement]
    assert (taken_over.responsibility, taken_over.payer_id, taken_over.total_charge_cents) == (
        "insurance",
        "payer-1",
        12500,
    )
    # Running the policy again moves nothing twice.
    assert await handlers.reassign_to_late_coverage(work, META, PATIENT) == 0


async def test_a_new_fee_schedule_prices_the_invoice_held_for_want_of_a_price() -> None:
    work, log, views = unit(InMemoryViews(price_list=None))
    views.coverages[PATIENT] = PrimaryCoverage("cov-1", "payer-1")
    await handlers.invoice_coding(work, META, coding(1), DAY)
    held = ids.invoice_id(TENANT, ENCOUNTER, 1)
    assert views.invoices[held].status == "held"

    result = await handlers.import_fee_schedule(
        work, META, "standard", date(2026, 1, 1), (FeeScheduleRow(code="99213", amount_cents=9900),)
    )
    imported = log.events(result.fee_schedule_id)[-1]
    assert isinstance(imported, FeeScheduleImported)
    assert await handlers.reprice_held_invoices(work, META, imported, DAY) == 1
    assert (views.invoices[held].status, views.invoices[held].total_charge_cents) == ("open", 9900)


async def test_the_statement_waits_for_the_last_expected_payer() -> None:
    work, log, views = unit()
    views.coverages[PATIENT] = PrimaryCoverage("cov-1", "acme")
    await handlers.invoice_coding(work, META, coding(1), DAY)
    invoice_id = ids.invoice_id(TENANT, ENCOUNTER, 1)
    # 125.00: Acme pays 80.00, CO-45 25.00, PR-2 20.00, and names Globex next: no statement yet.
    acme = builders.claim_adjudicated(
        invoice_id,
        "acme",
        claim_id="claim-acme",
        remittance_id="era-acme",
        lines=(builders.adjudicated_line(1, "99213", 12500, 8000, ("CO", "45", 2500), ("PR", "2", 2000)),),
        next_payer_id="globex",
    )
    await handlers.post_adjudication(work, META, acme)
    assert [e for e in log.events(PATIENT) if isinstance(e, PatientStatementIssued)] == []
    assert views.invoices[invoice_id].patient_responsibility_cents == 0
    # Globex pays 15.00 of the 20.00 (OA-23 105.00 is Acme's part); 5.00 is the patient's.
    globex = builders.claim_adjudicated(
        invoice_id,
        "globex",
        claim_id="claim-globex",
        remittance_id="era-globex",
        lines=(builders.adjudicated_line(1, "99213", 12500, 1500, ("OA", "23", 10500), ("PR", "2", 500)),),
        sequence="secondary",
    )
    await handlers.post_adjudication(work, META, globex)
    (statement,) = [e for e in log.events(PATIENT) if isinstance(e, PatientStatementIssued)]
    assert (statement.amount_due_cents, statement.invoice_ids) == (500, (invoice_id,))


async def test_a_recoded_self_pay_invoice_hands_the_patients_payment_to_its_successor() -> None:
    work, log, views = unit()
    await handlers.invoice_coding(work, META, coding(1), DAY)  # self-pay, 125.00
    first, second = ids.invoice_id(TENANT, ENCOUNTER, 1), ids.invoice_id(TENANT, ENCOUNTER, 2)
    await handlers.receive_patient_payment(work, META, ApplyPatientPayment(first, "pay-1", 5000, "cash", DAY))
    await handlers.invoice_coding(work, META, coding(2, units=2), DAY)  # recoded: 250.00

    # The 50.00 paid on the voided invoice leaves it with its paid charge (it still owes nothing),
    # and pays the new invoice: 250.00 - 50.00 = 200.00 owed, and the statement asks for that.
    voided, successor = views.invoices[first], views.invoices[second]
    assert (voided.status, voided.total_charge_cents, voided.patient_paid_cents, voided.balance_cents) == (
        "voided",
        0,
        0,
        0,
    )
    assert (successor.patient_paid_cents, successor.patient_responsibility_cents) == (5000, 20000)
    assert views.accounts[PATIENT].credit_cents == 0
    statements = [e for e in log.events(PATIENT) if isinstance(e, PatientStatementIssued)]
    assert statements[-1].amount_due_cents == 20000
