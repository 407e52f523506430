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
    # After a claim becomes due, the submission waits this long for the claims due with it (one file).
    submission_linger_seconds: float = 0.25
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

    # X12 files are read in worker processes (claims.adapters.x12_pool): a file not read within this
    # budget is refused (rejected/ with the reason, or 422), and the service goes on meanwhile.
    x12_read_budget_seconds: float = 600.0
    x12_read_workers: int = 2
    # X12 files hold PHI in clear: once sent, applied or refused, they are deleted after this many
    # hours (claims.adapters.file_retention; 0 = at the next pass). What the service needs of them
    # it keeps sealed in its database.
    x12_retention_hours: float = 168.0
    x12_retention_interval_seconds: float = 300.0
