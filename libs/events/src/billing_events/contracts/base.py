"""The base of every event contract: a frozen pydantic model that knows its type, version and topic.

A contract is the payload only. Who, when, which tenant and which trace travel in the envelope
(CloudEvents headers, see billing_events.envelope).
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

TOPIC_NAMESPACE = "billing"


# What a sealed free-text field reads as in clear: the text itself is in the `sealed_*` field beside it.
SEALED_TEXT = "(sealed)"


class Sealed(BaseModel):
    """A field encrypted with AES-256-GCM under a per-patient data key (crypto-shredding).

    `key_id` names the data key; `nonce` and `ciphertext` are base64. The plaintext is UTF-8 JSON.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str
    nonce: str
    ciphertext: str
    alg: str = "AES-256-GCM"


class Event(BaseModel):
    """A domain event. Consumers ignore fields they do not know, so adding an optional field is safe."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    version: ClassVar[int]
    service: ClassVar[str]
    aggregate: ClassVar[str]
    # The payload field holding the aggregate id (the Kafka key and ce_subject).
    subject_field: ClassVar[str]

    @classmethod
    def topic(cls, prefix: str = "") -> str:
        return topic_name(cls.service, cls.aggregate, prefix)

    @classmethod
    def ce_type(cls) -> str:
        return f"{TOPIC_NAMESPACE}.{cls.service}.{cls.event_type}.v{cls.version}"

    def subject(self) -> str:
        return str(getattr(self, self.subject_field))


def topic_name(service: str, aggregate: str, prefix: str = "") -> str:
    return f"{prefix}{TOPIC_NAMESPACE}.{service}.{aggregate}"


E = TypeVar("E", bound=type[Event])

_REGISTRY: dict[tuple[str, int], type[Event]] = {}
_LATEST: dict[str, type[Event]] = {}


def event(*, service: str, aggregate: str, subject: str, version: int = 1, name: str | None = None) -> Any:
    """Register a contract class under its type name and version."""

    def register(cls: E) -> E:
        cls.event_type = name or cls.__name__
        cls.version = version
        cls.service = service
        cls.aggregate = aggregate
        cls.subject_field = subject
        key = (cls.event_type, version)
        if key in _REGISTRY:
            raise ValueError(f"{cls.event_type} v{version} is registered twice")
        _REGISTRY[key] = cls
        latest = _LATEST.get(cls.event_type)
        if latest is None or latest.version < version:
            _LATEST[cls.event_type] = cls
        return cls

    return register


def registered() -> dict[tuple[str, int], type[Event]]:
    return dict(_REGISTRY)


def latest(event_type: str) -> type[Event]:
    try:
        return _LATEST[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def contract(event_type: str, version: int) -> type[Event]:
    try:
        return _REGISTRY[(event_type, version)]
    except KeyError:
        raise UnknownEventType(f"{event_type} v{version}") from None


class UnknownEventType(LookupError):
    pass


Cents = int
NonNegativeCents = Field(ge=0)
