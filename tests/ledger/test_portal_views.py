"""What the ledger gives the portal: witnesses' latest cosignatures, finding an event by
kind and ref, and whether a registered body still hashes to its leaf."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from tests.ledger.conftest import committed, events, fill
from xinyidai.ledger import note, service, tree
from xinyidai.ledger.schemas import StoredEvent

SALT = b"0123456789abcdef"


@pytest.fixture
def bodies() -> Iterator[dict[str, bytes]]:
    """Stored bodies by ref, re-hashed for the ledger through ``register_body``."""
    stored: dict[str, bytes] = {}
    service.register_body("test.body", lambda session, ref: (
        [StoredEvent(ref, service.digest_of(stored[ref]), SALT, "s", "t")]
        if ref in stored else []
    ))  # fmt: skip
    yield stored
    service.unregister_body("test.body")


def test_check_event_carries_the_worked_proof(session: Session, ledger_key: note.Signer) -> None:
    fill(session, 6)
    result = service.check_event(session, index=4)
    entry = service.get_by_index_or_raise(session, index=4)
    assert result.leaf.encode() == bytes(entry.leaf)
    assert result.computed_root == result.root_hash
    assert [s.number for s in result.steps] == list(range(1, len(result.steps) + 1))
    assert result.steps[0].sibling_leaves == (5, 6)
    assert result.steps[-1].covers == (0, 6)
    assert result.leaf_hash == base64.b64encode(tree.leaf_hash(bytes(entry.leaf))).decode()
    assert result.problem is None
    assert result.verified


def test_a_body_is_compared_with_its_leaf(
    session: Session, ledger_key: note.Signer, bodies: dict[str, bytes]
) -> None:
    bodies["a"] = b"first body"
    for kind, ref, body in (("test.body", "a", b"first body"), ("test.body", "b", b"gone"),
                            ("other", "c", b"kept apart")):  # fmt: skip
        service.append(session, kind=kind, actor="t", subject="s", ref=ref, body=body, salt=SALT)
    session.commit()
    assert service.check_event(session, index=0).body == "matches"
    assert service.check_event(session, index=1).body == "missing"
    assert service.check_event(session, index=2).body == "unchecked"
    bodies["a"] = b"first body, edited"
    changed = service.check_event(session, index=0)
    assert changed.body == "differs"
    assert changed.verified  # the leaf is intact: only the stored body moved


def test_find_event_by_kind_ref_and_digest(session: Session, ledger_key: note.Signer) -> None:
    fill(session, 4)
    digest = committed(events(1, start=2)[0])
    assert service.find_event(session, kind="record.version", ref="rec-2", digest=digest) == 2
    assert service.find_event(session, kind="record.version", ref="rec-3", digest=digest) is None
    assert service.find_event(session, kind="other", ref="rec-2", digest=digest) is None
    plain = service.digest_of(events(1, start=2)[0].body)  # type: ignore[arg-type]
    assert service.find_event(session, kind="record.version", ref="rec-2", digest=plain) is None
    entry = service.append(session, kind="late", actor="a", subject="s", ref="r", body=b"late")
    session.commit()
    late = bytes(entry.digest).hex()
    assert service.find_event(session, kind="late", ref="r", digest=late) == 4  # sequenced first


def test_witness_status_shows_each_witness_latest_cosignature(
    session: Session, ledger_key: note.Signer
) -> None:
    signers = [
        note.generate_signer(name, key_type=note.COSIGNATURE_ED25519)
        for name in ("w.test/a", "w.test/b", "w.test/c")
    ]
    for signer in signers:
        service.add_witness(session, name=signer.verifier.name, vkey=signer.verifier.vkey)
    fill(session, 2)
    first = service.latest_checkpoint_or_raise(session)
    for signer in signers[:2]:
        service.add_cosignature(
            session,
            checkpoint=first.note,
            cosignature=note.cosign(
                note.split_note(first.note)[0], signer, timestamp=1_700_000_000
            ),
        )
    service.append_many(session, events=events(1, start=2))
    service.integrate(session)
    second = service.publish_checkpoint(session)
    service.add_cosignature(
        session,
        checkpoint=second.note,
        cosignature=note.cosign(
            note.split_note(second.note)[0], signers[1], timestamp=1_700_000_500
        ),
    )
    session.commit()
    status = {w.name: w for w in service.witness_status(session, size=3)}
    assert (status["w.test/a"].size, status["w.test/a"].covers_current) == (2, False)
    assert (status["w.test/b"].size, status["w.test/b"].covers_current) == (3, True)
    assert status["w.test/b"].signed_at is not None
    assert status["w.test/b"].signed_at.timestamp() == 1_700_000_500
    assert (status["w.test/c"].size, status["w.test/c"].signed_at) == (None, None)
    assert not status["w.test/c"].covers_current
