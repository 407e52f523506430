"""A biller's free text about a claim (why it is sent again, what was corrected) may name the patient
or their condition: it is sealed under the patient's key before the events are stored, like
registration seals demographics, so it never sits in the log or on Kafka in clear, and forgetting the
patient (crypto-shredding) makes it unreadable. Services holding the PHI key open it with
`open_free_text`; events written before sealing carry the text in clear and read as they are."""

from __future__ import annotations

from typing import Any

from billing_events.contracts.base import SEALED_TEXT, Event
from billing_events.contracts.claims import ClaimReady, ClaimResubmitted
from billing_events.decider import Seal
from claims.application.ports import Vault


def free_text_sealing(vault: Vault, patient_id: str) -> Seal:
    """execute's sealing hook for a claim's commands: its free text sealed under the patient's key."""

    async def seal(events: list[Event]) -> list[Event]:
        sealed_events: list[Event] = []
        for event in events:
            if isinstance(event, ClaimResubmitted) and event.sealed_reason is None:
                sealed = await vault.seal_fields(
                    patient_id, {"reason": event.reason, "corrections": list(event.corrections)}
                )
                event = event.model_copy(
                    update={
                        "reason": SEALED_TEXT,
                        "corrections": (),
                        "sealed_reason": sealed["reason"],
                        "sealed_corrections": sealed["corrections"],
                    }
                )
            elif isinstance(event, ClaimReady) and event.reason is not None and event.sealed_reason is None:
                sealed = await vault.seal_fields(patient_id, {"reason": event.reason})
                event = event.model_copy(update={"reason": SEALED_TEXT, "sealed_reason": sealed["reason"]})
            sealed_events.append(event)
        return sealed_events

    return seal


async def open_free_text(vault: Vault, event: ClaimResubmitted | ClaimReady) -> dict[str, Any]:
    """The reason (and corrections) in clear, from a sealed event or one written before sealing."""
    if isinstance(event, ClaimResubmitted):
        if event.sealed_reason is None:
            return {"reason": event.reason, "corrections": list(event.corrections)}
        corrections = (
            []
            if event.sealed_corrections is None
            else await vault.open(event.sealed_corrections, "corrections")
        )
        return {"reason": await vault.open(event.sealed_reason, "reason"), "corrections": list(corrections)}
    if event.sealed_reason is None:
        return {"reason": event.reason}
    return {"reason": await vault.open(event.sealed_reason, "reason")}
