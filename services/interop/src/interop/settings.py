"""The interop service's own settings (the shared ones are billing_service.settings.ServiceSettings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class InteropSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTEROP_", env_file=None, extra="ignore")

    # Where Bulk Data NDJSON files are written; default: `<BILLING_STATE_DIR>/interop-exports`.
    export_dir: Path | None = None
    # Rows rendered per round trip of an export, and resources per NDJSON file before the next part.
    export_batch_size: int = Field(default=500, ge=1, le=10_000)
    export_file_resources: int = Field(default=100_000, ge=1)
    # An in-progress export that has not finished a batch for this long is reported failed (its
    # process ended: exports are not resumed).
    export_stall_seconds: int = Field(default=300, ge=1)
    # Bundle page size of searches without `_count`, and the largest `_count` honoured.
    page_size: int = Field(default=50, ge=1, le=1000)
    max_page_size: int = Field(default=500, ge=1, le=5000)


@lru_cache(maxsize=1)
def interop_settings() -> InteropSettings:
    return InteropSettings()
