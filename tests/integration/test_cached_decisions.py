"""Commands decided from cached aggregates behave as if they had read fresh state first.

Two Ledger objects on one database stand for two API processes: each has its own aggregate
cache, and each writes what the other's cache does not know.
"""

from __future__ import annotations

import random

import pytest

from domain.aggregate_ids import key_id
from domain.base import DomainError
from domain.ukey.state import UKey
from domain.ukey.status import PIN_LOCK_THRESHOLD, KeyStatus
from ledger_store.application import deciders
from ledger_store.application.ledger import Ledger
from tests.factories import execute, valid_operator_holder
from tests.integration.test_commands import WINDOW, ctx, enrolled, owner


def test_a_command_on_a_key_another_process_changed_is_decided_on_its_current_state(
    two: tuple[Ledger, Ledger],
) -> None:
    here, there = two
    uscc, lp, _ = enrolled(here)
    here.run(
        deciders.record_pin_attempt, ctx(owner(uscc), 10), lp, ok=True
    )  # `here` caches the key
    for minute in range(PIN_LOCK_THRESHOLD):
        there.run(deciders.record_pin_attempt, ctx(owner(uscc), 11 + minute), lp, ok=False)
    with pytest.raises(DomainError) as refused:  # the key is locked now, whatever `here` cached
        here.run(deciders.record_pin_attempt, ctx(owner(uscc), 20), lp, ok=True)
    assert refused.value.rule == "key_locked"
    here.run(
        deciders.unlock_key, ctx(WINDOW, 21), lp
    )  # decided on the locked key, not on the cached one
    assert here.key(lp).status(ctx(WINDOW, 22).at) is not KeyStatus.LOCKED


def test_a_stale_cache_is_never_a_conflict_for_the_caller(two: tuple[Ledger, Ledger]) -> None:
    here, there = two
    uscc, lp, _ = enrolled(here)
    here.run(deciders.record_pin_attempt, ctx(owner(uscc), 10), lp, ok=True)
    there.run(deciders.record_pin_attempt, ctx(owner(uscc), 11), lp, ok=False)
    result = here.run(
        deciders.change_pin, ctx(owner(uscc), 12), lp
    )  # not commuting: no retry of its own
    history = here.history(key_id(lp))
    assert result.version == len(history)
    assert [type(e).__name__ for e in history[-2:]] == ["PinAttemptFailed", "PinChanged"]


def test_if_match_is_checked_against_the_current_version_not_the_cached_one(
    two: tuple[Ledger, Ledger],
) -> None:
    here, there = two
    uscc, lp, _ = enrolled(here)
    here.run(deciders.record_pin_attempt, ctx(owner(uscc), 10), lp, ok=True)
    moved = there.run(deciders.record_pin_attempt, ctx(owner(uscc), 11), lp, ok=False)
    result = execute(
        here, deciders.change_pin, ctx(owner(uscc), 12), lp, expected_version=moved.version
    )
    assert result.version == moved.version + 1


def test_the_cache_follows_this_process_own_writes(two: tuple[Ledger, Ledger]) -> None:
    here, _ = two
    uscc, lp, _ = enrolled(here)
    for minute in range(3):
        here.run(deciders.record_pin_attempt, ctx(owner(uscc), 10 + minute), lp, ok=False)
    cached = here.store.cached(key_id(lp))
    assert isinstance(cached, UKey)
    assert cached.version == len(here.history(key_id(lp)))
    assert cached.consecutive_failures == 3


def test_what_a_command_only_reads_is_checked_after_deciding(two: tuple[Ledger, Ledger]) -> None:
    here, there = two
    uscc, lp, _ = enrolled(here)
    here.run(
        deciders.record_pin_attempt, ctx(owner(uscc), 10), lp, ok=True
    )  # `here` caches the usable key
    there.run(
        deciders.report_key_lost, ctx(owner(uscc), 11), lp, reason="lost on the way to the port"
    )
    with pytest.raises(DomainError) as refused:  # the authorising key is only read, not written
        here.run(
            deciders.register_card_holder,
            ctx(owner(uscc), 12),
            uscc,
            holder=valid_operator_holder(random.Random(5)),
            authorising_card_no=lp,
        )
    assert refused.value.rule == "legal_person_key_required"  # it is lost, not active
