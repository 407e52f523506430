"""A biller's free text about a claim is sealed under the patient's key (issue 16): the stored events
carry neither the reason nor the corrections in clear, the claims service (which holds the key) reads
them back, events written before sealing read as they are, and forgetting the patient makes it gone."""

from __future__ import annotations

import os

import pytest

from billing_events.contracts.base import SEALED_TEXT
from billing_events.contracts.claims import ClaimReady, ClaimResubmitted
from billing_events.phi import Vault
from claims.application.free_text import free_text_sealing, open_free_text

REASON = "Mrs Jane Roe's fracture was coded on the wrong side"
CORRECTIONS = ("left wrist, not right, per Dr Osler's note",)


class Keys:
    """An in-memory KeyProvider: one data key per patient, destroyed on request."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}

    async def data_key(self, key_id: str, *, create: bool = False) -> bytes:
        if key_id not in self.keys:
            if not create:
                raise KeyError(key_id)
            self.keys[key_id] = os.urandom(32)
        return self.keys[key_id]

    async def destroy(self, key_id: str) -> None:
        self.keys.pop(key_id, None)


def resubmitted() -> ClaimResubmitted:
    return ClaimResubmitted(
        claim_id="claim-1",
        frequency_code="7",
        reason=REASON,
        payer_claim_control_number="ICN-9",
        corrections=CORRECTIONS,
    )


async def test_a_resubmission_reason_and_corrections_are_sealed_and_read_back_with_the_key() -> None:
    vault = Vault(Keys())
    untouched = ClaimReady(claim_id="claim-1")

    stored = await free_text_sealing(vault, "patient-1")([resubmitted(), untouched])

    sealed = stored[0]
    assert isinstance(sealed, ClaimResubmitted)
    assert (sealed.reason, sealed.corrections) == (SEALED_TEXT, ())
    assert sealed.sealed_reason is not None and sealed.sealed_reason.key_id == "patient-1"
    text = sealed.model_dump_json()
    assert "Jane" not in text and "wrist" not in text and "Osler" not in text
    assert sealed.payer_claim_control_number == "ICN-9"  # what is not free text stays as it was
    assert stored[1] == untouched
    assert await open_free_text(vault, sealed) == {"reason": REASON, "corrections": list(CORRECTIONS)}


async def test_a_ready_claims_reason_is_sealed_and_events_before_sealing_read_as_they_are() -> None:
    vault = Vault(Keys())
    (ready,) = await free_text_sealing(vault, "patient-1")([ClaimReady(claim_id="claim-1", reason=REASON)])
    assert isinstance(ready, ClaimReady)
    assert ready.reason == SEALED_TEXT and "Jane" not in ready.model_dump_json()
    assert await open_free_text(vault, ready) == {"reason": REASON}

    # Written before sealing existed: the clear text is the text.
    assert await open_free_text(vault, resubmitted()) == {"reason": REASON, "corrections": list(CORRECTIONS)}
    assert await open_free_text(vault, ClaimReady(claim_id="c", reason="old")) == {"reason": "old"}


async def test_forgetting_the_patient_makes_the_sealed_text_unreadable() -> None:
    keys = Keys()
    vault = Vault(keys)
    (sealed,) = await free_text_sealing(vault, "patient-1")([resubmitted()])
    assert isinstance(sealed, ClaimResubmitted)

    await vault.destroy("patient-1")

    with pytest.raises(KeyError):
        await open_free_text(vault, sealed)
