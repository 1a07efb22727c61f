"""Server-side console sessions: a random id in an HttpOnly cookie, only its hash stored.

A session is created at sign-in — never taken over from a cookie the browser brought (session
fixation) — and carries its own CSRF token. It ends at sign-out, after `idle_minutes` without a
request, or `max_hours` after sign-in. Pending OpenID Connect sign-ins (state, nonce, PKCE
verifier) are kept the same way, bound to the browser by their own cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ledger_store.eventstore.database import LedgerDatabase

SESSIONS: Final = "console_sessions"
PENDING: Final = "console_oidc_pending"
TOUCH_EVERY: Final = timedelta(seconds=15)
"""last_seen is written at most this often (a page view is otherwise a read)."""
PENDING_LIFETIME: Final = timedelta(minutes=10)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def same(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two secrets (False when either is missing)."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: whose, its CSRF token, when it began and was last used."""

    staff_id: str
    csrf: str
    created_at: datetime
    last_seen: datetime
    method: str


@dataclass(frozen=True, slots=True)
class Pending:
    """An OpenID Connect sign-in under way."""

    state: str
    nonce: str
    verifier: str
    next_path: str
    created_at: datetime


class SessionStore:
    """The console's session and pending-SSO tables in the ledger's database."""

    def __init__(self, database: LedgerDatabase, idle: timedelta, lifetime: timedelta) -> None:
        self.database = database
        self.idle = idle
        self.lifetime = lifetime
        self.sessions = database.table(SESSIONS)
        self.pending = database.table(PENDING)

    def start(self, staff_id: str, method: str, *, replacing: str | None = None) -> str:
        """A new session for the person (the one `replacing` names ends); its secret id."""
        session_id = new_secret()
        now = datetime.now(UTC).isoformat()
        with self.database.transaction() as cursor:
            if replacing:
                cursor.execute(
                    f"DELETE FROM {self.sessions} WHERE session_hash = ?", (_hash(replacing),)
                )
            cursor.execute(
                f"DELETE FROM {self.sessions} WHERE last_seen < ?",
                ((datetime.now(UTC) - self.idle).isoformat(),),
            )
            cursor.execute(
                f"INSERT INTO {self.sessions} (session_hash, staff_id, csrf, method, created_at, "
                "last_seen) VALUES (?, ?, ?, ?, ?, ?)",
                (_hash(session_id), staff_id, new_secret(), method, now, now),
            )
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id (touched), or None when unknown, idle or too old."""
        columns = "staff_id, csrf, created_at, last_seen, method"
        row = self._row(session_id, self.sessions, "session_hash", columns)
        if row is None:
            return None
        assert session_id is not None  # a row was found under it
        now = datetime.now(UTC)
        session = Session(
            staff_id=str(row[0]),
            csrf=str(row[1]),
            created_at=datetime.fromisoformat(str(row[2])),
            last_seen=datetime.fromisoformat(str(row[3])),
            method=str(row[4]),
        )
        if now - session.last_seen > self.idle or now - session.created_at > self.lifetime:
            self.end(session_id)
            return None
        if now - session.last_seen > TOUCH_EVERY:
            with self.database.transaction() as cursor:
                cursor.execute(
                    f"UPDATE {self.sessions} SET last_seen = ? WHERE session_hash = ?",
                    (now.isoformat(), _hash(session_id)),
                )
        return session

    def end(self, session_id: str | None) -> None:
        """End a session (sign-out)."""
        if session_id:
            with self.database.transaction() as cursor:
                cursor.execute(
                    f"DELETE FROM {self.sessions} WHERE session_hash = ?", (_hash(session_id),)
                )

    def end_all(self, staff_id: str) -> None:
        """End every session of a person (account disabled)."""
        with self.database.transaction() as cursor:
            cursor.execute(f"DELETE FROM {self.sessions} WHERE staff_id = ?", (staff_id,))

    def begin_sso(self, next_path: str) -> tuple[str, Pending]:
        """A pending SSO sign-in: the secret for its cookie, and its state, nonce and verifier."""
        secret = new_secret()
        now = datetime.now(UTC)
        pending = Pending(new_secret(), new_secret(), new_secret(), next_path, now)
        with self.database.transaction() as cursor:
            cursor.execute(
                f"DELETE FROM {self.pending} WHERE created_at < ?",
                ((now - PENDING_LIFETIME).isoformat(),),
            )
            cursor.execute(
                f"INSERT INTO {self.pending} (pending_hash, state, nonce, verifier, next_path, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (_hash(secret), pending.state, pending.nonce, pending.verifier, next_path,
                 now.isoformat()),
            )  # fmt: skip
        return secret, pending

    def finish_sso(self, secret: str | None) -> Pending | None:
        """The pending sign-in of this browser, removed (used once), or None."""
        columns = "state, nonce, verifier, next_path, created_at"
        row = self._row(secret, self.pending, "pending_hash", columns, remove=True)
        if row is None:
            return None
        pending = Pending(
            str(row[0]), str(row[1]), str(row[2]), str(row[3]), datetime.fromisoformat(str(row[4]))
        )
        if datetime.now(UTC) - pending.created_at > PENDING_LIFETIME:
            return None
        return pending

    def _row(
        self,
        secret: str | None,
        table: str,
        hash_column: str,
        columns: str,
        *,
        remove: bool = False,
    ) -> tuple[Any, ...] | None:
        """The `columns` of the row stored under a cookie secret's hash (then removed, if
        `remove`); None for no secret, one too long to be ours, or no row."""
        if not secret or len(secret) > 100:
            return None
        key = _hash(secret)
        with self.database.transaction() as cursor:
            row = cursor.execute(
                f"SELECT {columns} FROM {table} WHERE {hash_column} = ?", (key,)
            ).fetchone()
            if remove:
                cursor.execute(f"DELETE FROM {table} WHERE {hash_column} = ?", (key,))
        return row
