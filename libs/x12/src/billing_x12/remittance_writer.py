"""Writing 835 transaction sets from the same model the reader produces, so that what is written
reads back equal (positions aside)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from billing_x12.amounts import format_cents, format_decimal
from billing_x12.common import entity_segments, nm1_segment
from billing_x12.remittance import IMPLEMENTATION, TRANSACTION_SET_ID, Adjustment, ClaimPayment, Remittance
from billing_x12.writer import SegmentOut, TransactionSetOut, render_single_group, seg

_MAX_TRIPLETS = 6


def _date(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def cas_segments(adjustments: Iterable[Adjustment]) -> list[SegmentOut]:
    """CAS segments: one per group, in first-seen order, a new segment after every six reasons."""
    by_group: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        by_group.setdefault(adjustment.group, []).append(adjustment)
    out: list[SegmentOut] = []
    for group, items in by_group.items():
        for start in range(0, len(items), _MAX_TRIPLETS):
            values: list[str | None] = [group]
            for item in items[start : start + _MAX_TRIPLETS]:
                quantity = None if item.quantity is None else format_decimal(item.quantity)
                values.extend([item.reason_code, format_cents(item.amount_cents), quantity])
            out.append(seg("CAS", *values))
    return out


def _claim_segments(claim: ClaimPayment) -> list[SegmentOut]:
    out = [
        seg(
            "CLP",
            claim.patient_control_number,
            claim.status_code,
            format_cents(claim.charge_cents),
            format_cents(claim.paid_cents),
            format_cents(claim.patient_responsibility_cents) if claim.patient_responsibility_cents else None,
            claim.claim_filing_indicator,
            claim.payer_claim_control_number,
            claim.facility_code,
            claim.frequency_code,
        )
    ]
    out.extend(cas_segments(claim.adjustments))
    out.extend(nm1_segment(party) for party in claim.parties)
    inpatient = claim.inpatient
    if inpatient is not None:
        out.append(
            seg(
                "MIA",
                str(inpatient.covered_days),
                None,
                None,
                None if inpatient.drg_amount_cents is None else format_cents(inpatient.drg_amount_cents),
                inpatient.remark_code,
            )
        )
    outpatient = claim.outpatient
    if outpatient is not None or claim.remark_codes:
        rate = outpatient.reimbursement_rate if outpatient else None
        payable = outpatient.hcpcs_payable_cents if outpatient else None
        out.append(
            seg(
                "MOA",
                None if rate is None else format_decimal(rate),
                None if payable is None else format_cents(payable),
                *claim.remark_codes[:5],
            )
        )
    out.extend(seg("REF", ref.qualifier, ref.value) for ref in claim.references)
    for qualifier, value in (
        ("232", claim.statement_from),
        ("233", claim.statement_to),
        ("050", claim.received_date),
    ):
        if value is not None:
            out.append(seg("DTM", qualifier, _date(value)))
    out.extend(seg("AMT", amount.qualifier, format_cents(amount.amount_cents)) for amount in claim.amounts)
    for line in claim.service_lines:
        out.append(
            seg(
                "SVC",
                (line.procedure_qualifier, line.code, *line.modifiers),
                format_cents(line.charge_cents),
                format_cents(line.paid_cents),
                line.revenue_code,
                None if line.units is None else format_decimal(line.units),
                line.submitted_procedure or None,
                None if line.submitted_units is None else format_decimal(line.submitted_units),
            )
        )
        for qualifier, value in (
            ("472", line.service_date),
            ("150", line.service_period_start),
            ("151", line.service_period_end),
        ):
            if value is not None:
                out.append(seg("DTM", qualifier, _date(value)))
        out.extend(cas_segments(line.adjustments))
        if line.line_control_number:
            out.append(seg("REF", "6R", line.line_control_number))
        out.extend(seg("REF", ref.qualifier, ref.value) for ref in line.references)
        out.extend(seg("AMT", amount.qualifier, format_cents(amount.amount_cents)) for amount in line.amounts)
        out.extend(seg("LQ", "HE", code) for code in line.remark_codes)
    return out


def remittance_body(remittance: Remittance) -> list[SegmentOut]:
    """The segments between ST and SE."""
    payment = remittance.payment
    banking: Sequence[str] = payment.banking
    out = [
        seg(
            "BPR",
            payment.handling_code,
            format_cents(payment.amount_cents),
            payment.credit_debit,
            payment.method,
            payment.format_code,
            *banking,
            *([None] * (10 - len(banking))),
            _date(payment.payment_date),
        ),
        seg(
            "TRN",
            remittance.trace_type,
            remittance.trace_number,
            remittance.originating_company_id,
            remittance.originating_company_supplemental,
        ),
    ]
    if remittance.receiver_id:
        out.append(seg("REF", "EV", remittance.receiver_id))
    if remittance.production_date is not None:
        out.append(seg("DTM", "405", _date(remittance.production_date)))
    out.extend(entity_segments(remittance.payer))
    out.extend(entity_segments(remittance.payee))
    header: int | None = None
    for claim in remittance.claims:
        if claim.header_number is not None and claim.header_number != header:
            header = claim.header_number
            out.append(seg("LX", str(header)))
        out.extend(_claim_segments(claim))
    for plb in remittance.provider_adjustments:
        items = list(plb.items)
        for start in range(0, len(items), _MAX_TRIPLETS):
            values: list[str | tuple[str, ...]] = [plb.provider_identifier, _date(plb.fiscal_period_end)]
            for item in items[start : start + _MAX_TRIPLETS]:
                reason = (item.reason_code, item.reference) if item.reference else (item.reason_code,)
                values.extend([reason, format_cents(item.amount_cents)])
            out.append(seg("PLB", *values))
    return out


def remittance_transaction_set(remittance: Remittance) -> TransactionSetOut:
    """ST02 is the remittance's `envelope.transaction_set_control_number`. ST03 stays empty: the
    835 guide marks it not used (GS08 carries the version)."""
    return TransactionSetOut(
        TRANSACTION_SET_ID,
        remittance.envelope.transaction_set_control_number,
        remittance_body(remittance),
    )


def write_835(
    remittances: Sequence[Remittance],
    *,
    sender_id: str,
    receiver_id: str,
    interchange_control_number: int,
    group_control_number: int,
    created: dt.datetime,
    usage_indicator: str = "P",
) -> str:
    """A file with one interchange and one HP group holding the remittances' transaction sets."""
    return render_single_group(
        functional_id="HP",
        version=IMPLEMENTATION,
        transaction_sets=[remittance_transaction_set(r) for r in remittances],
        sender_id=sender_id,
        receiver_id=receiver_id,
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        created=created,
        usage_indicator=usage_indicator,
    )
