"""The Payer aggregate: an insurer the tenant bills, with its EDI id and claim filing indicator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from billing_events.contracts.base import Event
from billing_events.contracts.registration import PayerRegistered
from billing_events.decider import Decider
from billing_events.identifiers import EDI_PAYER_ID
from registration.domain.errors import AlreadyExists
from registration.domain.validation import CLAIM_FILING_INDICATORS, Issues
from registration.domain.values import AddressInput


@dataclass(frozen=True)
class RegisterPayer:
    payer_id: str
    name: str | None
    edi_payer_id: str | None
    claim_filing_indicator: str | None
    address: AddressInput | None = None
    timely_filing_days: int | None = None


@dataclass(frozen=True)
class PayerState:
    registered: bool = False
    name: str | None = None


def decide(command: RegisterPayer, state: PayerState) -> Sequence[Event]:
    if state.registered:
        raise AlreadyExists("payer")
    issues = Issues()
    name = issues.text("name", command.name, max_length=60)
    edi_payer_id = issues.text(
        "edi_payer_id",
        command.edi_payer_id,
        max_length=80,
        pattern=EDI_PAYER_ID,
        pattern_message="must be 2 to 80 letters, digits or hyphens",
    )
    indicator = command.claim_filing_indicator
    filing = issues.code(
        "claim_filing_indicator", indicator.upper() if indicator else None, CLAIM_FILING_INDICATORS
    )
    address = issues.address("address", command.address, required=False)
    days = command.timely_filing_days
    if days is not None and not 1 <= days <= 3650:
        issues.add("timely_filing_days", "must be between 1 and 3650")
    issues.raise_if_any()
    assert name and edi_payer_id and filing
    return [
        PayerRegistered(
            payer_id=command.payer_id,
            name=name,
            edi_payer_id=edi_payer_id.upper(),
            claim_filing_indicator=filing,
            address=address.to_contract() if address else None,
            **({"timely_filing_days": days} if days is not None else {}),
        )
    ]


def evolve(state: PayerState, event: Event) -> PayerState:
    if isinstance(event, PayerRegistered):
        return PayerState(registered=True, name=event.name)
    return state


payer = Decider[RegisterPayer, PayerState](PayerState(), decide, evolve, "payer")
