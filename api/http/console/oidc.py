"""Staff single sign-on: the OpenID Connect authorization-code flow (with PKCE) against the
configured issuer.

Discovery, the token request and the JWKS go to the issuer with httpx; the ID token is checked
with PyJWT (signature by a key of the issuer's JWKS, RS256 or ES256; issuer, audience, expiry,
issue time and the nonce of this sign-in). Nothing here decides who may sign in: the caller
maps the subject to a provisioned staff account and the role claim to its role.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

import httpx
import jwt

from api.http.console.settings import ConsoleSettings

ALGORITHMS: Final = ["RS256", "ES256"]
DISCOVERY_TTL: Final = 300.0
TIMEOUT: Final = 10.0


class SsoError(Exception):
    """The sign-in could not be completed (the issuer refused, or its answer did not check)."""


@dataclass(frozen=True, slots=True)
class Provider:
    """The issuer's endpoints, from its discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


def challenge(verifier: str) -> str:
    """The PKCE S256 code challenge of a verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcClient:
    """One relying party: this console at the configured issuer."""

    def __init__(self, settings: ConsoleSettings) -> None:
        if not settings.oidc_issuer or not settings.oidc_client_id:
            raise ValueError("EPORT_CONSOLE_OIDC_ISSUER and _CLIENT_ID are required for SSO")
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        secret = settings.oidc_client_secret
        self.client_secret = None if secret is None else secret.get_secret_value()
        self.scopes = settings.oidc_scopes
        self._provider: tuple[float, Provider] | None = None
        self._lock = threading.Lock()

    def provider(self) -> Provider:
        """The issuer's discovery document (cached for a few minutes)."""
        with self._lock:
            if self._provider is not None and self._provider[0] > time.monotonic():
                return self._provider[1]
        url = f"{self.issuer}/.well-known/openid-configuration"
        try:
            answer = httpx.get(url, timeout=TIMEOUT)
            answer.raise_for_status()
            document = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SsoError(f"the issuer's discovery document cannot be read: {error}") from None
        if str(document.get("issuer", "")).rstrip("/") != self.issuer:
            raise SsoError("the discovery document names another issuer")
        try:
            provider = Provider(
                issuer=str(document["issuer"]),
                authorization_endpoint=str(document["authorization_endpoint"]),
                token_endpoint=str(document["token_endpoint"]),
                jwks_uri=str(document["jwks_uri"]),
            )
        except KeyError as missing:
            raise SsoError(f"the discovery document lacks {missing}") from None
        with self._lock:
            self._provider = (time.monotonic() + DISCOVERY_TTL, provider)
        return provider

    def authorization_url(self, redirect_uri: str, state: str, nonce: str, verifier: str) -> str:
        """Where to send the browser to sign in."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        endpoint = self.provider().authorization_endpoint
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    def exchange(self, code: str, redirect_uri: str, verifier: str, nonce: str) -> dict[str, Any]:
        """Trade the code for tokens and return the checked ID token's claims."""
        provider = self.provider()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": self.client_id,
        }
        auth = None if self.client_secret is None else (self.client_id, self.client_secret)
        try:
            answer = httpx.post(provider.token_endpoint, data=form, auth=auth, timeout=TIMEOUT)
            tokens = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SsoError(f"the token request failed: {error}") from None
        if answer.status_code != 200 or not isinstance(tokens, dict):
            raise SsoError(f"the issuer refused the code ({answer.status_code})")
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise SsoError("the issuer answered without an ID token")
        return self.check_id_token(id_token, nonce)

    def check_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The claims of an ID token from this issuer, for this client and this sign-in."""
        provider = self.provider()
        try:
            jwks = httpx.get(provider.jwks_uri, timeout=TIMEOUT).json()
            keys = jwt.PyJWKSet.from_dict(jwks)
            kid = jwt.get_unverified_header(id_token).get("kid")
            candidates = [key for key in keys.keys if kid is None or key.key_id == kid]
            if not candidates:
                raise SsoError("no key of the issuer's JWKS signed the ID token")
            claims: dict[str, Any] = jwt.decode(
                id_token,
                candidates[0],
                algorithms=ALGORITHMS,
                audience=self.client_id,
                issuer=provider.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
                leeway=30,
            )
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as error:
            raise SsoError(f"the ID token does not check: {error}") from None
        if not claims.get("nonce") or claims.get("nonce") != nonce:
            raise SsoError("the ID token's nonce is not this sign-in's")
        audience = claims.get("aud")
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != self.client_id:
            raise SsoError("the ID token was issued to another party (azp)")
        return claims
