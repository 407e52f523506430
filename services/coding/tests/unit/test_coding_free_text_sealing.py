"""A coder's reason for recoding is sealed under the patient's key (issue 16): the stored event carries
no clear text, coding reads it back, events written before sealing read as they are, and once the
patient is forgotten (their key destroyed) the reason is gone, not an error."""

from __future__ import annotations

import os
from datetime import date

from billing_events.contracts.base import SEALED_TEXT
from billing_events.contracts.coding import EncounterCoded, EncounterRecoded
from billing_events.phi import KeyDestroyed, Vault
from coding.application.free_text import FORGOTTEN_TEXT, opened, opened_state, reason_sealing
from coding.domain.encounter_coding import DECIDER

REASON = "Mr John Doe's discharge summary says type 2 diabetes with hyperglycemia"


class Keys:
    """An in-memory KeyProvider: one data key per patient, destroyed on request."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes | None] = {}

    async def data_key(self, key_id: str, *, create: bool = False) -> bytes:
        if key_id not in self.keys and create:
            self.keys[key_id] = os.urandom(32)
        key = self.keys.get(key_id)
        if key is None:
            raise KeyDestroyed(key_id)
        return key

    async def destroy(self, key_id: str) -> None:
        self.keys[key_id] = None


def recoded(reason: str | None = REASON) -> EncounterRecoded:
    return EncounterRecoded(
        encounter_id="enc-1",
        patient_id="patient-1",
        coding_version=2,
        previous_version=1,
        service_date=date(2026, 5, 12),
        billing_provider_id="org-1",
        rendering_provider_id="doc-1",
        place_of_service="11",
        diagnoses=("E11.65",),
        lines=(),
        reason=reason,
    )


def first_coding() -> EncounterCoded:
    return EncounterCoded(**recoded().model_dump(exclude={"previous_version", "reason", "sealed_reason"}))


async def test_the_reason_is_sealed_before_it_is_stored_and_coding_reads_it_back() -> None:
    vault = Vault(Keys())
    untouched = first_coding()

    stored = await reason_sealing(vault, "patient-1")([untouched, recoded()])

    assert stored[0] == untouched  # nothing to seal in a first coding
    sealed = stored[1]
    assert isinstance(sealed, EncounterRecoded)
    assert sealed.reason == SEALED_TEXT and "Doe" not in sealed.model_dump_json()
    assert sealed.sealed_reason is not None and sealed.sealed_reason.key_id == "patient-1"
    assert sealed.diagnoses == ("E11.65",)  # what is not free text stays as it was
    assert (await opened(vault, sealed)).reason == REASON
    state = DECIDER.fold([first_coding(), sealed])
    assert (await opened_state(vault, state)).reason == REASON


async def test_a_recoding_without_reason_and_one_stored_before_sealing_read_as_they_are() -> None:
    vault = Vault(Keys())
    (without,) = await reason_sealing(vault, "patient-1")([recoded(None)])
    assert without == recoded(None)
    assert (await opened(vault, recoded())).reason == REASON  # written in clear before sealing


async def test_once_the_patient_is_forgotten_the_reason_reads_as_forgotten() -> None:
    keys = Keys()
    vault = Vault(keys)
    (sealed,) = await reason_sealing(vault, "patient-1")([recoded()])
    assert isinstance(sealed, EncounterRecoded)
    await keys.destroy("patient-1")

    assert (await opened(vault, sealed)).reason == FORGOTTEN_TEXT
