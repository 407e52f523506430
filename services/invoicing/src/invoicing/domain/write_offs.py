"""Write-offs: part of an invoice's outstanding balance taken off the books, with a reason.

A write-off is an adjustment on the invoice's ledger (it lowers the balance by what it records, so
charges = payments + adjustments + balance still holds) and comes off the part of the balance that
one party owes: the patient's responsibility, or what the payers still owe. It can never exceed that
part: writing off more than is owed would turn a debt into a credit nobody paid.

Reasons: `small_balance` (not worth collecting), `bad_debt` (the patient will not pay, after the
collection effort), `charity` (financial assistance under the tenant's policy, IRC 501(r)) and
`administrative` (the provider's own error or decision, e.g. a claim filed too late). Bad debt and
charity are by nature about what the patient owes; small balances and administrative write-offs may
also close what a payer will never pay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, get_args

from billing_events.contracts.base import Event
from billing_events.contracts.invoicing import WriteOffParty, WriteOffPosted, WriteOffReason
from invoicing.domain.errors import FieldError, InvalidInput

if TYPE_CHECKING:
    from invoicing.domain.invoice import InvoiceState

REASONS: tuple[WriteOffReason, ...] = get_args(WriteOffReason)
PARTIES: tuple[WriteOffParty, ...] = get_args(WriteOffParty)
# The reasons that only make sense for what the patient owes.
PATIENT_ONLY: frozenset[WriteOffReason] = frozenset({"bad_debt", "charity"})


@dataclass(frozen=True)
class PostWriteOff:
    invoice_id: str
    write_off_id: str
    reason: WriteOffReason
    party: WriteOffParty
    amount_cents: int
    written_off_on: date


def outstanding_of(state: InvoiceState, party: WriteOffParty) -> int:
    """What the party still owes on the invoice: the most that can be written off from it."""
    if party == "patient":
        return state.patient_responsibility_cents
    return max(state.insurance_balance_cents, 0)


def decide_write_off(command: PostWriteOff, state: InvoiceState) -> list[Event]:
    """Refuses every broken rule at once; the invoice must be issued (the caller checks that)."""
    if state.has_posting(command.write_off_id):
        return []  # the same write-off again changes nothing
    errors: list[FieldError] = []
    if command.reason not in REASONS:
        errors.append(FieldError("reason", f"must be one of {', '.join(REASONS)}"))
    if command.party not in PARTIES:
        errors.append(FieldError("party", f"must be one of {', '.join(PARTIES)}"))
    elif command.reason in PATIENT_ONLY and command.party != "patient":
        errors.append(FieldError("party", f"a {command.reason} write-off is of the patient's balance"))
    if command.amount_cents <= 0:
        errors.append(FieldError("amount_cents", "must be greater than zero"))
    elif command.party in PARTIES:
        limit = outstanding_of(state, command.party)
        if command.amount_cents > limit:
            errors.append(
                FieldError(
                    "amount_cents",
                    f"must not exceed what the {command.party} owes on the invoice ({limit} cents)",
                )
            )
    if errors:
        raise InvalidInput(errors)
    return [
        WriteOffPosted(
            invoice_id=state.invoice_id,
            write_off_id=command.write_off_id,
            patient_id=state.patient_id,
            reason=command.reason,
            party=command.party,
            amount_cents=command.amount_cents,
            written_off_on=command.written_off_on,
        )
    ]
