"""Coding's Prometheus metrics. Labels are edit ids and outcomes: never codes or patient data."""

from __future__ import annotations

from prometheus_client import Counter

EDIT_FINDINGS = Counter(
    "billing_coding_edit_findings_total",
    "Findings of the coding edits",
    ["edit_id", "severity", "outcome"],  # outcome: rejected (422) or stored (a warning kept)
)
CODINGS = Counter("billing_coding_codings_total", "Codings stored", ["event_type"])
