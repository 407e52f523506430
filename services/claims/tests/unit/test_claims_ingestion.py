"""Claims' 835 ingestion on the in-memory unit of work: the payment posts to the submitted claim,
the same file twice or the same payment in another file changes nothing, an unknown claim is kept
as unmatched. No I/O: the log is billing_testing's fake and the tables are dictionaries."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, cast

import pytest

from billing_events.contracts.claims import (
    ClaimAdjudicated,
    ClaimLine,
    ClaimSubmitted,
    RemittanceClaimMatched,
    RemittanceReceived,
)
from billing_events.envelope import Metadata
from billing_events.unit_of_work import UnitOfWork
from billing_testing.fakes import InMemoryEventSession
from claims.application.ingestion import Ingestion
from claims.application.ports import ClaimRow, ClaimsViews, PayerRecord, Unit
from claims.application.posting import match_held_payment, post_paper_eob
from claims.domain.claim import ClaimState, claim_decider
from claims.domain.errors import (
    AlreadyMatched,
    ClaimNotFound,
    HeldPaymentNotFound,
    UnbalancedEob,
    UnknownPayer,
)
from claims.domain.identifiers import remittance_id_for
from claims.domain.inbound import (
    Adjustment,
    ClaimPaymentAdvice,
    InboundDocument,
    ProviderAdjustmentLine,
    RemittanceAdvice,
)
from claims.domain.model import ClaimContent
from claims.domain.paper_eob import EobLine, PaperEob
from claims.domain.remittance import remittance_decider

TENANT = "tenant-a"
META = Metadata(tenant=TENANT, actor="clearinghouse")
PCN = "0A1B2C3D4E5F6G7H"
CONTENT = ClaimContent(
    claim_id="claim-1",
    patient_control_number=PCN,
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
    lines=(),
    total_charge_cents=12500,
)


@dataclass
class Tables:
    """The four table sets of claims.application.ports.ClaimsViews, as far as ingestion uses them."""

    claims: dict[str, ClaimState] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)
    unmatched: list[str] = field(default_factory=list)
    holding: dict[str, list[str]] = field(default_factory=dict)  # CLP01 -> remittances holding it
    matched: list[tuple[str, str]] = field(default_factory=list)
    provider_ledger: list[tuple[str, str, int]] = field(default_factory=list)

    # batches
    async def tenant_of_submitter(self, submitter_id: str) -> str | None:
        return TENANT

    # inbound
    async def record_file(self, sha256: str, tenant: str, file_name: str, kind: str) -> bool:
        if sha256 in self.files:
            return False
        self.files.add(sha256)
        return True

    async def lock_remittance(self, remittance_id: str) -> None:
        return None

    async def record_unmatched(
        self, tenant: str, remittance_id: str, claim: ClaimPaymentAdvice, payer_name: str
    ) -> None:
        self.unmatched.append(claim.patient_control_number)
        self.holding.setdefault(claim.patient_control_number, []).append(remittance_id)

    async def record_matched(
        self, tenant: str, remittance_id: str, patient_control_number: str, claim_id: str
    ) -> None:
        self.unmatched.remove(patient_control_number)
        self.holding[patient_control_number].remove(remittance_id)
        self.matched.append((patient_control_number, claim_id))

    async def held_under(self, tenant: str, patient_control_number: str) -> list[str]:
        return list(self.holding.get(patient_control_number, []))

    async def record_provider_adjustments(self, tenant: str, received: RemittanceReceived) -> None:
        self.provider_ledger += [
            (received.remittance_id, item.reason_code, item.amount_cents)
            for item in received.provider_adjustments
        ]

    # reference
    async def payer_ids_for_edi(self, tenant: str, edi_payer_id: str) -> list[str]:
        return ["payer-1"] if edi_payer_id == "ACME1" else []

    async def payer(self, tenant: str, payer_id: str) -> PayerRecord | None:
        if payer_id != "payer-1":
            return None
        return PayerRecord("payer-1", "Acme Health", "ACME1", "CI", 365)

    async def coverages_in_force(self, tenant: str, patient_id: str, on: date) -> list[Any]:
        return []  # the patient has no other coverage: no next payer

    # claims
    async def by_patient_control_numbers(self, tenant: str | None, numbers: Any) -> dict[str, ClaimRow]:
        rows = {
            state.content.patient_control_number: ClaimRow(
                claim_id, TENANT, state.status, "patient-1", "payer-1", None, PCN
            )
            for claim_id, state in self.claims.items()
            if state.content is not None
        }
        return {number: rows[number] for number in numbers if number in rows}

    async def lock(self, claim_id: str) -> ClaimRow | None:
        state = self.claims.get(claim_id)
        if state is None or state.content is None:
            return None
        return ClaimRow(claim_id, TENANT, state.status, "patient-1", "payer-1", None, PCN)

    async def lock_many(self, claim_ids: Any) -> list[str]:
        return [claim_id for claim_id in claim_ids if claim_id in self.claims]

    async def save(self, tenant: str, state: ClaimState, version: int, at: datetime) -> None:
        self.claims[state.content.claim_id if state.content else ""] = state


async def submitted_claim(content: ClaimContent = CONTENT) -> tuple[Unit, InMemoryEventSession, Tables]:
    log = InMemoryEventSession("claims")
    tables = Tables()
    submitted = ClaimSubmitted(
        claim_id="claim-1",
        batch_id="batch-1",
        frequency_code="1",
        interchange_control_number="000000007",
        group_control_number="7",
        transaction_set_control_number="0007",
        file_name="837P-000000007-batch-1.x12",
    )
    events = [content.created_event(), submitted]
    await log.append("claim-1", claim_decider.stream_type, 0, events, META)
    tables.claims["claim-1"] = claim_decider.fold(events)
    views = ClaimsViews(
        reference=cast(Any, tables),
        claims=cast(Any, tables),
        batches=cast(Any, tables),
        inbound=cast(Any, tables),
    )
    return UnitOfWork(log, views), log, tables


def remittance(*claims: ClaimPaymentAdvice, trace: str = "TRACE-1") -> InboundDocument:
    return InboundDocument(
        kind="835",
        receiver_id="SUBMITTER",
        interchange_control_number="000000031",
        remittances=(
            RemittanceAdvice(
                payer_key="ACME1",
                payer_name="Acme Health",
                trace_number=trace,
                payment_cents=sum(c.paid_cents for c in claims),
                payment_date=date(2026, 3, 20),
                provider_adjustment_cents=0,
                claims=claims,
                interchange_control_number="000000031",
            ),
        ),
    )


# $125.00 charged: $90.00 paid, $25.00 deductible (PR 1), $10.00 contractual (CO 45).
PAID = ClaimPaymentAdvice(
    patient_control_number=PCN,
    status_code="1",
    charge_cents=12500,
    paid_cents=9000,
    patient_responsibility_cents=2500,
    payer_claim_control_number="ICN-9",
    adjustments=(Adjustment("PR", "1", 2500), Adjustment("CO", "45", 1000)),
)
UNKNOWN = ClaimPaymentAdvice(
    patient_control_number="ZZZZZZZZZZZZZZZZ",
    status_code="1",
    charge_cents=5000,
    paid_cents=4000,
    patient_responsibility_cents=0,
    payer_claim_control_number="ICN-10",
)


async def apply(unit: Unit, document: InboundDocument, sha256: str) -> Any:
    ingestion = Ingestion(cast(Any, None), lambda _session: unit)
    return await ingestion.apply(
        unit, document, sha256=sha256, file_name=f"{sha256}.835", tenant=TENANT, metadata_for=lambda _t: META
    )


async def test_an_835_posts_the_payment_to_its_claim_once_and_keeps_what_matches_no_claim() -> None:
    unit, log, tables = await submitted_claim()

    result = await apply(unit, remittance(PAID, UNKNOWN), "sha-1")

    assert (result.outcome, result.matched_claims, result.unmatched_claims) == ("applied", 1, 1)
    adjudicated = log.events("claim-1")[-1]
    assert isinstance(adjudicated, ClaimAdjudicated)
    assert (adjudicated.paid_cents, adjudicated.patient_responsibility_cents) == (9000, 2500)
    assert [(a.group, a.reason_code, a.amount_cents) for a in adjudicated.claim_adjustments] == [
        ("PR", "1", 2500),
        ("CO", "45", 1000),
    ]
    assert tables.claims["claim-1"].status == "paid"
    assert tables.unmatched == ["ZZZZZZZZZZZZZZZZ"]
    (received,) = log.events(result.remittance_ids[0])
    assert isinstance(received, RemittanceReceived)
    assert (received.payer_id, received.payment_cents, received.matched_claim_ids) == (
        "payer-1",
        13000,
        ("claim-1",),
    )
    assert received.unmatched_patient_control_numbers == ("ZZZZZZZZZZZZZZZZ",)

    # The same bytes again, and the same payment (payer and trace number) in another file: nothing.
    before = len(log.log)
    assert (await apply(unit, remittance(PAID, UNKNOWN), "sha-1")).outcome == "duplicate"
    assert (await apply(unit, remittance(PAID), "sha-2")).outcome == "applied"
    assert len(log.log) == before
    assert remittance_decider.fold(log.events(result.remittance_ids[0])).received


async def test_one_bad_file_never_blocks_the_others_and_a_database_outage_postpones_without_losing() -> None:
    from claims.application.ingestion import InboundFolder, IngestResult
    from claims.application.ports import InboundItem

    outcomes: dict[str, BaseException | None] = {
        "a-db-away.835": ConnectionRefusedError("the database is away"),
        "b-breaks-a-rule.835": ValueError("a rule the claim keeps"),
        "c-good.835": None,
    }

    class Inbox:
        def __init__(self) -> None:
            self.done: list[str] = []
            self.refused: list[tuple[str, str]] = []

        def waiting(self) -> list[InboundItem]:
            return [InboundItem(name, b"ISA*...", f"sha-{name}") for name in outcomes]

        def processed(self, item: InboundItem) -> None:
            self.done.append(item.name)

        def rejected(self, item: InboundItem, reason: str) -> None:
            self.refused.append((item.name, reason))

    class Applying:
        async def ingest(self, document: Any, *, file_name: str, **_: Any) -> IngestResult:
            error = outcomes[file_name]
            if error is not None:
                raise error
            return IngestResult("835", TENANT, "applied")

    inbox = Inbox()
    folder = InboundFolder(cast(Any, Applying()), inbox, lambda _content: remittance(PAID))
    results = await folder.run_once()

    assert [r.outcome for r in results] == ["applied"]
    assert inbox.done == ["c-good.835"]  # the good file behind the two others went through
    assert inbox.refused == [("b-breaks-a-rule.835", "the file could not be applied (ValueError)")]
    # The file that met the outage is neither processed nor refused: it is tried again next round.


# Remittance completeness: PLB, a held claim payment matched later, a paper EOB -----------------------


def with_plb(document: InboundDocument, *items: ProviderAdjustmentLine) -> InboundDocument:
    (advice,) = document.remittances
    total = sum(item.amount_cents for item in items)
    return replace(
        document,
        remittances=(
            replace(
                advice,
                payment_cents=advice.payment_cents - total,
                provider_adjustment_cents=total,
                provider_adjustments=items,
            ),
        ),
    )


def plb(reason: str, cents: int, reference: str | None = None) -> ProviderAdjustmentLine:
    return ProviderAdjustmentLine("1234567893", date(2026, 12, 31), reason, cents, reference)


async def test_provider_level_adjustments_go_to_the_provider_ledger_and_the_payment_reconciles() -> None:
    unit, log, tables = await submitted_claim()
    # Claim paid 90.00; PLB WO recoups 30.00 of an earlier claim's overpayment and L6 adds 1.25 of
    # interest (negative: it increases the payment). BPR02 = 90.00 - (30.00 - 1.25) = 61.25.
    document = with_plb(remittance(PAID), plb("WO", 3000, "ICN-OLD-7"), plb("L6", -125))

    result = await apply(unit, document, "sha-plb")

    (received,) = log.events(result.remittance_ids[0])
    assert isinstance(received, RemittanceReceived)
    assert received.payment_cents == 6125
    assert received.claim_paid_cents == 9000
    assert received.provider_adjustment_cents == 2875
    assert received.payment_cents == received.claim_paid_cents - received.provider_adjustment_cents
    assert [(i.reason_code, i.amount_cents, i.reference) for i in received.provider_adjustments] == [
        ("WO", 3000, "ICN-OLD-7"),
        ("L6", -125, None),
    ]
    assert [(reason, cents) for _, reason, cents in tables.provider_ledger] == [("WO", 3000), ("L6", -125)]
    # Nothing of the PLB touched the claim: it was paid what its CLP says.
    adjudicated = log.events("claim-1")[-1]
    assert isinstance(adjudicated, ClaimAdjudicated)
    assert adjudicated.paid_cents == 9000


async def test_a_held_claim_payment_posts_when_a_biller_matches_it_and_only_once() -> None:
    unit, log, tables = await submitted_claim()
    # The payer's CLP01 is garbled: it matches no claim and waits, whole, on the remittance.
    garbled = replace(PAID, patient_control_number="0A1B2C3D4E5F6G7X")
    result = await apply(unit, remittance(garbled), "sha-held")
    remittance_id = result.remittance_ids[0]
    assert (result.matched_claims, result.unmatched_claims) == (0, 1)
    assert not any(isinstance(e, ClaimAdjudicated) for e in log.events("claim-1"))
    (received,) = log.events(remittance_id)
    assert isinstance(received, RemittanceReceived)
    assert [h.paid_cents for h in received.held_claims] == [9000]

    assert await match_held_payment(unit, TENANT, remittance_id, "0A1B2C3D4E5F6G7X", "claim-1", META)

    adjudicated = log.events("claim-1")[-1]
    assert isinstance(adjudicated, ClaimAdjudicated)
    # Posted exactly as the 835 said: 125.00 = 90.00 paid + 25.00 PR-1 + 10.00 CO-45.
    assert (adjudicated.paid_cents, adjudicated.patient_responsibility_cents) == (9000, 2500)
    assert adjudicated.remittance_id == remittance_id
    assert tables.claims["claim-1"].status == "paid"
    assert tables.unmatched == []
    assert tables.matched == [("0A1B2C3D4E5F6G7X", "claim-1")]
    assert isinstance(log.events(remittance_id)[-1], RemittanceClaimMatched)

    # The same match again posts nothing; another claim is refused; an unknown CLP01 is not found.
    before = len(log.log)
    assert not await match_held_payment(unit, TENANT, remittance_id, "0A1B2C3D4E5F6G7X", "claim-1", META)
    assert len(log.log) == before
    await log.append("claim-2", "claim", 0, [replace(CONTENT, claim_id="claim-2").created_event()], META)
    tables.claims["claim-2"] = claim_decider.fold(log.events("claim-2"))
    with pytest.raises(AlreadyMatched):
        await match_held_payment(unit, TENANT, remittance_id, "0A1B2C3D4E5F6G7X", "claim-2", META)
    with pytest.raises(HeldPaymentNotFound):
        await match_held_payment(unit, TENANT, remittance_id, "NOPE", "claim-1", META)
    with pytest.raises(ClaimNotFound):
        await match_held_payment(unit, TENANT, remittance_id, "0A1B2C3D4E5F6G7X", "claim-x", META)


LINED = replace(
    CONTENT,
    lines=(
        ClaimLine(
            line_number=1,
            line_control_number=f"{PCN}-1",
            code="99213",
            units=1,
            charge_cents=10000,
            diagnosis_pointers=(1,),
        ),
        ClaimLine(
            line_number=2,
            line_control_number=f"{PCN}-2",
            code="81002",
            units=1,
            charge_cents=2500,
            diagnosis_pointers=(1,),
        ),
    ),
)


def paper_eob(*lines: EobLine, check: str = "CHK-5501") -> PaperEob:
    return PaperEob("", "", check, date(2026, 3, 25), lines)


async def test_a_paper_eob_posts_through_the_835_path_with_the_same_events() -> None:
    unit, log, _ = await submitted_claim(LINED)
    # Line 1: 100.00 = 60.00 paid + 25.00 CO-45 + 15.00 PR-2 coinsurance;
    # line 2: 25.00 = 0 paid + 25.00 PR-1 deductible. Paid 60.00, the patient owes 40.00.
    eob = paper_eob(
        EobLine(1, 6000, (Adjustment("CO", "45", 2500), Adjustment("PR", "2", 1500)), (), 1500),
        EobLine(2, 0, (Adjustment("PR", "1", 2500),), ("N130",)),
    )

    posted = await post_paper_eob(unit, TENANT, "claim-1", "payer-1", eob, META)

    adjudicated = log.events("claim-1")[-1]
    assert isinstance(adjudicated, ClaimAdjudicated)
    assert (adjudicated.paid_cents, adjudicated.patient_responsibility_cents) == (6000, 4000)
    assert [(ln.line_number, ln.paid_cents) for ln in adjudicated.lines] == [(1, 6000), (2, 0)]
    assert adjudicated.lines[1].remark_codes == ("N130",)
    assert adjudicated.outcome == "paid"
    (received,) = log.events(posted.remittance_id)
    assert isinstance(received, RemittanceReceived)
    assert (received.source, received.payer_id, received.payment_cents) == ("paper_eob", "payer-1", 6000)
    # The payer's EDI id, the check number and the claim make the payment: the same EOB keyed again
    # is the same remittance and posts nothing; another claim paid by the same check is its own.
    assert posted.remittance_id == remittance_id_for(TENANT, "ACME1", f"CHK-5501/{PCN}")
    before = len(log.log)
    assert (await post_paper_eob(unit, TENANT, "claim-1", "payer-1", eob, META)).duplicate
    assert len(log.log) == before


async def test_a_paper_eob_that_does_not_balance_is_refused_naming_the_line() -> None:
    unit, log, _ = await submitted_claim(LINED)
    before = len(log.log)
    # Line 1: 100.00 - 60.00 paid = 40.00, but the adjustments say 25.00.
    short = paper_eob(EobLine(1, 6000, (Adjustment("CO", "45", 2500),)), EobLine(2, 2500))
    with pytest.raises(UnbalancedEob) as refused:
        await post_paper_eob(unit, TENANT, "claim-1", "payer-1", short, META)
    assert refused.value.field == "lines[0].adjustments"
    wrong_share = paper_eob(EobLine(1, 10000), EobLine(2, 0, (Adjustment("PR", "1", 2500),), (), 2000))
    with pytest.raises(UnbalancedEob) as refused:
        await post_paper_eob(unit, TENANT, "claim-1", "payer-1", wrong_share, META)
    assert refused.value.field == "lines[1].patient_responsibility_cents"
    with pytest.raises(UnbalancedEob):
        await post_paper_eob(unit, TENANT, "claim-1", "payer-1", paper_eob(EobLine(1, 10000)), META)
    with pytest.raises(UnknownPayer):
        await post_paper_eob(unit, TENANT, "claim-1", "payer-9", paper_eob(EobLine(1, 10000)), META)
    assert len(log.log) == before


async def test_one_paper_check_that_pays_two_claims_posts_to_each() -> None:
    unit, log, tables = await submitted_claim(LINED)
    other = replace(
        LINED, claim_id="claim-2", patient_control_number="9Z8Y7X6W5V4T3S2R", invoice_id="invoice-2"
    )
    await log.append("claim-2", "claim", 0, [other.created_event()], META)
    tables.claims["claim-2"] = claim_decider.fold(log.events("claim-2"))
    # Both claims paid in full on check CHK-8: 100.00 + 25.00 each.
    eob = paper_eob(EobLine(1, 10000), EobLine(2, 2500), check="CHK-8")

    first = await post_paper_eob(unit, TENANT, "claim-1", "payer-1", eob, META)
    second = await post_paper_eob(unit, TENANT, "claim-2", "payer-1", eob, META)

    assert first.remittance_id != second.remittance_id and not second.duplicate
    assert [tables.claims[c].paid_cents for c in ("claim-1", "claim-2")] == [12500, 12500]
