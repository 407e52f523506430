"""The hospital's bill of a stay (the UB-04's content): registration's admission and discharge, coding's
institutional coding and the charges captured, as one institutional invoice.

The bill is final at discharge plus the bill hold (days during which late charges still join it);
charges captured after it go on a late-charge bill (frequency 5, only the new lines) or a replacement
(frequency 7, every line, replacing the first), as the payer's setting says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from billing_events.contracts.coding import InstitutionalEncounterCoded
from billing_events.contracts.invoicing import (
    CapturedCharge,
    InstitutionalBill,
    InstitutionalLine,
    InvoiceLine,
)
from billing_events.contracts.registration import AdmissionDischarged, AdmissionOpened

# UB-04 type of bill, facility type 1 (hospital) and classification: 1 inpatient, 3 outpatient.
TYPE_OF_BILL = {"inpatient": "11", "outpatient": "13"}
# CMS place of service codes, for the invoice's professional-shaped fields.
PLACE_OF_SERVICE = {"inpatient": "21", "outpatient": "22"}
LateChargeClaim = Literal["late_charge", "replacement"]
FREQUENCY: dict[LateChargeClaim, Literal["5", "7"]] = {"late_charge": "5", "replacement": "7"}


@dataclass(frozen=True)
class Stay:
    """What invoicing knows of an institutional encounter."""

    opened: AdmissionOpened
    discharged: AdmissionDischarged | None = None
    coding: InstitutionalEncounterCoded | None = None

    def final_on(self, hold_days: int) -> date | None:
        """The day the bill becomes final, once discharged."""
        if self.discharged is None:
            return None
        return self.discharged.discharged_at.date() + timedelta(days=hold_days)

    def ready(self, today: date, hold_days: int) -> bool:
        final = self.final_on(hold_days)
        return final is not None and self.coding is not None and today >= final


@dataclass(frozen=True)
class Bill:
    """An institutional invoice to issue: its lines in the invoice's terms and in the UB-04's."""

    service_date: date
    lines: tuple[InvoiceLine, ...]
    institutional: InstitutionalBill
    diagnoses: tuple[str, ...]
    place_of_service: str

    @property
    def total_charge_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)


def bill_of(
    stay: Stay,
    charges: Sequence[CapturedCharge],
    *,
    frequency: Literal["1", "5", "7"] = "1",
    replaces_invoice_id: str | None = None,
) -> Bill:
    """The bill of `charges` for the stay, numbered 1.. in capture order. The statement period runs from
    admission to discharge (a late-charge bill's too: it adds to that stay)."""
    assert stay.discharged is not None and stay.coding is not None, "billed only once discharged and coded"
    opened, discharged, coding = stay.opened, stay.discharged, stay.coding
    lines = tuple(
        InvoiceLine(
            line_number=number,
            code=charge.hcpcs or charge.revenue_code,
            units=charge.units,
            unit_price_cents=charge.unit_price_cents,
            charge_cents=charge.charge_cents,
        )
        for number, charge in enumerate(charges, start=1)
    )
    institutional = InstitutionalBill(
        facility_id=opened.facility_id,
        setting=opened.setting,
        type_of_bill=TYPE_OF_BILL[opened.setting],
        frequency_code=frequency,
        statement_from=opened.admitted_at.date(),
        statement_to=discharged.discharged_at.date(),
        admitted_at=opened.admitted_at,
        discharged_at=discharged.discharged_at,
        admission_type=opened.admission_type,
        admission_source=opened.admission_source,
        discharge_status=discharged.discharge_status,
        attending_provider_id=opened.attending_provider_id,
        principal_diagnosis=coding.principal_diagnosis,
        admitting_diagnosis=coding.admitting_diagnosis,
        diagnoses=coding.diagnoses,
        procedures=coding.procedures,
        drg=coding.drg if opened.setting == "inpatient" else None,
        lines=tuple(
            InstitutionalLine(
                line_number=number,
                charge_code=charge.charge_code,
                revenue_code=charge.revenue_code,
                hcpcs=charge.hcpcs,
                service_date=charge.service_date,
            )
            for number, charge in enumerate(charges, start=1)
        ),
        replaces_invoice_id=replaces_invoice_id,
    )
    codes = (coding.principal_diagnosis.code, *(d.code for d in coding.diagnoses))
    return Bill(
        service_date=opened.admitted_at.date(),
        lines=lines,
        institutional=institutional,
        diagnoses=tuple(dict.fromkeys(codes)),
        place_of_service=PLACE_OF_SERVICE[opened.setting],
    )


def same_coding(billed: InstitutionalBill, again: InstitutionalBill) -> bool:
    """Whether a new coding version bills the same: diagnoses, procedures and DRG code alike."""

    def codes(bill: InstitutionalBill) -> tuple[object, ...]:
        drg = bill.drg.code if bill.drg else None
        return (bill.principal_diagnosis, bill.admitting_diagnosis, bill.diagnoses, bill.procedures, drg)

    return codes(billed) == codes(again)
