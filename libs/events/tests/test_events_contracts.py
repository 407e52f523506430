"""Contracts: registry, upcasting, JSON Schemas and the check that protects consumers."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from billing_events.contracts import registered
from billing_events.contracts.registration import PayerRegistered
from billing_events.contracts.schemas import SCHEMA_DIR, breaking_changes, check
from billing_events.envelope import EventEnvelope, MalformedMessage, upcast


def test_every_event_type_of_the_catalogue_is_registered() -> None:
    names = {event_type for event_type, _ in registered()}
    catalogue = {
        "PatientRegistered", "PatientDemographicsUpdated", "CoverageAdded", "CoverageTerminated",
        "ProviderEnrolled", "PayerRegistered", "EncounterOpened", "EncounterCoded", "EncounterRecoded",
        "FeeScheduleImported", "InvoiceIssued", "InvoiceVoided", "InsurancePaymentPosted",
        "PatientStatementIssued", "PatientPaymentReceived", "InvoiceSettled", "ClaimCreated",
        "ClaimScrubFailed", "ClaimSubmitted", "ClaimAcknowledged", "ClaimRejected", "RemittanceReceived",
        "ClaimAdjudicated", "ClaimResubmitted",
    }  # fmt: skip
    assert catalogue <= names


def test_contracts_import_with_nothing_but_pydantic() -> None:
    blocked = "; ".join(
        f"sys.modules[{m!r}] = None" for m in ("asyncpg", "aiokafka", "faststream", "cryptography")
    )
    code = f"import sys; {blocked}; import billing_events.contracts as c; print(len(c.registered()))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 24


def test_checked_in_schemas_match_the_contracts() -> None:
    assert check() == [], "run: python -m billing_events.contracts.schemas --write"
    assert (SCHEMA_DIR / "claims" / "ClaimAdjudicated.v1.json").exists()


PUBLISHED: dict[str, Any] = {
    "properties": {
        "id": {"type": "string"},
        "amount_cents": {"type": "integer"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["id", "amount_cents"],
}


def changed(**edits: Any) -> dict[str, Any]:
    properties: dict[str, Any] = dict(PUBLISHED["properties"])
    for name, value in edits.items():
        if value is None:
            properties.pop(name)
        else:
            properties[name] = value
    return {"properties": properties, "required": list(PUBLISHED["required"])}


def test_removing_a_field_breaks_consumers() -> None:
    assert breaking_changes(PUBLISHED, changed(note=None)) == ["note: removed"]


def test_retyping_a_field_breaks_consumers() -> None:
    assert breaking_changes(PUBLISHED, changed(amount_cents={"type": "string"})) == [
        "amount_cents: type ['integer'] became ['string']"
    ]


def test_making_a_field_required_breaks_producers_of_old_payloads() -> None:
    schema = changed()
    schema["required"].append("note")
    assert breaking_changes(PUBLISHED, schema) == ["note: newly required"]


def test_adding_an_optional_field_is_compatible() -> None:
    assert breaking_changes(PUBLISHED, changed(extra={"type": "string"})) == []


def test_an_old_version_is_upcast_to_the_current_contract_on_read() -> None:
    from billing_events.envelope import _UPCASTERS

    def v0_to_v1(payload: dict[str, Any]) -> dict[str, Any]:
        renamed = dict(payload)
        renamed["edi_payer_id"] = renamed.pop("payer_code")
        return renamed

    _UPCASTERS[("PayerRegistered", 0)] = v0_to_v1
    try:
        old = {"payer_id": "p1", "name": "Acme", "payer_code": "12345", "claim_filing_indicator": "CI"}
        assert upcast("PayerRegistered", 0, old) == (1, {**v0_to_v1(old)})
        envelope = EventEnvelope(
            event_id="e1",
            event_type="PayerRegistered",
            version=0,
            source="registration",
            stream_id="p1",
            tenant="acme",
            occurred_at=datetime.now(UTC),
            payload=old,
        )
        event = envelope.event()
    finally:
        del _UPCASTERS[("PayerRegistered", 0)]
    assert isinstance(event, PayerRegistered)
    assert event.edi_payer_id == "12345"


def test_headers_round_trip_in_cloudevents_binary_mode() -> None:
    envelope = EventEnvelope(
        event_id="e1",
        event_type="PayerRegistered",
        version=1,
        source="registration",
        stream_id="p1",
        tenant="acme",
        occurred_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        payload={"payer_id": "p1", "name": "Acme", "edi_payer_id": "1", "claim_filing_indicator": "CI"},
        metadata={"actor": "u1", "correlation_id": "c1", "causation_id": "e0", "traceparent": "00-ab-cd-01"},
        position=7,
        stream_version=1,
    )
    parsed = EventEnvelope.from_kafka(envelope.headers(), envelope.value())
    assert parsed == envelope
    assert dict(envelope.headers())["ce_time"] == b"2026-05-01T12:00:00Z"
    assert envelope.topic("x.") == "x.billing.registration.payer"


@pytest.mark.parametrize(
    ("headers", "value", "reason"),
    [
        ([], b"{}", "missing CloudEvents headers"),
        (
            [(k, b"x") for k in ("ce_id", "ce_source", "ce_subject", "ce_time", "ce_tenant")]
            + [("ce_type", b"something.else")],
            b"{}",
            "ce_type is not",
        ),
        (
            [(k, b"x") for k in ("ce_id", "ce_source", "ce_subject", "ce_tenant")]
            + [("ce_type", b"billing.registration.PayerRegistered.v1"), ("ce_time", b"2026-01-01T00:00:00Z")],
            b"[1, 2]",
            "not a JSON object",
        ),
    ],
)
def test_a_malformed_record_is_refused_with_the_reason(
    headers: list[tuple[str, bytes]], value: bytes, reason: str
) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        EventEnvelope.from_kafka(headers, value)
