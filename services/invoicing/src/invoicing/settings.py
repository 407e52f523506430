"""The invoicing service's own settings, read once from the environment (prefix INVOICING_)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from invoicing.domain.institutional_bill import LateChargeClaim


class InvoicingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INVOICING_", env_file=None, extra="ignore")

    # An institutional bill is final this many days after discharge, so that late charges still join
    # it (INVOICING_BILL_HOLD_DAYS; 0 bills at discharge).
    bill_hold_days: int = Field(default=0, ge=0, le=60)
    # Charges captured after the bill: a late-charge claim (frequency 5, the new lines only) or a
    # replacement claim (frequency 7, every line), per payer id (INVOICING_LATE_CHARGE_CLAIMS as JSON,
    # e.g. {"payer-uuid": "late_charge"}); payers not listed get the default.
    late_charge_claims: dict[str, LateChargeClaim] = Field(default_factory=dict)
    default_late_charge_claim: LateChargeClaim = "replacement"
    # How often the bill-hold worker looks for stays whose hold has passed.
    bill_release_interval_seconds: float = Field(default=60.0, gt=0)
    # How often the statement run (first statements, 30/60/90-day reminders, cycles ended) visits
    # every tenant's patients (INVOICING_STATEMENT_RUN_INTERVAL_SECONDS). It is idempotent per cycle,
    # so a restart running it again is harmless.
    statement_run_interval_seconds: float = Field(default=6 * 3600, gt=0)

    def late_charge_claim_for(self, payer_id: str | None) -> LateChargeClaim:
        return self.late_charge_claims.get(payer_id or "", self.default_late_charge_claim)


@lru_cache(maxsize=1)
def invoicing_settings() -> InvoicingSettings:
    return InvoicingSettings()
