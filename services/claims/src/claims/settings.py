"""The claims service's own settings, read once from the environment."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class ClaimsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    # The folder exchange with the clearinghouse (env CLEARINGHOUSE_DIR).
    clearinghouse_dir: str = ".cache/clearinghouse"
    # Short enough that a claim leaves within about a second of being ready; files stay batched per
    # payer within that window.
    submission_interval_seconds: float = 1.0
    inbound_poll_seconds: float = 1.0
    max_claims_per_file: int = 500
    # ISA15: P in production, T for test exchanges.
    x12_usage: Literal["P", "T"] = "P"
    # 1000A: who sends the files. The submitter id (ETIN) defaults to one derived from the tenant.
    submitter_name: str = "BILLING PLATFORM"
    submitter_contact_name: str = "BILLING OFFICE"
    submitter_phone: str = "8005550100"
    submitter_id: str | None = None
    # A crossover (the payer forwarded the claim to the next payer itself) whose next payer has not
    # answered after this many days is listed for a biller (GET /crossovers/overdue).
    crossover_wait_days: int = 30
    # An eligibility inquiry whose coverage, patient, payer or provider has not reached this service
    # after this long is answered with an error rather than left pending.
    eligibility_reference_wait_seconds: float = 600.0
