"""The AsyncAPI 3.0 document of a service: the topics it publishes and consumes, with the JSON Schema
of every message, generated from the contracts so it cannot drift from them."""

from __future__ import annotations

from typing import Any

from billing_events.consumer import Subscription
from billing_events.contracts.base import registered, topic_name
from billing_events.contracts.schemas import schema_of


def asyncapi_document(service: str, title: str, subscriptions: list[Subscription]) -> dict[str, Any]:
    published = {(c.service, c.aggregate) for c in registered().values() if c.service == service}
    consumed = {pair for s in subscriptions for pair in s.topics}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for owner, aggregate in sorted(published | consumed):
        address = topic_name(owner, aggregate)
        channel_id = address.replace(".", "_").replace("-", "_")
        contracts = sorted(
            (c for c in registered().values() if (c.service, c.aggregate) == (owner, aggregate)),
            key=lambda c: (c.event_type, c.version),
        )
        messages = {}
        for contract in contracts:
            message_id = f"{contract.event_type}_v{contract.version}"
            components[message_id] = {
                "name": contract.ce_type(),
                "contentType": "application/json",
                "payload": schema_of(contract),
                "headers": {"type": "object", "description": "CloudEvents 1.0 binary-mode headers (ce_*)"},
            }
            messages[message_id] = {"$ref": f"#/components/messages/{message_id}"}
        channels[channel_id] = {"address": address, "messages": messages}
        if (owner, aggregate) in published:
            operations[f"publish_{channel_id}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{channel_id}"},
            }
        if (owner, aggregate) in consumed:
            operations[f"consume_{channel_id}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel_id}"},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": title, "version": "1.0.0"},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": components},
    }
