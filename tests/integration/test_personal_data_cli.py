"""The command line's part in personal data: erase, master-key rotation, exports only their owner
reads, and offline checks that refuse to look green without a key the auditor trusts."""

from __future__ import annotations

import stat
from pathlib import Path

import orjson
import pytest

from api.cli.main import main
from api.demo.scenario import Demo
from domain.forms import KeyKind, OperatorHolder
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.settings import Settings
from ledger_store.privacy import master_keys
from ledger_store.privacy.master_keys import load_file, write_file
from projections.engine.query import ViewSource
from projections.engine.runner import Runner
from projections.key_status.queries import find_keys
from replay.integrity import audit_ledger


@pytest.fixture
def demo(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Demo:
    """A small demo ledger with its own master-key file, as the CLI sees it (environment)."""
    keys = tmp_path / "master-keys.json"
    monkeypatch.setenv("EPORT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("EPORT_SIGNING_KEY_PATH", str(settings.key_path()))
    monkeypatch.setenv("EPORT_MASTER_KEY_FILE", str(keys))
    assert main(["keys", "init", "--file", str(keys)]) == 0
    ledger = Ledger(Settings())
    try:
        demo = Demo(ledger, seed=5, enterprises=2)
        demo.run()
    finally:
        ledger.close()
    return demo


def holders(ledger: Ledger) -> dict[str, str | None]:
    """Each key's holder name as the window reads it."""
    runner = Runner(ledger.database)
    runner.setup()
    runner.catch_up()
    keys = find_keys(ViewSource(ledger.database, ledger.vault, mask=False), limit=500)
    return {key.card_no: key.holder.name for key in keys}


def test_keys_init_never_overwrites(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "init", "--file", str(tmp_path / "master-keys.json")]) == 2
    assert "never overwrites" in capsys.readouterr().err


def test_rotation_rewraps_every_data_key_and_leaves_the_ledger_untouched(
    demo: Demo, tmp_path: Path
) -> None:
    path = tmp_path / "master-keys.json"
    before_keys = load_file(path, create=False)
    ledger = Ledger(Settings())
    try:
        head, names = ledger.database.head(), holders(ledger)
    finally:
        ledger.close()
    assert main(["keys", "rotate", "--settle", "0"]) == 0
    after_keys = load_file(path, create=False)
    assert set(after_keys.keys) == {after_keys.current}
    assert after_keys.current not in before_keys.keys
    assert after_keys.index_key == before_keys.index_key  # ids and blind indexes keep working
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ledger = Ledger(Settings())
    try:
        assert ledger.database.head() == head
        assert holders(ledger) == names
        assert all(names.values())
        assert audit_ledger(ledger.database).intact
    finally:
        ledger.close()


def test_a_running_service_wraps_under_the_key_a_rotation_made_current(
    demo: Demo, tmp_path: Path
) -> None:
    """A service started before a rotation keeps working through it, and what it records after
    it opens after a restart, when the file holds the new key alone."""
    running = Ledger(Settings())
    try:
        names = holders(running)
        assert main(["keys", "rotate", "--settle", "0"]) == 0
        Demo(running, seed=6, enterprises=2).run()  # new people, new data keys
        after = holders(running)
    finally:
        running.close()
    assert names.items() <= after.items()
    assert len(after) > len(names)
    restarted = Ledger(Settings())
    try:
        assert holders(restarted) == after
        assert all(after.values())
    finally:
        restarted.close()


def test_a_key_wrapped_under_the_old_key_during_a_rotation_is_rewrapped_by_its_last_pass(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service that wrapped new keys under the old master key just before it saw the new file
    stores them after the rotation's first pass: the last pass rewraps them too."""
    path = tmp_path / "master-keys.json"
    old = load_file(path, create=False)
    staged = old.with_new_current()
    write_file(path, staged, replace=True)

    def a_late_service_appends(seconds: float) -> None:
        late = Ledger(Settings())
        late.vault.master_keys = old  # it has not read the new file yet
        try:
            Demo(late, seed=7, enterprises=1).run()
        finally:
            late.close()

    monkeypatch.setattr(master_keys.time, "sleep", a_late_service_appends)
    store = Ledger(Settings())
    try:
        rotated, _ = master_keys.rotate(store.database, staged, settle=1)
    finally:
        store.close()
    write_file(path, rotated, replace=True)  # the old key is gone
    restarted = Ledger(Settings())
    try:
        names = holders(restarted)
        assert len(names) > 0
        assert all(names.values())
    finally:
        restarted.close()


def test_erase_from_the_command_line(demo: Demo, capsys: pytest.CaptureFixture[str]) -> None:
    uscc, three = next(iter(demo.three_in_one.items()))
    operator = three.materials.ic_card_registration_form.operator
    assert isinstance(operator, OperatorHolder)
    ledger = Ledger(Settings())
    try:
        holder = ledger.card_holder_id(uscc, KeyKind.OPERATOR, operator)
    finally:
        ledger.close()
    code = main(["erase", "--id-number", operator.id_number, "--reason", "本人请求删除"])
    assert code == 0
    assert str(holder) in capsys.readouterr().out
    assert main(["erase", "--card-holder", str(holder), "--reason", "again"]) == 2
    assert "nothing_to_erase" in capsys.readouterr().err


def test_an_export_is_readable_by_its_owner_only_and_checks_only_with_a_trusted_key(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: Settings
) -> None:
    export = tmp_path / "ledger.jsonl"
    export.write_text("an older file, readable by all")
    export.chmod(0o644)
    assert main(["export", "--out", str(export)]) == 0
    assert stat.S_IMODE(export.stat().st_mode) == 0o600
    capsys.readouterr()
    assert main(["verify-export", str(export)]) == 1
    assert "UNTRUSTED" in capsys.readouterr().err
    pem = tmp_path / "published.pem"
    final = orjson.loads(export.read_bytes().splitlines()[-1])
    pem.write_text(final["public_key_pem"])
    assert main(["verify-export", str(export), "--public-key", str(pem)]) == 0
    bundle = tmp_path / "proof.json"
    capsys.readouterr()
    assert main(["proof", "inclusion", "--index", "3"]) == 0
    bundle.write_text(capsys.readouterr().out)
    assert main(["verify-proof", str(bundle)]) == 1
    assert main(["verify-proof", str(bundle), "--public-key", str(pem)]) == 0
