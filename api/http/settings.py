"""Settings of the HTTP service (EPORT_API_*), beside the ledger's own (EPORT_*)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.http.client_address import Network, parse_networks

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ApiSettings(BaseSettings):
    """How the API serves: views, checkpoints, waits, token cache, abuse limits, proxies, logs."""

    model_config = SettingsConfigDict(env_prefix="EPORT_API_", extra="ignore")

    views: Literal["inprocess", "worker"] = Field(
        default="inprocess",
        description="inprocess: this process keeps the views; worker: `eport-ledger worker` does",
    )
    checkpoints: bool = Field(
        default=True, description="sign checkpoints in the background (every N events / T s)"
    )
    query_wait_seconds: float = Field(
        default=5.0, gt=0, le=60, description="how long a query waits for `min_position`"
    )
    token_cache_seconds: float = Field(
        default=5.0, ge=0, le=300, description="how long a checked token is trusted in memory"
    )
    auth_failures_per_minute: int = Field(
        default=30,
        ge=1,
        description="failed authentications per client IP before 429 (valid tokens still pass)",
    )
    principal_requests_per_second: float = Field(
        default=50.0,
        ge=0,
        description="requests per second one token or console session may keep up; 0: no limit",
    )
    principal_burst: int = Field(
        default=200, ge=1, description="requests one principal may send at once before 429"
    )
    trusted_proxies: str = Field(
        default="",
        description="addresses or networks (comma-separated) whose X-Forwarded-For is believed",
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="larger request bodies are refused with 413"
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    log_json: bool = Field(default=True, description="structured JSON logs on stderr")
    tracing: bool = Field(
        default=False,
        description="OpenTelemetry spans of requests and SQL, trace ids in logs (the otel extra)",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, text: str) -> str:
        return ", ".join(str(network) for network in parse_networks(text))

    @property
    def proxy_networks(self) -> tuple[Network, ...]:
        """The trusted proxies (none by default: the socket's peer is the client)."""
        return parse_networks(self.trusted_proxies)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        if level.upper() not in LOG_LEVELS:
            raise ValueError(f"not a log level; use one of {', '.join(LOG_LEVELS)}")
        return level.upper()
