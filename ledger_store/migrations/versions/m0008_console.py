"""The staff console's tables (api/http/console/): staff accounts, sessions, pending single
sign-ons and the verification runs started from the auditor's screen.

Sessions and pending sign-ons are stored by the SHA-256 of their secret ids only.
"""

from __future__ import annotations

from ledger_store.migrations.runner import MigrationContext


def up(ctx: MigrationContext) -> None:
    """Create `console_staff`, `console_sessions`, `console_oidc_pending`, `console_verify_runs`."""
    ctx.execute(
        f"CREATE TABLE IF NOT EXISTS {ctx.table('console_staff')} ("
        "staff_id TEXT NOT NULL PRIMARY KEY, login TEXT NOT NULL UNIQUE, "
        "display_name TEXT NOT NULL, role TEXT NOT NULL, uscc TEXT, password_hash TEXT, "
        "oidc_issuer TEXT, oidc_subject TEXT, created_at TEXT NOT NULL, disabled_at TEXT)"
    )
    ctx.execute(
        f"CREATE TABLE IF NOT EXISTS {ctx.table('console_sessions')} ("
        "session_hash TEXT NOT NULL PRIMARY KEY, staff_id TEXT NOT NULL, "
        "csrf TEXT NOT NULL, method TEXT NOT NULL, created_at TEXT NOT NULL, "
        "last_seen TEXT NOT NULL)"
    )
    ctx.execute(
        f"CREATE TABLE IF NOT EXISTS {ctx.table('console_oidc_pending')} ("
        "pending_hash TEXT NOT NULL PRIMARY KEY, state TEXT NOT NULL, "
        "nonce TEXT NOT NULL, verifier TEXT NOT NULL, next_path TEXT NOT NULL, "
        "created_at TEXT NOT NULL)"
    )
    ctx.execute(
        f"CREATE TABLE IF NOT EXISTS {ctx.table('console_verify_runs')} (at TEXT NOT NULL, "
        "staff_id TEXT NOT NULL, intact INTEGER NOT NULL, size BIGINT NOT NULL, problem TEXT)"
    )
