"""Property: whatever commands ran, and however the runner cut them into batches, a rebuild from
zero gives exactly the rows the incremental runner wrote (SQLite and PostgreSQL)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from domain.enterprise.events import EnterpriseChange
from domain.forms import KeyKind
from domain.permissions import Permission
from domain.ukey.events import DeliveryChannel
from ledger_store.application import deciders
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.settings import Settings
from projections.engine.rebuild import rebuild
from projections.engine.runner import Runner
from tests.conftest import POSTGRES_URL, postgres_url_for
from tests.factories import enterprise_ctx, window_ctx
from tests.integration.test_views_world import Enrolled, World, dump, open_ledger


@contextmanager
def fresh_settings(backend: str) -> Iterator[Settings]:
    """An empty ledger database of its own for one Hypothesis example."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield Settings(database_url=f"sqlite:///{tmp}/ledger.db")
        return
    schema = f"eport_prop_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield Settings(database_url=postgres_url_for(schema), postgres_pool_size=2)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _card(e: Enrolled, n: int) -> str | None:
    return e.cards[n % len(e.cards)] if e.cards else None


def _ops(world: World) -> dict[str, Callable[[Enrolled, int], Any]]:
    """Commands by name: each takes an enterprise and a small number choosing a key."""
    ledger = world.ledger

    def bound(decider: Callable[..., Any]) -> Callable[..., Any]:
        return partial(ledger.run, decider)

    def on_key(command: Callable[..., Any], **kwargs: Any) -> Callable[[Enrolled, int], Any]:
        def run(e: Enrolled, n: int) -> Any:
            card = _card(e, n)
            if card is None:
                return None
            return world.attempt(command, enterprise_ctx(e.uscc, world.tick()), card, **kwargs)

        return run

    def pre_approve(e: Enrolled, n: int) -> Any:
        card = _card(e, n)
        if card is None or (key := ledger.find_key(card)) is None:
            return None
        for application, state in key.renewals.items():
            if state.value == "requested":
                return world.attempt(
                    bound(deciders.pre_approve_renewal),
                    window_ctx(world.tick()),
                    card,
                    application,
                )
        return None

    def renew(e: Enrolled, n: int) -> Any:
        card = _card(e, n)
        return None if card is None else world.attempt(world.renew, e, card, 3)

    def permissions(e: Enrolled, n: int) -> Any:
        holder = ledger.card_holder_id(e.uscc, KeyKind.OPERATOR, e.form.operator)
        wanted = [p for i, p in enumerate(Permission) if (n >> (i % 3)) & 1][: 2 + n % 4]
        return world.attempt(
            bound(deciders.set_permissions),
            window_ctx(world.tick()),
            e.uscc,
            holder,
            wanted,
            authorising_card_no=None,
        )

    def change_info(e: Enrolled, n: int) -> Any:
        change = EnterpriseChange(business_address=f"海南省海口市滨海大道{n + 1}号")
        if n % 2:  # a new legal representative: the legal-person certificates are outdated
            change = EnterpriseChange(legal_representative=f"林{'海涛明'[n % 3]}")
        return world.attempt(
            bound(deciders.change_enterprise_info),
            enterprise_ctx(e.uscc, world.tick()),
            e.uscc,
            change,
            authorising_card_no=e.lp_card,
        )

    def resubmit(e: Enrolled, n: int) -> Any:
        filing = ledger.enterprise(e.uscc).filings.get("three_in_one")  # type: ignore[call-overload]
        return world.attempt(
            bound(deciders.submit_filing),
            enterprise_ctx(e.uscc, world.tick()),
            e.uscc,
            filing,
        )

    return {
        "approve": lambda e, n: world.attempt(world.approve, e),
        "reject": lambda e, n: world.attempt(world.reject, e),
        "resubmit": resubmit,
        "issue_pair": lambda e, n: world.attempt(world.issue_pair, e),
        "mail": lambda e, n: world.attempt(world.mail, e),
        "buy_key": lambda e, n: world.attempt(world.buy_key, e),
        "deliver": on_key(bound(deciders.deliver_key)),
        "pin_ok": on_key(bound(deciders.record_pin_attempt), ok=True),
        "pin_fail": lambda e, n: [
            on_key(bound(deciders.record_pin_attempt), ok=False)(e, n) for _ in range(1 + n % 5)
        ],
        "pin_change": on_key(bound(deciders.change_pin)),
        "unlock": lambda e, n: (
            (c := _card(e, n))
            and world.attempt(bound(deciders.unlock_key), window_ctx(world.tick()), c)
        ),
        "request_renewal": on_key(bound(deciders.request_renewal)),
        "pre_approve": pre_approve,
        "renew": renew,
        "lost": on_key(bound(deciders.report_key_lost), reason="遗失"),
        "freeze": lambda e, n: (
            (c := _card(e, n))
            and world.attempt(
                bound(deciders.freeze_key), window_ctx(world.tick()), c, reason="冒用"
            )
        ),
        "unfreeze": lambda e, n: (
            (c := _card(e, n))
            and world.attempt(
                bound(deciders.unfreeze_key), window_ctx(world.tick()), c, reason="核实"
            )
        ),
        "hand_over": lambda e, n: (
            (c := _card(e, n))
            and world.attempt(
                bound(deciders.deliver_key), window_ctx(world.tick()), c, DeliveryChannel.WINDOW
            )
        ),
        "void": on_key(bound(deciders.void_key), reason="作废", erase_personal_data=False),
        "void_erasing": on_key(
            bound(deciders.void_key), reason="撤回同意", erase_personal_data=True
        ),
        "replace": lambda e, n: (c := _card(e, n)) and world.attempt(world.replace, e, c),
        "permissions": permissions,
        "change_info": change_info,
    }


STEP_NAMES = (
    "register", "project", "approve", "reject", "resubmit", "issue_pair", "mail", "buy_key",
    "deliver", "pin_ok", "pin_fail", "pin_fail", "pin_change", "unlock", "request_renewal",
    "pre_approve", "renew", "lost", "freeze", "unfreeze", "void", "void_erasing", "replace",
    "permissions", "change_info", "hand_over",
)  # fmt: skip
STEPS = st.lists(
    st.tuples(st.sampled_from(STEP_NAMES), st.integers(min_value=0, max_value=15)),
    min_size=1,
    max_size=24,
)


def drive(ledger: Ledger, steps: list[tuple[str, int]], seed: int, runner: Runner) -> None:
    """Run the steps; `project` applies one incremental batch in between."""
    world = World(ledger, seed)
    ops = _ops(world)
    world.enrolled()
    world.register()
    for name, n in steps:
        if name == "register":
            world.register()
        elif name == "project":
            runner.step()
        else:
            ops[name](world.enterprises[n % len(world.enterprises)], n // 2)


@pytest.mark.parametrize("backend_name", ["sqlite", "postgres"])
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=STEPS,
    seed=st.integers(min_value=0, max_value=2**16),
    batch_size=st.integers(min_value=1, max_value=40),
    page_size=st.integers(min_value=1, max_value=60),
)
def test_a_rebuild_from_zero_gives_exactly_the_incremental_rows(
    backend_name: str,
    request: pytest.FixtureRequest,
    steps: list[tuple[str, int]],
    seed: int,
    batch_size: int,
    page_size: int,
) -> None:
    if backend_name == "postgres":
        request.getfixturevalue("postgres_available")
    with fresh_settings(backend_name) as config, open_ledger(config) as ledger:
        runner = Runner(ledger.database, batch_size=batch_size)
        runner.setup()
        drive(ledger, steps, seed, runner)
        runner.catch_up()
        incremental = dump(ledger)
        assert incremental["view_audit_times"][-1][1] == ledger.position()
        result = rebuild(ledger, page_size=page_size)
        assert result.position == ledger.position()
        assert dump(ledger) == incremental
