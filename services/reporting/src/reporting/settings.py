"""The reporting service's own settings (the shared ones are billing_service.settings.ServiceSettings)."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReportingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", env_file=None, extra="ignore")

    # The calendar the reports count days in: an event recorded at 23:30 in New York belongs to that
    # day there, not to the next UTC day. One zone per deployment (per hospital network).
    timezone: str = "UTC"
    # The trailing window of the KPIs (HFMA averages daily revenue over three months).
    kpi_window_days: int = Field(default=90, ge=1, le=3660)
    # Every report reads its tenant's facts up to its day into memory; past this many rows (about
    # 1 KiB each once read) the request is refused with 422 instead of growing the pod without bound.
    max_facts: int = Field(default=200_000, ge=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache(maxsize=1)
def reporting_settings() -> ReportingSettings:
    return ReportingSettings()
