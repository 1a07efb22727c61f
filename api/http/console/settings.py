"""Settings of the staff console (EPORT_CONSOLE_*): sessions, cookies, OpenID Connect."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    """How the console at /ui signs people in and keeps their sessions."""

    model_config = SettingsConfigDict(env_prefix="EPORT_CONSOLE_", extra="ignore")

    enabled: bool = Field(default=True, description="serve the staff console at /ui")
    idle_minutes: float = Field(
        default=30.0, gt=0, le=24 * 60, description="a session unused this long is signed out"
    )
    max_hours: float = Field(
        default=12.0, gt=0, le=7 * 24, description="a session ends this long after sign-in"
    )
    secure_cookies: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Secure cookies: auto = when the request came over https (behind TLS)",
    )
    oidc_issuer: str | None = Field(
        default=None, description="the OpenID Connect issuer URL; staff SSO is off without it"
    )
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid profile"
    oidc_role_claim: str = Field(
        default="eport_role", description="the ID-token claim naming the person's console role"
    )
    oidc_redirect_url: str | None = Field(
        default=None,
        description="the callback URL registered with the issuer (default: this server's "
        "/ui/login/oidc/callback as the browser reached it)",
    )
    oidc_auto_provision: bool = Field(
        default=False,
        description="create a staff account for an unknown person whose ID token names a "
        "window, hotline or auditor role (off: only provisioned people sign in)",
    )
    oidc_label: str = Field(default="统一身份认证", description="the SSO button's label")

    @property
    def oidc_enabled(self) -> bool:
        """Whether single sign-on is configured."""
        return bool(self.oidc_issuer and self.oidc_client_id)
