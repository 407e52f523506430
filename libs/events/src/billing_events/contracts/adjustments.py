"""Payer adjustments (X12 CAS), shared by claims' and invoicing's events."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

# CAS01 claim adjustment group codes; 5010 remittances use OA ("other adjustments").
AdjustmentGroup = Literal["CO", "PR", "OI", "PI", "CR", "OA"]


class CasAdjustment(BaseModel):
    model_config = ConfigDict(frozen=True)

    group: AdjustmentGroup
    reason_code: str
    amount_cents: int
