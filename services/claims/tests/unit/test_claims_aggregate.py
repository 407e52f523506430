"""The Claim aggregate: given its events, when a command, then new events (or a named refusal)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from billing_events.contracts.base import Event
from billing_events.contracts.claims import (
    ClaimAcknowledged,
    ClaimAdjudicated,
    ClaimClosed,
    ClaimCreated,
    ClaimLine,
    ClaimReady,
    ClaimRejected,
    ClaimResubmitted,
    ClaimScrubFailed,
    ClaimSubmitted,
    ClaimVoided,
    Finding,
    RejectionReason,
)
from claims.domain.claim import (
    Adjudicate,
    ClaimState,
    Close,
    Command,
    CreateClaim,
    FailScrub,
    Rescrub,
    Resubmit,
    Submit,
    Void,
    claim_decider,
)
from claims.domain.errors import InvalidTransition, ScrubFailed
from claims.domain.model import (
    ClaimContent,
    CoverageFacts,
    PatientFacts,
    PayerFacts,
    ProviderFacts,
    ScrubContext,
)

TODAY = date(2026, 3, 10)
CONTENT = ClaimContent(
    claim_id="claim-1",
    patient_control_number="0A1B2C3D4E5F6G7H",
    invoice_id="invoice-1",
    encounter_id="encounter-1",
    patient_id="patient-1",
    coverage_id="coverage-1",
    payer_id="payer-1",
    billing_provider_id="billing-1",
    rendering_provider_id="rendering-1",
    place_of_service="11",
    service_date=date(2026, 3, 2),
    diagnoses=("E11.9",),
    lines=(
        ClaimLine(
            line_number=1,
            line_control_number="0A1B2C3D4E5F6G7H-1",
            code="99213",
            units=1,
            charge_cents=12500,
            diagnosis_pointers=(1,),
        ),
    ),
    total_charge_cents=12500,
)
GOOD = ScrubContext(
    billing_provider=ProviderFacts("1234567893", "207Q00000X", "041234567", "021101234"),
    rendering_provider=ProviderFacts("1245319599", "207R00000X", None, None),
    payer=PayerFacts("ACME1", "CI"),
    coverage=CoverageFacts("payer-1", "patient-1", True, "self", False, date(2025, 1, 1), None),
    patient=PatientFacts(True, True, True),
)
NO_COVERAGE = replace(GOOD, coverage=None)
SUBMIT = Submit("batch-1", "000000007", "7", "0007", "837P-000000007-batch-1.x12")


def given(*events: Event) -> ClaimState:
    return claim_decider.fold(events)


def when(state: ClaimState, command: Command) -> list[Event]:
    return list(claim_decider.decide(command, state))


CREATED = CONTENT.created_event()
READY = ClaimReady(claim_id="claim-1")
SUBMITTED = ClaimSubmitted(
    claim_id="claim-1",
    batch_id="batch-1",
    frequency_code="1",
    interchange_control_number="000000007",
    group_control_number="7",
    transaction_set_control_number="0007",
    file_name="837P-000000007-batch-1.x12",
)
ACCEPTED = ClaimAcknowledged(
    claim_id="claim-1",
    acknowledgement="277CA",
    control_number="000000031",
    payer_claim_control_number="ICN-9",
)


def adjudicated(outcome: str, paid: int, patient: int = 0) -> ClaimAdjudicated:
    return ClaimAdjudicated(
        claim_id="claim-1",
        invoice_id="invoice-1",
        remittance_id="remittance-1",
        payer_id="payer-1",
        payer_claim_control_number="ICN-9",
        claim_status_code="22" if outcome == "reversed" else "1",
        outcome=outcome,
        total_charge_cents=12500,
        paid_cents=paid,
        patient_responsibility_cents=patient,
        lines=(),
        adjudicated_on=date(2026, 3, 20),
    )


def test_a_clean_claim_is_created_ready() -> None:
    events = when(given(), CreateClaim(CONTENT, GOOD, TODAY))
    assert events == [CREATED, READY]
    state = claim_decider.fold(events)
    assert (state.status, state.pending_frequency, state.awaiting_submission) == ("ready", "1", True)


def test_a_claim_failing_an_edit_waits_with_its_findings() -> None:
    events = when(given(), CreateClaim(CONTENT, NO_COVERAGE, TODAY))
    assert events[0] == CREATED
    assert isinstance(events[1], ClaimScrubFailed)
    assert [f.edit_id for f in events[1].failures] == ["SCRUB-SUBSCRIBER"]
    assert claim_decider.fold(events).awaiting_submission is False


def test_the_same_invoice_twice_creates_nothing() -> None:
    assert when(given(CREATED, READY), CreateClaim(CONTENT, GOOD, TODAY)) == []


def test_a_fix_upstream_makes_a_waiting_claim_ready() -> None:
    waiting = given(*when(given(), CreateClaim(CONTENT, NO_COVERAGE, TODAY)))
    assert when(waiting, Rescrub(NO_COVERAGE, TODAY)) == []  # same reasons: nothing new to record
    assert when(waiting, Rescrub(GOOD, TODAY)) == [READY]
    other = replace(GOOD, duplicate_of="claim-0")
    changed = when(waiting, Rescrub(other, TODAY))
    assert isinstance(changed[0], ClaimScrubFailed)
    assert [f.edit_id for f in changed[0].failures] == ["SCRUB-DUPLICATE"]


def test_rescrub_leaves_ready_and_sent_claims_alone() -> None:
    assert when(given(CREATED, READY), Rescrub(NO_COVERAGE, TODAY)) == []
    assert when(given(CREATED, READY, SUBMITTED), Rescrub(NO_COVERAGE, TODAY)) == []


def test_a_ready_claim_is_submitted_as_an_original() -> None:
    events = when(given(CREATED, READY), SUBMIT)
    assert events == [
        ClaimSubmitted(
            claim_id="claim-1",
            batch_id="batch-1",
            frequency_code="1",
            interchange_control_number="000000007",
            group_control_number="7",
            transaction_set_control_number="0007",
            file_name="837P-000000007-batch-1.x12",
        )
    ]
    state = given(CREATED, READY, *events)
    assert (state.status, state.pending_frequency) == ("submitted", None)


def test_a_waiting_claim_cannot_be_submitted() -> None:
    with pytest.raises(InvalidTransition):
        when(given(*when(given(), CreateClaim(CONTENT, NO_COVERAGE, TODAY))), SUBMIT)


def test_findings_from_the_decrypted_data_hold_a_ready_claim_back() -> None:
    finding = Finding(edit_id="SCRUB-PATIENT", field="patient.address.state", message="x")
    events = when(given(CREATED, READY), FailScrub((finding,)))
    assert events == [ClaimScrubFailed(claim_id="claim-1", failures=(finding,))]
    assert when(given(CREATED, READY, SUBMITTED), FailScrub((finding,))) == []


def test_a_voided_invoice_voids_an_unsent_claim_without_a_file() -> None:
    events = when(given(CREATED, READY), Void("recoded"))
    assert events == [ClaimVoided(claim_id="claim-1", invoice_id="invoice-1", reason="recoded")]
    assert given(CREATED, READY, *events).status == "voided"
    assert given(CREATED, READY, *events).awaiting_submission is False


def test_a_sent_claim_is_voided_with_frequency_8_citing_the_payers_number() -> None:
    events = when(given(CREATED, READY, SUBMITTED, ACCEPTED), Void("recoded"))
    assert events == [
        ClaimResubmitted(
            claim_id="claim-1", frequency_code="8", reason="recoded", payer_claim_control_number="ICN-9"
        )
    ]
    state = given(CREATED, READY, SUBMITTED, ACCEPTED, *events)
    assert (state.status, state.pending_frequency) == ("voided", "8")
    sent = when(state, SUBMIT)
    assert isinstance(sent[0], ClaimSubmitted) and sent[0].frequency_code == "8"
    assert given(CREATED, READY, SUBMITTED, ACCEPTED, *events, *sent).status == "voided"


def test_without_the_payers_number_a_void_cites_our_patient_control_number() -> None:
    events = when(given(CREATED, READY, SUBMITTED), Void("recoded"))
    assert isinstance(events[0], ClaimResubmitted)
    assert events[0].payer_claim_control_number == "0A1B2C3D4E5F6G7H"


def test_a_denied_claim_is_resubmitted_as_a_replacement() -> None:
    denied = given(CREATED, READY, SUBMITTED, ACCEPTED, adjudicated("denied", 0))
    assert denied.status == "denied"
    events = when(denied, Resubmit("modifier 25 added", ("line 1: modifier 25",), GOOD, TODAY))
    assert events == [
        ClaimResubmitted(
            claim_id="claim-1",
            frequency_code="7",
            reason="modifier 25 added",
            payer_claim_control_number="ICN-9",
            corrections=("line 1: modifier 25",),
        )
    ]
    state = claim_decider.fold(events, denied)
    assert (state.status, state.pending_frequency, state.awaiting_submission) == ("resubmitted", "7", True)


def test_a_rejected_claim_goes_again_as_an_original() -> None:
    rejected = given(
        CREATED,
        READY,
        SUBMITTED,
        ClaimRejected(
            claim_id="claim-1",
            acknowledgement="277CA",
            control_number="000000031",
            reasons=(RejectionReason(code="A7:562", description="Entity's NPI"),),
        ),
    )
    assert rejected.status == "rejected"
    events = when(rejected, Resubmit("NPI corrected", (), GOOD, TODAY))
    assert events == [ClaimReady(claim_id="claim-1", reason="NPI corrected")]
    assert claim_decider.fold(events, rejected).pending_frequency == "1"


def test_a_resubmission_that_fails_the_edits_is_refused() -> None:
    denied = given(CREATED, READY, SUBMITTED, ACCEPTED, adjudicated("denied", 0))
    with pytest.raises(ScrubFailed) as refused:
        when(denied, Resubmit("again", (), NO_COVERAGE, TODAY))
    assert [f.edit_id for f in refused.value.findings] == ["SCRUB-SUBSCRIBER"]


def test_a_claim_that_has_not_been_answered_cannot_be_replaced() -> None:
    with pytest.raises(InvalidTransition):
        when(given(CREATED, READY), Resubmit("why", (), GOOD, TODAY))


def test_the_277ca_accepts_the_claim_and_the_999_only_the_file() -> None:
    file_ack = ClaimAcknowledged(claim_id="claim-1", acknowledgement="999", control_number="000000030")
    assert given(CREATED, READY, SUBMITTED, file_ack).status == "submitted"
    accepted = given(CREATED, READY, SUBMITTED, file_ack, ACCEPTED)
    assert (accepted.status, accepted.payer_claim_control_number) == ("accepted", "ICN-9")


def test_a_reversal_undoes_the_payment_and_the_claim_waits_again() -> None:
    paid = given(CREATED, READY, SUBMITTED, ACCEPTED, adjudicated("paid", 10000, 2500))
    assert (paid.status, paid.paid_cents, paid.patient_responsibility_cents) == ("paid", 10000, 2500)
    reversed_ = claim_decider.fold([adjudicated("reversed", -10000, -2500)], paid)
    assert (reversed_.status, reversed_.paid_cents, reversed_.patient_responsibility_cents) == (
        "accepted",
        0,
        0,
    )


def test_adjudication_records_the_payers_answer() -> None:
    state = given(CREATED, READY, SUBMITTED, ACCEPTED)
    events = when(
        state,
        Adjudicate(
            "remittance-1", "ICN-9", "1", "partially_paid", 12500, 6000, 1000, (), (), (), date(2026, 3, 20)
        ),
    )
    assert isinstance(events[0], ClaimAdjudicated)
    assert (events[0].invoice_id, events[0].payer_id, events[0].paid_cents) == ("invoice-1", "payer-1", 6000)
    assert claim_decider.fold(events, state).status == "partially_paid"


def test_only_an_adjudicated_claim_is_closed() -> None:
    assert when(given(CREATED, READY, SUBMITTED), Close("invoice settled")) == []
    paid = given(CREATED, READY, SUBMITTED, adjudicated("paid", 12500))
    assert when(paid, Close("invoice settled")) == [ClaimClosed(claim_id="claim-1", reason="invoice settled")]


def test_a_claim_created_from_its_event_keeps_what_it_bills() -> None:
    state = given(CREATED)
    assert state.content == CONTENT
    assert isinstance(CREATED, ClaimCreated) and CREATED.place_of_service == "11"
