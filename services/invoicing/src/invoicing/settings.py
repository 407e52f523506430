"""The invoicing service's own settings, read once from the environment."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class InvoicingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    # How often the statement run (first statements, 30/60/90-day reminders, cycles ended) visits
    # every tenant's patients. It is idempotent per cycle, so a restart running it again is harmless.
    statement_run_interval_seconds: float = 6 * 3600
