"""The RFC 9162 tree math against published vectors and a naive reference implementation."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyidai.ledger import tree

# Leaves, roots and proofs from the Certificate Transparency / transparency-dev test data
# (transparency-dev/merkle proof/verify_test.go, itself from the C++ CT merkle_tree_test).
LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f")
]  # fmt: skip
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
# (leaf index, tree size, proof) — 0-based indexes.
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (0, 1, []),
]  # fmt: skip
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip


# --- a naive reference: RFC 9162 section 2.1 written as literally as possible -------------


def naive_mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(leaves[:k]) + naive_mth(leaves[k:])).digest()


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_mth(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_mth(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [naive_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*naive_subproof(m, leaves[:k], complete), naive_mth(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_mth(leaves[:k])]


class MemoryTree:
    """Stored complete-subtree nodes built through ``append_nodes``, like the database."""

    def __init__(self) -> None:
        self.nodes: dict[tree.Node, bytes] = {}
        self.size = 0
        self.root = tree.EMPTY_ROOT

    def append(self, leaves: list[bytes]) -> None:
        old = {node: self.nodes[node] for node in tree.frontier(self.size)}
        created, self.root = tree.append_nodes(self.size, old, [tree.leaf_hash(x) for x in leaves])
        assert not set(created) & set(self.nodes)
        self.nodes.update(created)
        self.size += len(leaves)

    def read(self, nodes: object) -> dict[tree.Node, bytes]:
        return {node: self.nodes[node] for node in nodes}  # type: ignore[attr-defined]


def leaves_of(n: int) -> list[bytes]:
    return [f"leaf-{i}".encode() for i in range(n)]


# --- published vectors --------------------------------------------------------------------


def test_empty_tree_root_is_hash_of_nothing() -> None:
    assert tree.root_of([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_ct_vectors(size: int) -> None:
    assert tree.root_of([tree.leaf_hash(x) for x in LEAVES[:size]]) == ROOTS[size - 1]
    stored = MemoryTree()
    stored.append(LEAVES[:size])
    assert stored.root == ROOTS[size - 1]
    assert tree.tree_root(size, stored.read) == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_vectors(index: int, size: int, proof: list[str]) -> None:
    stored = MemoryTree()
    stored.append(LEAVES[:size])
    made = tree.prove_inclusion(index, size, stored.read)
    assert [h.hex() for h in made] == proof
    tree.verify_inclusion(index, size, tree.leaf_hash(LEAVES[index]), made, ROOTS[size - 1])


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_consistency_proofs_match_vectors(first: int, second: int, proof: list[str]) -> None:
    stored = MemoryTree()
    stored.append(LEAVES[:second])
    made = tree.prove_consistency(first, second, stored.read)
    assert [h.hex() for h in made] == proof
    tree.verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], made)


def test_corrupted_vector_proofs_are_rejected() -> None:
    index, size, hex_proof = INCLUSION[1]
    proof = [bytes.fromhex(h) for h in hex_proof]
    leaf = tree.leaf_hash(LEAVES[index])
    root = ROOTS[size - 1]
    bad_cases = [
        (index - 1, size, leaf, proof, root),
        (index + 1, size, leaf, proof, root),
        (index, size * 2, leaf, proof, root),
        (index, size // 2, leaf, proof, root),
        (index, size, tree.leaf_hash(b"wrong"), proof, root),
        (index, size, leaf, proof, tree.EMPTY_ROOT),
        (index, size, leaf, [*proof, root], root),
        (index, size, leaf, [root, *proof], root),
        (index, size, leaf, proof[:-1], root),
        (index, size, leaf, [bytes([proof[0][0] ^ 8]) + proof[0][1:], *proof[1:]], root),
    ]
    for case in bad_cases:
        with pytest.raises(tree.ProofError):
            tree.verify_inclusion(*case)


def test_consistency_edge_cases() -> None:
    tree.verify_consistency(0, 5, tree.EMPTY_ROOT, ROOTS[4], [])
    tree.verify_consistency(3, 3, ROOTS[2], ROOTS[2], [])
    with pytest.raises(tree.ProofError):
        tree.verify_consistency(3, 3, ROOTS[2], ROOTS[3], [])
    with pytest.raises(tree.ProofError):
        tree.verify_consistency(2, 1, ROOTS[1], ROOTS[0], [])
    with pytest.raises(tree.ProofError):
        tree.verify_consistency(1, 2, ROOTS[0], ROOTS[1], [])
    with pytest.raises(tree.ProofError):
        tree.verify_consistency(0, 1, tree.EMPTY_ROOT, ROOTS[0], [ROOTS[0]])


def test_proofs_outside_the_tree_are_refused() -> None:
    with pytest.raises(tree.ProofError):
        tree.inclusion_ranges(5, 5)
    with pytest.raises(tree.ProofError):
        tree.consistency_ranges(6, 5)


# --- against the naive reference, for every size up to ~200 -------------------------------


def test_every_size_up_to_200_against_the_reference() -> None:
    leaves = leaves_of(200)
    stored = MemoryTree()
    for size in range(1, 201):
        stored.append([leaves[size - 1]])
        assert (
            stored.root
            == naive_mth(leaves[:size])
            == tree.root_of([tree.leaf_hash(x) for x in leaves[:size]])
        )
    roots = [naive_mth(leaves[:n]) for n in range(201)]
    for size in sorted({*range(1, 201, 13), 63, 64, 65, 127, 128, 129, 200}):
        for index in range(size):
            proof = tree.prove_inclusion(index, size, stored.read)
            assert proof == naive_path(index, leaves[:size])
            tree.verify_inclusion(index, size, tree.leaf_hash(leaves[index]), proof, roots[size])
        for first in range(1, size + 1):
            proof = tree.prove_consistency(first, size, stored.read)
            assert proof == (naive_subproof(first, leaves[:size], True) if first < size else [])
            tree.verify_consistency(first, size, roots[first], roots[size], proof)


@settings(max_examples=100, deadline=None)
@given(
    batches=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8),
    data=st.data(),
)
def test_batched_appends_and_proofs_hold(batches: list[int], data: st.DataObject) -> None:
    total = sum(batches)
    leaves = leaves_of(total)
    stored = MemoryTree()
    done = 0
    for count in batches:
        stored.append(leaves[done : done + count])
        done += count
        assert stored.root == naive_mth(leaves[:done])
    index = data.draw(st.integers(min_value=0, max_value=total - 1))
    size = data.draw(st.integers(min_value=index + 1, max_value=total))
    proof = tree.prove_inclusion(index, size, stored.read)
    root = naive_mth(leaves[:size])
    tree.verify_inclusion(index, size, tree.leaf_hash(leaves[index]), proof, root)
    first = data.draw(st.integers(min_value=1, max_value=size))
    consistency = tree.prove_consistency(first, size, stored.read)
    tree.verify_consistency(first, size, naive_mth(leaves[:first]), root, consistency)


@settings(max_examples=100, deadline=None)
@given(
    size=st.integers(min_value=2, max_value=200),
    data=st.data(),
)
def test_wrong_proofs_are_rejected(size: int, data: st.DataObject) -> None:
    leaves = leaves_of(size)
    stored = MemoryTree()
    stored.append(leaves)
    root = naive_mth(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = tree.prove_inclusion(index, size, stored.read)
    leaf = tree.leaf_hash(leaves[index])
    other = data.draw(st.integers(min_value=0, max_value=size - 1).filter(lambda i: i != index))
    with pytest.raises(tree.ProofError):
        tree.verify_inclusion(other, size, leaf, proof, root)
    with pytest.raises(tree.ProofError):
        tree.verify_inclusion(index, size, tree.leaf_hash(leaves[other]), proof, root)
    if proof:
        position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bit = data.draw(st.integers(min_value=0, max_value=255))
        broken = list(proof)
        broken[position] = bytes([broken[position][0] ^ (1 << (bit % 8))]) + broken[position][1:]
        with pytest.raises(tree.ProofError):
            tree.verify_inclusion(index, size, leaf, broken, root)
    first = data.draw(st.integers(min_value=1, max_value=size - 1))
    consistency = tree.prove_consistency(first, size, stored.read)
    wrong_old_root = naive_mth([b"forged", *leaves[1:first]])
    with pytest.raises(tree.ProofError):
        tree.verify_consistency(first, size, wrong_old_root, root, consistency)
    with pytest.raises(tree.ProofError):
        tree.verify_consistency(first, size, naive_mth(leaves[:first]), root, consistency[:-1])


def test_inclusion_steps_end_at_the_root() -> None:
    index, size, hex_proof = INCLUSION[3]
    proof = [bytes.fromhex(h) for h in hex_proof]
    steps = tree.inclusion_steps(index, size, tree.leaf_hash(LEAVES[index]), proof)
    assert [side for side, _, _ in steps] == ["left", "right", "right"]
    assert steps[-1][2] == ROOTS[size - 1]
