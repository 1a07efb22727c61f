"""Personal staff accounts of the console: login, role, password hash (argon2) or SSO subject.

A staff account's id (`staff:<random>`) is the principal recorded in every event the person
causes; the person's name lives only here, in `console_staff`, so it stays erasable (the ledger
itself never holds it). Passwords are hashed with argon2id (argon2-cffi); SSO-only accounts
have no password at all.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from api.http.auth import enterprise_binding
from domain.base import Role
from ledger_store.eventstore.database import LedgerDatabase

TABLE: Final = "console_staff"
STAFF_ROLES: Final = (Role.ENTERPRISE, Role.WINDOW, Role.HOTLINE, Role.AUDITOR, Role.ADMIN)
_LOGIN: Final = re.compile(r"[a-z0-9][a-z0-9._@-]{1,63}")
_COLUMNS: Final = (
    "staff_id, login, display_name, role, uscc, password_hash, oidc_issuer, oidc_subject, "
    "created_at, disabled_at"
)
_HASHER: Final = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when a login is unknown, so an unknown login costs as long as a known one.

    Made once per process when the first StaffStore opens, not at import: hashing takes
    ~0.13 s, which every `eport-ledger` command paid (the CLI imports this module to build its
    parser) whether or not it touched the console's accounts.
    """
    return _HASHER.hash(secrets.token_urlsafe(16))


MIN_PASSWORD: Final = 10


class StaffError(ValueError):
    """A staff account cannot be created or changed as asked."""


@dataclass(frozen=True, slots=True)
class StaffAccount:
    """One person who may sign in to the console."""

    staff_id: str
    login: str
    display_name: str
    role: Role
    uscc: str | None
    has_password: bool
    oidc_issuer: str | None
    oidc_subject: str | None
    created_at: datetime
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        """Whether the account may sign in."""
        return self.disabled_at is None


def check_login(login: str) -> str:
    """A login name: 2-64 of a-z 0-9 . _ @ - (lower-cased), or StaffError."""
    value = login.strip().lower()
    if not _LOGIN.fullmatch(value):
        raise StaffError("a login is 2-64 characters of a-z, 0-9, '.', '_', '@', '-'")
    return value


def check_password(password: str) -> str:
    """A password of at least MIN_PASSWORD characters, or StaffError."""
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"a password has at least {MIN_PASSWORD} characters")
    return password


class StaffStore:
    """The `console_staff` table of the ledger's database."""

    def __init__(self, database: LedgerDatabase) -> None:
        self.database = database
        self.table = database.table(TABLE)
        _dummy_hash()  # before the first sign-in, so that one costs what the others cost

    def create(
        self,
        *,
        login: str,
        role: Role | str,
        display_name: str,
        password: str | None = None,
        uscc: str | None = None,
        oidc_issuer: str | None = None,
        oidc_subject: str | None = None,
    ) -> StaffAccount:
        """Create an account; it needs a password, an SSO subject, or both."""
        login = check_login(login)
        try:
            role = Role(role)
        except ValueError:
            role = Role.SYSTEM
        if role not in STAFF_ROLES:
            raise StaffError(f"the role is one of {', '.join(r.value for r in STAFF_ROLES)}")
        name = display_name.strip()
        if not name or len(name) > 50 or not name.isprintable():
            raise StaffError("a display name is 1-50 printable characters")
        try:
            uscc = enterprise_binding(role, uscc, "account")
        except ValueError as error:
            raise StaffError(str(error)) from None
        if password is None and not oidc_subject:
            raise StaffError("an account needs a password or an SSO subject (--oidc-subject)")
        if bool(oidc_subject) != bool(oidc_issuer):
            raise StaffError("an SSO subject needs its issuer")
        hashed = None if password is None else _HASHER.hash(check_password(password))
        staff_id = "staff:" + secrets.token_hex(8)
        now = datetime.now(UTC)
        with self.database.transaction() as cursor:
            taken = cursor.execute(
                f"SELECT 1 FROM {self.table} WHERE login = ? OR "
                "(oidc_subject IS NOT NULL AND oidc_issuer = ? AND oidc_subject = ?)",
                (login, oidc_issuer, oidc_subject),
            ).fetchone()
            if taken is not None:
                raise StaffError(f"login {login!r} or its SSO subject has an account already")
            cursor.execute(
                f"INSERT INTO {self.table} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    staff_id, login, name, role.value, uscc, hashed, oidc_issuer, oidc_subject,
                    now.isoformat(),
                ),
            )  # fmt: skip
        account = self.by_id(staff_id)
        assert account is not None
        return account

    def _one(self, where: str, params: tuple[object, ...]) -> StaffAccount | None:
        with self.database.transaction() as cursor:
            row = cursor.execute(
                f"SELECT {_COLUMNS} FROM {self.table} WHERE {where}", params
            ).fetchone()
        return None if row is None else _account(row)

    def by_id(self, staff_id: str) -> StaffAccount | None:
        """The account with this staff id, or None."""
        return self._one("staff_id = ?", (staff_id,))

    def by_login(self, login: str) -> StaffAccount | None:
        """The account with this login, or None."""
        return self._one("login = ?", (login.strip().lower(),))

    def by_subject(self, issuer: str, subject: str) -> StaffAccount | None:
        """The account bound to this SSO subject at this issuer, or None."""
        return self._one("oidc_issuer = ? AND oidc_subject = ?", (issuer, subject))

    def verify_password(self, login: str, password: str) -> StaffAccount | None:
        """The active account whose password this is, or None (constant work either way)."""
        try:
            login = check_login(login)
        except StaffError:
            login = ""
        with self.database.transaction() as cursor:
            row = cursor.execute(
                f"SELECT {_COLUMNS} FROM {self.table} WHERE login = ?", (login,)
            ).fetchone()
        stored = None if row is None else row[5]
        try:
            _HASHER.verify(str(stored or _dummy_hash()), password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or stored is None:
            return None
        account = _account(row)
        if not account.active:
            return None
        if _HASHER.check_needs_rehash(str(stored)):
            self.set_password(account.login, password)
        return account

    def set_password(self, login: str, password: str) -> None:
        """Set (or replace) an account's password."""
        hashed = _HASHER.hash(check_password(password))
        with self.database.transaction() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET password_hash = ? WHERE login = ?",
                (hashed, check_login(login)),
            )

    def disable(self, login: str) -> StaffAccount | None:
        """Disable an account (it can no longer sign in); the account as it is now."""
        now = datetime.now(UTC).isoformat()
        with self.database.transaction() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET disabled_at = ? WHERE login = ? AND disabled_at IS NULL",
                (now, check_login(login)),
            )
        return self.by_login(login)

    def erase_name(self, login: str) -> StaffAccount | None:
        """Replace a person's display name with their staff id (the name is personal data)."""
        account = self.by_login(login)
        if account is None:
            return None
        with self.database.transaction() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET display_name = ? WHERE staff_id = ?",
                (account.staff_id, account.staff_id),
            )
        return self.by_id(account.staff_id)

    def accounts(self) -> list[StaffAccount]:
        """Every account, by login."""
        with self.database.transaction() as cursor:
            rows = cursor.execute(f"SELECT {_COLUMNS} FROM {self.table} ORDER BY login").fetchall()
        return [_account(row) for row in rows]


def _account(row: tuple[object, ...]) -> StaffAccount:
    staff_id, login, name, role, uscc, hashed, issuer, subject, created, disabled = row
    return StaffAccount(
        staff_id=str(staff_id),
        login=str(login),
        display_name=str(name),
        role=Role(str(role)),
        uscc=None if uscc is None else str(uscc),
        has_password=hashed is not None,
        oidc_issuer=None if issuer is None else str(issuer),
        oidc_subject=None if subject is None else str(subject),
        created_at=datetime.fromisoformat(str(created)),
        disabled_at=None if disabled is None else datetime.fromisoformat(str(disabled)),
    )
