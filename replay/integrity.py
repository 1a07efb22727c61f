"""Audit the stored ledger: the chain, the stored Merkle tree, every checkpoint, an old checkpoint.

This is what ``eport-ledger verify`` runs against the database; the checks themselves are the
pure ones of :mod:`ledger_store.proofs` (the one chain walk, the one Merkle accumulator,
checkpoint signatures and consistency proofs). One streamed pass over the entries (flat memory)
walks the chain (every entry hash and chain link),
recomputes the RFC 9162 tree and compares every perfect node with ``merkle_nodes``, and checks
each stored checkpoint's signature, root and chain head at its size. Afterwards: the ledger is
not shorter than its checkpoints (tail truncation); and, given a checkpoint an auditor kept,
the current entries still hash to its root at its size and the ledger's own consistency proof
verifies, so a rewrite that recomputes every hash, rebuilds the nodes and re-signs is found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger_store.eventstore.database import LedgerDatabase
from ledger_store.proofs import merkle
from ledger_store.proofs.chain import GENESIS, LedgerEntry, verify_chain
from ledger_store.proofs.checkpoint import Checkpoint, SignatureError, keyring, verify_checkpoint
from ledger_store.proofs.merkle_verify import EMPTY_ROOT, ProofError, leaf_hash, verify_consistency
from ledger_store.transparency.checkpointer import (
    checkpoint_rows,
    public_keyring,
    row_to_checkpoint,
)
from ledger_store.transparency.tree_store import (
    MerkleStoreError,
    consistency_proof,
    fetch_node_ranges,
    read_state,
)

FLUSH_LEAVES = 1000


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing found wrong, and the first ledger index it concerns when that is known."""

    ledger_index: int | None
    problem: str

    def __str__(self) -> str:
        where = f"ledger index {self.ledger_index}" if self.ledger_index else "the ledger"
        return f"{where}: {self.problem}"


@dataclass
class LedgerReport:
    """What an audit found: sizes, hashes, how much was checked, and every finding."""

    size: int = 0
    chain_head: bytes = GENESIS
    root: bytes = EMPTY_ROOT
    checkpoints_checked: int = 0
    nodes_checked: int = 0
    extends: Checkpoint | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """True when nothing was found wrong."""
        return not self.findings

    @property
    def first_bad_index(self) -> int | None:
        """The smallest ledger index any finding names."""
        return min((f.ledger_index for f in self.findings if f.ledger_index), default=None)

    def add(self, ledger_index: int | None, problem: str) -> None:
        """Record a finding."""
        self.findings.append(Finding(ledger_index, problem))

    def ordered(self) -> list[Finding]:
        """Findings by ledger index; those without one last."""
        return sorted(self.findings, key=lambda f: (f.ledger_index is None, f.ledger_index or 0))


def _span(level: int, idx: int) -> str:
    first = (idx << level) + 1
    return f"{first}..{first + (1 << level) - 1}"


def _stored_checkpoints(database: LedgerDatabase, report: LedgerReport) -> Iterator[Checkpoint]:
    """Every stored checkpoint by size; a row that is not a valid checkpoint is a finding."""
    after = -1
    while True:
        rows = checkpoint_rows(database, after, 500)
        for row in rows:
            try:
                yield row_to_checkpoint(row)
            except (ValueError, TypeError) as error:
                problem = f"the stored checkpoint row at size {row[0]} is malformed: {error}"
                report.findings.append(Finding(None, problem.splitlines()[0]))
        if len(rows) < 500:
            return
        after = int(rows[-1][0])


class _Walk:
    """Follows the validated entries: tree, stored nodes, checkpoints and the old root."""

    def __init__(
        self,
        database: LedgerDatabase,
        report: LedgerReport,
        stored_size: int,
        ring: dict[str, Ed25519PublicKey],
        old: Checkpoint | None,
    ) -> None:
        self.database, self.report, self.ring = database, report, ring
        self.stored_size = stored_size
        self.acc = merkle.MerkleAccumulator()
        self.pending: list[merkle.Node] = []
        self.checkpoints: Iterator[Checkpoint] = _stored_checkpoints(database, report)
        self.next_cp = next(self.checkpoints, None)
        self.latest: Checkpoint | None = None
        self.last_good = 0
        self.old = old
        self.old_root: bytes | None = EMPTY_ROOT if old is not None and old.size == 0 else None
        self.node_finding = False
        self._at(GENESIS)

    def add(self, entry: LedgerEntry) -> None:
        """Take one entry the chain walk has just validated."""
        for node in self.acc.append([leaf_hash(entry.entry_hash)]):
            if (node[1] + 1) << node[0] <= self.stored_size:
                self.pending.append(node)
        if self.acc.size % FLUSH_LEAVES == 0:
            self.flush()
        self._at(entry.chain_hash)

    def _at(self, chain_head: bytes) -> None:
        size = self.acc.size
        if self.old is not None and self.old.size == size:
            self.old_root = self.acc.root()
        while self.next_cp is not None and self.next_cp.size == size:
            self._check(self.next_cp, self.acc.root(), chain_head)
            self._advance()

    def _advance(self) -> None:
        self.latest = self.next_cp
        self.next_cp = next(self.checkpoints, None)

    def remaining(self) -> list[Checkpoint]:
        """The stored checkpoints beyond the checked entries (read to the end)."""
        left = []
        while self.next_cp is not None:
            left.append(self.next_cp)
            self._advance()
        return left

    def _check(self, cp: Checkpoint, root: bytes, chain_head: bytes) -> None:
        self.report.checkpoints_checked += 1
        first, problems = self.last_good + 1, []
        try:
            verify_checkpoint(cp, self.ring)
        except SignatureError as error:
            problems.append(f"signature does not verify ({error})")
        if cp.root_hash != root.hex():
            problems.append("Merkle root differs from the root recomputed from the entries")
        if cp.chain_head != chain_head.hex():
            problems.append("chain head differs from the stored chain")
        if problems:
            text = f"checkpoint at size {cp.size}: " + "; ".join(problems)
            self.report.add(min(first, cp.size) or None, text)
        else:
            self.last_good = cp.size

    def flush(self) -> None:
        """Compare the buffered recomputed nodes with the stored ones (one SELECT)."""
        if not self.pending or self.node_finding:
            self.pending.clear()
            return
        bounds: dict[int, tuple[int, int]] = {}
        for level, idx, _ in self.pending:
            lo, hi = bounds.get(level, (idx, idx))
            bounds[level] = (min(lo, idx), max(hi, idx))
        with self.database.transaction() as cursor:
            stored = fetch_node_ranges(
                cursor, self.database, [(lv, lo, hi) for lv, (lo, hi) in bounds.items()]
            )
        for level, idx, value in sorted(self.pending, key=lambda n: ((n[1] << n[0]), -n[0])):
            found = stored.get((level, idx))
            if found != value:
                what = "is missing" if found is None else "does not match the entries"
                problem = (
                    f"stored Merkle node (level {level}, idx {idx}) over ledger indexes "
                    f"{_span(level, idx)} {what}: merkle_nodes was altered"
                )
                self.report.findings.append(Finding((idx << level) + 1, problem))
                self.node_finding = True
                break
            self.report.nodes_checked += 1
        self.pending.clear()


def _check_old(
    database: LedgerDatabase, report: LedgerReport, walk: _Walk, old: Checkpoint
) -> None:
    """Does the current ledger extend the checkpoint an auditor kept?"""
    add = report.add
    try:
        verify_checkpoint(old, walk.ring)
    except SignatureError as error:
        problem = (
            f"your checkpoint (size {old.size}) does not verify against the ledger's "
            f"listed keys or --public-key ({error}): the key list was rewritten, or the "
            "checkpoint is not from this ledger"
        )
        add(None, problem)
    if old.size > report.size:
        problem = (
            f"the ledger has {report.size} entries but your checkpoint was "
            f"signed at {old.size}: entries {report.size + 1}..{old.size} were removed"
        )
        add(report.size + 1, problem)
        return
    if walk.old_root is None:
        return  # the chain broke before old.size; that finding names the index
    if walk.old_root.hex() != old.root_hash:
        problem = (
            f"the first {old.size} entries no longer hash to the Merkle root of your "
            f"checkpoint: history at or before ledger index {old.size} was rewritten since "
            "it was signed"
        )
        add(None, problem)
    latest = walk.latest
    if latest is None or latest.size < old.size:
        return
    try:
        proof = consistency_proof(database, old.size, latest.size)
        old_root, new_root = bytes.fromhex(old.root_hash), bytes.fromhex(latest.root_hash)
        verify_consistency(old.size, latest.size, old_root, new_root, proof.path)
    except (ProofError, MerkleStoreError, ValueError) as error:
        problem = (
            f"the ledger cannot prove its checkpoint at size {latest.size} extends "
            f"yours at size {old.size}: {error}"
        )
        add(None, problem)
        return
    if not any(f.ledger_index is None or f.ledger_index <= old.size for f in report.findings):
        report.extends = old


def audit_ledger(
    database: LedgerDatabase,
    *,
    old_checkpoint: Checkpoint | None = None,
    trusted_keys: Iterable[Ed25519PublicKey] = (),
    progress: Callable[[int], None] | None = None,
) -> LedgerReport:
    """Audit everything stored (see module docstring); never raises on tampering."""
    with database.transaction() as cursor:
        stored = read_state(cursor, database)
    ring = {**public_keyring(database), **keyring(trusted_keys)}
    report = LedgerReport()
    walk = _Walk(database, report, stored.size, ring, old_checkpoint)

    def checked(entry: LedgerEntry) -> None:
        walk.add(entry)
        if progress is not None:
            progress(entry.ledger_index)

    chain = verify_chain(database.iter_entries(), on_entry=checked)
    walk.flush()
    report.size, report.chain_head, report.root = chain.size, chain.head, walk.acc.root()
    beyond = [cp.size for cp in walk.remaining()]
    if not chain.intact:
        report.add(chain.first_bad_index, chain.problem or "chain broken")
    elif beyond:
        problem = (
            f"the ledger has {chain.size} entries but a checkpoint was "
            f"signed at {beyond[-1]}: entries {chain.size + 1}..{beyond[-1]} were "
            "removed (tail truncation)"
        )
        report.add(chain.size + 1, problem)
    elif stored.size > chain.size:
        problem = (
            f"the stored Merkle tree covers {stored.size} entries but "
            f"the ledger has {chain.size}: entries were removed"
        )
        report.add(chain.size + 1, problem)
    if walk.latest is not None and walk.latest.size != stored.size:
        problem = (
            f"merkle_state says {stored.size} leaves but the latest checkpoint is "
            f"at {walk.latest.size}: the Merkle tables were altered"
        )
        report.add(None, problem)
    if old_checkpoint is not None:
        _check_old(database, report, walk, old_checkpoint)
    return report
