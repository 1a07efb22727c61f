"""The key-status rule on plain flags: the one precedence the aggregate and the views share."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from domain.ukey.status import (
    INCIDENTS,
    PIN_LOCK_THRESHOLD,
    UNUSABLE,
    KeyStatus,
    attempts_left,
    days_left,
    is_expired,
    is_usable,
    lifecycle_status,
    status_at,
)

FLAGS = ("voided", "replaced", "lost", "frozen", "locked", "in_use", "delivered", "mailed")
PRECEDENCE = (
    ("voided", KeyStatus.VOID),
    ("replaced", KeyStatus.REPLACED),
    ("lost", KeyStatus.LOST),
    ("frozen", KeyStatus.FROZEN),
    ("expired", KeyStatus.EXPIRED),
    ("locked", KeyStatus.LOCKED),
    ("in_use", KeyStatus.ACTIVE),
    ("delivered", KeyStatus.DELIVERED),
    ("mailed", KeyStatus.MAILED),
)


@pytest.mark.parametrize("expired", [False, True])
def test_status_follows_the_precedence_for_every_combination_of_flags(expired: bool) -> None:
    for values in itertools.product((False, True), repeat=len(FLAGS)):
        flags = dict(zip(FLAGS, values, strict=True))
        facts = flags | {"expired": expired}
        expected = next((status for name, status in PRECEDENCE if facts[name]), KeyStatus.ISSUED)
        assert status_at(lifecycle_status(**flags), expired=expired) is expected, facts


def test_without_the_clock_a_key_is_never_expired() -> None:
    for values in itertools.product((False, True), repeat=len(FLAGS)):
        assert lifecycle_status(**dict(zip(FLAGS, values, strict=True))) is not KeyStatus.EXPIRED


def test_incidents_win_over_expiry_and_expiry_over_the_rest() -> None:
    for status in KeyStatus:
        expected = status if status in INCIDENTS else KeyStatus.EXPIRED
        assert status_at(status, expired=True) is expected
        assert status_at(status, expired=False) is status


def test_the_last_instant_of_validity_still_counts() -> None:
    until = datetime(2034, 3, 1, 9, 30, tzinfo=UTC)
    assert not is_expired(until, until)
    assert is_expired(until, until + timedelta(microseconds=1))
    assert days_left(until, until - timedelta(days=3, hours=1)) == 3
    assert days_left(until, until + timedelta(days=1)) == -1


def test_attempts_left_counts_down_to_the_lock() -> None:
    assert attempts_left(locked=False, consecutive_failures=0) == PIN_LOCK_THRESHOLD == 5
    assert attempts_left(locked=False, consecutive_failures=4) == 1
    assert attempts_left(locked=True, consecutive_failures=5) == 0
    assert attempts_left(locked=True, consecutive_failures=0) == 0


def test_usable_unless_expired_lost_frozen_void_replaced_or_locked() -> None:
    unusable = {*UNUSABLE, KeyStatus.LOCKED}
    assert unusable == {
        KeyStatus.EXPIRED,
        KeyStatus.LOST,
        KeyStatus.FROZEN,
        KeyStatus.VOID,
        KeyStatus.REPLACED,
        KeyStatus.LOCKED,
    }
    for status in KeyStatus:
        assert is_usable(status) is (status not in unusable)
