"""Ids the claims service derives, so that a replayed event can never create a second claim."""

from __future__ import annotations

import hashlib
import uuid

# Fixed forever: changing it would give every invoice a second claim id.
CLAIMS_NAMESPACE = uuid.UUID("8f0d7a52-31c4-4c8e-9a57-6f1b2d3c4e5a")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def claim_id_for(tenant: str, invoice_id: str) -> str:
    return str(uuid.uuid5(CLAIMS_NAMESPACE, f"claim\x1f{tenant}\x1f{invoice_id}"))


def base32(value: int, width: int) -> str:
    digits = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        digits.append(_CROCKFORD[digit])
    return "".join(reversed(digits))


def patient_control_number_for(claim_id: str) -> str:
    """CLM01: 16 Crockford base-32 characters of the claim id's hash (X12 allows 38; payers often 20).

    80 bits make a collision between two claims of the service practically impossible, and the
    claims table's unique index would refuse one rather than send two claims under one number.
    """
    digest = hashlib.sha256(claim_id.encode()).digest()
    return base32(int.from_bytes(digest[:10], "big"), 16)


def line_control_number(patient_control_number: str, line_number: int) -> str:
    """REF*6R: the payer echoes it on the remittance line, so each paid line finds its service line."""
    return f"{patient_control_number}-{line_number}"


def remittance_id_for(tenant: str, payer_key: str, trace_number: str) -> str:
    """One remittance per payer and check/EFT trace number (TRN02): the same 835 twice is one stream."""
    return str(uuid.uuid5(CLAIMS_NAMESPACE, f"remittance\x1f{tenant}\x1f{payer_key}\x1f{trace_number}"))
