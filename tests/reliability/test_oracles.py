"""The suite's oracles can fail: each one, shown a broken history, stream or view, says so.
(A check that never fails proves nothing; these keep the other tests honest.)"""

from __future__ import annotations

from datetime import timedelta

from domain.aggregate_ids import key_id
from domain.base import DomainEvent
from ledger_store.application import deciders
from ledger_store.application.idempotency import IdempotencyClaim
from ledger_store.application.ledger import Ledger
from projections.engine.schema import TableNames
from projections.key_status.fold import KEYS
from tests.factories import execute
from tests.reliability.support import (
    T0,
    catch_up_views,
    ctx,
    enroll,
    key_history_problems,
    view_differences,
)
from tests.reliability.workload import Outcome, Step, stream_problems


def _locked_key(ledger: Ledger) -> list[DomainEvent]:
    """The history of a key issued, then locked by five wrong PINs."""
    firm = enroll(ledger, "oracle")
    for n in range(5):
        ledger.run(
            deciders.record_pin_attempt, ctx(firm.me, T0 + timedelta(minutes=n)), firm.lp, ok=False
        )
    return ledger.history(key_id(firm.lp))


def test_the_history_check_flags_a_missing_a_doubled_and_an_early_lock(ledger: Ledger) -> None:
    history = _locked_key(ledger)
    assert not key_history_problems(history)  # issued, 4 failures, the 5th with its lock
    without_lock = history[:-1]
    assert any("did not lock" in p for p in key_history_problems(without_lock))
    lock = history[-1]
    doubled = [*history, lock.model_copy(update={"originator_version": len(history) + 1})]
    assert key_history_problems(doubled)
    early = [*history[:3], lock.model_copy(update={"originator_version": 4})]
    assert key_history_problems(early)
    gap = [history[0], *history[2:]]
    assert any("expected version" in p for p in key_history_problems(gap))


def test_the_stream_check_flags_a_lost_and_a_doubled_command(ledger: Ledger) -> None:
    firm = enroll(ledger, "oracle-stream")
    start = ledger.position()
    claim = IdempotencyClaim(scope=firm.me.principal_id, key="k1", fingerprint="f")
    result = execute(
        ledger,
        deciders.record_pin_attempt,
        ctx(firm.me, idempotency_key="k1"),
        firm.lp,
        ok=True,
        idempotency=claim,
    )
    step = Step(0, "pin_ok", firm.lp, "k1")
    answered = Outcome(step, accepted=True, position=result.position)
    assert not stream_problems(ledger.database, [answered], start)
    lost = Outcome(Step(0, "pin_ok", firm.lp, "k2"), accepted=True, position=result.position)
    assert any(
        "recorded nothing" in p for p in stream_problems(ledger.database, [answered, lost], start)
    )
    ledger.run(
        deciders.record_pin_attempt, ctx(firm.me, idempotency_key="k1"), firm.lp, ok=True
    )  # a double
    assert stream_problems(ledger.database, [answered], start)
    stray = stream_problems(ledger.database, [], start)
    assert any("nobody was answered" in p for p in stray)


def test_the_view_check_flags_a_row_the_rebuild_would_not_give(ledger: Ledger) -> None:
    _locked_key(ledger)
    catch_up_views(ledger.database)
    assert not view_differences(ledger.database)
    table = TableNames(ledger.database)(KEYS.name)
    with ledger.database.transaction() as cursor:
        cursor.execute(f"UPDATE {table} SET consecutive_failures = consecutive_failures + 1")
    assert view_differences(ledger.database)
