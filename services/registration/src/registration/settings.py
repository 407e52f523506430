"""Registration's own settings (the shared ones are billing_service.settings.ServiceSettings)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RegistrationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRATION_", env_file=None, extra="ignore")

    # The HL7 v2 MLLP listener for interface engines: off unless a port is given. MLLP carries no
    # credentials, so one listener serves one tenant, named here, and belongs behind the network
    # boundary the hospital's interface engine shares with the platform (VPN or TLS tunnel).
    hl7_mllp_port: int | None = Field(default=None, ge=0, le=65535)
    hl7_mllp_host: str = "127.0.0.1"
    hl7_tenant: str | None = None
    # The actor recorded on the events an MLLP message causes.
    hl7_actor: str = "hl7-interface"
    # How long after a patient's last service date their records are held against forgetting
    # (REGISTRATION_PATIENT_RETENTION_DAYS): six years by default, as HIPAA keeps documentation; a
    # state's medical-record law may ask more. A legal order overrides it.
    patient_retention_days: int = Field(default=6 * 365, ge=0)
    # Opening an encounter checks eligibility of each coverage in force on its date that has no
    # answer (nor a pending check) from the last this many days
    # (REGISTRATION_ELIGIBILITY_CHECK_ON_ENCOUNTER_DAYS); unset, encounters check nothing.
    eligibility_check_on_encounter_days: int | None = Field(default=None, ge=0, le=3650)


@lru_cache(maxsize=1)
def registration_settings() -> RegistrationSettings:
    return RegistrationSettings()
