"""Prometheus metrics of the event runtime. Labels are service, consumer and event type: never data."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS_APPENDED = Counter(
    "billing_events_appended_total", "Events appended to a log", ["service", "event_type"]
)
EVENTS_PUBLISHED = Counter("billing_events_published_total", "Events the broker confirmed", ["service"])
RELAY_LAG = Gauge(
    "billing_relay_lag_events", "Events appended but not yet confirmed by the broker", ["service"]
)
RELAY_LOG_BEHIND = Gauge(
    "billing_relay_log_behind_topics",
    "1 when the log lost events already published (the relay refuses to publish; alert on it)",
    ["service"],
)
EVENTS_CONSUMED = Counter(
    "billing_events_consumed_total", "Events a consumer processed", ["consumer", "event_type", "outcome"]
)
EVENTS_RETRIED = Counter(
    "billing_events_retried_total", "Processing attempts that failed and were retried", ["consumer"]
)
EVENTS_DEAD_LETTERED = Counter("billing_events_dead_lettered_total", "Messages sent to a DLQ", ["consumer"])
DEAD_LETTERS = Gauge(
    "billing_dead_letters", "Dead-lettered events waiting for a redrive (billing dlq list)", ["consumer"]
)
CONSUMER_LAG = Gauge(
    "billing_consumer_lag_messages", "Messages behind the partition end", ["consumer", "topic"]
)
