"""The auditors' commands: checkpoint, export, verify, proof, verify-export, verify-proof."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.cli.main import main
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore
from ledger_store.proofs.checkpoint import public_key_pem
from ledger_store.transparency.signing_key import load_or_create_signing_key
from tests.integration.test_checkpoints import grow, rewrite_history


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The CLI pointed at the test's ledger; returns the published public key's PEM file."""
    monkeypatch.setenv("EPORT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("EPORT_SIGNING_KEY_PATH", str(settings.key_path()))
    monkeypatch.setenv("EPORT_POSTGRES_POOL_SIZE", "2")
    pem = tmp_path / "published.pem"
    pem.write_text(public_key_pem(load_or_create_signing_key(settings.key_path())))
    return pem


def fill(settings: Settings, to: int) -> None:
    ledger = EventStore(settings)
    try:
        grow(ledger, to)
    finally:
        ledger.close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_checkpoint_export_and_offline_verification(
    settings: Settings, env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(settings, 6)
    code, out = run(capsys, "checkpoint")
    assert code == 0
    kept = tmp_path / "kept.json"
    kept.write_text(out)
    assert orjson.loads(out)["size"] == 6

    fill(settings, 11)
    export = tmp_path / "ledger.jsonl"
    assert run(capsys, "export", "--out", str(export))[0] == 0
    assert len(export.read_bytes().splitlines()) == 12  # 11 entries and the checkpoint
    code, out = run(capsys, "verify-export", str(export), "--public-key", str(env))
    assert (code, out.strip()) == (0, "valid (11 entries)")

    code, out = run(capsys, "checkpoint", "--list")
    assert [cp["size"] for cp in orjson.loads(out)] == [6, 11]

    code, out = run(capsys, "verify", "--checkpoint", str(kept))
    assert code == 0
    assert out.startswith("intact: 11 entries")
    assert "extends your checkpoint at size 6" in out


def test_proof_bundles_verify_offline(
    settings: Settings, env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(settings, 5)
    run(capsys, "checkpoint")
    fill(settings, 9)
    run(capsys, "checkpoint")
    bundle = tmp_path / "inclusion.json"
    code, out = run(capsys, "proof", "inclusion", "--index", "4", "--size", "5")
    bundle.write_text(out)
    assert code == 0
    assert run(capsys, "verify-proof", str(bundle), "--public-key", str(env)) == (
        0,
        "valid (5 entries)\n",
    )
    code, out = run(capsys, "proof", "consistency", "--from", "5")
    bundle.write_text(out)
    assert run(capsys, "verify-proof", str(bundle), "--public-key", str(env))[0] == 0
    forged = orjson.loads(out)
    forged["path"] = forged["path"][::-1]
    bundle.write_bytes(orjson.dumps(forged))
    code, out = run(capsys, "verify-proof", str(bundle), "--public-key", str(env))
    assert code == 1
    assert "consistency proof rejected" in out
    assert main(["proof", "inclusion", "--index", "10"]) == 2


def test_verify_names_the_first_altered_entry(
    settings: Settings, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(settings, 8)
    assert run(capsys, "checkpoint")[0] == 0
    ledger = EventStore(settings)
    try:
        with ledger.database.transaction() as cursor:
            cursor.execute(
                f"UPDATE {ledger.database.events_table} SET state = ? WHERE ledger_index = 5",
                (b'{"forged":1}',),
            )
    finally:
        ledger.close()
    code, out = run(capsys, "verify")
    assert code == 1
    assert out.startswith("TAMPERED at ledger index 5: entry hash does not match")


def test_verify_with_an_old_checkpoint_finds_a_rewrite_plain_verify_misses(
    settings: Settings, env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(settings, 7)
    kept = tmp_path / "kept.json"
    kept.write_text(run(capsys, "checkpoint")[1])
    ledger = EventStore(settings)
    try:
        grow(ledger, 10)
        rewrite_history(ledger, 2, Ed25519PrivateKey.generate())
    finally:
        ledger.close()
    assert run(capsys, "verify")[0] == 0
    code, out = run(capsys, "verify", "--checkpoint", str(kept), "--public-key", str(env))
    assert code == 1
    assert out.startswith("TAMPERED: the first 7 entries no longer hash to the Merkle root")
    assert "was rewritten" in out
