"""Value objects: what a command brings (raw, possibly incomplete) and what the rules accept (clean)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from billing_events.contracts.base import Sealed
from billing_events.contracts.registration import Address


class Sealer(Protocol):
    """Encrypts one field under the patient's data key (the application provides it; tests fake it)."""

    def __call__(self, field: str, value: Any) -> Sealed: ...


@dataclass(frozen=True)
class NameInput:
    given: str | None = None
    family: str | None = None


@dataclass(frozen=True)
class AddressInput:
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True)
class SubscriberInput:
    name: NameInput | None = None
    birth_date: str | None = None
    sex: str | None = None
    address: AddressInput | None = None


@dataclass(frozen=True)
class PersonName:
    given: str
    family: str

    def as_json(self) -> dict[str, str]:
        return {"given": self.given, "family": self.family}


@dataclass(frozen=True)
class PostalAddress:
    line1: str
    city: str
    state: str
    postal_code: str
    line2: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "state": self.state,
            "postal_code": self.postal_code,
        }

    def to_contract(self) -> Address:
        return Address(**self.as_json())


@dataclass(frozen=True)
class Demographics:
    """A patient's current identifiers in clear, as the application opened them for a decision."""

    name: PersonName
    birth_date: date
    sex: str
    address: PostalAddress
    phone: str | None = None
