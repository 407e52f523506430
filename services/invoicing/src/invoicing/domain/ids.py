"""Deterministic ids: the same input event always names the same aggregate or posting, so a redelivered or
replayed event finds its effect already recorded instead of creating a second one."""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("6f1c9a52-3f0e-4d7e-9a53-2d1c7b8e4a10")


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def invoice_id(tenant: str, encounter_id: str, coding_version: int) -> str:
    return _uuid("invoice", tenant, encounter_id, str(coding_version))


def reassigned_invoice_id(tenant: str, encounter_id: str, coding_version: int, coverage_id: str) -> str:
    """The invoice that takes over a self-pay invoice when the patient's coverage arrives late."""
    return _uuid("invoice", tenant, encounter_id, str(coding_version), "coverage", coverage_id)


def fee_schedule_id(tenant: str, name: str) -> str:
    return _uuid("fee-schedule", tenant, name)


def institutional_invoice_id(tenant: str, encounter_id: str, bill_number: int) -> str:
    """A stay's bills: 1 the final bill, 2 onwards the late-charge or replacement bills after it."""
    return _uuid("institutional-invoice", tenant, encounter_id, str(bill_number))


def chargemaster_id(tenant: str) -> str:
    """One chargemaster per tenant (the network), in versions by effective date."""
    return _uuid("chargemaster", tenant)


def adjudication_id(
    invoice_id: str, claim_id: str, remittance_id: str, payer_claim_control_number: str, status_code: str
) -> str:
    # The status code is part of the identity: a payer's reversal (22) and its corrected payment (1)
    # arrive in the same remittance for the same claim.
    return _uuid("adjudication", invoice_id, claim_id, remittance_id, payer_claim_control_number, status_code)


def statement_id(tenant: str, invoice_id: str, cause: str) -> str:
    return _uuid("statement", tenant, invoice_id, cause)


def credit_id(scope: str, kind: str, sequence: int) -> str:
    """A credit movement: the `sequence`-th posting of an invoice, or the n-th use of an account's credit."""
    return _uuid("credit", scope, kind, str(sequence))


def account_event_id(tenant: str, patient_id: str, kind: str, *parts: str) -> str:
    """An account's statement, plan or refund named by what caused it."""
    return _uuid(kind, tenant, patient_id, *parts)


def payer_contract_id(tenant: str, payer_id: str) -> str:
    return _uuid("payer-contract", tenant, payer_id)


def financial_assistance_policy_id(tenant: str) -> str:
    # One policy per tenant (a hospital network), kept in versions by effective date.
    return _uuid("financial-assistance-policy", tenant)


def charity_write_off_id(application_id: str, invoice_id: str, charged_cents: int) -> str:
    # Named by the determination, the invoice and what the patient was charged on it: the same state
    # writes off once however often the policy runs; a later, higher charge gets its own write-off.
    return _uuid("charity-write-off", application_id, invoice_id, str(charged_cents))
