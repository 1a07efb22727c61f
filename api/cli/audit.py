"""Auditors' sub-commands: verify, checkpoint, export, proof, verify-export, verify-proof."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from api.cli.output import print_document
from ledger_store.eventstore.store import EventStore
from ledger_store.proofs.checkpoint import (
    Checkpoint,
    load_public_key_pem,
)
from ledger_store.transparency.checkpointer import (
    CheckpointError,
    create_checkpoint,
    iter_checkpoints,
    latest_checkpoint,
)
from ledger_store.transparency.signer import open_signing_key
from ledger_store.transparency.tree_store import MerkleStoreError, ProofRequestError
from replay.export import export_ledger
from replay.integrity import audit_ledger
from replay.offline import Verdict, check_bundle, check_export
from replay.proof_bundles import consistency_bundle, inclusion_bundle

JSON_HELP = "print one machine-readable JSON document on stdout"


def register(subparsers: Any) -> None:
    """Add the auditors' sub-commands."""
    keys_help = "a trusted Ed25519 public key (PEM file); repeat for rotated keys"
    verify = subparsers.add_parser(
        "verify", help="check chain, Merkle tree and checkpoints; exit 0 when intact"
    )
    verify.add_argument(
        "--checkpoint", type=Path, help="a checkpoint JSON you kept: prove the ledger extends it"
    )
    verify.add_argument("--public-key", type=Path, action="append", default=[], help=keys_help)
    verify.add_argument("--json", action="store_true", help=JSON_HELP)
    verify.set_defaults(run=run_verify)

    checkpoint = subparsers.add_parser(
        "checkpoint", help="sign and store a checkpoint, print it as JSON"
    )
    checkpoint.add_argument(
        "--list", action="store_true", help="print every stored checkpoint instead"
    )
    checkpoint.add_argument(
        "--rotate-key",
        action="store_true",
        help="make the key at EPORT_SIGNING_KEY_PATH (created if missing) the ledger's signing "
        "key; older checkpoints stay verifiable with the keys that signed them",
    )
    checkpoint.add_argument("--json", action="store_true", help=JSON_HELP + " (compact)")
    checkpoint.set_defaults(run=run_checkpoint)

    export = subparsers.add_parser(
        "export", help="the ledger as JSON Lines, then its signed checkpoint"
    )
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    export.set_defaults(run=run_export)

    proof = subparsers.add_parser("proof", help="print a proof bundle (JSON) to check offline")
    kinds = proof.add_subparsers(dest="proof_kind", required=True, metavar="KIND")
    inclusion = kinds.add_parser(
        "inclusion", help="ledger entry INDEX is in the checkpoint of SIZE"
    )
    inclusion.add_argument("--index", type=int, required=True, help="1-based ledger index")
    inclusion.add_argument("--size", type=int, help="tree size (default: latest checkpoint)")
    inclusion.set_defaults(run=run_proof_inclusion)
    consistency = kinds.add_parser("consistency", help="the checkpoint of TO extends that of FROM")
    consistency.add_argument("--from", dest="old", type=int, required=True, help="older tree size")
    consistency.add_argument("--to", dest="new", type=int, help="newer size (default: latest)")
    consistency.set_defaults(run=run_proof_consistency)

    offline = subparsers.add_parser("verify-export", help="check an export offline (no database)")
    offline.add_argument("file", type=Path)
    offline.add_argument("--public-key", type=Path, action="append", default=[], help=keys_help)
    offline.set_defaults(run=run_verify_export)

    bundle = subparsers.add_parser(
        "verify-proof", help="check a proof bundle offline (no database)"
    )
    bundle.add_argument("file", type=Path)
    bundle.add_argument("--public-key", type=Path, action="append", default=[], help=keys_help)
    bundle.set_defaults(run=run_verify_proof)


@contextmanager
def _progress(total: int, what: str = "verifying") -> Iterator[Callable[[int], None]]:
    """A rich progress bar on a terminal's stderr; nothing otherwise."""
    with Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as progress:
        task = progress.add_task(what, total=total)

        def advance(done: int) -> None:
            if done % 1000 == 0 or done == total:
                progress.update(task, completed=done)

        yield advance


def _reading(path: Path) -> Iterator[bytes]:
    """The file's lines, with a progress bar by bytes read on a terminal's stderr."""
    with (
        path.open("rb") as handle,
        Progress(
            TextColumn("checking"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            transient=True,
            disable=not sys.stderr.isatty(),
        ) as progress,
    ):
        task = progress.add_task("check", total=path.stat().st_size)
        done = 0
        for number, line in enumerate(handle, 1):
            done += len(line)
            if number % 1000 == 0:
                progress.update(task, completed=done)
            yield line
        progress.update(task, completed=done)


def _keys(paths: list[Path]) -> list[Ed25519PublicKey]:
    return [load_public_key_pem(path.read_bytes()) for path in paths]


def _load_checkpoint(path: Path) -> Checkpoint:
    """A checkpoint JSON, bare or wrapped as ``{"checkpoint": ...}`` (an export's last line)."""
    raw = path.read_bytes().strip()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = orjson.loads(raw.splitlines()[-1])
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a checkpoint object")
    return Checkpoint.from_json(data.get("checkpoint", data))


def _print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def _fail(message: str, code: int = 2) -> int:
    print(f"eport-ledger: {message}", file=sys.stderr)
    return code


def run_verify(args: argparse.Namespace) -> int:
    """Verify chain, tree and checkpoints (and an old checkpoint); name the first bad index."""
    try:
        old = _load_checkpoint(args.checkpoint) if args.checkpoint else None
        trusted = _keys(args.public_key)
    except (OSError, ValueError) as error:
        return _fail(f"cannot read --checkpoint/--public-key: {error}")
    ledger = EventStore(mode="read")
    try:
        with _progress(ledger.position()) as progress:
            report = audit_ledger(
                ledger.database, old_checkpoint=old, trusted_keys=trusted, progress=progress
            )
    finally:
        ledger.close()
    code = 0 if report.intact else 1
    if args.json:
        print_document(
            {
                "ok": report.intact,
                "intact": report.intact,
                "size": report.size,
                "chain_head": report.chain_head.hex(),
                "root": report.root.hex(),
                "checkpoints_checked": report.checkpoints_checked,
                "nodes_checked": report.nodes_checked,
                "extends_checkpoint": None if old is None else old.size,
                "first_bad_index": report.first_bad_index,
                "findings": [
                    {"ledger_index": f.ledger_index, "problem": f.problem} for f in report.ordered()
                ],
                "exit_code": code,
            }
        )
        return code
    if report.intact:
        extends = f"; extends your checkpoint at size {old.size}" if old else ""
        print(
            f"intact: {report.size} entries, chain head {report.chain_head.hex()}, "
            f"Merkle root {report.root.hex()}; {report.checkpoints_checked} checkpoints and "
            f"{report.nodes_checked} stored nodes verified{extends}"
        )
        return code
    first, *rest = report.ordered()
    where = f" at ledger index {first.ledger_index}" if first.ledger_index else ""
    print(f"TAMPERED{where}: {first.problem}")
    for finding in rest:
        print(f"  also, {finding}")
    return code


def run_checkpoint(args: argparse.Namespace) -> int:
    """Sign and store a checkpoint of the current head (or list them) and print JSON."""
    ledger = EventStore(mode="read" if args.list else "existing")
    try:
        if args.list:
            listed = [cp.to_json() for cp in iter_checkpoints(ledger.database)]
            print_document(listed) if args.json else _print_json(listed)
            return 0
        database = ledger.database
        key = open_signing_key(ledger.settings.key_path(), database, rotate=args.rotate_key)
        checkpoint = create_checkpoint(database, key, rotate=args.rotate_key)
    except (CheckpointError, MerkleStoreError) as error:
        return _fail(f"cannot checkpoint: {error}", 1)
    finally:
        ledger.close()
    print_document(checkpoint.to_json()) if args.json else _print_json(checkpoint.to_json())
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write the export (checkpointing the head first when needed, which needs the key)."""
    ledger = EventStore(mode="existing")
    try:
        database = ledger.database
        latest = latest_checkpoint(database)
        current = latest is not None and latest.size >= database.head()[0]
        key = None if current else open_signing_key(ledger.settings.key_path(), database)
        with _progress(database.head()[0], "exporting") as progress:
            if args.out is None:
                checkpoint = export_ledger(database, sys.stdout.buffer, key, progress=progress)
            else:
                with private_file(args.out) as out:
                    checkpoint = export_ledger(database, out, key, progress=progress)
    except (CheckpointError, MerkleStoreError) as error:
        return _fail(f"cannot export: {error}", 1)
    finally:
        ledger.close()
    print(
        f"exported {checkpoint.size} entries with checkpoint {checkpoint.root_hash}",
        file=sys.stderr,
    )
    return 0


def _run_bundle(make: Callable[[EventStore], dict[str, Any]]) -> int:
    ledger = EventStore(mode="read")
    try:
        bundle = make(ledger)
    except (ProofRequestError, MerkleStoreError) as error:
        return _fail(str(error))
    finally:
        ledger.close()
    _print_json(bundle)
    return 0


def run_proof_inclusion(args: argparse.Namespace) -> int:
    """Print the inclusion proof bundle of one ledger index."""
    return _run_bundle(lambda ledger: inclusion_bundle(ledger.database, args.index, args.size))


def run_proof_consistency(args: argparse.Namespace) -> int:
    """Print the consistency proof bundle between two tree sizes."""
    return _run_bundle(lambda ledger: consistency_bundle(ledger.database, args.old, args.new))


def _report(verdict: Verdict, keys: list[Ed25519PublicKey] | None) -> int:
    """Print the verdict; exit 0 only when valid AND signed by a key the auditor trusts."""
    print(str(verdict))
    if not verdict.valid:
        return 1
    if not keys:
        print(
            "UNTRUSTED: the signature was checked only against the key the file carries itself, "
            "which proves nothing; give --public-key PEM (or pin keys in EPORT_TRUSTED_KEYS)",
            file=sys.stderr,
        )
        return 1
    return 0


def _trusted_keys(paths: list[Path]) -> list[Ed25519PublicKey]:
    """The keys given with --public-key, or pinned in EPORT_TRUSTED_KEYS (PEM paths)."""
    pinned = [Path(p) for p in os.environ.get("EPORT_TRUSTED_KEYS", "").split(os.pathsep) if p]
    return _keys(paths or pinned)


def run_verify_export(args: argparse.Namespace) -> int:
    """Check an export file offline."""
    try:
        keys = _trusted_keys(args.public_key)
    except (OSError, ValueError) as error:
        return _fail(f"cannot read --public-key: {error}")
    if not args.file.is_file():
        return _fail(f"cannot read {args.file}: no such file")
    return _report(check_export(_reading(args.file), keys or None), keys)


def run_verify_proof(args: argparse.Namespace) -> int:
    """Check a proof bundle offline."""
    try:
        keys = _trusted_keys(args.public_key)
        bundle = orjson.loads(args.file.read_bytes())
    except (OSError, ValueError) as error:
        return _fail(f"cannot read the bundle or --public-key: {error}")
    if not isinstance(bundle, dict):
        return _fail("the bundle is not a JSON object")
    return _report(check_bundle(bundle, keys or None), keys)


@contextmanager
def private_file(path: Path) -> Iterator[BinaryIO]:
    """A file only its owner may read (0600), created or truncated: an export is the ledger."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
    with os.fdopen(fd, "wb") as out:
        yield out
