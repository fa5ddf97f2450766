"""An inclusion proof checked step by step, as an auditor would redo it by hand. Pure, no I/O.

``tree.root_from_inclusion`` follows RFC 9162 §2.1.3.2 with bit arithmetic on the index
and the size. This module walks the same proof through the leaf ranges each proof hash
stands for (``tree.inclusion_ranges``), so every step can say which leaves the sibling
covers, on which side it sits, and which leaves the running hash now covers. Both
compute the same function of the proof; the tests check that they always agree.

It never raises on a bad proof: a changed hash leads to a root that does not match, and
a proof of the wrong shape (wrong length, a hash that is not 32 bytes, an index outside
the tree) is reported as ``problem``, an English message id with its ``params``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from xinyidai.ledger import tree

SIDE_LEFT = "left"
SIDE_RIGHT = "right"


@dataclass(frozen=True)
class ExplainedStep:
    """One step: the sibling hash, its side, and the running hash after combining them."""

    number: int
    side: str
    """Where the sibling sits: ``left`` gives H(0x01 ‖ sibling ‖ running), ``right`` the reverse."""
    sibling: bytes
    sibling_leaves: tuple[int, int]
    """The leaves ``[lo, hi)`` the sibling hash stands for."""
    result: bytes
    covers: tuple[int, int]
    """The leaves ``[lo, hi)`` the running hash stands for after this step."""


@dataclass(frozen=True)
class InclusionExplanation:
    """Leaf ``index`` of a tree of ``size`` leaves, its proof worked through to a root."""

    index: int
    size: int
    leaf: bytes
    leaf_hash: bytes
    """H(0x00 ‖ leaf)."""
    steps: tuple[ExplainedStep, ...]
    computed_root: bytes | None
    """Where the steps lead; None when the proof's shape made them impossible."""
    expected_root: bytes
    problem: str | None = None
    params: Mapping[str, object] = field(default_factory=dict)

    @property
    def matches(self) -> bool:
        """Whether the proof leads from the leaf to the expected (signed) root."""
        return self.problem is None and self.computed_root == self.expected_root


def explain_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> InclusionExplanation:
    """Work the inclusion proof of ``leaf`` (the exact leaf bytes) at ``index`` up to a root.

    ``matches`` on the result is true exactly when ``tree.verify_inclusion`` accepts the
    same proof against ``root``.
    """
    leaf_hash = tree.leaf_hash(leaf)

    def refused(problem: str, **params: object) -> InclusionExplanation:
        return InclusionExplanation(
            index=index,
            size=size,
            leaf=leaf,
            leaf_hash=leaf_hash,
            steps=(),
            computed_root=None,
            expected_root=root,
            problem=problem,
            params=params,
        )

    if not 0 <= index < size:
        return refused("leaf {index} is outside a tree of {size} leaves", index=index, size=size)
    ranges = tree.inclusion_ranges(index, size)
    if len(proof) != len(ranges):
        return refused(
            "the proof has {count} hashes; leaf {index} of a tree of {size} leaves needs "
            "{expected}",
            count=len(proof),
            index=index,
            size=size,
            expected=len(ranges),
        )
    for number, sibling in enumerate(proof, start=1):
        if len(sibling) != tree.HASH_SIZE:
            return refused(
                "proof hash {number} is {length} bytes, not {expected}",
                number=number,
                length=len(sibling),
                expected=tree.HASH_SIZE,
            )
    lo, hi = index, index + 1
    running = leaf_hash
    steps: list[ExplainedStep] = []
    for number, ((sibling_lo, sibling_hi), sibling) in enumerate(
        zip(ranges, proof, strict=True), start=1
    ):
        if sibling_hi <= lo:
            side = SIDE_LEFT
            running = tree.node_hash(sibling, running)
            lo = sibling_lo
        else:
            side = SIDE_RIGHT
            running = tree.node_hash(running, sibling)
            hi = sibling_hi
        steps.append(
            ExplainedStep(
                number=number,
                side=side,
                sibling=sibling,
                sibling_leaves=(sibling_lo, sibling_hi),
                result=running,
                covers=(lo, hi),
            )
        )
    return InclusionExplanation(
        index=index,
        size=size,
        leaf=leaf,
        leaf_hash=leaf_hash,
        steps=tuple(steps),
        computed_root=running,
        expected_root=root,
    )
