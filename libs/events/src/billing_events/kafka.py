"""Kafka client options and topic management shared by the relay and the consumers."""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from billing_events.contracts.base import registered, topic_name

log = logging.getLogger(__name__)

DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None
    # Tests give each test topics of its own; production leaves this empty.
    topic_prefix: str = ""
    partitions: int = 3
    replication_factor: int = 1

    def client_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = ssl.create_default_context(cafile=self.ssl_cafile)
        if self.sasl_mechanism:
            options.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password,
            )
        return options

    def topic(self, service: str, aggregate: str) -> str:
        return topic_name(service, aggregate, self.topic_prefix)


def service_topics(service: str) -> list[tuple[str, str]]:
    """(service, aggregate) pairs of every topic a service publishes to."""
    return sorted({(c.service, c.aggregate) for c in registered().values() if c.service == service})


def all_topics() -> list[tuple[str, str]]:
    return sorted({(c.service, c.aggregate) for c in registered().values()})


def topics_carrying(event_types: Iterable[str]) -> list[tuple[str, str]]:
    """(service, aggregate) of the topics on which these event types are published: a consumer reads
    those and no others (every record of a topic read costs a fetch and a delivery, handled or not)."""
    wanted = set(event_types)
    return sorted({(c.service, c.aggregate) for c in registered().values() if c.event_type in wanted})


async def ensure_topics(settings: KafkaSettings, names: list[str]) -> None:
    """Create topics with infinite retention and no compaction: the log is the audit trail."""
    if not names:
        return
    admin = AIOKafkaAdminClient(**settings.client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if not missing:
            return
        topics = [
            NewTopic(
                name,
                num_partitions=settings.partitions,
                replication_factor=settings.replication_factor,
                topic_configs={"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"},
            )
            for name in missing
        ]
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(topics)
    finally:
        await admin.close()
