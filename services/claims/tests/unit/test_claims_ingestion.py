"""Claims' 835 ingestion on the in-memory unit of work: the payment posts to the submitted claim,
the same file twice or the same payment in another file changes nothing, an unknown claim is kept
as unmatched. No I/O: the log is billing_testing's fake and the tables are dictionaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from billing_events.contracts.claims import ClaimAdjudicated, ClaimSubmitted, RemittanceReceived
from billing_events.envelope import Metadata
from billing_events.unit_of_work import UnitOfWork
from billing_testing.fakes import InMemoryEventSession
from claims.application.ingestion import Ingestion
from claims.application.ports import ClaimRow, ClaimsViews, Unit
from claims.domain.claim import ClaimState, claim_decider
from claims.domain.inbound import Adjustment, ClaimPaymentAdvice, InboundDocument, RemittanceAdvice
from claims.domain.model import ClaimContent
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

    # reference
    async def payer_ids_for_edi(self, tenant: str, edi_payer_id: str) -> list[str]:
        return ["payer-1"] if edi_payer_id == "ACME1" else []

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

    async def lock(self, claim_id: str) -> None:
        return None

    async def save(self, tenant: str, state: ClaimState, version: int, at: datetime) -> None:
        self.claims[state.content.claim_id if state.content else ""] = state


async def submitted_claim() -> tuple[Unit, InMemoryEventSession, Tables]:
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
    events = [CONTENT.created_event(), submitted]
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
