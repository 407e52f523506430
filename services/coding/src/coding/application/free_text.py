"""A coder's reason for recoding ("corrected per the discharge summary of Mrs ...") may name the
patient or their condition: it is sealed under the patient's key before the events are stored, as
claims seals a biller's words and registration demographics, so it never sits in the log or on Kafka
in clear, and forgetting the patient (crypto-shredding) makes it unreadable. Coding opens it to answer
its own API; events written before sealing carry the text in `reason` and read as they are."""

from __future__ import annotations

from typing import TypeVar

from billing_events.contracts.base import SEALED_TEXT, Event, Sealed
from billing_events.contracts.coding import EncounterRecoded, InstitutionalEncounterCoded
from billing_events.decider import Seal
from billing_events.phi import KeyDestroyed
from coding.application.ports import Vault
from coding.domain.encounter_coding import EncounterCoding

# What a reason reads as once the patient was forgotten (their key destroyed).
FORGOTTEN_TEXT = "(forgotten)"

Coded = TypeVar("Coded", EncounterRecoded, InstitutionalEncounterCoded)


def reason_sealing(vault: Vault, patient_id: str) -> Seal:
    """execute's sealing hook for a coding command: the reason sealed under the patient's key."""

    async def seal(events: list[Event]) -> list[Event]:
        sealed_events: list[Event] = []
        for event in events:
            if (
                isinstance(event, EncounterRecoded | InstitutionalEncounterCoded)
                and event.reason is not None
                and event.sealed_reason is None
            ):
                sealed = await vault.seal_fields(patient_id, {"reason": event.reason})
                event = event.model_copy(update={"reason": SEALED_TEXT, "sealed_reason": sealed["reason"]})
            sealed_events.append(event)
        return sealed_events

    return seal


async def opened(vault: Vault, event: Coded) -> Coded:
    """A coding event with its reason in clear (and no sealed copy beside it)."""
    if event.sealed_reason is None:
        return event
    return event.model_copy(update={"reason": await _open(vault, event.sealed_reason), "sealed_reason": None})


async def opened_state(vault: Vault, state: EncounterCoding) -> EncounterCoding:
    """The coding's state with its reason in clear."""
    if state.sealed_reason is None:
        return state
    return state.with_reason(await _open(vault, state.sealed_reason))


async def _open(vault: Vault, sealed: Sealed) -> str:
    try:
        return str(await vault.open(sealed, "reason"))
    except KeyDestroyed:
        return FORGOTTEN_TEXT
