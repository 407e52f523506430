"""Every event contract of the platform. Importing this package needs only pydantic."""

from billing_events.contracts import claims, coding, finance, invoicing, registration
from billing_events.contracts.base import (
    Event,
    Sealed,
    UnknownEventType,
    contract,
    latest,
    registered,
    topic_name,
)

__all__ = [
    "Event",
    "Sealed",
    "UnknownEventType",
    "claims",
    "coding",
    "contract",
    "finance",
    "invoicing",
    "latest",
    "registered",
    "registration",
    "topic_name",
]
