"""The key-status rule, once: precedence of statuses, PIN attempts left, usable or not.

Pure functions over plain flags, so the UKey aggregate and the views (which hold the same facts
as table columns) decide a key's status the same way.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final


class KeyStatus(StrEnum):
    """What the hotline tells a caller about a key, by precedence (void first)."""

    ISSUED = "issued"
    MAILED = "mailed"
    DELIVERED = "delivered"
    ACTIVE = "active"
    LOCKED = "locked"
    LOST = "lost"
    FROZEN = "frozen"
    VOID = "void"
    REPLACED = "replaced"
    EXPIRED = "expired"


PIN_LOCK_THRESHOLD: Final = 5
"""Consecutive wrong PINs that lock a key (累计输错5次密码会自动锁定)."""

INCIDENTS: Final = (KeyStatus.VOID, KeyStatus.REPLACED, KeyStatus.LOST, KeyStatus.FROZEN)
"""The statuses an incident leaves (void, replaced, lost, frozen), by precedence: they win over
expiry, which wins over every other status."""

UNUSABLE: Final = frozenset({*INCIDENTS, KeyStatus.EXPIRED})
"""The statuses in which a key works for nothing (a locked key still renews)."""


def lifecycle_status(
    *,
    voided: bool,
    replaced: bool,
    lost: bool,
    frozen: bool,
    locked: bool,
    in_use: bool,
    delivered: bool,
    mailed: bool,
) -> KeyStatus:
    """The status without the clock (never expired): void > replaced > lost > frozen > locked >
    active > delivered > mailed > issued."""
    flags = (
        (voided, KeyStatus.VOID),
        (replaced, KeyStatus.REPLACED),
        (lost, KeyStatus.LOST),
        (frozen, KeyStatus.FROZEN),
        (locked, KeyStatus.LOCKED),
        (in_use, KeyStatus.ACTIVE),
        (delivered, KeyStatus.DELIVERED),
        (mailed, KeyStatus.MAILED),
    )
    return next((status for flag, status in flags if flag), KeyStatus.ISSUED)


def status_at(lifecycle: KeyStatus, *, expired: bool) -> KeyStatus:
    """The status once the clock is read: an incident wins over expiry, expiry over the rest."""
    return KeyStatus.EXPIRED if expired and lifecycle not in INCIDENTS else lifecycle


def is_expired(valid_until: datetime, at: datetime) -> bool:
    """Whether the validity is over at `at` (its last instant still counts)."""
    return at > valid_until


def days_left(valid_until: datetime, at: datetime) -> int:
    """Whole days of validity left at `at` (negative once expired)."""
    return (valid_until - at).days


def attempts_left(*, locked: bool, consecutive_failures: int) -> int:
    """Wrong PINs the key still tolerates before it locks (none once locked)."""
    return 0 if locked else PIN_LOCK_THRESHOLD - consecutive_failures


def in_holders_hands(*, bought: bool, delivered: bool, in_use: bool) -> bool:
    """Whether the key reached its holder: a bought key from the start (the supplier sells it to
    the enterprise), a free key once delivered (by EMS, or handed over at the window). A key
    already in use reached its holder (a ledger written before this rule may hold such keys)."""
    return bought or delivered or in_use


def is_usable(status: KeyStatus) -> bool:
    """Whether a key works: not expired, lost, frozen, void, replaced or locked."""
    return status not in UNUSABLE and status is not KeyStatus.LOCKED
