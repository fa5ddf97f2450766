"""RFC 9162 section 2.1 Merkle tree math: pure functions, no I/O.

Hashes are SHA-256 with domain separation: a leaf hash is ``H(0x00 || leaf)``, an
interior node ``H(0x01 || left || right)``; a tree of ``n`` leaves splits at ``k``, the
largest power of two smaller than ``n``. Stored nodes are the roots of *complete*
subtrees, addressed by ``(level, index)``: node ``(L, k)`` covers leaves
``[k * 2**L, (k + 1) * 2**L)``; level 0 holds the leaf hashes. Every proof needs only
O(log n) such nodes, so a log never rebuilds its tree to answer a query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]
"""A complete subtree: (level, index)."""

NodeReader = Callable[[Sequence[Node]], Mapping[Node, bytes]]
"""Reads stored node hashes; returns every node asked for."""


class ProofError(ValueError):
    """A proof does not verify, or its parameters are impossible."""


def leaf_hash(leaf: bytes) -> bytes:
    """The hash of one leaf: ``SHA-256(0x00 || leaf)``."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def node_range(node: Node) -> tuple[int, int]:
    """The leaves ``[lo, hi)`` a stored node covers."""
    level, index = node
    return index << level, (index + 1) << level


def range_nodes(lo: int, hi: int) -> list[Node]:
    """Split ``[lo, hi)`` into maximal aligned complete subtrees, left to right.

    For the ranges that occur in RFC 9162 trees and proofs, ``lo`` is aligned to a power
    of two at least ``hi - lo``, and the hash of the range folds these nodes right to left.
    """
    nodes: list[Node] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        if lo:
            level = min(level, (lo & -lo).bit_length() - 1)
        nodes.append((level, lo >> level))
        lo += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a range from its complete-subtree hashes (left to right)."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of a list of leaf hashes (RFC 9162 MTH), in O(n)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    # Fold complete subtrees bottom-up, keeping the odd node out at each level.
    carried: list[tuple[int, bytes]] = []
    depth = 0
    while len(level) > 1:
        if len(level) % 2:
            carried.append((depth, level.pop()))
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        depth += 1
    return fold([level[0]] + [h for _, h in reversed(carried)])


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make the inclusion proof, in RFC 9162 order."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo = lo + k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make the consistency proof, in RFC 9162 order."""
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    if first == 0 or first == second:
        return []
    ranges: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, second, first, True
    # SUBPROOF(m, D[lo:hi], complete), unrolled; the recursion appends after descending,
    # so the collected ranges are reversed at the end.
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                ranges.append((lo, hi))
            break
        k = split_point(n)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    ranges.reverse()
    return ranges


def nodes_for_ranges(ranges: Sequence[tuple[int, int]]) -> list[Node]:
    """Every stored node needed to hash these ranges, without repeats."""
    seen: dict[Node, None] = {}
    for lo, hi in ranges:
        for node in range_nodes(lo, hi):
            seen[node] = None
    return list(seen)


def hash_ranges(ranges: Sequence[tuple[int, int]], nodes: Mapping[Node, bytes]) -> list[bytes]:
    """The hashes of these ranges from stored node hashes."""
    return [fold([nodes[node] for node in range_nodes(lo, hi)]) for lo, hi in ranges]


def prove_inclusion(index: int, size: int, read: NodeReader) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
    ranges = inclusion_ranges(index, size)
    return hash_ranges(ranges, read(nodes_for_ranges(ranges)))


def prove_consistency(first: int, second: int, read: NodeReader) -> list[bytes]:
    """The consistency proof between the trees of ``first`` and ``second`` leaves."""
    ranges = consistency_ranges(first, second)
    return hash_ranges(ranges, read(nodes_for_ranges(ranges)))


def tree_root(size: int, read: NodeReader) -> bytes:
    """The root of the tree of ``size`` leaves from stored nodes."""
    nodes = range_nodes(0, size)
    found = read(nodes)
    return fold([found[node] for node in nodes])


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def _past_right_edge(fn: int, sn: int) -> tuple[int, int]:
    """RFC 9162's step after hashing in a left sibling at a right edge (``fn == sn``, ``fn``
    even): shift both indexes right until ``fn``'s lowest bit is set or it is 0."""
    while fn and not fn & 1:
        fn >>= 1
        sn >>= 1
    return fn, sn


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of size {size}")
    _check_hash(leaf, "leaf hash")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        _check_hash(p, "proof hash")
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _past_right_edge(fn, sn)
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ``ProofError`` unless ``proof`` shows leaf ``index`` is in the tree ``root``."""
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError("inclusion proof does not lead to the root")


def inclusion_steps(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes]
) -> list[tuple[str, bytes, bytes]]:
    """Each step of verifying an inclusion proof: (side of the sibling, sibling, result)."""
    root_from_inclusion(index, size, leaf, proof)  # rejects malformed proofs first
    fn, sn = index, size - 1
    r = leaf
    steps: list[tuple[str, bytes, bytes]] = []
    for p in proof:
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            steps.append(("left", p, r))
            fn, sn = _past_right_edge(fn, sn)
        else:
            r = node_hash(r, p)
            steps.append(("right", p, r))
        fn >>= 1
        sn >>= 1
    return steps


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ``ProofError`` unless ``proof`` shows tree ``first`` is a prefix of ``second``.

    RFC 9162 section 2.1.4.2; an empty tree is a prefix of every tree.
    """
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    for p in proof:
        _check_hash(p, "proof hash")
    if first == second:
        if proof:
            raise ProofError("consistency proof between equal sizes must be empty")
        if first_root != second_root:
            raise ProofError("equal sizes with different roots")
        return
    if first == 0:
        if proof:
            raise ProofError("consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first tree is a complete subtree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            fn, sn = _past_right_edge(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != first_root or sr != second_root:
        raise ProofError("consistency proof does not lead to both roots")


def frontier(size: int) -> list[Node]:
    """The complete subtrees that make up a tree of ``size`` leaves, left to right."""
    return range_nodes(0, size)


def append_nodes(
    old_size: int, old_frontier: Mapping[Node, bytes], leaf_hashes: Sequence[bytes]
) -> tuple[dict[Node, bytes], bytes]:
    """The nodes (leaves included) completed by appending leaves, and the new root.

    ``old_frontier`` holds the hashes of ``frontier(old_size)``: the only old nodes a new
    node can have as a child. Returns ``({(level, index): hash}, root)``.
    """
    new_size = old_size + len(leaf_hashes)
    level_nodes: dict[int, bytes] = {old_size + i: h for i, h in enumerate(leaf_hashes)}
    created: dict[Node, bytes] = {(0, i): h for i, h in level_nodes.items()}
    known = dict(old_frontier)
    level = 0
    while (new_size >> (level + 1)) > (old_size >> (level + 1)):
        first = old_size >> (level + 1)
        last = (new_size >> (level + 1)) - 1
        upper: dict[int, bytes] = {}
        for k in range(first, last + 1):
            left = level_nodes.get(2 * k)
            if left is None:
                left = known[(level, 2 * k)]
            right = level_nodes.get(2 * k + 1)
            if right is None:
                right = known[(level, 2 * k + 1)]
            upper[k] = node_hash(left, right)
        level += 1
        for k, h in upper.items():
            created[(level, k)] = h
        level_nodes = upper
    # The new root folds the new frontier: old or new nodes, whichever exist.
    everything = {**known, **created}
    root = fold([everything[node] for node in frontier(new_size)])
    return created, root
