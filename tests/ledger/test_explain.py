"""The step-by-step inclusion check agrees with the RFC 9162 verifier, on any tree and proof."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyidai.ledger import explain, tree


def _built(leaves: list[bytes]) -> tuple[tree.NodeReader, bytes]:
    """The stored nodes of a tree of these leaves (built as the log builds them) and its root."""
    nodes, root = tree.append_nodes(0, {}, [tree.leaf_hash(leaf) for leaf in leaves])
    return (lambda wanted: {node: nodes[node] for node in wanted}), root


def _verifies(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    try:
        tree.verify_inclusion(index, size, tree.leaf_hash(leaf), proof, root)
    except tree.ProofError:
        return False
    return True


trees = st.lists(st.binary(max_size=24), min_size=1, max_size=80)


@settings(max_examples=200, deadline=None)
@given(leaves=trees, data=st.data())
def test_a_true_proof_is_worked_step_by_step_to_the_root(
    leaves: list[bytes], data: st.DataObject
) -> None:
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    read, root = _built(leaves)
    proof = tree.prove_inclusion(index, size, read)
    worked = explain.explain_inclusion(index, size, leaves[index], proof, root)
    assert worked.matches
    assert worked.problem is None
    assert worked.leaf_hash == tree.leaf_hash(leaves[index])
    assert worked.computed_root == root == tree.root_of([tree.leaf_hash(x) for x in leaves])
    # The same steps as the RFC algorithm takes, and the ranges grow to the whole tree.
    rfc = tree.inclusion_steps(index, size, worked.leaf_hash, proof)
    assert [(s.side, s.sibling, s.result) for s in worked.steps] == rfc
    assert [s.sibling for s in worked.steps] == proof
    covered = (index, index + 1)
    for step in worked.steps:
        lo, hi = step.sibling_leaves
        assert hi == covered[0] if step.side == explain.SIDE_LEFT else lo == covered[1]
        covered = (min(lo, covered[0]), max(hi, covered[1]))
        assert step.covers == covered
    assert covered == (0, size)


def _tampered(proof: list[bytes], how: str, where: int) -> list[bytes]:
    changed = list(proof)
    if how == "flip":
        position = where % len(changed)
        changed[position] = bytes([changed[position][0] ^ 1]) + changed[position][1:]
    elif how == "drop":
        del changed[where % len(changed)]
    elif how == "extra":
        changed.insert(where % (len(changed) + 1), bytes(32))
    elif how == "swap" and len(changed) > 1:
        a, b = where % len(changed), (where + 1) % len(changed)
        changed[a], changed[b] = changed[b], changed[a]
    elif how == "short":
        position = where % len(changed)
        changed[position] = changed[position][:31]
    return changed


@settings(max_examples=300, deadline=None)
@given(
    leaves=st.lists(st.binary(max_size=16), min_size=2, max_size=64, unique=True),
    data=st.data(),
    how=st.sampled_from(["flip", "drop", "extra", "swap", "short", "leaf", "root", "index"]),
    where=st.integers(0, 100),
)
def test_a_tampered_proof_never_matches_and_agrees_with_the_verifier(
    leaves: list[bytes], data: st.DataObject, how: str, where: int
) -> None:
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    read, root = _built(leaves)
    proof = tree.prove_inclusion(index, size, read)
    leaf, claimed_index, expected = leaves[index], index, root
    if how == "leaf":
        leaf = leaf + b"!"
    elif how == "root":
        expected = bytes([root[0] ^ 0x80]) + root[1:]
    elif how == "index":
        claimed_index = (index + 1 + where % (size - 1)) % size
    else:
        proof = _tampered(proof, how, where)
    worked = explain.explain_inclusion(claimed_index, size, leaf, proof, expected)
    assert worked.matches == _verifies(claimed_index, size, leaf, proof, expected)
    changed = how in ("flip", "drop", "extra", "short", "leaf", "root", "index")
    if changed or (how == "swap" and proof[0] != proof[-1]):
        assert not worked.matches


def test_a_wrong_shape_is_named_not_raised() -> None:
    read, root = _built([b"a", b"b", b"c", b"d", b"e"])
    proof = tree.prove_inclusion(2, 5, read)
    assert len(proof) == 3
    short = explain.explain_inclusion(2, 5, b"c", proof[:-1], root)
    assert short.problem is not None
    assert short.params == {"count": 2, "index": 2, "size": 5, "expected": 3}
    assert (short.computed_root, short.steps, short.matches) == (None, (), False)
    outside = explain.explain_inclusion(5, 5, b"c", proof, root)
    assert outside.params == {"index": 5, "size": 5}
    assert not outside.matches
    truncated = explain.explain_inclusion(2, 5, b"c", [proof[0][:31], *proof[1:]], root)
    assert truncated.params == {"number": 1, "length": 31, "expected": 32}
    assert explain.explain_inclusion(2, 5, b"c", proof, root).matches


@pytest.mark.parametrize(
    ("index", "sides"), [(0, ["right", "right", "right"]), (5, ["left", "right", "left"])]
)
def test_sides_and_ranges_on_a_tree_of_eight(index: int, sides: list[str]) -> None:
    leaves = [bytes([i]) for i in range(8)]
    read, root = _built(leaves)
    worked = explain.explain_inclusion(
        index, 8, leaves[index], tree.prove_inclusion(index, 8, read), root
    )
    assert [s.side for s in worked.steps] == sides
    assert worked.steps[-1].covers == (0, 8)
    if index == 5:
        assert [s.sibling_leaves for s in worked.steps] == [(4, 5), (6, 8), (0, 4)]
