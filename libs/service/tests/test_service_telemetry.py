"""Tracing with nowhere to send spans records none, and the trace context still flows: a request's
trace id reaches the events it causes. In a child process: the tracer provider is process-global."""

from __future__ import annotations

import json
import os
import subprocess
import sys

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PROBE = f"""
import json
from opentelemetry import trace
from opentelemetry.propagate import extract
from billing_service.commands import current_traceparent
from billing_service.telemetry import configure_tracing

configure_tracing("probe")
parent = extract({{"traceparent": "00-{TRACE_ID}-b7ad6b7169203331-01"}})
with trace.get_tracer("probe").start_as_current_span("request", context=parent) as span:
    print(json.dumps({{"recording": span.is_recording(), "traceparent": current_traceparent()}}))
"""


def probe(**environment: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")} | environment
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return dict(json.loads(result.stdout.splitlines()[0]))  # the console exporter prints after


def test_without_an_exporter_no_span_is_recorded_and_the_trace_id_still_flows() -> None:
    seen = probe()
    assert seen["recording"] is False
    assert str(seen["traceparent"]).split("-")[1] == TRACE_ID


def test_with_an_exporter_spans_are_recorded() -> None:
    seen = probe(OTEL_TRACES_EXPORTER="console")
    assert seen["recording"] is True
    assert str(seen["traceparent"]).split("-")[1] == TRACE_ID
