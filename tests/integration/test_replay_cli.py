"""`eport-ledger replay` rebuilds the live views, or builds as-of copies and leaves them alone."""

from __future__ import annotations

import pytest

from api.cli.main import main
from api.demo.scenario import Demo
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.settings import Settings
from projections.engine.rebuild import dump_views
from projections.engine.schema import TableNames
from projections.registry import resolve_views


@pytest.fixture
def demo_ledger(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("EPORT_DATABASE_URL", settings.database_url)
    ledger = Ledger(settings)
    try:
        Demo(ledger, seed=11, enterprises=3).run()
    finally:
        ledger.close()
    return settings


def test_replay_rebuilds_every_view_to_the_head_of_the_ledger(
    demo_ledger: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay"]) == 0
    out = capsys.readouterr().out
    ledger = Ledger(demo_ledger)
    try:
        assert f"up to ledger position {ledger.position()}" in out
        rows = dump_views(ledger.database)
        assert rows["view_keys"]
    finally:
        ledger.close()


def test_replay_until_a_position_builds_asof_tables_and_leaves_the_live_views(
    demo_ledger: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay"]) == 0
    ledger = Ledger(demo_ledger)
    try:
        live_before = dump_views(ledger.database)
        assert main(["replay", "--until-position", "12", "--view", "audit_trail"]) == 0
        assert "asof_ tables" in capsys.readouterr().out
        assert dump_views(ledger.database) == live_before
        views = resolve_views(["audit_trail"])
        asof = dump_views(ledger.database, views, TableNames(ledger.database, prefix="asof_"))
        assert sum(len(rows) for rows in asof.values()) < sum(
            len(live_before[name]) for name in asof
        )
    finally:
        ledger.close()


def test_replay_refuses_a_time_without_a_zone(demo_ledger: Settings) -> None:
    with pytest.raises(SystemExit):
        main(["replay", "--until", "2020-01-01T00:00:00"])
