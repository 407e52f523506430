"""Settings every service reads once from the environment (12-factor)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[4]


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    service_name: str = "billing"
    database_url: str = "postgresql://billing:billing@127.0.0.1:15432/postgres"
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    kafka_ssl_cafile: str | None = None
    log_level: str = "INFO"
    # Development signing keys live here unless JWT_PRIVATE_KEY / JWT_PUBLIC_KEY are given.
    state_dir: Path = Field(default=REPO_ROOT / ".cache", alias="BILLING_STATE_DIR")
    jwt_public_key: str | None = None
    jwt_private_key: str | None = None
    # Development only: without explicit keys (JWT_PUBLIC_KEY / OIDC_JWKS_URL, PHI_MASTER_KEY) the
    # services refuse to start unless this is set; then they generate keys under BILLING_STATE_DIR.
    # `make run`, the tests, the compose file and `billing token` set it.
    development: bool = Field(default=False, alias="BILLING_DEVELOPMENT")
    jwt_issuer: str = "billing-dev"
    jwt_audience: str = "billing"
    oidc_jwks_url: str | None = None
    # base64 of 32 random bytes; wraps the per-patient data keys. Required outside development.
    phi_master_key: str | None = None
    # During a master-key rotation: the previous master key(s), comma-separated, still opening the data
    # keys `billing rotate-master-key` has not re-wrapped yet. Removed once it finished.
    phi_previous_master_keys: str | None = None
    # The blind index's own key (MRN lookups); without it the index derives from PHI_MASTER_KEY. Set it
    # to the old master key before rotating the master key, so that every stored index stays valid.
    phi_blind_index_key: str | None = None
    # The version of that key, stored in front of each index it makes (1: the bare digest), and the
    # keys of earlier versions, still searched: "1:<base64>,2:<base64>". A blind-index key rotation
    # sets a new key with the next version and moves the old one here; stored indexes stay valid.
    phi_blind_index_key_version: int = 1
    phi_previous_blind_index_keys: str | None = None
    phi_keys_database_url: str | None = None
    # Every request body is cut off past this size while it streams in (413), before any handler
    # buffers it; endpoints with smaller files check their own limit with http.read_body.
    max_request_bytes: int = Field(default=50 * 1024 * 1024, alias="BILLING_MAX_REQUEST_BYTES")
    # /metrics, /docs, /openapi.json and /asyncapi.json are for Prometheus and people inside the
    # cluster: a request that came through a proxy (the ingress adds X-Forwarded-For) gets 404 there.
    internal_paths_through_proxy: bool = Field(default=False, alias="BILLING_INTERNAL_PATHS_THROUGH_PROXY")
    metrics_port: int = 9100
    port: int | None = None
    http_host: str = "127.0.0.1"
    topic_prefix: str = Field(default="", alias="BILLING_TOPIC_PREFIX")
    kafka_topic_partitions: int = 3
    kafka_replication_factor: int = 1
    database_pool_size: int = 10
    # Local runs and tests create their databases; in production they are provisioned.
    create_databases: bool = Field(default=True, alias="BILLING_CREATE_DATABASES")
    # Local runs: the server's administrator URL (the CLI sets it from BILLING_DATABASE_SERVER_URL).
    # With BILLING_DATABASE_ROLES the service then provisions its own login role, owner of its
    # database and the only role that may connect to it, and runs as that role (least privilege;
    # in production the operator provisions the roles, see the chart's cnpg.rolePerService).
    database_server_url: str | None = Field(default=None, alias="BILLING_DATABASE_SERVER_URL")
    database_roles: bool = Field(default=False, alias="BILLING_DATABASE_ROLES")
