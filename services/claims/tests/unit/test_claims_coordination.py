"""Coordination of benefits: after a payer's answer, the next payer is billed on a claim of its own,
unless nothing is left or the payer crossed the claim over. Amounts computed by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from billing_events.contracts.claims import (
    AdjudicatedLine,
    CasAdjustment,
    ClaimAdjudicated,
    ClaimCreated,
    ClaimLine,
    ClaimReady,
)
from claims.domain.claim import Adjudicate, CreateClaim, RecordCrossover, claim_decider
from claims.domain.coordination import (
    CoverageInForce,
    balance_left,
    crossed_over,
    next_coverage,
    prior_adjudication,
    successor_claim_id,
    successor_content,
)
from claims.domain.identifiers import claim_id_for, patient_control_number_for
from claims.domain.model import (
    ClaimContent,
    CoverageFacts,
    PatientFacts,
    PayerFacts,
    ProviderFacts,
    ScrubContext,
)

TENANT = "tenant-a"
PRIMARY_ID = claim_id_for(TENANT, "invoice-1")
NUMBER = patient_control_number_for(PRIMARY_ID)
PAID_ON = date(2026, 3, 20)
PRIMARY = ClaimContent(
    claim_id=PRIMARY_ID,
    patient_control_number=NUMBER,
    invoice_id="invoice-1",
    encounter_id="encounter-1",
    patient_id="patient-1",
    coverage_id="coverage-acme",
    payer_id="payer-acme",
    billing_provider_id="billing-1",
    rendering_provider_id="rendering-1",
    place_of_service="11",
    service_date=date(2026, 3, 2),
    diagnoses=("E11.9",),
    lines=(
        ClaimLine(
            line_number=1,
            line_control_number=f"{NUMBER}-1",
            code="99213",
            units=1,
            charge_cents=20000,
            diagnosis_pointers=(1,),
        ),
    ),
    total_charge_cents=20000,
)
COVERAGES = (
    CoverageInForce("coverage-acme", "payer-acme", "primary"),
    CoverageInForce("coverage-globex", "payer-globex", "secondary"),
    CoverageInForce("coverage-state", "payer-state", "tertiary"),
)
SECONDARY_CONTEXT = ScrubContext(
    billing_provider=ProviderFacts("1234567893", "207Q00000X", "041234567", "021101234"),
    rendering_provider=ProviderFacts("1245319599", "207R00000X", None, None),
    payer=PayerFacts("GLBX2", "BL"),
    coverage=CoverageFacts("payer-globex", "patient-1", True, "self", False, date(2025, 1, 1), None),
    patient=PatientFacts(True, True, True),
)


def line(paid: int, *adjustments: tuple[str, str, int], remarks: tuple[str, ...] = ()) -> AdjudicatedLine:
    return AdjudicatedLine(
        line_number=1,
        line_control_number=f"{NUMBER}-1",
        code="99213",
        charge_cents=20000,
        paid_cents=paid,
        adjustments=tuple(CasAdjustment(group=g, reason_code=r, amount_cents=a) for g, r, a in adjustments),
        remark_codes=remarks,
    )


def answer(
    paid: int,
    patient: int,
    *adjustments: tuple[str, str, int],
    status: str = "1",
    outcome: str = "paid",
    remarks: tuple[str, ...] = (),
    following: CoverageInForce | None = COVERAGES[1],
) -> Adjudicate:
    return Adjudicate(
        remittance_id="remittance-1",
        payer_claim_control_number="ACME-0001",
        claim_status_code=status,
        outcome=outcome,
        total_charge_cents=20000,
        paid_cents=paid,
        patient_responsibility_cents=patient,
        claim_adjustments=(),
        lines=(line(paid, *adjustments),),
        remark_codes=remarks,
        adjudicated_on=PAID_ON,
        next_coverage=following,
    )


def adjudicated(content: ClaimContent, command: Adjudicate) -> ClaimAdjudicated:
    state = claim_decider.fold([content.created_event(), ClaimReady(claim_id=content.claim_id)])
    [event] = claim_decider.decide(command, state)
    assert isinstance(event, ClaimAdjudicated)
    return event


# 200.00 charged; Acme allows 150.00 (CO-45 50.00), pays 120.00, leaves 30.00 coinsurance (PR-2).
ACME_PAYS_PART = answer(12000, 3000, ("CO", "45", 5000), ("PR", "2", 3000))


def test_a_balance_left_by_the_primary_names_the_secondary_payer_next() -> None:
    event = adjudicated(PRIMARY, ACME_PAYS_PART)
    assert (event.sequence, event.next_payer_id, event.crossover) == ("primary", "payer-globex", False)


def test_nothing_left_after_the_primary_bills_no_one_else() -> None:
    # 150.00 paid and 50.00 written off: 200.00 - 150.00 - 50.00 = 0.
    event = adjudicated(PRIMARY, answer(15000, 0, ("CO", "45", 5000)))
    assert event.next_payer_id is None


def test_without_a_secondary_coverage_the_primary_is_the_last_payer() -> None:
    event = adjudicated(PRIMARY, replace(ACME_PAYS_PART, next_coverage=None))
    assert event.next_payer_id is None and not event.crossover


def test_a_reversal_bills_no_one() -> None:
    event = adjudicated(PRIMARY, answer(-12000, -3000, status="22", outcome="reversed"))
    assert event.next_payer_id is None and not event.crossover


def test_a_crossover_by_status_or_remark_waits_for_the_next_payer() -> None:
    for status, remarks in (("19", ()), ("20", ()), ("21", ()), ("1", ("MA18",)), ("1", ("N89",))):
        event = adjudicated(PRIMARY, replace(ACME_PAYS_PART, claim_status_code=status, remark_codes=remarks))
        assert (event.next_payer_id, event.crossover) == ("payer-globex", True), status
    assert crossed_over("1", ("MA01",)) is False


def test_the_next_coverage_follows_the_sequence() -> None:
    assert next_coverage("primary", COVERAGES) == COVERAGES[1]
    assert next_coverage("secondary", COVERAGES) == COVERAGES[2]
    assert next_coverage("tertiary", COVERAGES) is None
    assert next_coverage("primary", COVERAGES[:1]) is None


def test_the_secondary_claim_bills_the_same_service_with_the_primarys_answer() -> None:
    event = adjudicated(PRIMARY, ACME_PAYS_PART)
    prior = prior_adjudication(
        PRIMARY,
        payer_claim_control_number=event.payer_claim_control_number,
        paid_cents=event.paid_cents,
        patient_responsibility_cents=event.patient_responsibility_cents,
        claim_adjustments=event.claim_adjustments,
        lines=event.lines,
        adjudicated_on=event.adjudicated_on,
    )
    secondary = successor_content(TENANT, PRIMARY, prior, COVERAGES[1])
    assert secondary.claim_id == successor_claim_id(TENANT, "invoice-1", "secondary") != PRIMARY_ID
    assert secondary.patient_control_number == patient_control_number_for(secondary.claim_id)
    assert (secondary.sequence, secondary.predecessor_claim_id) == ("secondary", PRIMARY_ID)
    assert (secondary.payer_id, secondary.coverage_id) == ("payer-globex", "coverage-globex")
    assert secondary.lines[0].line_control_number == f"{secondary.patient_control_number}-1"
    assert secondary.total_charge_cents == 20000 and secondary.invoice_id == "invoice-1"
    assert secondary.prior_adjudications == (prior,)
    assert balance_left(20000, secondary.prior_adjudications) == 3000

    events = claim_decider.decide(CreateClaim(secondary, SECONDARY_CONTEXT, PAID_ON), claim_decider.initial)
    assert [type(e) for e in events] == [ClaimCreated, ClaimReady]
    created = events[0]
    assert isinstance(created, ClaimCreated)
    assert ClaimContent.from_event(created) == secondary

    # Globex pays the 30.00 left; its CAS OA-23 reports Acme's 170.00 and is no write-off.
    globex = adjudicated(
        secondary,
        replace(
            answer(3000, 0, ("OA", "23", 17000)),
            next_coverage=COVERAGES[2],
        ),
    )
    assert (globex.sequence, globex.next_payer_id) == ("secondary", None)


def test_a_tertiary_claim_follows_a_secondary_that_leaves_a_balance() -> None:
    primary_answer = prior_adjudication(
        PRIMARY,
        payer_claim_control_number="ACME-0001",
        paid_cents=12000,
        patient_responsibility_cents=3000,
        claim_adjustments=(),
        lines=ACME_PAYS_PART.lines,
        adjudicated_on=PAID_ON,
    )
    secondary = successor_content(TENANT, PRIMARY, primary_answer, COVERAGES[1])
    # Globex pays 20.00 of the 30.00; 10.00 stays with the patient (PR-2) unless the state plan pays.
    globex = adjudicated(
        secondary,
        replace(answer(2000, 1000, ("OA", "23", 17000), ("PR", "2", 1000)), next_coverage=COVERAGES[2]),
    )
    assert globex.next_payer_id == "payer-state"
    tertiary = successor_content(
        TENANT,
        secondary,
        prior_adjudication(
            secondary,
            payer_claim_control_number="GLBX-1",
            paid_cents=2000,
            patient_responsibility_cents=1000,
            claim_adjustments=(),
            lines=globex.lines,
            adjudicated_on=PAID_ON,
        ),
        COVERAGES[2],
    )
    assert tertiary.claim_id == successor_claim_id(TENANT, "invoice-1", "tertiary")
    assert (tertiary.sequence, tertiary.predecessor_claim_id) == ("tertiary", secondary.claim_id)
    assert [a.sequence for a in tertiary.prior_adjudications] == ["primary", "secondary"]
    # 200.00 - (120.00 + 50.00) - (20.00) = 10.00 left for the state plan.
    assert balance_left(20000, tertiary.prior_adjudications) == 1000


def test_a_crossover_claim_is_recorded_never_queued_for_submission() -> None:
    event = adjudicated(PRIMARY, replace(ACME_PAYS_PART, claim_status_code="19"))
    prior = prior_adjudication(
        PRIMARY,
        payer_claim_control_number=event.payer_claim_control_number,
        paid_cents=event.paid_cents,
        patient_responsibility_cents=event.patient_responsibility_cents,
        claim_adjustments=event.claim_adjustments,
        lines=event.lines,
        adjudicated_on=event.adjudicated_on,
    )
    forwarded = successor_content(TENANT, PRIMARY, prior, COVERAGES[1])
    events = claim_decider.decide(RecordCrossover(forwarded), claim_decider.initial)
    assert [type(e) for e in events] == [ClaimCreated]
    state = claim_decider.fold(events)
    assert state.content is not None and state.content.crossover
    assert (state.status, state.awaiting_submission) == ("created", False)
    assert claim_decider.decide(RecordCrossover(forwarded), state) == []
