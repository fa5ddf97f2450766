"""Signed notes, checkpoints and cosignatures (C2SP formats) with Ed25519."""

from __future__ import annotations

import base64
import hashlib

import pytest

from xinyidai.ledger import note

ROOT = hashlib.sha256(b"root").digest()


def test_key_id_follows_the_signed_note_spec() -> None:
    signer = note.generate_signer("xyd.test/ledger")
    public = signer.verifier.public_key
    expected = hashlib.sha256(b"xyd.test/ledger\n\x01" + public).digest()[:4]
    assert signer.verifier.id == expected
    name, hex_id, encoded = signer.verifier.vkey.split("+", 2)
    assert (name, hex_id) == ("xyd.test/ledger", expected.hex())
    assert base64.b64decode(encoded) == b"\x01" + public


def test_keys_round_trip_through_text() -> None:
    signer = note.generate_signer("xyd.test/ledger")
    assert note.parse_signer(signer.text) == signer
    assert note.parse_verifier(signer.verifier.vkey) == signer.verifier


def test_a_vkey_with_a_wrong_id_is_refused() -> None:
    name, _, encoded = note.generate_signer("a.example").verifier.vkey.split("+", 2)
    with pytest.raises(note.NoteError):
        note.parse_verifier(f"{name}+00000000+{encoded}")


def test_checkpoint_note_signs_and_verifies() -> None:
    signer = note.generate_signer("xyd.test/ledger")
    body = note.Checkpoint("xyd.test/ledger", 42, ROOT).text
    signed = note.sign_note(body, signer)
    assert signed.startswith("xyd.test/ledger\n42\n")
    assert "\n\n\u2014 xyd.test/ledger " in signed
    text = note.verify_note(signed, signer.verifier)
    assert note.parse_checkpoint(text) == note.Checkpoint("xyd.test/ledger", 42, ROOT)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s.replace("\n42\n", "\n43\n"),
        lambda s: s.replace("xyd.test/ledger\n", "xyd.evil/ledger\n", 1),
        lambda s: s[:-20] + ("A" if s[-20] != "A" else "B") + s[-19:],
    ],
)
def test_a_modified_note_is_rejected(tamper: object) -> None:
    signer = note.generate_signer("xyd.test/ledger")
    signed = note.sign_note(note.Checkpoint("xyd.test/ledger", 42, ROOT).text, signer)
    with pytest.raises(note.NoteError):
        note.verify_note(tamper(signed), signer.verifier)  # type: ignore[operator]


def test_a_note_signed_by_another_key_is_rejected() -> None:
    signer = note.generate_signer("xyd.test/ledger")
    impostor = note.generate_signer("xyd.test/ledger")
    signed = note.sign_note(note.Checkpoint("xyd.test/ledger", 1, ROOT).text, impostor)
    with pytest.raises(note.NoteError):
        note.verify_note(signed, signer.verifier)


def test_malformed_checkpoints_are_refused() -> None:
    for text in ("a\n1\n", "a\n01\nAAAA\n", "a\n1\nnot-base64!\n", "a\nx\n" + "A" * 44 + "\n"):
        with pytest.raises(note.NoteError):
            note.parse_checkpoint(text)


def test_cosignature_round_trip_and_format() -> None:
    witness = note.generate_signer("witness.test/w1", key_type=note.COSIGNATURE_ED25519)
    body = note.Checkpoint("xyd.test/ledger", 7, ROOT).text
    line = note.cosign(body, witness, timestamp=1_700_000_000)
    assert note.verify_cosignature(body, line, witness.verifier) == 1_700_000_000
    raw = base64.b64decode(line.split(" ")[2])
    assert (
        raw[:4]
        == hashlib.sha256(b"witness.test/w1\n\x04" + witness.verifier.public_key).digest()[:4]
    )
    assert int.from_bytes(raw[4:12], "big") == 1_700_000_000
    message = b"cosignature/v1\ntime 1700000000\n" + body.encode()
    assert witness.verifier.check(message, raw[12:])


def test_a_cosignature_on_another_checkpoint_is_rejected() -> None:
    witness = note.generate_signer("witness.test/w1", key_type=note.COSIGNATURE_ED25519)
    line = note.cosign(note.Checkpoint("o", 7, ROOT).text, witness, timestamp=5)
    with pytest.raises(note.NoteError):
        note.verify_cosignature(note.Checkpoint("o", 8, ROOT).text, line, witness.verifier)


def test_a_note_key_cannot_cosign() -> None:
    with pytest.raises(note.NoteError):
        note.cosign("o\n1\n" + "A" * 44 + "\n", note.generate_signer("o"), timestamp=1)
