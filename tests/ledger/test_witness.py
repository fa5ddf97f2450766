"""The witness: verify, check consistency, cosign; refuse and keep evidence on a fork."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from tests.ledger.conftest import events, fill
from xinyidai.ledger import client as ledger_client
from xinyidai.ledger import note, service, tree
from xinyidai.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode


@pytest.fixture
def witness_key(session: Session, ledger_key: note.Signer) -> note.Signer:
    signer = note.generate_signer("witness.test/w1", key_type=note.COSIGNATURE_ED25519)
    service.add_witness(session, name=signer.name, vkey=signer.verifier.vkey)
    session.commit()
    return signer


def _grow(session: Session, n: int, start: int) -> None:
    service.append_many(session, events=events(n, start=start))
    service.integrate(session)
    service.publish_checkpoint(session)
    session.commit()


def test_the_witness_cosigns_each_new_consistent_checkpoint(
    client: Any, session: Session, witness_key: note.Signer, tmp_path: Path
) -> None:
    fill(session, 6)
    state = tmp_path / "w" / "state.json"
    first = ledger_client.witness_round(client, signer=witness_key, state_path=state)
    assert (first.status, first.size) == ("cosigned", 6)
    _grow(session, 9, start=6)
    second = ledger_client.witness_round(client, signer=witness_key, state_path=state)
    assert (second.status, second.size) == ("cosigned", 15)
    again = ledger_client.witness_round(client, signer=witness_key, state_path=state)
    assert again.status == "unchanged"
    served = client.get("/api/v1/ledger/checkpoint").text
    assert served.endswith(again.cosignature)
    saved = json.loads(state.read_text())
    assert saved["size"] == 15


def test_the_witness_refuses_a_forked_log_and_keeps_evidence(
    client: Any, session: Session, witness_key: note.Signer, tmp_path: Path
) -> None:
    fill(session, 6)
    state = tmp_path / "state.json"
    ledger_client.witness_round(client, signer=witness_key, state_path=state)
    # The operator rewrites history: leaf 2 changes, the tree is rebuilt and re-signed.
    forged = b'{"actor":"x","digest":"00","kind":"k","ref":"r","subject":"s","time":"t"}'
    session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.idx == 2)
        .values(leaf=forged, leaf_hash=tree.leaf_hash(forged))
    )
    session.execute(delete(LedgerNode))
    session.execute(delete(LedgerCheckpoint))
    session.execute(update(LedgerHead).values(size=0, root_hash=tree.EMPTY_ROOT))
    session.execute(update(LedgerEntry).values(idx=None))
    session.commit()
    _grow(session, 3, start=100)
    with pytest.raises(ledger_client.WitnessRefusal) as refused:
        ledger_client.witness_round(client, signer=witness_key, state_path=state)
    evidence = json.loads(refused.value.evidence_path.read_text())
    assert "6\n" in evidence["previous_checkpoint"]
    assert "\n9\n" in evidence["new_checkpoint"]
    assert json.loads(state.read_text())["size"] == 6  # the state still holds the old view


def test_the_witness_refuses_a_shrunk_tree(
    client: Any, session: Session, witness_key: note.Signer, tmp_path: Path
) -> None:
    fill(session, 4)
    state = tmp_path / "state.json"
    ledger_client.witness_round(client, signer=witness_key, state_path=state)
    saved = json.loads(state.read_text())
    saved["size"] = 10
    state.write_text(json.dumps(saved))
    with pytest.raises(ledger_client.WitnessRefusal):
        ledger_client.witness_round(client, signer=witness_key, state_path=state)


def test_the_witness_rejects_a_checkpoint_signed_by_another_key(
    client: Any, session: Session, witness_key: note.Signer, tmp_path: Path
) -> None:
    fill(session, 4)
    other = note.generate_signer("xyd.local/ledger")
    with pytest.raises(note.NoteError):
        ledger_client.witness_round(
            client, signer=witness_key, state_path=tmp_path / "s.json", log_key=other.verifier
        )
    assert not (tmp_path / "s.json").exists()


def test_remote_verify_checks_every_entry(
    client: Any, session: Session, ledger_key: note.Signer
) -> None:
    fill(session, 12)
    assert ledger_client.verify_remote(client).ok
    leaf = session.get(LedgerEntry, 5)
    assert leaf is not None
    session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.id == 5)
        .values(leaf=leaf.leaf.replace(b"record.version", b"record.forged"))
    )
    session.commit()
    assert not ledger_client.verify_remote(client).ok


def test_remote_verify_names_a_leaf_that_is_not_an_event(
    client: Any, session: Session, ledger_key: note.Signer
) -> None:
    fill(session, 6)
    session.execute(update(LedgerEntry).where(LedgerEntry.idx == 3).values(leaf=b"not json"))
    session.commit()
    report = ledger_client.verify_remote(client)
    assert report.first_bad_index == 3
