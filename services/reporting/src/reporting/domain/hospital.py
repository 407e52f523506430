"""Hospital measures: the case-mix index of a window's discharges and A/R by facility.

Case-mix index (CMI) = the mean MS-DRG relative weight of the inpatient stays discharged in the window.
A stay counts once, under its latest bill that is not voided (a replacement bill replaces the first;
a late-charge bill adds charges, not a discharge). Weights are integers in ten-thousandths, so the sum
is exact; the mean is rounded half up to four decimals, as CMS publishes weights.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from reporting.domain.facts import UNASSIGNED, Facts, IssuedInvoice
from reporting.domain.ledger import balances


@dataclass(frozen=True)
class CaseMix:
    start: date
    end: date
    discharges: int
    total_weight: Decimal
    # None when no stay with a DRG was discharged in the window.
    case_mix_index: Decimal | None


def case_mix(facts: Facts, start: date, end: date) -> CaseMix:
    known = facts.known_on(end)
    voided = {void.invoice_id for void in known.voids}
    latest: dict[str, IssuedInvoice] = {}
    for invoice in sorted(known.invoices, key=lambda i: (i.stamp.at, i.stamp.stream_version)):
        bill = invoice.hospital
        if invoice.invoice_id in voided or bill is None or bill.setting != "inpatient":
            continue
        if bill.frequency_code == "5" or bill.drg_weight_ten_thousandths is None:
            continue
        if start <= bill.discharged_on <= end:
            latest[invoice.encounter_id] = invoice
    weights = [i.hospital.drg_weight_ten_thousandths for i in latest.values() if i.hospital]
    total = sum(w for w in weights if w is not None)
    count = len(weights)
    index = None
    if count:
        index = (Decimal(total) / Decimal(10_000) / count).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return CaseMix(start, end, count, Decimal(total) / Decimal(10_000), index)


@dataclass(frozen=True)
class FacilityBalance:
    facility_id: str
    label: str
    insurance_cents: int
    self_pay_cents: int

    @property
    def total_cents(self) -> int:
        return self.insurance_cents + self.self_pay_cents


def ar_by_facility(facts: Facts, as_of: date) -> tuple[FacilityBalance, ...]:
    """What each facility's invoices still owe at the end of `as_of`; professional invoices under
    "unassigned", so the rows add up to the A/R aging's total."""
    insurance: dict[str, int] = defaultdict(int)
    self_pay: dict[str, int] = defaultdict(int)
    for balance in balances(facts, as_of):
        bill = balance.invoice.hospital
        key = bill.facility_id if bill else UNASSIGNED
        insurance[key] += balance.insurance_cents
        self_pay[key] += balance.self_pay_cents
    rows = [
        FacilityBalance(key, facts.provider_label(key), insurance[key], self_pay[key])
        for key in insurance
        if insurance[key] or self_pay[key]
    ]
    return tuple(sorted(rows, key=lambda row: (row.label.lower(), row.facility_id)))
