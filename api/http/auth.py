"""Bearer tokens: issued once, stored only as SHA-256 hashes in the ledger's database; roles.

Every grant and revocation is also recorded in the ledger (ApiTokenGranted, ApiTokenRevoked),
in the transaction that writes the token table, so the table never says what the ledger does not.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from api.http.token_rows import token_insert, token_revocation
from domain.aggregate_ids import api_token_id
from domain.api_token import decisions as token_decisions
from domain.api_token.state import ApiToken
from domain.base import Actor, CommandContext, ConflictError, Role
from domain.identifiers import check_uscc
from ledger_store.eventstore.store import EventStore

TABLE: Final = "api_tokens"
PREFIX: Final = "epl_"
TOKEN_ROLES: Final = (Role.ENTERPRISE, Role.WINDOW, Role.HOTLINE, Role.AUDITOR, Role.ADMIN)
_COLUMNS: Final = "token_id, principal, role, uscc, name, created_at, revoked_at, expires_at"
SERVER: Final = Actor(principal_id="eport-ledger", role=Role.SYSTEM)
"""Who grants a token the server issues by itself (the first admin token of a new ledger)."""


class TokenError(ValueError):
    """A token cannot be issued as asked (a role, USCC, name or expiry that does not fit)."""

    def __init__(self, message: str, field: str = "enterprise") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid token speaks for: its principal id, role and (for enterprises) USCC."""

    token_id: str
    principal_id: str
    role: Role
    uscc: str | None = None
    expires_at: datetime | None = None

    @property
    def principal_key(self) -> str:
        """What a request limit counts for: the token (the console: its staff member)."""
        return f"{self.token_id}/{self.principal_id}"

    def expired(self, now: datetime) -> bool:
        """Whether the token has stopped working by itself."""
        return self.expires_at is not None and self.expires_at <= now

    @property
    def actor(self) -> Actor:
        """The actor recorded in every event this principal causes."""
        return Actor(principal_id=self.principal_id, role=self.role, token_id=self.token_id)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A stored token without its secret (the secret is never stored)."""

    token_id: str
    principal_id: str
    role: Role
    uscc: str | None
    name: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None

    def status(self, now: datetime) -> str:
        """`active`, `expired` or `revoked`."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly issued token: the only moment its secret exists outside the client."""

    token: str
    record: TokenRecord


def hash_token(token: str) -> str:
    """The stored form of a token: hex SHA-256 (tokens carry 256 random bits, so no salt)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(token: str) -> bool:
    """Whether a string has the shape of one of our tokens (cheap check before any lookup)."""
    return token.startswith(PREFIX) and 20 <= len(token) <= 100 and token.isascii()


class TokenStore:
    """The `api_tokens` table of the ledger's database, and the grants and revocations in the
    ledger itself."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.database = store.database
        self.table = self.database.table(TABLE)

    def issue(
        self,
        role: Role | str,
        *,
        uscc: str | None = None,
        name: str | None = None,
        expires_at: datetime | None = None,
        by: Actor = SERVER,
        request_id: str | None = None,
    ) -> IssuedToken:
        """Store a new token's hash, record its grant; the token (shown once, never again)."""
        role = _token_role(role)
        try:
            uscc = enterprise_binding(role, uscc, "token")
        except ValueError as error:
            raise TokenError(str(error)) from None
        now = datetime.now(UTC)
        if expires_at is not None and expires_at.astimezone(UTC) <= now:
            raise TokenError("a token must expire in the future", "expires_at")
        token_id = "tok_" + secrets.token_hex(6)
        token = PREFIX + secrets.token_urlsafe(32)
        label = (name or "").strip() or (
            f"enterprise:{uscc}" if role is Role.ENTERPRISE else f"{role.value}:{token_id}"
        )
        if len(label) > 100 or not label.isprintable():
            raise TokenError("a token name is at most 100 printable characters", "name")
        ctx = CommandContext(actor=by, at=now, request_id=request_id)
        expires = None if expires_at is None else expires_at.astimezone(UTC)
        events = token_decisions.grant(ctx, token_id, label, role, uscc, expires)
        record = TokenRecord(token_id, label, role, uscc, label, now, None, expires)
        row = (token_id, label, role.value, uscc, label, now.isoformat(), _iso(expires))
        self.store.record(events, [token_insert(self.table, hash_token(token), row)])
        return IssuedToken(token, record)

    def principal(self, token: str) -> Principal | None:
        """The principal of a valid (known, unrevoked, unexpired) token, or None."""
        if not looks_like_token(token):
            return None
        with self.database.transaction() as cursor:
            row = cursor.execute(
                f"SELECT token_id, principal, role, uscc, expires_at FROM {self.table} "
                "WHERE token_hash = ? AND revoked_at IS NULL",
                (hash_token(token),),
            ).fetchone()
        if row is None:
            return None
        expires = None if row[4] is None else datetime.fromisoformat(str(row[4]))
        principal = Principal(str(row[0]), str(row[1]), Role(row[2]), row[3], expires)
        return None if principal.expired(datetime.now(UTC)) else principal

    def records(self) -> list[TokenRecord]:
        """Every token ever issued, oldest first (no secrets: they are not stored)."""
        with self.database.transaction() as cursor:
            rows = cursor.execute(
                f"SELECT {_COLUMNS} FROM {self.table} ORDER BY created_at, token_id"
            ).fetchall()
        return [_record(row) for row in rows]

    def count(self) -> int:
        """How many tokens exist (revoked ones included)."""
        with self.database.transaction() as cursor:
            row = cursor.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()
        return int(row[0]) if row else 0

    def record_of(self, token_id: str) -> TokenRecord | None:
        """One token by id, or None."""
        with self.database.transaction() as cursor:
            row = cursor.execute(
                f"SELECT {_COLUMNS} FROM {self.table} WHERE token_id = ?", (token_id,)
            ).fetchone()
        return None if row is None else _record(row)

    def revoke(
        self, token_id: str, *, by: Actor = SERVER, request_id: str | None = None
    ) -> TokenRecord | None:
        """Revoke a token by id and record it; the record as it is now, or None when there is
        no such token. Revoking a revoked token changes nothing."""
        record = self.record_of(token_id)
        if record is None or record.revoked_at is not None:
            return record
        now = datetime.now(UTC)
        ctx = CommandContext(actor=by, at=now, request_id=request_id)
        granted = self.store.find(ApiToken, api_token_id(token_id))
        events = token_decisions.revoke(granted, ctx, token_id)
        with suppress(ConflictError):  # revoked by someone else meanwhile: that stands
            self.store.record(events, [token_revocation(self.table, token_id, now)])
        return self.record_of(token_id)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def enterprise_binding(role: Role, uscc: str | None, what: str) -> str | None:
    """The USCC a token or staff account (`what`) of `role` is bound to: an enterprise's is
    required and checked, any other role's must be none (ValueError naming the problem)."""
    if role is not Role.ENTERPRISE:
        if uscc:
            raise ValueError(f"only enterprise {what}s are bound to a USCC")
        return None
    if not uscc:
        raise ValueError(f"an enterprise {what} needs --enterprise USCC")
    try:
        return check_uscc(uscc)
    except ValueError as error:
        raise ValueError(f"--enterprise: {error}") from None


def _token_role(role: Role | str) -> Role:
    try:
        value = Role(role)
    except ValueError:
        value = None
    if value not in TOKEN_ROLES:
        allowed = ", ".join(r.value for r in TOKEN_ROLES)
        raise TokenError(f"role {role!r} is not one of {allowed}", "role")
    assert value is not None
    return value


def _record(row: tuple[object, ...]) -> TokenRecord:
    token_id, principal, role, uscc, name, created, revoked, expires = row
    return TokenRecord(
        str(token_id),
        str(principal),
        Role(str(role)),
        None if uscc is None else str(uscc),
        str(name),
        datetime.fromisoformat(str(created)),
        None if revoked is None else datetime.fromisoformat(str(revoked)),
        None if expires is None else datetime.fromisoformat(str(expires)),
    )


class TokenCache:
    """Checked tokens trusted for a few seconds, so a request costs no token query."""

    def __init__(self, store: TokenStore, ttl: float, max_entries: int = 10_000) -> None:
        self.store = store
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def cached(self, token: str) -> Principal | None:
        """The token's principal if it was checked within the TTL (no database read)."""
        hit = self._entries.get(hash_token(token))
        if hit is not None and hit[0] > time.monotonic() and not hit[1].expired(datetime.now(UTC)):
            return hit[1]
        return None

    def principal(self, token: str) -> Principal | None:
        """The token's principal (cached when valid; unknown tokens are never cached)."""
        if (hit := self.cached(token)) is not None:
            return hit
        key = hash_token(token)
        now = time.monotonic()
        principal = self.store.principal(token)
        if principal is not None and self.ttl > 0:
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._entries[key] = (now + self.ttl, principal)
        return principal

    def forget(self, token_id: str) -> None:
        """Drop a revoked token at once (other processes drop it within the TTL)."""
        with self._lock:
            for key, (_, principal) in list(self._entries.items()):
                if principal.token_id == token_id:
                    del self._entries[key]
