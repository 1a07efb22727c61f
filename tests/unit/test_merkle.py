"""RFC 9162 Merkle tree: vectors, store-backed vs reference proofs, attacks, accumulator."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings, strategies as st

from ledger_store.proofs.merkle import (
    InMemoryNodeStore,
    MerkleAccumulator,
    consistency_path,
    consistency_proof,
    consistency_proof_nodes,
    inclusion_path,
    inclusion_proof,
    inclusion_proof_nodes,
    perfect_nodes,
    root,
    root_from_leaves,
    root_nodes,
)
from ledger_store.proofs.merkle_verify import (
    EMPTY_ROOT,
    ProofError,
    _path_step,
    consistency_path_length,
    inclusion_path_length,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

# ------------------------------------------------------------------ fixtures and helpers

# RFC 6962 / 9162 reference data as used by transparency-dev/merkle (proof/verify_test.go).
# These leaves are arbitrary-length data, so their leaf hashes are computed directly.
RFC_DATA = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]
RFC_DATA.append("606162636465666768696a6b6c6d6e6f")
RFC_LEAVES = [hashlib.sha256(b"\x00" + bytes.fromhex(d)).digest() for d in RFC_DATA]
RFC_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H_96A2 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
H_5F08 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
H_6B47 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
H_BC1A = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
H_CA85 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
H_0EBC = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
H_B086 = "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"
# (0-based index, size, path)
RFC_INCLUSION = [
    (0, 1, []),
    (0, 8, [H_96A2, H_5F08, H_6B47]),
    (5, 8, [H_BC1A, H_CA85, RFC_ROOTS[4]]),
    (2, 3, [RFC_ROOTS[2]]),
    (1, 5, [RFC_ROOTS[1], H_5F08, H_BC1A]),
]
# (old size, new size, path)
RFC_CONSISTENCY = [
    (1, 1, []),
    (1, 8, [H_96A2, H_5F08, H_6B47]),
    (6, 8, [H_0EBC, H_CA85, RFC_ROOTS[4]]),
    (2, 5, [H_5F08, H_BC1A]),
    (6, 7, [H_0EBC, H_B086, RFC_ROOTS[4]]),
]


def entry_hash(i: int) -> bytes:
    """A stand-in ledger entry hash for 1-based ledger index ``i``."""
    return hashlib.sha256(f"entry {i}".encode()).digest()


LEAVES = [leaf_hash(entry_hash(i)) for i in range(1, 301)]


def store_for(leaves: Sequence[bytes]) -> InMemoryNodeStore:
    """A node store holding every perfect node of ``leaves``."""
    return InMemoryNodeStore(MerkleAccumulator().append(leaves))


STORE = store_for(LEAVES)


def flip(h: bytes, bit: int = 0) -> bytes:
    """Return ``h`` with one bit flipped."""
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


def rejected(check: Callable[[], None], match: str | None = None) -> None:
    """Assert the verification raises ProofError (optionally matching a message)."""
    with pytest.raises(ProofError, match=match):
        check()


# ------------------------------------------------------------------ hashing primitives


def test_hash_primitives_use_rfc_domain_separation() -> None:
    e = entry_hash(1)
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert leaf_hash(e) == hashlib.sha256(b"\x00" + e).digest()
    assert node_hash(e, e[::-1]) == hashlib.sha256(b"\x01" + e + e[::-1]).digest()
    assert leaf_hash(e) != node_hash(e[:16], e[16:])


@pytest.mark.parametrize("bad", [b"", b"\x00" * 31, b"\x00" * 33, b"a" * 64])
def test_leaf_hash_rejects_entry_hashes_that_are_not_32_bytes(bad: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        leaf_hash(bad)


# ------------------------------------------------------------------ RFC test vectors


@pytest.mark.parametrize("size", range(9))
def test_roots_match_rfc_vectors_in_every_implementation(size: int) -> None:
    leaves = RFC_LEAVES[:size]
    acc = MerkleAccumulator()
    acc.append(leaves)
    expected = bytes.fromhex(RFC_ROOTS[size])
    assert root_from_leaves(leaves) == expected
    assert root(store_for(RFC_LEAVES), size) == expected
    assert acc.root() == expected


@pytest.mark.parametrize(("index", "size", "path"), RFC_INCLUSION)
def test_inclusion_proofs_match_rfc_vectors(index: int, size: int, path: list[str]) -> None:
    expected = [bytes.fromhex(h) for h in path]
    assert inclusion_path(RFC_LEAVES, index, size) == expected
    assert inclusion_proof(store_for(RFC_LEAVES), index, size) == expected
    verify_inclusion(RFC_LEAVES[index], index, size, expected, bytes.fromhex(RFC_ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "path"), RFC_CONSISTENCY)
def test_consistency_proofs_match_rfc_vectors(old: int, new: int, path: list[str]) -> None:
    expected = [bytes.fromhex(h) for h in path]
    assert consistency_path(RFC_LEAVES, old, new) == expected
    assert consistency_proof(store_for(RFC_LEAVES), old, new) == expected
    old_root, new_root = bytes.fromhex(RFC_ROOTS[old]), bytes.fromhex(RFC_ROOTS[new])
    verify_consistency(old, new, old_root, new_root, expected)


# ------------------------------------------------------------------ the path walk both checks share


def sibling_sides(index: int, size: int) -> list[bool]:
    """For each element of the inclusion path of ``index`` (leaf first), whether it is the left
    sibling, read from RFC 9162 §2.1.3.1's recursive PATH(m, D[n]) rather than from the walk."""
    if size <= 1:
        return []
    k = 1 << ((size - 1).bit_length() - 1)  # the largest power of two smaller than size
    if index < k:
        return [*sibling_sides(index, k), False]
    return [*sibling_sides(index - k, size - k), True]


def test_the_path_walk_puts_each_sibling_on_its_side_and_ends_with_the_path() -> None:
    for size in range(1, 70):
        for index in range(size):
            sides: list[bool] = []
            fn, sn = index, size - 1
            while sn:
                left, fn, sn = _path_step(fn, sn)
                sides.append(left)
            assert sides == sibling_sides(index, size), (index, size)
            assert len(sides) == inclusion_path_length(index, size)


# ------------------------------------------------------------------ store-backed vs reference


def test_store_inclusion_proofs_equal_reference_for_every_index_of_sizes_1_to_70() -> None:
    for size in range(1, 71):
        tree_root = root_from_leaves(LEAVES[:size])
        assert root(STORE, size) == tree_root
        for index in range(size):
            path = inclusion_path(LEAVES, index, size)
            assert inclusion_proof(STORE, index, size) == path
            assert len(path) == inclusion_path_length(index, size)
            verify_inclusion(LEAVES[index], index, size, path, tree_root)


def test_store_consistency_proofs_equal_reference_for_every_pair_up_to_40() -> None:
    roots = [root_from_leaves(LEAVES[:n]) for n in range(41)]
    for new in range(41):
        for old in range(new + 1):
            path = consistency_path(LEAVES, old, new)
            assert consistency_proof(STORE, old, new) == path
            if 0 < old < new:
                assert len(path) == consistency_path_length(old, new)
            verify_consistency(old, new, roots[old], roots[new], path)


def test_store_accepts_a_plain_get_node_callable() -> None:
    get = STORE.get_node
    assert root(get, 37) == root_from_leaves(LEAVES[:37])
    assert inclusion_proof(get, 12, 37) == inclusion_path(LEAVES, 12, 37)
    assert consistency_proof(get, 13, 37) == consistency_path(LEAVES, 13, 37)


class CountingStore:
    """A node store wrapper that records every node read."""

    def __init__(self, inner: InMemoryNodeStore) -> None:
        self.inner = inner
        self.reads: list[tuple[int, int]] = []

    def get_node(self, level: int, index: int) -> bytes:
        self.reads.append((level, index))
        return self.inner.get_node(level, index)


@pytest.mark.parametrize("size", [1, 2, 3, 255, 256, 257, 299, 300])
def test_proofs_read_only_logarithmically_many_nodes(size: int) -> None:
    bound = 2 * size.bit_length() + 2
    for index in {0, size // 2, size - 1}:
        counting = CountingStore(STORE)
        inclusion_proof(counting, index, size)
        assert len(counting.reads) <= bound
        assert set(counting.reads) == set(inclusion_proof_nodes(index, size))
    for old in {1, size // 3, size - 1}:
        counting = CountingStore(STORE)
        consistency_proof(counting, old, size)
        assert len(counting.reads) <= bound
        assert set(counting.reads) == set(consistency_proof_nodes(old, size))
    counting = CountingStore(STORE)
    root(counting, size)
    assert counting.reads == root_nodes(size)
    assert len(root_nodes(size)) == size.bit_count()


def test_proofs_work_from_only_the_prefetched_nodes() -> None:
    size, index, old = 300, 123, 77
    needed = {*inclusion_proof_nodes(index, size), *consistency_proof_nodes(old, size)}
    prefetched = InMemoryNodeStore((lv, ix, STORE.get_node(lv, ix)) for lv, ix in needed)
    assert inclusion_proof(prefetched, index, size) == inclusion_path(LEAVES, index, size)
    assert consistency_proof(prefetched, old, size) == consistency_path(LEAVES, old, size)


def test_perfect_nodes_decompose_ranges_and_reject_unaligned_ones() -> None:
    assert perfect_nodes(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert perfect_nodes(8, 11) == [(1, 4), (0, 10)]
    assert perfect_nodes(5, 5) == []
    with pytest.raises(ValueError, match="not a subtree"):
        perfect_nodes(1, 3)
    with pytest.raises(ValueError, match="not a leaf range"):
        perfect_nodes(5, 3)


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (inclusion_proof, (5, 5)),
        (inclusion_proof, (-1, 5)),
        (inclusion_proof, (0, 0)),
        (consistency_proof, (6, 5)),
        (consistency_proof, (-1, 5)),
        (root, (-1,)),
    ],
)
def test_store_proofs_reject_impossible_parameters(
    call: Callable[..., object], args: tuple[int, ...]
) -> None:
    with pytest.raises(ValueError, match=r"out of range|must be|non-negative"):
        call(STORE, *args)


def test_reference_proofs_reject_impossible_parameters() -> None:
    with pytest.raises(ValueError, match="out of range"):
        inclusion_path(LEAVES[:4], 4, 4)
    with pytest.raises(ValueError, match="out of range"):
        inclusion_path(LEAVES[:4], 0, 5)
    with pytest.raises(ValueError, match="out of range"):
        consistency_path(LEAVES[:4], 3, 2)


# ------------------------------------------------------------------ Hypothesis properties


@settings(max_examples=150, deadline=None)
@given(data=st.data(), size=st.integers(1, 300))
def test_every_inclusion_proof_verifies_and_any_bit_flip_breaks_it(
    data: st.DataObject, size: int
) -> None:
    index = data.draw(st.integers(0, size - 1))
    tree_root = root(STORE, size)
    path = inclusion_proof(STORE, index, size)
    verify_inclusion(LEAVES[index], index, size, path, tree_root)
    if path:
        pos = data.draw(st.integers(0, len(path) - 1))
        byte, bit = data.draw(st.integers(0, 31)), data.draw(st.integers(0, 7))
        bad = bytearray(path[pos])
        bad[byte] ^= 1 << bit
        forged = [*path[:pos], bytes(bad), *path[pos + 1 :]]
        rejected(lambda: verify_inclusion(LEAVES[index], index, size, forged, tree_root))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), new=st.integers(1, 300))
def test_every_consistency_proof_verifies_and_any_bit_flip_breaks_it(
    data: st.DataObject, new: int
) -> None:
    old = data.draw(st.integers(1, new))
    old_root, new_root = root(STORE, old), root(STORE, new)
    path = consistency_proof(STORE, old, new)
    verify_consistency(old, new, old_root, new_root, path)
    if path:
        pos = data.draw(st.integers(0, len(path) - 1))
        forged = [*path[:pos], flip(path[pos], data.draw(st.integers(0, 7))), *path[pos + 1 :]]
        rejected(lambda: verify_consistency(old, new, old_root, new_root, forged))


@settings(max_examples=100, deadline=None)
@given(size=st.integers(1, 300), index=st.integers(0, 400), claimed=st.integers(0, 400))
def test_an_inclusion_proof_never_verifies_for_another_index(
    size: int, index: int, claimed: int
) -> None:
    index %= size
    path = inclusion_proof(STORE, index, size)
    tree_root = root(STORE, size)
    if claimed != index:
        rejected(lambda: verify_inclusion(LEAVES[index], claimed, size, path, tree_root))


# ------------------------------------------------------------------ adversarial inclusion

INCLUSION_CASES = [(0, 1), (0, 2), (1, 2), (5, 8), (6, 7), (0, 13), (12, 13), (9, 37), (36, 37)]


@pytest.mark.parametrize(("index", "size"), INCLUSION_CASES)
def test_tampered_inclusion_proofs_are_rejected(index: int, size: int) -> None:
    leaf, path, good_root = LEAVES[index], inclusion_proof(STORE, index, size), root(STORE, size)
    verify_inclusion(leaf, index, size, path, good_root)

    def bad(
        i: int = index,
        n: int = size,
        p: Sequence[bytes] = path,
        r: bytes = good_root,
        lf: bytes = leaf,
    ) -> None:
        rejected(lambda: verify_inclusion(lf, i, n, p, r))

    for wrong_index in {index - 1, index + 1, index ^ 2} - {index}:
        if wrong_index >= 0:
            bad(i=wrong_index)
    for wrong_size in {size * 2, size // 2} - {size}:
        bad(n=wrong_size)
    for wrong_size in (size + 1, size - 1):  # with that size's genuine root
        bad(n=wrong_size, r=root(STORE, wrong_size))
    bad(lf=LEAVES[index + 1])  # wrong leaf
    bad(lf=entry_hash(index + 1))  # the entry hash instead of its leaf hash
    bad(r=EMPTY_ROOT)
    bad(r=flip(good_root))
    bad(p=[*path, good_root])  # padded at the end
    bad(p=[good_root, *path])  # padded at the front
    bad(p=[*path, b""])
    if path:
        bad(p=path[:-1])  # truncated
        bad(p=path[1:])
        for pos in range(len(path)):
            bad(p=[*path[:pos], flip(path[pos], 3), *path[pos + 1 :]])
    if len(path) > 1:
        bad(p=[path[1], path[0], *path[2:]])  # swapped siblings
        bad(p=path[::-1])


def test_inclusion_error_messages_are_specific() -> None:
    path, r = inclusion_proof(STORE, 5, 8), root(STORE, 8)
    rejected(lambda: verify_inclusion(LEAVES[0], 0, 0, [], EMPTY_ROOT), "out of range")
    rejected(lambda: verify_inclusion(LEAVES[8], 8, 8, path, r), "index 8 out of range")
    rejected(lambda: verify_inclusion(LEAVES[5], -1, 8, path, r), "non-negative")
    rejected(lambda: verify_inclusion(LEAVES[5], True, 8, path, r), "non-negative")
    rejected(lambda: verify_inclusion(LEAVES[5], 5, 8, path[:2], r), "wrong inclusion path length")
    rejected(lambda: verify_inclusion(LEAVES[5], 5, 8, [*path, r], r), "path length 4, expected 3")
    rejected(lambda: verify_inclusion(LEAVES[5], 5, 8, path, flip(r)), "root mismatch")
    rejected(lambda: verify_inclusion(LEAVES[5], 5, 8, [path[0][:31], *path[1:]], r), "element 0")
    rejected(lambda: verify_inclusion(b"x", 5, 8, path, r), "leaf hash")
    rejected(lambda: verify_inclusion(LEAVES[5], 5, 8, path, r.hex().encode()), "root hash")


def test_size_and_root_are_bound_only_by_the_signed_checkpoint() -> None:
    # Documented limitation of RFC 9162 proofs: for some sizes the path shape is identical,
    # so a verifier must always take (size, root) together from one verified checkpoint.
    path, r8 = inclusion_proof(STORE, 5, 8), root(STORE, 8)
    verify_inclusion(LEAVES[5], 5, 7, path, r8)  # accepted although r8 is not the size-7 root
    rejected(lambda: verify_inclusion(LEAVES[5], 5, 7, path, root(STORE, 7)), "root mismatch")


def test_single_leaf_tree_root_is_its_leaf_hash_with_an_empty_path() -> None:
    verify_inclusion(LEAVES[0], 0, 1, [], LEAVES[0])
    rejected(lambda: verify_inclusion(LEAVES[0], 0, 1, [], LEAVES[1]), "root mismatch")


# ------------------------------------------------------------------ adversarial consistency

CONSISTENCY_CASES = [(1, 2), (1, 8), (2, 5), (3, 7), (4, 8), (6, 8), (6, 7), (7, 37), (32, 33)]


@pytest.mark.parametrize(("old", "new"), CONSISTENCY_CASES)
def test_tampered_consistency_proofs_are_rejected(old: int, new: int) -> None:
    path = consistency_proof(STORE, old, new)
    old_root, new_root = root(STORE, old), root(STORE, new)
    verify_consistency(old, new, old_root, new_root, path)

    def bad(
        m: int = old,
        n: int = new,
        r1: bytes = old_root,
        r2: bytes = new_root,
        p: Sequence[bytes] = path,
    ) -> None:
        rejected(lambda: verify_consistency(m, n, r1, r2, p))

    for wrong_old in {old - 1, old + 1, old ^ 2} - {old}:
        bad(m=wrong_old)
    for wrong_new in {new * 2, new // 2} - {new}:
        bad(n=wrong_new)
    for wrong_new in (new + 1, new - 1):  # with that size's genuine root
        bad(n=wrong_new, r2=root(STORE, wrong_new))
    bad(r1=new_root, r2=old_root)  # roots swapped
    bad(r1=flip(old_root))
    bad(r2=flip(new_root))
    bad(r1=root(STORE, old + 1))
    bad(p=[])
    bad(p=path[:-1])  # truncated
    bad(p=[*path, old_root])  # padded
    bad(p=[*path, new_root])
    bad(p=[path[0], *path])
    bad(p=[old_root, *path])
    for pos in range(len(path)):
        bad(p=[*path[:pos], flip(path[pos], 4), *path[pos + 1 :]])
    if len(path) > 1:
        bad(p=[path[1], path[0], *path[2:]])  # swapped siblings
    for other_old, other_new in [(old, new + 1), (max(1, old - 1), new), (old + 1, new + 2)]:
        if (other_old, other_new) != (old, new) and other_old <= other_new:
            bad(p=consistency_proof(STORE, other_old, other_new))  # proof for other sizes


def test_consistency_between_equal_sizes_needs_equal_roots_and_an_empty_path() -> None:
    r = root(STORE, 5)
    verify_consistency(5, 5, r, r, [])
    rejected(lambda: verify_consistency(5, 5, r, root(STORE, 6), []), "equal sizes but different")
    rejected(lambda: verify_consistency(5, 5, r, r, [r]), "must be empty")


def test_consistency_from_the_empty_tree_needs_the_empty_root_and_an_empty_path() -> None:
    r = root(STORE, 9)
    verify_consistency(0, 9, EMPTY_ROOT, r, [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    rejected(lambda: verify_consistency(0, 9, r, r, []), "old root mismatch")
    rejected(
        lambda: verify_consistency(0, 9, EMPTY_ROOT, r, [r]), "from the empty tree must be empty"
    )
    rejected(lambda: verify_consistency(0, 0, EMPTY_ROOT, r, []), "new root mismatch")
    assert consistency_path(LEAVES, 0, 9) == consistency_proof(STORE, 0, 9) == []


def test_consistency_error_messages_are_specific() -> None:
    r3, r7 = root(STORE, 3), root(STORE, 7)
    path = consistency_proof(STORE, 3, 7)
    rejected(lambda: verify_consistency(7, 3, r7, r3, path), "larger than new size")
    rejected(lambda: verify_consistency(-1, 3, r3, r3, path), "non-negative")
    rejected(lambda: verify_consistency(3, 7, r3, r7, []), "empty consistency path")
    rejected(lambda: verify_consistency(3, 7, r3, r7, path[:-1]), "wrong consistency path length")
    rejected(lambda: verify_consistency(3, 7, flip(r3), r7, path), "old root mismatch")
    rejected(lambda: verify_consistency(3, 7, r3, flip(r7), path), "new root mismatch")
    rejected(lambda: verify_consistency(3, 7, r3[:8], r7, path), "old root is not")
    rejected(lambda: verify_consistency(3, 7, r3, r7, [b"", *path[1:]]), "path element 0")


# ------------------------------------------------------------------ incremental accumulator


def reference_perfect_nodes(leaves: Sequence[bytes]) -> dict[tuple[int, int], bytes]:
    """Every perfect subtree of ``leaves`` hashed with the recursive reference."""
    nodes: dict[tuple[int, int], bytes] = {}
    level = 0
    while 1 << level <= len(leaves):
        width = 1 << level
        for index in range(len(leaves) // width):
            nodes[level, index] = root_from_leaves(leaves[index * width : (index + 1) * width])
        level += 1
    return nodes


@pytest.mark.parametrize("seed", range(12))
def test_accumulator_emits_every_reference_node_once_and_tracks_the_root(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 300)
    acc, emitted, appended = MerkleAccumulator(), list[tuple[int, int, bytes]](), 0
    while appended < n:
        batch = rng.choice([0, 1, 1, 2, 3, 7, 16, 50])
        batch = min(batch, n - appended)
        emitted += acc.append(LEAVES[appended : appended + batch])
        appended += batch
        assert acc.size == appended
        assert acc.root() == root_from_leaves(LEAVES[:appended])
        if rng.random() < 0.3:  # persist and resume from the frontier
            acc = MerkleAccumulator.from_frontier(acc.size, acc.frontier())
    coords = [(level, index) for level, index, _ in emitted]
    assert len(coords) == len(set(coords))
    assert {(lv, ix): h for lv, ix, h in emitted} == reference_perfect_nodes(LEAVES[:n])
    assert len(acc.frontier()) == n.bit_count() <= n.bit_length()


def test_empty_accumulator_has_the_empty_root() -> None:
    acc = MerkleAccumulator()
    assert acc.root() == EMPTY_ROOT
    assert acc.append([]) == []
    assert acc.frontier() == []
    assert MerkleAccumulator.from_frontier(0, []).root() == EMPTY_ROOT


def test_accumulator_frontier_is_the_largest_first_perfect_decomposition() -> None:
    acc = MerkleAccumulator()
    acc.append(LEAVES[:13])
    assert [(lv, ix) for lv, ix, _ in acc.frontier()] == [(3, 0), (2, 2), (0, 12)]
    new = acc.append(LEAVES[13:16])
    assert [(lv, ix) for lv, ix, _ in new] == [
        (0, 13),
        (1, 6),
        (0, 14),
        (0, 15),
        (1, 7),
        (2, 3),
        (3, 1),
        (4, 0),
    ]
    assert acc.frontier() == [(4, 0, root_from_leaves(LEAVES[:16]))]


def test_accumulator_rejects_a_frontier_that_does_not_match_the_size() -> None:
    acc = MerkleAccumulator()
    acc.append(LEAVES[:6])
    frontier = acc.frontier()
    for size in (5, 7, -1):
        with pytest.raises(ValueError, match=r"does not match|non-negative"):
            MerkleAccumulator.from_frontier(size, frontier)
    with pytest.raises(ValueError, match="does not match"):
        MerkleAccumulator.from_frontier(6, frontier[::-1])
    with pytest.raises(ValueError, match="32 bytes"):
        MerkleAccumulator.from_frontier(6, [(lv, ix, h[:16]) for lv, ix, h in frontier])
    with pytest.raises(ValueError, match="32 bytes"):
        acc.append([b"short"])
