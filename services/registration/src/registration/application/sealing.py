"""Sealing after deciding: the deciders are pure and synchronous, the vault is neither.

A DeferredSealer hands the decider placeholders and remembers what they stand for; once the decider
accepted the command, `seal` encrypts those values under the patient's key and puts the sealed
values in the events. So a refused command never creates a data key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from billing_events.contracts.base import Event, Sealed
from registration.application.ports import Phi

_PENDING = "pending"


class DeferredSealer:
    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        self._values: dict[str, Any] = {}

    def __call__(self, field: str, value: Any) -> Sealed:
        self._values[field] = value
        return Sealed(key_id=self.key_id, nonce="", ciphertext=field, alg=_PENDING)

    async def seal(self, vault: Phi, events: Sequence[Event]) -> list[Event]:
        if not self._values:
            return list(events)
        sealed = await vault.seal_fields(self.key_id, self._values)
        result: list[Event] = []
        for event in events:
            update = {
                name: sealed[name]
                for name in type(event).model_fields
                if isinstance(value := getattr(event, name), Sealed) and value.alg == _PENDING
            }
            result.append(event.model_copy(update=update) if update else event)
        for event in result:
            for name in type(event).model_fields:
                value = getattr(event, name)
                if isinstance(value, Sealed) and value.alg == _PENDING:
                    raise RuntimeError(f"{event.event_type}.{name} was left unsealed")
        return result
