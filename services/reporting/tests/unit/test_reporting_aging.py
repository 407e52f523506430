"""A/R aging from facts: buckets by days since service, the payer/patient split, and "as of" meaning
what had been recorded by the end of that day."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest

from reporting.domain.aging import ar_aging, bucket_index
from reporting.domain.facts import (
    SELF_PAY,
    Adjudication,
    Facts,
    InsurancePosting,
    IssuedInvoice,
    PatientPayment,
    Stamp,
    VoidedInvoice,
)

_ids = itertools.count()
ACME = "payer-acme"


def stamp(day: date) -> Stamp:
    return Stamp(datetime.combine(day, time(12), UTC), 0, f"event-{next(_ids)}", day)


def invoice(
    invoice_id: str, service: date, recorded: date, charge: int, payer: str | None = ACME
) -> IssuedInvoice:
    return IssuedInvoice(
        invoice_id=invoice_id,
        encounter_id=f"enc-{invoice_id}",
        coding_version=1,
        service_date=service,
        responsibility="insurance" if payer else "self_pay",
        payer_id=payer,
        billing_provider_id="clinic",
        rendering_provider_id="dr-a",
        total_charge_cents=charge,
        lines=(),
        stamp=stamp(recorded),
    )


def posting(
    invoice_id: str,
    recorded: date,
    paid: int,
    contractual: int = 0,
    patient: int = 0,
    *,
    posted_on: date | None = None,
) -> InsurancePosting:
    return InsurancePosting(
        invoice_id=invoice_id,
        claim_id=f"claim-{invoice_id}",
        payer_id=ACME,
        reversal=paid < 0,
        denied=False,
        paid_cents=paid,
        contractual_adjustment_cents=contractual,
        other_adjustment_cents=0,
        patient_responsibility_cents=patient,
        posted_on=posted_on or recorded,
        lines=(),
        stamp=stamp(recorded),
    )


def payment(invoice_id: str, recorded: date, applied: int) -> PatientPayment:
    return PatientPayment(f"pay-{next(_ids)}", invoice_id, applied, applied, recorded, stamp(recorded))


def rows(facts: Facts, as_of: date) -> dict[str, tuple[int, ...]]:
    return {row.key: row.buckets_cents for row in ar_aging(facts, as_of).rows}


@pytest.mark.parametrize(
    ("age", "bucket"),
    [(0, 0), (30, 0), (31, 1), (60, 1), (61, 2), (90, 2), (91, 3), (120, 3), (121, 4), (4000, 4), (-3, 0)],
)
def test_bucket_boundaries_are_inclusive_day_counts(age: int, bucket: int) -> None:
    assert bucket_index(age) == bucket


def test_adjudication_moves_the_patient_share_to_self_pay_aged_from_the_service_date() -> None:
    facts = Facts(
        invoices=(invoice("i1", date(2025, 1, 10), date(2025, 1, 11), 18000),),
        insurance_postings=(posting("i1", date(2025, 2, 5), paid=12000, contractual=4000, patient=2000),),
        payer_names={ACME: "Acme Health"},
    )

    # Jan 31 is 21 days after service: all with the payer, first bucket.
    january = ar_aging(facts, date(2025, 1, 31))
    assert [(r.label, r.buckets_cents) for r in january.rows] == [("Acme Health", (18000, 0, 0, 0, 0))]
    # Feb 28 is 49 days after service; 18000 - 12000 paid - 4000 contractual = 2000, all the patient's.
    february = ar_aging(facts, date(2025, 2, 28))
    assert [(r.label, r.buckets_cents) for r in february.rows] == [("Self-pay", (0, 2000, 0, 0, 0))]
    assert february.total_cents == 2000


def test_a_fact_counts_from_the_day_it_was_recorded_not_its_business_date() -> None:
    # Posted on Feb 1 by the payer's date, but the platform learned it on Mar 10.
    late = posting("i1", date(2025, 3, 10), paid=10000, posted_on=date(2025, 2, 1))
    facts = Facts(
        invoices=(invoice("i1", date(2025, 1, 10), date(2025, 1, 11), 10000),), insurance_postings=(late,)
    )

    assert rows(facts, date(2025, 2, 28)) == {ACME: (0, 10000, 0, 0, 0)}
    assert rows(facts, date(2025, 3, 10)) == {}
    # Nothing was known before the invoice was issued.
    assert ar_aging(facts, date(2025, 1, 10)).rows == ()


def test_a_reversal_puts_the_whole_balance_back_with_the_payer() -> None:
    facts = Facts(
        invoices=(invoice("i1", date(2025, 1, 10), date(2025, 1, 11), 18000),),
        insurance_postings=(
            posting("i1", date(2025, 2, 5), paid=12000, contractual=4000, patient=2000),
            posting("i1", date(2025, 3, 3), paid=-12000, contractual=-4000, patient=-2000),
        ),
    )
    # Mar 4 is 53 days after service: 18000 - 12000 + 12000 - 4000 + 4000 = 18000, the payer's again.
    assert rows(facts, date(2025, 3, 4)) == {ACME: (0, 18000, 0, 0, 0)}


def test_a_void_closes_the_invoice_and_the_recoded_one_takes_its_place() -> None:
    facts = Facts(
        invoices=(
            invoice("old", date(2025, 1, 20), date(2025, 1, 21), 22000),
            invoice("new", date(2025, 1, 20), date(2025, 1, 27), 15000),
        ),
        voids=(VoidedInvoice("old", stamp(date(2025, 1, 27))),),
    )
    assert rows(facts, date(2025, 1, 26)) == {ACME: (22000, 0, 0, 0, 0)}
    assert rows(facts, date(2025, 1, 27)) == {ACME: (15000, 0, 0, 0, 0)}


def test_money_posted_before_a_void_stays_as_a_credit_of_the_payer() -> None:
    facts = Facts(
        invoices=(invoice("i1", date(2025, 1, 10), date(2025, 1, 11), 18000),),
        insurance_postings=(posting("i1", date(2025, 2, 5), paid=12000, contractual=4000, patient=2000),),
        voids=(VoidedInvoice("i1", stamp(date(2025, 2, 6))),),
    )
    # 18000 - 18000 voided - 12000 - 4000 = -16000 (27 days after service): the payer's money is no
    # longer backed by a charge, and a voided invoice asks nothing of the patient.
    assert rows(facts, date(2025, 2, 6)) == {ACME: (-16000, 0, 0, 0, 0)}


def test_a_copay_paid_before_adjudication_lowers_what_the_payer_owes() -> None:
    facts = Facts(
        invoices=(invoice("i1", date(2025, 1, 10), date(2025, 1, 10), 18000),),
        patient_payments=(payment("i1", date(2025, 1, 10), 2000),),
    )
    # No patient share posted yet: the 2000 paid comes off the 18000 the payer is expected to cover.
    assert rows(facts, date(2025, 1, 10)) == {ACME: (16000, 0, 0, 0, 0)}


def test_self_pay_invoices_age_under_self_pay_and_rows_end_with_it() -> None:
    facts = Facts(
        invoices=(
            invoice("i1", date(2025, 3, 5), date(2025, 3, 5), 20000, payer=None),
            invoice("i2", date(2025, 4, 1), date(2025, 4, 2), 22000, payer="payer-blue"),
            invoice("i3", date(2025, 4, 1), date(2025, 4, 2), 5000, payer=ACME),
        ),
        patient_payments=(payment("i1", date(2025, 4, 10), 5000),),
        payer_names={"payer-blue": "Blue Plains", ACME: "Acme Health"},
    )
    report = ar_aging(facts, date(2025, 6, 30))
    # i1: 20000 - 5000 = 15000, 117 days; i2 and i3: 90 days.
    assert [(r.key, r.buckets_cents) for r in report.rows] == [
        (ACME, (0, 0, 5000, 0, 0)),
        ("payer-blue", (0, 0, 22000, 0, 0)),
        (SELF_PAY, (0, 0, 0, 15000, 0)),
    ]
    assert report.totals.buckets_cents == (0, 0, 27000, 15000, 0)
    assert report.total_cents == 42000  # 5000 + 22000 + 15000


def test_with_a_secondary_payer_the_patient_owes_only_what_neither_payer_paid() -> None:
    # 170.00: Acme pays 110.00, writes off 35.00, and names a secondary payer for the 25.00 it left.
    primary = replace(
        posting("i1", date(2025, 2, 5), paid=11000, contractual=3500, patient=2500), awaiting_next_payer=True
    )
    # Globex pays 20.00 and leaves 5.00 to the patient (its OA-23 adjusts nothing on the ledger).
    secondary = replace(
        posting("i1", date(2025, 2, 20), paid=2000, patient=500),
        payer_id="payer-globex",
        sequence="secondary",
    )
    invoices = (invoice("i1", date(2025, 1, 10), date(2025, 1, 11), 17000),)
    waiting = Facts(invoices=invoices, insurance_postings=(primary,))
    answered = Facts(invoices=invoices, insurance_postings=(primary, secondary))

    # Feb 10: the 25.00 is still expected from an insurer, none of it from the patient.
    assert rows(waiting, date(2025, 2, 10)) == {ACME: (0, 2500, 0, 0, 0)}
    # Feb 28: 170.00 - 110.00 - 35.00 - 20.00 = 5.00, the patient's alone.
    assert rows(answered, date(2025, 2, 28)) == {SELF_PAY: (0, 500, 0, 0, 0)}


def adjudication(posting: InsurancePosting, next_payer: str | None, outcome: str = "paid") -> Adjudication:
    """The claims service's answer behind a posting: what the A/R needs of it is the next payer."""
    return Adjudication(
        claim_id=posting.claim_id,
        invoice_id=posting.invoice_id,
        payer_id=posting.payer_id,
        outcome=outcome,  # type: ignore[arg-type]
        total_charge_cents=17000,
        paid_cents=posting.paid_cents,
        patient_responsibility_cents=posting.patient_responsibility_cents,
        adjudicated_on=posting.posted_on,
        claim_adjustments=(),
        lines=(),
        stamp=posting.stamp,
        sequence=posting.sequence,
        next_payer_id=next_payer,
    )


def parties(facts: Facts, as_of: date) -> dict[str, int]:
    return {row.key: row.total_cents for row in ar_aging(facts, as_of).by_responsibility if row.total_cents}


def test_the_balance_moves_from_the_primary_to_the_secondary_to_the_patient_as_each_answers() -> None:
    globex = "payer-globex"
    invoices = (invoice("i1", date(2025, 1, 10), date(2025, 1, 11), 17000),)
    # 170.00 billed to Acme. Acme pays 110.00, writes off 35.00, names Globex for the 25.00 left.
    primary = replace(
        posting("i1", date(2025, 2, 5), paid=11000, contractual=3500, patient=2500), awaiting_next_payer=True
    )
    # Globex pays 20.00 and leaves 5.00 to the patient.
    secondary = replace(
        posting("i1", date(2025, 2, 20), paid=2000, patient=500),
        claim_id="claim-i1-secondary",
        payer_id=globex,
        sequence="secondary",
    )
    answers = (adjudication(primary, globex), adjudication(secondary, None))

    billed = Facts(invoices=invoices)
    # Jan 31 is 21 days after the service: 0-30.
    assert rows(billed, date(2025, 1, 31)) == {ACME: (17000, 0, 0, 0, 0)}
    assert parties(billed, date(2025, 1, 31)) == {"primary": 17000}

    waiting = Facts(invoices=invoices, insurance_postings=(primary,), adjudications=answers[:1])
    # Feb 10: 170.00 - 110.00 - 35.00 = 25.00, owed now by Globex as the secondary, not by Acme.
    assert rows(waiting, date(2025, 2, 10)) == {globex: (0, 2500, 0, 0, 0)}
    assert parties(waiting, date(2025, 2, 10)) == {"secondary": 2500}

    answered = Facts(invoices=invoices, insurance_postings=(primary, secondary), adjudications=answers)
    # Feb 28: 25.00 - 20.00 = 5.00, the patient's.
    assert rows(answered, date(2025, 2, 28)) == {SELF_PAY: (0, 500, 0, 0, 0)}
    assert parties(answered, date(2025, 2, 28)) == {"patient": 500}
    report = ar_aging(answered, date(2025, 2, 28))
    assert sum(row.total_cents for row in report.by_responsibility) == report.total_cents


def test_a_primary_reversal_hands_the_balance_back_to_the_primary() -> None:
    globex = "payer-globex"
    invoices = (invoice("i1", date(2025, 1, 10), date(2025, 1, 11), 17000),)
    primary = replace(
        posting("i1", date(2025, 2, 5), paid=11000, contractual=3500, patient=2500), awaiting_next_payer=True
    )
    reversal = posting("i1", date(2025, 2, 12), paid=-11000, contractual=-3500, patient=-2500)
    facts = Facts(
        invoices=invoices,
        insurance_postings=(primary, reversal),
        adjudications=(adjudication(primary, globex), adjudication(reversal, None, "reversed")),
    )
    # 170.00 - 110.00 - 35.00 + 110.00 + 35.00 = 170.00, Acme's again: its answer no longer stands.
    assert rows(facts, date(2025, 2, 12)) == {ACME: (0, 17000, 0, 0, 0)}
    assert parties(facts, date(2025, 2, 12)) == {"primary": 17000}
