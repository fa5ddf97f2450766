"""``xyd ledger verify``: recompute the whole tree from the stored leaves and check it all.

Checks, in order: the leaves are indexed 0..n-1 with no gap; each leaf decodes to a
canonical event of format 1 or 2 whose columns match; each leaf hashes to its stored leaf
hash and to the stored level-0 node at its index; every stored node equals the recomputed
one; the head matches; every checkpoint is signed by the log and its root is the
recomputed root at its size; consecutive checkpoints are consistent; cosignatures verify;
and every event a registered source stores has its leaf: a row written before format 2 a
format-1 leaf with its (ref, digest), a salted row a format-2 leaf with the commitment
recomputed from its salt and data, tagged for its subject and actor. Each problem names
the first leaf index it concerns.

Entries appended but not yet sequenced (pending: no worker has run since an ingest) are no
problem: each is checked against its own leaf hash and digest, an event whose entry is
pending is counted as awaiting its leaf, and the report says how many of each there are.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core.errors import ValidationFailed
from xinyidai.ledger import keys, note, service, tree
from xinyidai.ledger.models import (
    LedgerCheckpoint,
    LedgerCosignature,
    LedgerEntry,
    LedgerNode,
    LedgerWitness,
)
from xinyidai.ledger.schemas import StoredEvent, VerifyReport


def _raw(value: bytes | memoryview | str) -> bytes:
    """Column bytes; a tampered row may even hold text there (SQLite is loosely typed)."""
    if isinstance(value, str):
        return value.encode()
    return bytes(value)


class Levels:
    """Every complete-subtree hash of a tree held in memory, level by level."""

    def __init__(self, leaf_hashes: list[bytes]) -> None:
        self.levels: list[list[bytes]] = [leaf_hashes]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append(
                [tree.node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def read(self, nodes: list[tree.Node] | tuple[tree.Node, ...]) -> dict[tree.Node, bytes]:
        return {(level, idx): self.levels[level][idx] for level, idx in nodes}

    def root(self, size: int) -> bytes:
        return tree.tree_root(size, self.read)  # type: ignore[arg-type]


@dataclass
class Seen:
    """What the leaves record, by kind: format-1 (ref, digest) pairs, and format-2
    commitments with the (subject, actor) tags of their leaf."""

    pairs: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    sealed: dict[str, dict[str, tuple[str, str]]] = field(default_factory=lambda: defaultdict(dict))


def _record(seen: Seen, event: dict[str, object]) -> None:
    """Note what one decoded leaf records."""
    if service.leaf_format(event) == service.FORMAT_1:
        seen.pairs[str(event["kind"])].add((str(event["ref"]), str(event["digest"])))
    else:
        tags = (str(event["subject"]), str(event["actor"]))
        seen.sealed[str(event["kind"])].setdefault(str(event["digest"]), tags)


def _check_pending(session: Session, report: VerifyReport) -> Seen:
    """What the pending entries record: appended, not yet given an index in the tree (the
    worker's checkpoint task, or ``xyd ledger checkpoint``, sequences them). Each is checked
    against its own columns (leaf hash, digest); its place in the tree is checked once it
    has one. Read before the sequenced leaves, so that an entry sequenced meanwhile is seen
    in one of the two."""
    seen = Seen()
    stmt = (
        select(LedgerEntry.id, LedgerEntry.digest, LedgerEntry.leaf, LedgerEntry.leaf_hash)
        .where(LedgerEntry.idx.is_(None))
        .order_by(LedgerEntry.id)
        .execution_options(yield_per=10_000)
    )
    for entry_id, digest, leaf, stored_hash in session.execute(stmt):
        report.pending += 1
        leaf = _raw(leaf)
        if tree.leaf_hash(leaf) != _raw(stored_hash):
            report.add(f"pending entry {entry_id} does not match its stored leaf hash", None)
        try:
            event = service.decode_leaf(leaf)
        except ValueError:
            report.add(f"pending entry {entry_id} is not a canonical ledger event", None)
            continue
        if event["digest"] != _raw(digest).hex():
            report.add(f"pending entry {entry_id}: the digest column differs from the leaf", None)
        _record(seen, event)
    return seen


def _check_leaves(session: Session, report: VerifyReport) -> tuple[list[bytes], Seen]:
    hashes: list[bytes] = []
    seen = Seen()
    stmt = (
        select(
            LedgerEntry.idx,
            LedgerEntry.digest,
            LedgerEntry.leaf,
            LedgerEntry.leaf_hash,
        )
        .where(LedgerEntry.idx.is_not(None))
        .order_by(LedgerEntry.idx)
        .execution_options(yield_per=10_000)
    )
    for idx, digest, leaf, stored_hash in session.execute(stmt):
        expected = len(hashes)
        if idx != expected:
            report.add(f"leaf {expected} is missing (the next stored index is {idx})", expected)
            break
        leaf = _raw(leaf)
        computed = tree.leaf_hash(leaf)
        if computed != _raw(stored_hash):
            report.add(f"leaf {idx} does not match its stored leaf hash", idx)
        try:
            event = service.decode_leaf(leaf)
        except ValueError:
            report.add(f"leaf {idx} is not a canonical ledger event", idx)
        else:
            if event["digest"] != _raw(digest).hex():
                report.add(f"leaf {idx}: the digest column differs from the leaf", idx)
            _record(seen, event)
        hashes.append(computed)
    return hashes, seen


def _cause(primaries: list[int], lo: int, hi: int) -> int | None:
    """The first already-known bad leaf in ``[lo, hi)``, if any."""
    at = bisect.bisect_left(primaries, lo)
    return primaries[at] if at < len(primaries) and primaries[at] < hi else None


def _check_nodes(
    session: Session, levels: Levels, report: VerifyReport, primaries: list[int]
) -> None:
    """Compare stored nodes, level by level; a node above a known bad leaf names that leaf."""
    stored_count = 0
    stmt = (
        select(LedgerNode.level, LedgerNode.idx, LedgerNode.hash)
        .order_by(LedgerNode.level, LedgerNode.idx)
        .execution_options(yield_per=20_000)
    )
    for level, idx, value in session.execute(stmt):
        stored_count += 1
        lo, hi = tree.node_range((level, idx))
        if level >= len(levels.levels) or idx >= len(levels.levels[level]):
            report.add(f"stored node {level}/{idx} is beyond the tree", min(lo, levels.size))
        elif _raw(value) != levels.levels[level][idx]:
            cause = _cause(primaries, lo, hi)
            if cause is None:
                report.add(f"stored node {level}/{idx} differs from the recomputed tree", lo)
                bisect.insort(primaries, lo)
            else:
                report.add(f"stored node {level}/{idx} differs (follows from leaf {cause})", cause)
    expected = sum(len(level) for level in levels.levels)
    if stored_count < expected:
        present = set(
            tuple(row) for row in session.execute(select(LedgerNode.level, LedgerNode.idx))
        )
        for level, hashes in enumerate(levels.levels):
            for idx in range(len(hashes)):
                if (level, idx) not in present:
                    report.add(f"stored node {level}/{idx} is missing", idx << level)
                    return


def _check_checkpoints(
    session: Session,
    levels: Levels,
    complete: bool,
    report: VerifyReport,
    verifier: note.Verifier,
    primaries: list[int],
) -> None:
    previous: tuple[int, bytes] | None = None
    for row in session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size)):
        report.checkpoints += 1
        try:
            body = note.verify_note(row.note, verifier)
            signed = note.parse_checkpoint(body)
        except note.NoteError as exc:
            report.add(f"checkpoint {row.id} (size {row.size}): {exc}", None)
            continue
        if signed.size != row.size or signed.root_hash != _raw(row.root_hash):
            report.add(
                f"checkpoint {row.id}: size or root columns differ from its signed note", None
            )
        lower = previous[0] if previous else 0
        known = _cause(primaries, 0, signed.size)
        blame = known if known is not None else lower
        if signed.size > levels.size:
            if complete:
                report.add(
                    f"checkpoint of size {signed.size} covers leaves that are not stored",
                    levels.size,
                )
            previous = (signed.size, signed.root_hash)
            continue
        if levels.root(signed.size) != signed.root_hash:
            report.add(
                f"checkpoint of size {signed.size} does not match the leaves "
                f"(a leaf in [{lower}, {signed.size}) was changed)",
                blame,
            )
        if previous is not None and previous[0] <= signed.size:
            proof = tree.prove_consistency(previous[0], signed.size, levels.read)  # type: ignore[arg-type]
            try:
                tree.verify_consistency(
                    previous[0], signed.size, previous[1], signed.root_hash, proof
                )
            except tree.ProofError:
                report.add(
                    f"checkpoints of sizes {previous[0]} and {signed.size} are not consistent",
                    blame,
                )
        previous = (signed.size, signed.root_hash)


def _check_cosignatures(session: Session, report: VerifyReport) -> None:
    stmt = (
        select(LedgerCosignature, LedgerWitness, LedgerCheckpoint)
        .join(LedgerWitness, LedgerWitness.id == LedgerCosignature.witness_id)
        .join(LedgerCheckpoint, LedgerCheckpoint.id == LedgerCosignature.checkpoint_id)
    )
    for cosig, witness, checkpoint in session.execute(stmt):
        report.cosignatures += 1
        try:
            text = note.split_note(checkpoint.note)[0]
            note.verify_cosignature(text, cosig.line, note.parse_verifier(witness.vkey))
        except note.NoteError as exc:
            report.add(f"cosignature of {witness.name} on size {checkpoint.size}: {exc}", None)


def _check_sources(session: Session, seen: Seen, pending: Seen, report: VerifyReport) -> None:
    """Every stored event of a registered source has its leaf in the tree, or an entry that
    waits to be sequenced (counted in ``report.awaiting``, not a problem)."""
    secrets: list[keys.TagSecret] = []
    for kind, fetch in service.sources().items():
        count = 0
        pairs = seen.pairs.get(kind, set())
        sealed = seen.sealed.get(kind, {})
        pending_pairs = pending.pairs.get(kind, set())
        pending_sealed = pending.sealed.get(kind, {})
        for row in fetch(session):
            count += 1
            stored = StoredEvent(*row)
            if stored.salt is None:
                if (stored.ref, stored.digest) in pairs:
                    continue
                if (stored.ref, stored.digest) in pending_pairs:
                    report.awaiting[kind] = report.awaiting.get(kind, 0) + 1
                    continue
                report.add(
                    f"{kind} {stored.ref} (digest {stored.digest}) has no ledger entry", None
                )
                continue
            try:
                value = service.expected_digest(kind, stored)
            except ValidationFailed as exc:
                report.add(f"{kind} {stored.ref}: {exc}", None)
                continue
            tags = sealed.get(value)
            if tags is None:
                tags = pending_sealed.get(value)
                if tags is not None:
                    report.awaiting[kind] = report.awaiting.get(kind, 0) + 1
            if tags is None:
                report.add(
                    f"{kind} {stored.ref} (digest {stored.digest}, salted) has no ledger entry",
                    None,
                )
                continue
            secrets = secrets or list(keys.tag_secrets())
            event = {"digest": value, "subject": tags[0], "actor": tags[1]}
            for role, label in (("subject", stored.subject), ("actor", stored.actor)):
                if not service.tagged_for(event, role=role, label=label, secrets=secrets):
                    report.add(f"{kind} {stored.ref}: its leaf is not tagged for its {role}", None)
        report.sources[kind] = count


def verify_ledger(
    session: Session,
    *,
    verifier: note.Verifier | None = None,
    step: Callable[[str], None] | None = None,
) -> VerifyReport:
    """Recompute the tree from every stored leaf and check everything stored against it;
    ``step`` hears what is being checked as it starts (a command's progress)."""
    say = step or (lambda _message: None)
    report = VerifyReport()
    verifier = verifier or keys.load_key().verifier
    say("checking entries not sequenced yet")
    pending = _check_pending(session, report)
    say("reading every leaf and recomputing its hash")
    hashes, seen = _check_leaves(session, report)
    complete = all("missing" not in p.what for p in report.problems)
    levels = Levels(hashes)
    report.size = levels.size
    current = service.head(session)
    primaries = sorted({p.index for p in report.problems if p.index is not None})
    if complete:
        say(f"checking the tree's stored nodes over {levels.size:,} leaves")
        _check_nodes(session, levels, report, primaries)
        if current.size != levels.size:
            report.add(
                f"the head says {current.size} leaves, {levels.size} are stored",
                min(current.size, levels.size),
            )
        elif _raw(current.root_hash) != levels.root(levels.size):
            report.add("the head's root differs from the recomputed root", None)
    say("checking signed checkpoints and witness cosignatures")
    _check_checkpoints(session, levels, complete, report, verifier, primaries)
    _check_cosignatures(session, report)
    say("checking every source row against its leaf")
    _check_sources(session, seen, pending, report)
    return report
