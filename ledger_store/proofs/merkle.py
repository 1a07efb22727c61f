"""RFC 9162 §2.1 Merkle tree, the prover's half: reference functions, proofs served from stored
perfect nodes, and the one append accumulator (:class:`MerkleAccumulator`).

Node coordinates: ``(level, index)`` names the *perfect* subtree of ``2**level`` leaves
covering leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 holds leaf hashes.
A store only ever needs perfect nodes: the hash of a ragged right edge is recomputed from
at most ``log2(n) + 1`` of them, so roots and proofs cost O(log n) node reads.

The verifier's half -- leaf and node hashing, the empty root, checking inclusion and
consistency proofs -- is :mod:`ledger_store.proofs.merkle_verify`, kept apart because an auditor
can copy that one file and run it with nothing but the standard library. Each name has one
home: import hashing and verification from there, building from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, runtime_checkable

from ledger_store.proofs.merkle_verify import EMPTY_ROOT, HASH_SIZE, node_hash

__all__ = [
    "InMemoryNodeStore",
    "MerkleAccumulator",
    "Node",
    "NodeGetter",
    "NodeStore",
    "consistency_path",
    "consistency_proof",
    "consistency_proof_nodes",
    "inclusion_path",
    "inclusion_proof",
    "inclusion_proof_nodes",
    "perfect_nodes",
    "root",
    "root_from_leaves",
    "root_nodes",
]

Node = tuple[int, int, bytes]
"""A perfect subtree hash to persist: ``(level, index, hash)``."""

NodeGetter = Callable[[int, int], bytes]
"""``get_node(level, index)`` returning the hash of that perfect subtree."""


@runtime_checkable
class NodeStore(Protocol):
    """Anything that can return the hash of a stored perfect subtree."""

    def get_node(self, level: int, index: int) -> bytes:
        """Return the hash of the perfect subtree ``(level, index)``."""
        ...


def _split(n: int) -> int:
    """Return the largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# ---------------------------------------------------------------- reference (recursive)


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return MTH(D[n]) (RFC 9162 §2.1.1) of already-hashed leaves, recursively."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(root_from_leaves(leaf_hashes[:k]), root_from_leaves(leaf_hashes[k:]))


def inclusion_path(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """Return PATH(index, D[size]) (RFC 9162 §2.1.3.1), recursively; reference version."""
    if not 0 <= index < size <= len(leaf_hashes):
        raise ValueError(f"index {index} / size {size} out of range for {len(leaf_hashes)} leaves")
    leaves = leaf_hashes[:size]
    if size == 1:
        return []
    k = _split(size)
    if index < k:
        return [*inclusion_path(leaves[:k], index, k), root_from_leaves(leaves[k:])]
    return [*inclusion_path(leaves[k:], index - k, size - k), root_from_leaves(leaves[:k])]


def consistency_path(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """Return PROOF(old_size, D[new_size]) (RFC 9162 §2.1.4.1); [] when old_size is 0 or equal."""
    if not 0 <= old_size <= new_size <= len(leaf_hashes):
        raise ValueError(f"sizes {old_size}..{new_size} out of range for {len(leaf_hashes)} leaves")
    if old_size == 0:
        return []
    return _subproof(old_size, leaf_hashes[:new_size], True)


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    """Return SUBPROOF(m, D[n], b) from RFC 9162 §2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if complete else [root_from_leaves(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), root_from_leaves(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), root_from_leaves(leaves[:k])]


# ---------------------------------------------------------------- store-backed, O(log n)


def perfect_nodes(start: int, end: int) -> list[tuple[int, int]]:
    """Return the perfect nodes, left to right, whose fold is MTH(D[start:end])."""
    if not 0 <= start <= end:
        raise ValueError(f"[{start}, {end}) is not a leaf range")
    nodes: list[tuple[int, int]] = []
    remaining, pos = end - start, start
    for level in range(remaining.bit_length() - 1, -1, -1):
        if remaining >> level & 1:
            if pos % (1 << level):
                raise ValueError(f"[{start}, {end}) is not a subtree of an RFC 9162 tree")
            nodes.append((level, pos >> level))
            pos += 1 << level
    return nodes


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Combine perfect-subtree hashes, left to right, into their RFC 9162 subtree hash."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _getter(store: NodeStore | NodeGetter) -> NodeGetter:
    """Return the ``get_node`` callable of a store, or the callable itself."""
    return store.get_node if isinstance(store, NodeStore) else store


def _range_hash(get: NodeGetter, start: int, end: int) -> bytes:
    """Return MTH(D[start:end]) from at most log2(end - start) + 1 perfect nodes."""
    return _fold([get(level, index) for level, index in perfect_nodes(start, end)])


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Return the leaf ranges whose hashes form PATH(index, D[size]), leaf to root."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} out of range for tree size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    return ranges[::-1]


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Return the leaf ranges whose hashes form PROOF(old_size, D[new_size])."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"old size {old_size} must be between 0 and new size {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, new_size, old_size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        ranges.append((lo, hi))
    return ranges[::-1]


def _unique_nodes(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Return the distinct perfect nodes needed to hash every range, in first-use order."""
    return list(dict.fromkeys(n for lo, hi in ranges for n in perfect_nodes(lo, hi)))


def root_nodes(size: int) -> list[tuple[int, int]]:
    """Return the perfect nodes :func:`root` reads for a tree of ``size`` (for batch prefetch)."""
    return perfect_nodes(0, size)


def inclusion_proof_nodes(index: int, size: int) -> list[tuple[int, int]]:
    """Return the perfect nodes :func:`inclusion_proof` reads (for batch prefetch)."""
    return _unique_nodes(_inclusion_ranges(index, size))


def consistency_proof_nodes(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Return the perfect nodes :func:`consistency_proof` reads (for batch prefetch)."""
    return _unique_nodes(_consistency_ranges(old_size, new_size))


def root(store: NodeStore | NodeGetter, size: int) -> bytes:
    """Return MTH(D[size]) from stored perfect nodes in O(log size) reads."""
    if size < 0:
        raise ValueError(f"tree size must be non-negative, got {size}")
    return EMPTY_ROOT if size == 0 else _range_hash(_getter(store), 0, size)


def inclusion_proof(store: NodeStore | NodeGetter, index: int, size: int) -> list[bytes]:
    """Return PATH(index, D[size]) from stored perfect nodes in O(log size) reads."""
    get = _getter(store)
    return [_range_hash(get, lo, hi) for lo, hi in _inclusion_ranges(index, size)]


def consistency_proof(store: NodeStore | NodeGetter, old_size: int, new_size: int) -> list[bytes]:
    """Return PROOF(old_size, D[new_size]) from stored perfect nodes in O(log n) reads."""
    get = _getter(store)
    return [_range_hash(get, lo, hi) for lo, hi in _consistency_ranges(old_size, new_size)]


class InMemoryNodeStore:
    """A dict of perfect nodes; handy for tests, exports and offline auditors."""

    def __init__(self, nodes: Iterable[Node] = ()) -> None:
        """Create the store, optionally pre-filled with ``(level, index, hash)`` nodes."""
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.put(nodes)

    def put(self, nodes: Iterable[Node]) -> None:
        """Store (or re-store) perfect nodes."""
        for level, index, h in nodes:
            self.nodes[level, index] = h

    def get_node(self, level: int, index: int) -> bytes:
        """Return a stored node; KeyError if it was never stored."""
        return self.nodes[level, index]


# ---------------------------------------------------------------- incremental accumulator


class MerkleAccumulator:
    """Append-only builder that emits every new perfect node; state is the right frontier."""

    def __init__(self) -> None:
        """Start with the empty tree."""
        self._size = 0
        self._frontier: list[Node] = []

    @classmethod
    def from_frontier(cls, size: int, nodes: Iterable[Node]) -> MerkleAccumulator:
        """Resume from a persisted frontier: one node per set bit of ``size``, left to right."""
        if size < 0:
            raise ValueError(f"tree size must be non-negative, got {size}")
        frontier = [(level, index, bytes(h)) for level, index, h in nodes]
        expected = perfect_nodes(0, size)
        if [(level, index) for level, index, _ in frontier] != expected:
            raise ValueError(f"frontier does not match tree size {size}: expected nodes {expected}")
        if any(len(h) != HASH_SIZE for _, _, h in frontier):
            raise ValueError(f"frontier hashes must be {HASH_SIZE} bytes")
        acc = cls()
        acc._size, acc._frontier = size, frontier
        return acc

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def frontier(self) -> list[Node]:
        """Return the right-frontier perfect nodes (largest first) to persist."""
        return list(self._frontier)

    def append(self, leaf_hashes: Iterable[bytes]) -> list[Node]:
        """Append leaf hashes; return every newly completed perfect node (leaves included)."""
        new: list[Node] = []
        for leaf in leaf_hashes:
            if len(leaf) != HASH_SIZE:
                raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
            node: Node = (0, self._size, bytes(leaf))
            new.append(node)
            while self._frontier and self._frontier[-1][0] == node[0]:
                level, index, left = self._frontier.pop()
                node = (level + 1, index >> 1, node_hash(left, node[2]))
                new.append(node)
            self._frontier.append(node)
            self._size += 1
        return new

    def root(self) -> bytes:
        """Return MTH of all appended leaves from the frontier alone (no reads)."""
        return _fold([h for _, _, h in self._frontier]) if self._frontier else EMPTY_ROOT
