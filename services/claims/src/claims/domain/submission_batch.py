"""The SubmissionBatch aggregate: one 837P file to one payer, sent once, with its control numbers."""

from __future__ import annotations

from dataclasses import dataclass

from billing_events.contracts.base import Event
from billing_events.contracts.claims import SubmissionBatchSent
from billing_events.decider import Decider
from claims.domain.errors import BatchAlreadySent, EmptyBatch


@dataclass(frozen=True)
class ControlNumbers:
    """ISA13, GS06 and ST02 of one file. The service draws one number per file from a per-tenant
    counter and uses it for all three: each file has one interchange, one group, one transaction set."""

    value: int

    def __post_init__(self) -> None:
        if not 0 < self.value <= 999_999_999:
            raise ValueError("an interchange control number has at most 9 digits")

    @property
    def interchange(self) -> str:
        return f"{self.value:09d}"

    @property
    def group(self) -> str:
        return str(self.value)

    @property
    def transaction_set(self) -> str:
        return f"{self.value:04d}"


@dataclass(frozen=True)
class SendBatch:
    batch_id: str
    payer_id: str
    claim_ids: tuple[str, ...]
    control_numbers: ControlNumbers
    file_name: str


@dataclass(frozen=True)
class BatchState:
    sent: bool = False
    payer_id: str | None = None
    claim_ids: tuple[str, ...] = ()
    interchange_control_number: str | None = None
    file_name: str | None = None


def file_name_for(batch_id: str, control_numbers: ControlNumbers, form: str = "837P") -> str:
    """Derived from the batch alone, so writing the file again after a crash overwrites, never adds.
    `form` is the file's claim form: 837P, or 837I for a hospital's institutional claims."""
    return f"{form}-{control_numbers.interchange}-{batch_id}.x12"


def decide(command: SendBatch, state: BatchState) -> list[Event]:
    if state.sent:
        raise BatchAlreadySent()
    if not command.claim_ids:
        raise EmptyBatch()
    return [
        SubmissionBatchSent(
            batch_id=command.batch_id,
            payer_id=command.payer_id,
            claim_ids=command.claim_ids,
            interchange_control_number=command.control_numbers.interchange,
            file_name=command.file_name,
            group_control_number=command.control_numbers.group,
            transaction_set_control_number=command.control_numbers.transaction_set,
        )
    ]


def evolve(state: BatchState, event: Event) -> BatchState:
    if isinstance(event, SubmissionBatchSent):
        return BatchState(
            sent=True,
            payer_id=event.payer_id,
            claim_ids=event.claim_ids,
            interchange_control_number=event.interchange_control_number,
            file_name=event.file_name,
        )
    return state


batch_decider: Decider[SendBatch, BatchState] = Decider(
    initial=BatchState(), decide=decide, evolve=evolve, stream_type="submission-batch"
)
