"""Coordination of benefits: after a payer's answer, the next payer is billed on a claim of its own,
unless nothing is left or the payer crossed the claim over. Amounts computed by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from billing_events.contracts.base import Event
from billing_events.contracts.claims import (
    AdjudicatedLine,
    CasAdjustment,
    ClaimAdjudicated,
    ClaimCreated,
    ClaimLine,
    ClaimPriorPayersRevised,
    ClaimReady,
    ClaimResubmitted,
    ClaimSubmitted,
)
from claims.domain.claim import (
    Adjudicate,
    ClaimState,
    CreateClaim,
    RecordCrossover,
    ReviseForPriorPayer,
    Void,
    claim_decider,
)
from claims.domain.coordination import (
    CoverageInForce,
    balance_left,
    crossed_over,
    next_coverage,
    prior_adjudication,
    successor_claim_id,
    successor_content,
)
from claims.domain.corrections import later_claim_revision
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


# After the primary reverses or corrects its answer (CLP02 22 and a new CLP) ---------------------------


def primary_after(*commands: Adjudicate) -> ClaimState:
    """The primary claim, submitted and answered by each command in turn."""
    state = claim_decider.fold([PRIMARY.created_event(), ClaimReady(claim_id=PRIMARY_ID)])
    for command in commands:
        state = claim_decider.fold(claim_decider.decide(command, state), state)
    return state


def secondary_sent(primary: ClaimState, *, status: str = "submitted") -> ClaimState:
    assert primary.adjudication is not None
    event = primary.adjudication
    prior = prior_adjudication(
        PRIMARY,
        payer_claim_control_number=event.payer_claim_control_number,
        paid_cents=event.paid_cents,
        patient_responsibility_cents=event.patient_responsibility_cents,
        claim_adjustments=event.claim_adjustments,
        lines=event.lines,
        adjudicated_on=event.adjudicated_on,
    )
    content = successor_content(TENANT, PRIMARY, prior, COVERAGES[1])
    events: list[Event] = [content.created_event(), ClaimReady(claim_id=content.claim_id)]
    if status != "ready":
        events.append(
            ClaimSubmitted(
                claim_id=content.claim_id,
                batch_id="batch-2",
                frequency_code="1",
                interchange_control_number="000000002",
                group_control_number="2",
                transaction_set_control_number="0002",
                file_name="837P-000000002.x12",
            )
        )
    return claim_decider.fold(events)


REVERSAL = answer(-12000, -3000, ("CO", "45", -5000), ("PR", "2", -3000), status="22", outcome="reversed")
# Acme's corrected answer: it allows 180.00 (CO-45 20.00), pays 140.00, leaves 40.00 coinsurance.
# 200.00 - 140.00 - 20.00 = 40.00 left for Globex (it was 30.00).
CORRECTED = replace(
    answer(14000, 4000, ("CO", "45", 2000), ("PR", "2", 4000)), payer_claim_control_number="ACME-0002"
)


def test_a_correction_replaces_the_secondary_claim_with_the_primarys_answer_as_it_stands() -> None:
    secondary = secondary_sent(primary_after(ACME_PAYS_PART))
    primary = primary_after(ACME_PAYS_PART, REVERSAL, CORRECTED)

    command = later_claim_revision(primary, secondary)

    assert isinstance(command, ReviseForPriorPayer)
    events = claim_decider.decide(command, secondary)
    assert [type(e) for e in events] == [ClaimPriorPayersRevised, ClaimResubmitted]
    revised, replacement = events
    assert isinstance(revised, ClaimPriorPayersRevised) and isinstance(replacement, ClaimResubmitted)
    (standing,) = revised.prior_adjudications
    assert (standing.paid_cents, standing.patient_responsibility_cents) == (14000, 4000)
    assert standing.payer_claim_control_number == "ACME-0002"
    assert balance_left(20000, revised.prior_adjudications) == 4000
    # Frequency 7 with REF*F8: our CLM01 the payer holds it under (no payer number came back yet).
    assert replacement.frequency_code == "7"
    assert replacement.payer_claim_control_number == secondary.original_reference
    after = claim_decider.fold(events, secondary)
    assert (after.status, after.pending_frequency) == ("resubmitted", "7")
    assert after.content is not None and after.content.prior_adjudications == revised.prior_adjudications
    # Asked again (the same remittance replayed, a later match): nothing more.
    assert claim_decider.decide(command, after) == []


def test_a_secondary_claim_not_yet_sent_only_carries_the_corrected_answer() -> None:
    secondary = secondary_sent(primary_after(ACME_PAYS_PART), status="ready")
    command = later_claim_revision(primary_after(ACME_PAYS_PART, REVERSAL, CORRECTED), secondary)
    assert command is not None
    events = claim_decider.decide(command, secondary)
    assert [type(e) for e in events] == [ClaimPriorPayersRevised]
    after = claim_decider.fold(events, secondary)
    assert (after.status, after.pending_frequency) == ("ready", "1")


def test_a_correction_that_leaves_nothing_voids_the_secondary_claim_at_the_payer() -> None:
    secondary = secondary_sent(primary_after(ACME_PAYS_PART))
    # Corrected: 180.00 paid, 20.00 written off: 200.00 - 180.00 - 20.00 = 0 left for anyone.
    paid_in_full = answer(18000, 0, ("CO", "45", 2000))
    command = later_claim_revision(primary_after(ACME_PAYS_PART, REVERSAL, paid_in_full), secondary)
    assert isinstance(command, Void)
    [void] = claim_decider.decide(command, secondary)
    assert isinstance(void, ClaimResubmitted) and void.frequency_code == "8"
    assert void.payer_claim_control_number == secondary.original_reference


def test_a_reversal_alone_voids_the_secondary_and_a_later_correction_bills_it_again() -> None:
    secondary = secondary_sent(primary_after(ACME_PAYS_PART))
    reversed_only = primary_after(ACME_PAYS_PART, REVERSAL)
    command = later_claim_revision(reversed_only, secondary)
    assert isinstance(command, Void)
    voided = claim_decider.fold(claim_decider.decide(command, secondary), secondary)
    assert (voided.status, voided.pending_frequency) == ("voided", "8")
    assert later_claim_revision(reversed_only, voided) is None  # voided once

    # The correction arrives before the void left: the claim the payer holds is replaced instead.
    corrected = primary_after(ACME_PAYS_PART, REVERSAL, CORRECTED)
    again = later_claim_revision(corrected, voided)
    assert isinstance(again, ReviseForPriorPayer)
    events = claim_decider.decide(again, voided)
    assert [type(e) for e in events] == [ClaimPriorPayersRevised, ClaimResubmitted]
    assert claim_decider.fold(events, voided).pending_frequency == "7"


def test_a_crossover_record_is_left_to_the_payers() -> None:
    secondary = secondary_sent(primary_after(ACME_PAYS_PART))
    assert secondary.content is not None
    crossover = replace(secondary, content=replace(secondary.content, crossover=True))
    assert later_claim_revision(primary_after(ACME_PAYS_PART, REVERSAL, CORRECTED), crossover) is None
