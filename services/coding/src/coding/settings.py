"""Coding's own settings, read once from the environment (CODING_*), beside the shared ServiceSettings."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGED_REFERENCE_DIR = Path(__file__).resolve().parent / "reference_data"


class CodingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CODING_", env_file=None, extra="ignore")

    # The folder of imported CMS files (see `python -m coding.entrypoints.codesets --help`). The default
    # is the small demo set shipped with the service: MCE lists, modifiers, and illustrative HCPCS,
    # NCCI PTP and MUE tables.
    reference_dir: Path = PACKAGED_REFERENCE_DIR
    # The April 2026 ICD-10-CM release bundled in the simple-icd-10-cm package. A release file in
    # reference_dir/icd10cm/ with the same effective date replaces it.
    bundled_icd10cm: bool = True
    # Build the code sets and the search index while the API starts, so the first coder does not wait.
    warm_on_start: bool = True
