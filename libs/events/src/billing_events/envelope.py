"""The envelope around a payload: CloudEvents 1.0 attributes in Kafka binary mode, plus our extensions.

Headers: ce_specversion, ce_id, ce_type, ce_source, ce_subject, ce_time, content-type, and the
extension attributes ce_tenant, ce_position, ce_correlationid, ce_causationid, ce_actor, plus the W3C
`traceparent`. The record key is the aggregate id and the value is the JSON payload.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from billing_events.contracts.base import TOPIC_NAMESPACE, Event, contract, latest, topic_name

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function turning a `from_version` payload into the next version's payload."""

    def register(function: Upcaster) -> Upcaster:
        _UPCASTERS[(event_type, from_version)] = function
        return function

    return register


def upcast(event_type: str, version: int, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    target = latest(event_type).version
    while version < target:
        step = _UPCASTERS.get((event_type, version))
        if step is None:
            break  # the old version's own contract still reads it
        payload, version = step(payload), version + 1
    return version, payload


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


@dataclass(frozen=True)
class Metadata:
    """Who caused an event and within which flow. Never patient data."""

    tenant: str
    actor: str
    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v is not None and k != "tenant"}

    def caused_by(self, envelope: EventEnvelope, actor: str | None = None) -> Metadata:
        """Metadata for events that a consumed event causes: same flow, the event as the cause."""
        return Metadata(
            tenant=envelope.tenant,
            actor=actor or envelope.metadata.get("actor", "system"),
            correlation_id=envelope.metadata.get("correlation_id") or envelope.event_id,
            causation_id=envelope.event_id,
            traceparent=self.traceparent or envelope.metadata.get("traceparent"),
        )


@dataclass(frozen=True)
class EventEnvelope:
    """An event as stored in a log or received from a topic."""

    event_id: str
    event_type: str
    version: int
    source: str
    stream_id: str
    tenant: str
    occurred_at: datetime
    payload: dict[str, Any]
    metadata: dict[str, str] = field(default_factory=dict)
    position: int | None = None
    stream_version: int | None = None

    def event(self) -> Event:
        """The typed payload, upcast to the newest contract version that can read it."""
        version, payload = upcast(self.event_type, self.version, self.payload)
        return contract(self.event_type, version).model_validate(payload)

    @property
    def ce_type(self) -> str:
        return f"{TOPIC_NAMESPACE}.{self.source}.{self.event_type}.v{self.version}"

    def topic(self, prefix: str = "") -> str:
        return topic_name(self.source, contract(self.event_type, self.version).aggregate, prefix)

    def headers(self) -> list[tuple[str, bytes]]:
        values = {
            "ce_specversion": SPEC_VERSION,
            "ce_id": self.event_id,
            "ce_type": self.ce_type,
            "ce_source": f"/{TOPIC_NAMESPACE}/{self.source}",
            "ce_subject": self.stream_id,
            "ce_time": self.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "content-type": CONTENT_TYPE,
            "ce_tenant": self.tenant,
            "ce_position": str(self.position) if self.position is not None else None,
            "ce_streamversion": str(self.stream_version) if self.stream_version is not None else None,
            "ce_correlationid": self.metadata.get("correlation_id"),
            "ce_causationid": self.metadata.get("causation_id"),
            "ce_actor": self.metadata.get("actor"),
            "traceparent": self.metadata.get("traceparent"),
        }
        return [(k, v.encode()) for k, v in values.items() if v is not None]

    def value(self) -> bytes:
        return canonical_json(self.payload)

    @classmethod
    def from_kafka(cls, headers: Sequence[tuple[str, bytes]], value: bytes) -> EventEnvelope:
        """Parse a record in binary mode; raises MalformedMessage naming what is missing."""
        found: Mapping[str, str] = {k: v.decode("utf-8", "replace") for k, v in headers}
        missing = [
            h
            for h in ("ce_id", "ce_type", "ce_source", "ce_subject", "ce_time", "ce_tenant")
            if not found.get(h)
        ]
        if missing:
            raise MalformedMessage(f"missing CloudEvents headers: {', '.join(missing)}")
        parts = found["ce_type"].split(".")
        if len(parts) != 4 or parts[0] != TOPIC_NAMESPACE or not parts[3].startswith("v"):
            raise MalformedMessage("ce_type is not billing.<service>.<Type>.v<N>")
        try:
            payload = orjson.loads(value)
            version = int(parts[3][1:])
            occurred_at = datetime.fromisoformat(found["ce_time"].replace("Z", "+00:00"))
        except (ValueError, TypeError) as error:
            raise MalformedMessage(f"unreadable value or time: {type(error).__name__}") from None
        if not isinstance(payload, dict):
            raise MalformedMessage("the value is not a JSON object")
        metadata = {
            key: found[header]
            for key, header in (
                ("correlation_id", "ce_correlationid"),
                ("causation_id", "ce_causationid"),
                ("actor", "ce_actor"),
                ("traceparent", "traceparent"),
            )
            if found.get(header)
        }
        position = found.get("ce_position")
        stream_version = found.get("ce_streamversion")
        return cls(
            event_id=found["ce_id"],
            event_type=parts[2],
            version=version,
            source=parts[1],
            stream_id=found["ce_subject"],
            tenant=found["ce_tenant"],
            occurred_at=occurred_at,
            payload=payload,
            metadata=metadata,
            position=int(position) if position else None,
            stream_version=int(stream_version) if stream_version else None,
        )


class MalformedMessage(ValueError):
    pass
