"""A ledger written by release 0.1.0 (tests/fixtures/release-0.1.0) still reads, replays and
verifies: stored bytes are a contract that moving or reshaping code never breaks."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import psycopg
import pytest

from api.cli.main import main
from tests.conftest import POSTGRES_URL, postgres_url_for

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1.0"
SIZE = 281
CHAIN_HEAD = "ff48586d1efdec185c6666280c106006e75956fd16b2b9b27492d12bcf39baa3"
MERKLE_ROOT = "ba913ab5bb0fa829056177b848b69c2ea305733c13b03210f25c4b38e56fb86b"
VOIDED_CARD = "0607103596182865"


def gunzip(name: str, target: Path) -> Path:
    with gzip.open(FIXTURE / name, "rb") as source, open(target, "wb") as out:
        shutil.copyfileobj(source, out)
    return target


def load_postgres_dump(schema: str) -> None:
    """The 0.1.0 dump, restored into `schema` (created by the fixture) instead of eport_v010."""
    lines = gzip.decompress((FIXTURE / "pg-0.1.0.sql.gz").read_bytes()).decode().splitlines()
    script = "\n".join(
        line
        for line in lines
        if not line.startswith("\\") and line.strip() != "CREATE SCHEMA eport_v010;"
    ).replace("eport_v010", schema)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(script.encode())  # type: ignore[call-overload]
        conn.execute("SELECT pg_catalog.set_config('search_path', '', false)")


@pytest.fixture
def old_ledger(
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> str:
    """The 0.1.0 database on the test's backend, as EPORT_DATABASE_URL."""
    key = tmp_path / "signing-key.pem"
    shutil.copy(FIXTURE / "signing-key.pem", key)
    key.chmod(0o600)
    monkeypatch.setenv("EPORT_SIGNING_KEY_PATH", str(key))
    if backend == "sqlite":
        url = f"sqlite:///{gunzip('eport-ledger.db.gz', tmp_path / 'eport-ledger.db')}"
    else:
        schema: str = request.getfixturevalue("postgres_schema")
        load_postgres_dump(schema)
        url = postgres_url_for(schema)
    monkeypatch.setenv("EPORT_DATABASE_URL", url)
    return url


def test_a_0_1_0_ledger_verifies_intact(
    old_ledger: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify"]) == 0
    out = capsys.readouterr().out
    assert f"intact: {SIZE} entries, chain head {CHAIN_HEAD}, Merkle root {MERKLE_ROOT}" in out


def test_a_0_1_0_ledger_replays_its_views(
    old_ledger: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay"]) == 0
    assert f"up to ledger position {SIZE}" in capsys.readouterr().out


def test_a_0_1_0_ledger_takes_new_commands_on_its_chain(
    old_ledger: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--enterprises", "1", "--seed", "99"]) == 0
    capsys.readouterr()
    assert main(["verify"]) == 0
    assert "intact" in capsys.readouterr().out


def test_a_0_1_0_export_verifies_offline(tmp_path: Path) -> None:
    export = gunzip("ledger-0.1.0.jsonl.gz", tmp_path / "ledger.jsonl")
    key = FIXTURE / "signing-public-key.pem"
    assert main(["verify-export", str(export), "--public-key", str(key)]) == 0


def test_a_0_1_0_ledger_reads_its_aggregates(old_ledger: str) -> None:
    from ledger_store.application.ledger import Ledger
    from ledger_store.eventstore.settings import Settings

    ledger = Ledger(Settings(database_url=old_ledger))
    try:
        key = ledger.key(VOIDED_CARD)
        assert key.voided
        assert key.personal_data_erased
        assert key.holder_name is None
        assert ledger.enterprise(key.uscc).is_approved
    finally:
        ledger.close()


def test_a_0_1_0_ledger_s_plaintext_personal_data_still_reads_and_erases_from_views(
    old_ledger: str,
) -> None:
    from ledger_store.application.ledger import Ledger
    from ledger_store.eventstore.settings import Settings
    from projections.engine.query import ViewSource
    from projections.engine.runner import Runner
    from projections.key_status.queries import find_keys

    ledger = Ledger(Settings(database_url=old_ledger))
    try:
        runner = Runner(ledger.database)
        runner.setup()  # the views' new version rebuilds them from the old bytes
        runner.catch_up()
        keys = {
            k.card_no: k
            for k in find_keys(ViewSource(ledger.database, ledger.vault, mask=True), limit=500)
        }
        assert keys[VOIDED_CARD].holder.name is None
        assert keys[VOIDED_CARD].personal_data_erased
        named = [k for k in keys.values() if k.holder.name]
        assert len(named) == len(keys) - 1
        assert all("*" in (k.holder.id_number or "*") for k in named)
        delivered = [k for k in keys.values() if k.delivered_at is not None]
        assert delivered  # KeyDelivered of class version 1 (no channel) reads as by EMS
        assert {k.delivery_channel for k in delivered} == {"ems"}
        assert ledger.key(delivered[0].card_no).delivered_by == "ems"
    finally:
        ledger.close()
