"""The public ledger API: checkpoint, key, entries, proofs, lookup, cosignatures."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import XydEnv
from tests.ledger.conftest import committed, events, fill
from xinyidai.ledger import note, service, tree
from xinyidai.ledger.models import LedgerCosignature

API = "/api/v1/ledger"


@pytest.fixture
def api(client: Any, session: Session, ledger_key: note.Signer) -> Any:
    fill(session, 21, checkpoint_every=8)
    return client


def _root(api: Any, size: int) -> bytes:
    leaves = [
        base64.b64decode(e["leaf"])
        for e in api.get(f"{API}/entries", params={"start": 0, "end": size}).json()["entries"]
    ]
    return tree.root_of([tree.leaf_hash(x) for x in leaves])


def test_checkpoint_is_a_signed_note(api: Any, ledger_key: note.Signer) -> None:
    response = api.get(f"{API}/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    checkpoint = note.parse_checkpoint(note.verify_note(response.text, ledger_key.verifier))
    assert checkpoint.size == 21
    assert checkpoint.root_hash == _root(api, 21)


def test_checkpoint_refreshes_when_the_tree_grew(
    api: Any, session: Session, ledger_key: note.Signer, no_checkpoint_interval: None
) -> None:
    service.append(session, kind="k", actor="a", subject="s", ref="r", body=b"new")
    session.commit()
    text = api.get(f"{API}/checkpoint").text
    assert note.parse_checkpoint(note.verify_note(text, ledger_key.verifier)).size == 22


def test_key_is_the_vkey(api: Any, ledger_key: note.Signer) -> None:
    response = api.get(f"{API}/key")
    assert response.text.strip() == ledger_key.verifier.vkey
    assert note.parse_verifier(response.text).key_type == note.NOTE_ED25519


def test_entries_give_the_exact_leaf_bytes_and_the_event(api: Any) -> None:
    body = api.get(f"{API}/entries", params={"start": 5, "end": 8}).json()
    assert body["tree_size"] == 21
    assert (body["start"], body["end"]) == (5, 8)
    assert [e["index"] for e in body["entries"]] == [5, 6, 7]
    for entry in body["entries"]:
        leaf = base64.b64decode(entry["leaf"])
        assert json.loads(leaf) == entry["event"]
        assert "secret" not in entry["event"]


def test_entries_are_capped(api: Any, session: Session, xyd_env: XydEnv) -> None:
    xyd_env(XYD_LEDGER_MAX_ENTRIES="4")
    body = api.get(f"{API}/entries", params={"start": 0}).json()
    assert [e["index"] for e in body["entries"]] == [0, 1, 2, 3]
    assert body["end"] == 4


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"start": -1}, 422, "start"),
        ({"start": 21}, 404, "start"),
        ({"start": 5, "end": 5}, 422, "end"),
        ({"start": "x"}, 422, "start"),
    ],
)
def test_bad_entry_ranges_name_the_field(
    api: Any, params: dict[str, Any], status: int, field: str
) -> None:
    response = api.get(f"{API}/entries", params=params)
    assert response.status_code == status
    assert response.json()["error"]["field"] == field


def test_inclusion_proof_verifies(api: Any) -> None:
    body = api.get(f"{API}/proof/inclusion", params={"index": 13, "tree_size": 21}).json()
    proof = [base64.b64decode(h) for h in body["hashes"]]
    leaf_hash = base64.b64decode(body["leaf_hash"])
    tree.verify_inclusion(13, 21, leaf_hash, proof, _root(api, 21))


def test_consistency_proof_verifies(api: Any) -> None:
    body = api.get(f"{API}/proof/consistency", params={"first": 8, "second": 21}).json()
    proof = [base64.b64decode(h) for h in body["hashes"]]
    tree.verify_consistency(8, 21, _root(api, 8), _root(api, 21), proof)


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("inclusion", {"index": 21, "tree_size": 21}, 422, "index"),
        ("inclusion", {"index": 0, "tree_size": 22}, 404, "tree_size"),
        ("inclusion", {"index": -1, "tree_size": 5}, 422, "index"),
        ("inclusion", {"tree_size": 5}, 422, "index"),
        ("consistency", {"first": 9, "second": 8}, 422, "first"),
        ("consistency", {"first": 1, "second": 99}, 404, "second"),
        ("consistency", {"first": 0, "second": 8}, 422, "first"),
    ],
)
def test_bad_proof_parameters_name_the_field(
    api: Any, path: str, params: dict[str, Any], status: int, field: str
) -> None:
    response = api.get(f"{API}/proof/{path}", params=params)
    assert response.status_code == status
    assert response.json()["error"]["field"] == field


def test_lookup_by_digest(api: Any) -> None:
    digest = committed(events(1, start=11)[0])
    body = api.get(f"{API}/lookup", params={"digest": digest}).json()
    assert body["index"] == 11
    plain = service.digest_of({"value": 11, "secret": "s11"})
    assert api.get(f"{API}/lookup", params={"digest": plain}).status_code == 404
    assert api.get(f"{API}/lookup", params={"digest": "ab" * 32}).status_code == 404
    bad = api.get(f"{API}/lookup", params={"digest": "zz"})
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "digest"


def _witness(session: Session, name: str = "witness.test/w1") -> note.Signer:
    signer = note.generate_signer(name, key_type=note.COSIGNATURE_ED25519)
    service.add_witness(session, name=name, vkey=signer.verifier.vkey)
    session.commit()
    return signer


def _cosignatures(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LedgerCosignature)) or 0


def test_a_registered_witness_cosignature_is_served_with_the_checkpoint(
    api: Any, session: Session, ledger_key: note.Signer
) -> None:
    witness = _witness(session)
    signed = api.get(f"{API}/checkpoint").text
    body = note.split_note(signed)[0]
    line = note.cosign(body, witness, timestamp=1_700_000_000)
    response = api.post(f"{API}/cosignatures", json={"checkpoint": signed, "cosignature": line})
    assert response.status_code == 201
    assert response.json() == {"witness": "witness.test/w1", "size": 21, "timestamp": 1_700_000_000}
    served = api.get(f"{API}/checkpoint").text
    assert served == signed + line
    note.verify_note(served, ledger_key.verifier)
    assert note.verify_cosignature(body, served.splitlines()[-1], witness.verifier)


def test_an_unknown_witness_is_refused(api: Any, session: Session) -> None:
    stranger = note.generate_signer("stranger.test", key_type=note.COSIGNATURE_ED25519)
    signed = api.get(f"{API}/checkpoint").text
    line = note.cosign(note.split_note(signed)[0], stranger, timestamp=1)
    response = api.post(f"{API}/cosignatures", json={"checkpoint": signed, "cosignature": line})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "cosignature"
    assert _cosignatures(session) == 0


def test_a_forged_cosignature_is_refused(api: Any, session: Session) -> None:
    _witness(session)
    impostor = note.generate_signer("witness.test/w1", key_type=note.COSIGNATURE_ED25519)
    signed = api.get(f"{API}/checkpoint").text
    line = note.cosign(note.split_note(signed)[0], impostor, timestamp=1)
    response = api.post(f"{API}/cosignatures", json={"checkpoint": signed, "cosignature": line})
    assert response.status_code == 422
    assert _cosignatures(session) == 0


def test_a_cosignature_on_an_unpublished_checkpoint_is_refused(
    api: Any, session: Session, ledger_key: note.Signer
) -> None:
    witness = _witness(session)
    forged = note.sign_note(note.Checkpoint("xyd.local/ledger", 21, b"\x01" * 32).text, ledger_key)
    line = note.cosign(note.split_note(forged)[0], witness, timestamp=1)
    response = api.post(f"{API}/cosignatures", json={"checkpoint": forged, "cosignature": line})
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "checkpoint"
    assert _cosignatures(session) == 0
