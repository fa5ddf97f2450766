"""Appending, sequencing, checkpoints, proofs and lookups through the service."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import XydEnv
from tests.ledger.conftest import (
    assert_same_leaves_as_append_many,
    committed,
    digest_items,
    events,
    fill,
    plain_digest_items,
)
from xinyidai.core.errors import Conflict, NotFound, ValidationFailed
from xinyidai.ledger import keys, note, service, tree
from xinyidai.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerNode
from xinyidai.ledger.service import appending, sealing


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@settings(max_examples=100)
@given(
    values=st.lists(
        st.text(min_size=1, max_size=30).filter(lambda v: v.strip()), min_size=4, max_size=4
    )
)
def test_leaves_are_rfc8785_canonical_for_any_text(values: list[str]) -> None:
    kind, actor, subject, ref = values
    leaf = service.build_leaf_v1(
        kind=kind[:60], actor=actor, subject=subject, ref=ref, digest="ab" * 32, time="t"
    )
    assert leaf == service.canonical_json(json.loads(leaf))
    assert service.decode_leaf(leaf)["ref"] == ref
    sealed = service.seal(
        kind=kind[:60],
        actor=actor,
        subject=subject,
        ref=ref,
        digest="ab" * 32,
        salt=b"s" * 16,
        time="t",
    )
    assert sealed.leaf == service.canonical_json(json.loads(sealed.leaf))
    event = service.decode_leaf(sealed.leaf)
    assert (event["v"], event["digest"], "ref" in event) == (2, sealed.digest, False)


ASCIIISH = st.text(alphabet=st.characters(min_codepoint=0x1F, max_codepoint=0x80), max_size=210)


@settings(max_examples=300)
@given(values=st.lists(ASCIIISH, min_size=6, max_size=6))
def test_the_verbatim_leaf_path_spells_what_rfc8785_spells(values: list[str]) -> None:
    kind, actor, subject, ref, digest, time = values
    fields = {"kind": kind, "actor": actor, "subject": subject, "ref": ref}
    try:
        leaf = service.build_leaf_v1(**fields, digest=digest, time=time)
    except ValidationFailed:
        assert any(not v.strip() or len(v) > service.MAX_FIELD for v in fields.values()) or (
            len(kind) > service.MAX_KIND
        )
        return
    import rfc8785

    event = {**fields, "digest": digest, "time": time}
    assert leaf == rfc8785.dumps(event)
    assert service.decode_leaf(leaf) == event


@settings(max_examples=300)
@given(values=st.lists(ASCIIISH, min_size=5, max_size=5), salt=st.binary(min_size=16, max_size=16))
def test_a_commitment_hashes_the_rfc8785_array_of_what_it_binds(
    values: list[str], salt: bytes
) -> None:
    import rfc8785

    kind, actor, subject, ref, time = values
    digest = hashlib.sha256(ref.encode()).hexdigest()
    fields = {"kind": kind, "actor": actor, "subject": subject, "ref": ref}
    try:
        sealed = service.seal(**fields, digest=digest, salt=salt, time=time)
    except ValidationFailed:
        assert any(not v.strip() or len(v) > service.MAX_FIELD for v in fields.values()) or (
            len(kind) > service.MAX_KIND
        )
        return
    array = rfc8785.dumps([kind, ref, subject, actor, salt.hex(), digest])
    assert sealed.digest == hashlib.sha256(b"XYD ledger commitment v2\n" + array).hexdigest()
    assert sealed.leaf == rfc8785.dumps(
        {
            "actor": sealed.actor_tag,
            "digest": sealed.digest,
            "kind": kind,
            "subject": sealed.subject_tag,
            "time": time,
            "v": 2,
        }
    )


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150)
@given(value=JSON)
def test_canonical_json_matches_the_rfc8785_package(value: object) -> None:
    import rfc8785

    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(rfc8785.CanonicalizationError):
            service.canonical_json(value)
    else:
        assert service.canonical_json(value) == expected


def test_digest_of_bytes_and_of_a_mapping() -> None:
    assert service.digest_of(b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert service.digest_of({"b": 1, "a": "x"}) == hashlib.sha256(b'{"a":"x","b":1}').hexdigest()


def test_append_stores_a_canonical_leaf_without_the_body(session: Session) -> None:
    body = {"amount": "12.50", "holder": "Zhang San 110101199003071234"}
    salt = b"0123456789abcdef"
    entry = service.append(
        session,
        kind="record.version",
        actor="org:tax",
        subject="91110000600037341L",
        ref="rec-1",
        body=body,
        salt=salt,
    )
    session.commit()
    assert entry.index is None
    event = json.loads(entry.leaf)
    assert sorted(event) == ["actor", "digest", "kind", "subject", "time", "v"]
    assert entry.leaf == service.canonical_json(event)
    assert b" " not in entry.leaf
    for secret in (b"Zhang", b"110101199003071234", b"91110000600037341L", b"org:tax", b"rec-1"):
        assert secret not in entry.leaf
    assert event["digest"] != service.digest_of(body)
    assert event["digest"] == service.commitment(
        kind="record.version",
        ref="rec-1",
        subject="91110000600037341L",
        actor="org:tax",
        salt=salt,
        digest=service.digest_of(body),
    )
    assert entry.ref == "rec-1"  # kept by the node for its own checks
    assert event["time"].endswith("Z")
    assert entry.leaf_hash == tree.leaf_hash(entry.leaf)


def test_the_tags_match_only_the_party_whose_key_is_used(session: Session) -> None:
    first = service.append(
        session, kind="k", actor="provider:tax", subject="91110000600037341L", ref="r1", body=b"1"
    )
    second = service.append(
        session, kind="k", actor="provider:tax", subject="91110000600037341L", ref="r2", body=b"2"
    )
    one, two = (service.decode_leaf(bytes(e.leaf)) for e in (first, second))
    # One party, two leaves: different tags, so a reader cannot link them without the key.
    assert one["subject"] != two["subject"]
    assert one["actor"] != two["actor"]
    ((_, tax),) = service.party_keys(role="actor", label="provider:tax")
    ((_, court),) = service.party_keys(role="actor", label="provider:court")
    ((_, enterprise),) = service.party_keys(role="subject", label="91110000600037341L")
    for event in (one, two):
        assert service.tag(tax, event["digest"]) == event["actor"]
        assert service.tag(court, event["digest"]) != event["actor"]
        assert service.tag(enterprise, event["digest"]) == event["subject"]
        assert service.tag(enterprise, event["digest"]) != event["actor"]


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("kind", {"kind": ""}),
        ("actor", {"actor": "  "}),
        ("ref", {"ref": "x" * 201}),
        ("kind", {"kind": "k" * 61}),
    ],
)
def test_bad_events_are_refused_and_nothing_is_stored(
    session: Session, field: str, kwargs: dict[str, str]
) -> None:
    values = {"kind": "k", "actor": "a", "subject": "s", "ref": "r", **kwargs}
    with pytest.raises(ValidationFailed) as caught:
        service.append(session, body=b"x", **values)
    assert caught.value.field == field
    session.rollback()
    assert _count(session, LedgerEntry) == 0


def test_a_body_that_is_not_json_is_refused(session: Session) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.append(
            session, kind="k", actor="a", subject="s", ref="r", body={"n": 2**60, "x": object()}
        )
    assert caught.value.field == "body"
    session.rollback()
    assert _count(session, LedgerEntry) == 0


def test_integrate_gives_consecutive_indexes_in_append_order(session: Session) -> None:
    first = service.append(session, kind="k", actor="a", subject="s", ref="1", body=b"1")
    service.append_many(session, events=events(5))
    last = service.append(session, kind="k", actor="a", subject="s", ref="2", body=b"2")
    session.commit()
    assert service.integrate(session) == 7
    session.commit()
    assert (first.index, last.index) == (0, 6)
    indexes = session.scalars(select(LedgerEntry.idx).order_by(LedgerEntry.id)).all()
    assert indexes == list(range(7))
    assert service.integrate(session) == 0


def test_head_root_equals_the_root_of_all_leaves(session: Session) -> None:
    service.append_many(session, events=events(13))
    service.integrate(session, limit=5)
    service.integrate(session, limit=3)
    service.integrate(session)
    session.commit()
    leaves = session.scalars(select(LedgerEntry.leaf).order_by(LedgerEntry.idx)).all()
    expected = tree.root_of([tree.leaf_hash(x) for x in leaves])
    assert service.head(session).size == 13
    assert service.head(session).root_hash == expected
    assert service.tree_root(session, size=13) == expected
    assert _count(session, LedgerNode) == 13 + 6 + 3 + 1


def test_checkpoint_is_a_signed_note_of_the_head(session: Session, ledger_key: note.Signer) -> None:
    fill(session, 10)
    checkpoint = service.latest_checkpoint_or_raise(session)
    text = note.verify_note(checkpoint.note, ledger_key.verifier)
    parsed = note.parse_checkpoint(text)
    assert parsed.origin == "xyd.local/ledger"
    assert parsed.size == 10
    assert parsed.root_hash == service.head(session).root_hash


def test_publishing_twice_at_one_size_keeps_one_checkpoint(
    session: Session, ledger_key: note.Signer
) -> None:
    fill(session, 3)
    service.publish_checkpoint(session)
    session.commit()
    assert _count(session, LedgerCheckpoint) == 1


def test_refresh_makes_a_new_checkpoint_when_the_tree_grew(
    session: Session, ledger_key: note.Signer, no_checkpoint_interval: None
) -> None:
    first = service.refresh(session)
    session.commit()
    assert first.size == 0
    service.append_many(session, events=events(4))
    session.commit()
    second = service.refresh(session)
    session.commit()
    assert second.size == 4
    assert service.refresh(session).id == second.id


def test_refresh_waits_for_the_interval(
    session: Session, ledger_key: note.Signer, xyd_env: XydEnv
) -> None:
    xyd_env(XYD_LEDGER_CHECKPOINT_INTERVAL_SECONDS="3600")
    service.refresh(session)
    service.append_many(session, events=events(2))
    session.commit()
    assert service.refresh(session).size == 0
    assert service.refresh(session, force=True).size == 2


def test_publishing_without_a_key_says_how_to_make_one(session: Session) -> None:
    with pytest.raises(Conflict) as caught:
        service.publish_checkpoint(session)
    assert "xyd ledger init" in str(caught.value)
    assert caught.value.field == "key_file"


def test_init_never_overwrites_a_key(ledger_key: note.Signer) -> None:
    with pytest.raises(Conflict):
        keys.create_key()
    assert keys.load_key() == ledger_key


def test_proofs_from_the_database_verify(session: Session, ledger_key: note.Signer) -> None:
    fill(session, 37, checkpoint_every=10)
    leaves = session.scalars(select(LedgerEntry.leaf).order_by(LedgerEntry.idx)).all()
    roots = {n: tree.root_of([tree.leaf_hash(x) for x in leaves[:n]]) for n in (10, 20, 37)}
    for index in (0, 9, 10, 19, 36):
        proof = service.inclusion_proof(session, index=index, tree_size=37)
        tree.verify_inclusion(index, 37, tree.leaf_hash(leaves[index]), proof, roots[37])
    proof = service.consistency_proof(session, first=10, second=37)
    tree.verify_consistency(10, 37, roots[10], roots[37], proof)
    proof = service.consistency_proof(session, first=20, second=37)
    tree.verify_consistency(20, 37, roots[20], roots[37], proof)


def test_bad_proof_parameters_name_the_field(session: Session, ledger_key: note.Signer) -> None:
    fill(session, 5)
    with pytest.raises(NotFound) as missing:
        service.inclusion_proof(session, index=0, tree_size=6)
    assert missing.value.field == "tree_size"
    with pytest.raises(ValidationFailed) as outside:
        service.inclusion_proof(session, index=5, tree_size=5)
    assert outside.value.field == "index"
    with pytest.raises(ValidationFailed) as backwards:
        service.consistency_proof(session, first=4, second=3)
    assert backwards.value.field == "first"


def test_lookup_finds_an_event_by_its_digest(session: Session, ledger_key: note.Signer) -> None:
    fill(session, 4)
    assert service.lookup(session, digest=committed(events(1, start=2)[0])) == ([2], 0)
    # The body's own digest is not in the log: only its salted commitment is.
    with pytest.raises(NotFound):
        service.lookup(session, digest=service.digest_of({"value": 2, "secret": "s2"}))
    pending = service.append(session, kind="k", actor="a", subject="s", ref="r", body=b"pending")
    session.commit()
    assert service.lookup(session, digest=bytes(pending.digest).hex()) == ([], 1)
    with pytest.raises(NotFound):
        service.lookup(session, digest="0" * 64)
    with pytest.raises(ValidationFailed) as bad:
        service.lookup(session, digest="xyz")
    assert bad.value.field == "digest"


def test_check_event_gives_the_steps_to_the_signed_root(
    session: Session, ledger_key: note.Signer
) -> None:
    fill(session, 9)
    result = service.check_event(session, digest=committed(events(1, start=6)[0]))
    assert result.verified
    assert result.index == 6
    assert result.tree_size == 9
    assert result.steps[-1].result == result.root_hash
    assert (result.format, result.ref) == (2, "rec-6")
    assert "ref" not in result.event
    by_index = service.check_event(session, index=6)
    assert by_index.steps == result.steps
    with pytest.raises(NotFound):
        service.check_event(session, index=9)


def test_check_event_sequences_a_pending_event_first(
    session: Session, ledger_key: note.Signer
) -> None:
    fill(session, 3)
    late = service.append(session, kind="k", actor="a", subject="s", ref="late", body=b"late")
    session.commit()
    result = service.check_event(session, digest=bytes(late.digest).hex())
    assert (result.index, result.tree_size, result.verified) == (3, 4, True)


def test_current_checkpoint_lists_the_witnesses(session: Session, ledger_key: note.Signer) -> None:
    fill(session, 2)
    witness = note.generate_signer("w.test/one", key_type=note.COSIGNATURE_ED25519)
    service.add_witness(session, name="w.test/one", vkey=witness.verifier.vkey)
    checkpoint = service.latest_checkpoint_or_raise(session)
    body = note.split_note(checkpoint.note)[0]
    service.add_cosignature(
        session,
        checkpoint=checkpoint.note,
        cosignature=note.cosign(body, witness, timestamp=1_700_000_000),
    )
    session.commit()
    view = service.current_checkpoint(session)
    assert view.size == 2
    assert [w.name for w in view.witnesses] == ["w.test/one"]
    assert view.note.count("\u2014 ") == 2


def test_the_periodic_task_sequences_and_signs(
    session: Session, ledger_key: note.Signer, no_checkpoint_interval: None
) -> None:
    from xinyidai.ledger import jobs

    service.append_many(session, events=events(6))
    session.commit()
    assert jobs.publish_for(0.5, idle_seconds=0) >= 1
    session.expire_all()
    assert service.latest_checkpoint_or_raise(session).size == 6


def test_append_digests_writes_the_leaves_append_many_writes(session: Session) -> None:
    assert_same_leaves_as_append_many(session, digest_items(40))


def test_append_digests_of_a_plain_chunk_writes_the_leaves_append_many_writes(
    session: Session,
) -> None:
    items = plain_digest_items(40)
    assert appending.verbatim_items(items)
    assert_same_leaves_as_append_many(session, items)


@pytest.mark.parametrize(
    "odd",
    [
        ("91110000X", 'rec-"q":1', "ab" * 32, b"s" * 16),  # a quote in the ref
        ("91110000X", "rec-1:1", "AB" * 32, b"s" * 16),  # hex, but upper case
        (" 91110000X", "rec-1:1", "ab" * 32, b"s" * 16),  # a leading space
        ("91110000X", "rec-1:1", "ab" * 31, b"s" * 16),  # a short digest
    ],
)
def test_one_odd_item_sends_its_chunk_down_the_careful_path(
    odd: tuple[str, str, str, bytes],
) -> None:
    assert not appending.verbatim_items([*plain_digest_items(5), odd, *plain_digest_items(3)])


def test_append_digests_with_awkward_kind_or_actor_takes_the_general_path(
    session: Session,
) -> None:
    items = digest_items(3)
    assert service.append_digests(session, kind="记录", actor='a "b"', items=items) == 3
    leaves = session.scalars(select(LedgerEntry.leaf).order_by(LedgerEntry.id)).all()
    events_ = [service.decode_leaf(leaf) for leaf in leaves]
    assert {event["kind"] for event in events_} == {"记录"}
    secrets = keys.tag_secrets()
    for event, (subject, _, _, _) in zip(events_, items, strict=True):
        assert service.tagged_for(event, role="subject", label=subject, secrets=secrets)
        assert service.tagged_for(event, role="actor", label='a "b"', secrets=secrets)


def test_append_digests_refuses_a_blank_subject_and_stores_nothing(session: Session) -> None:
    items = [*digest_items(2), ("  ", "rec-x:1", "ab" * 32, b"s" * 16)]
    with pytest.raises(ValidationFailed) as caught:
        service.append_digests(session, kind="record.version", actor="provider:tax", items=items)
    assert caught.value.field == "subject"
    assert _count(session, LedgerEntry) == 0


@settings(max_examples=200)
@given(key=st.binary(max_size=100), message=st.binary(max_size=100))
def test_the_precomputed_mac_is_hmac_sha256(key: bytes, message: bytes) -> None:
    import hmac

    assert sealing.Mac(key)(message) == hmac.digest(key, message, "sha256")
