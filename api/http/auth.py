"""Bearer tokens: issued once, stored only as SHA-256 hashes in the ledger's database; roles."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from domain.base import Actor, Role
from domain.identifiers import check_uscc
from ledger_store.eventstore.database import LedgerDatabase

TABLE: Final = "api_tokens"
PREFIX: Final = "epl_"
TOKEN_ROLES: Final = (Role.ENTERPRISE, Role.WINDOW, Role.HOTLINE, Role.AUDITOR, Role.ADMIN)
_COLUMNS: Final = "token_id, principal, role, uscc, name, created_at, revoked_at"


class TokenError(ValueError):
    """A token cannot be issued as asked (a role or USCC that does not fit)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid token speaks for: its principal id, role and (for enterprises) USCC."""

    token_id: str
    principal_id: str
    role: Role
    uscc: str | None = None

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
    """The `api_tokens` table of the ledger's database."""

    def __init__(self, database: LedgerDatabase) -> None:
        self.database = database
        self.table = database.table(TABLE)

    def issue(
        self, role: Role | str, *, uscc: str | None = None, name: str | None = None
    ) -> IssuedToken:
        """Store a new token's hash and return the token (shown once, never again)."""
        role = _token_role(role)
        if role is Role.ENTERPRISE:
            if not uscc:
                raise TokenError("an enterprise token needs --enterprise USCC")
            try:
                uscc = check_uscc(uscc)
            except ValueError as error:
                raise TokenError(f"--enterprise: {error}") from None
        elif uscc:
            raise TokenError("only enterprise tokens are bound to a USCC")
        token_id = "tok_" + secrets.token_hex(6)
        token = PREFIX + secrets.token_urlsafe(32)
        label = (name or "").strip() or (
            f"enterprise:{uscc}" if role is Role.ENTERPRISE else f"{role.value}:{token_id}"
        )
        if len(label) > 100 or not label.isprintable():
            raise TokenError("a token name is at most 100 printable characters")
        now = datetime.now(UTC)
        record = TokenRecord(token_id, label, role, uscc, label, now, None)
        with self.database.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} (token_hash, token_id, principal, role, uscc, name, "
                "created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                (hash_token(token), token_id, label, role.value, uscc, label, now.isoformat()),
            )
        return IssuedToken(token, record)

    def principal(self, token: str) -> Principal | None:
        """The principal of a valid (known, unrevoked) token, or None."""
        if not looks_like_token(token):
            return None
        with self.database.transaction() as cursor:
            row = cursor.execute(
                f"SELECT token_id, principal, role, uscc FROM {self.table} "
                "WHERE token_hash = ? AND revoked_at IS NULL",
                (hash_token(token),),
            ).fetchone()
        if row is None:
            return None
        return Principal(str(row[0]), str(row[1]), Role(row[2]), row[3])

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

    def revoke(self, token_id: str) -> TokenRecord | None:
        """Revoke a token by id; the record as it is now, or None when there is no such token."""
        now = datetime.now(UTC).isoformat()
        with self.database.transaction() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                (now, token_id),
            )
            row = cursor.execute(
                f"SELECT {_COLUMNS} FROM {self.table} WHERE token_id = ?", (token_id,)
            ).fetchone()
        return None if row is None else _record(row)


def _token_role(role: Role | str) -> Role:
    try:
        value = Role(role)
    except ValueError:
        value = None
    if value not in TOKEN_ROLES:
        allowed = ", ".join(r.value for r in TOKEN_ROLES)
        raise TokenError(f"role {role!r} is not one of {allowed}")
    assert value is not None
    return value


def _record(row: tuple[object, ...]) -> TokenRecord:
    token_id, principal, role, uscc, name, created, revoked = row
    return TokenRecord(
        str(token_id),
        str(principal),
        Role(str(role)),
        None if uscc is None else str(uscc),
        str(name),
        datetime.fromisoformat(str(created)),
        None if revoked is None else datetime.fromisoformat(str(revoked)),
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
        if hit is not None and hit[0] > time.monotonic():
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


class FailedAuthLimiter:
    """Counts failed authentications per client address; too many in a minute means 429."""

    def __init__(self, per_minute: int, window: float = 60.0, max_clients: int = 100_000) -> None:
        self.per_minute = per_minute
        self.window = window
        self.max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int | None:
        """Seconds the client must wait before trying again, or None when it may try now."""
        now = time.monotonic()
        with self._lock:
            failures = self._failures.get(client)
            if not failures:
                return None
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if len(failures) < self.per_minute:
                return None
            return max(1, int(failures[0] + self.window - now) + 1)

    def failed(self, client: str) -> None:
        """Record one failed authentication of the client."""
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= self.max_clients:
                self._failures.clear()
            failures = self._failures.setdefault(client, deque())
            failures.append(now)
            while len(failures) > self.per_minute:
                failures.popleft()
