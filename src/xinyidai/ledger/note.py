"""C2SP signed notes, checkpoints and cosignatures with Ed25519.

- signed-note: a UTF-8 text ending in a newline, a blank line, then signature lines
  ``— <name> base64(key id || signature)``; the key id is the first 4 bytes of
  ``SHA-256(name || 0x0A || type || public key)`` with type 0x01 for Ed25519 note keys.
- tlog-checkpoint: the note text is ``origin``, ``size``, ``base64(root hash)`` lines.
- tlog-cosignature (cosignature/v1): type 0x04, the signature is
  ``u64 timestamp || Ed25519(b"cosignature/v1\\ntime <t>\\n" || note text)``.

Keys travel as text: a verifier key ``<name>+<hex key id>+<base64(type || public key)>``
and a private key ``PRIVATE+KEY+<name>+<hex key id>+<base64(type || seed)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

NOTE_ED25519 = 0x01
COSIGNATURE_ED25519 = 0x04
DASH = "\u2014"
COSIGNATURE_HEADER = "cosignature/v1\n"
MAX_NOTE_BYTES = 1 << 16


class NoteError(ValueError):
    """A note, key, checkpoint or signature is malformed or does not verify."""


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"key name {name!r} must be non-empty without spaces or '+'")


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """The 4-byte key id of a signed-note key."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:4]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    """A public key able to check note signatures (0x01) or cosignatures (0x04)."""

    name: str
    key_type: int
    public_key: bytes
    id: bytes = field(init=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.key_type not in (NOTE_ED25519, COSIGNATURE_ED25519):
            raise NoteError(f"unsupported key type {self.key_type:#04x}")
        if len(self.public_key) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")
        object.__setattr__(self, "id", key_id(self.name, self.key_type, self.public_key))

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([self.key_type]) + self.public_key).decode()
        return f"{self.name}+{self.id.hex()}+{encoded}"

    def check(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key with its name and type."""

    name: str
    key_type: int
    seed: bytes

    @property
    def private_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_type, _raw_public(self.private_key.public_key()))

    @property
    def text(self) -> str:
        """The private key as ``PRIVATE+KEY+...`` text (keep it secret)."""
        encoded = base64.b64encode(bytes([self.key_type]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.id.hex()}+{encoded}"

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


def generate_signer(name: str, *, key_type: int = NOTE_ED25519) -> Signer:
    """A new random Ed25519 key named ``name``."""
    _check_name(name)
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return Signer(name, key_type, seed)


def _split_key(text: str, parts: int) -> list[str]:
    pieces = text.strip().split("+", parts - 1)
    if len(pieces) != parts:
        raise NoteError("malformed key")
    return pieces


def _decode_key_material(hex_id: str, encoded: str) -> tuple[bytes, int, bytes]:
    try:
        kid = bytes.fromhex(hex_id)
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteError("malformed key") from exc
    if len(kid) != 4 or len(raw) != 33:
        raise NoteError("malformed key")
    return kid, raw[0], raw[1:]


def parse_signer(text: str) -> Signer:
    """A private key from its ``PRIVATE+KEY+...`` text."""
    pieces = _split_key(text, 5)
    if pieces[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("not a private key")
    kid, key_type, seed = _decode_key_material(pieces[3], pieces[4])
    signer = Signer(pieces[2], key_type, seed)
    if signer.verifier.id != kid:
        raise NoteError("private key id does not match its name and key")
    return signer


def parse_verifier(vkey: str) -> Verifier:
    """A verifier key from ``<name>+<hex key id>+<base64(type || key)>``."""
    name, hex_id, encoded = _split_key(vkey, 3)
    kid, key_type, public = _decode_key_material(hex_id, encoded)
    verifier = Verifier(name, key_type, public)
    if verifier.id != kid:
        raise NoteError("verifier key id does not match its name and key")
    return verifier


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the key name, the key id and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    @property
    def line(self) -> str:
        encoded = base64.b64encode(self.key_id + self.signature).decode()
        return f"{DASH} {self.name} {encoded}\n"


def signature_line(name: str, kid: bytes, signature: bytes) -> str:
    return NoteSignature(name, kid, signature).line


def parse_signature_line(line: str) -> NoteSignature:
    """One ``— name base64`` line (with or without its newline)."""
    line = line.removesuffix("\n")
    pieces = line.split(" ")
    if len(pieces) != 3 or pieces[0] != DASH:
        raise NoteError("malformed signature line")
    try:
        raw = base64.b64decode(pieces[2], validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteError("malformed signature line") from exc
    if len(raw) < 5:
        raise NoteError("malformed signature line")
    _check_name(pieces[1])
    return NoteSignature(pieces[1], raw[:4], raw[4:])


def split_note(note: str) -> tuple[str, list[NoteSignature]]:
    """The text of a signed note and its signature lines."""
    if len(note.encode()) > MAX_NOTE_BYTES:
        raise NoteError("note is too large")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("malformed note")
    text, block = note[: cut + 1], note[cut + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise NoteError("note has no signatures")
    return text, [parse_signature_line(line) for line in lines]


def sign_note(text: str, signer: Signer) -> str:
    """A signed note: ``text``, a blank line and one signature line."""
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("note text must end in a newline and have no blank line")
    verifier = signer.verifier
    return text + "\n" + signature_line(verifier.name, verifier.id, signer.sign(text.encode()))


def verify_note(note: str, verifier: Verifier) -> str:
    """The note's text when ``verifier`` signed it; ``NoteError`` otherwise."""
    text, signatures = split_note(note)
    for sig in signatures:
        if sig.name == verifier.name and sig.key_id == verifier.id:
            if verifier.key_type == NOTE_ED25519 and verifier.check(text.encode(), sig.signature):
                return text
            raise NoteError(f"the signature of {verifier.name} does not verify")
    raise NoteError(f"the note is not signed by {verifier.name}")


def add_signatures(note: str, lines: list[str]) -> str:
    """The note with more signature lines appended (cosignatures)."""
    return note + "".join(line if line.endswith("\n") else line + "\n" for line in lines)


@dataclass(frozen=True)
class Checkpoint:
    """A tlog checkpoint: the log's origin, tree size and root hash."""

    origin: str
    size: int
    root_hash: bytes

    @property
    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root_hash).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """A checkpoint from its note text (extension lines are refused: XYD writes none)."""
    lines = text.split("\n")
    if len(lines) != 4 or lines[3] != "":
        raise NoteError("a checkpoint has exactly three lines")
    origin, size_text, root_text = lines[:3]
    if not origin or not size_text.isdigit() or (size_text != "0" and size_text[0] == "0"):
        raise NoteError("malformed checkpoint")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteError("malformed checkpoint root") from exc
    if len(root) != 32:
        raise NoteError("malformed checkpoint root")
    return Checkpoint(origin, int(size_text), root)


def _cosigned_message(text: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{text}".encode()


def cosign(text: str, signer: Signer, *, timestamp: int) -> str:
    """A cosignature/v1 signature line over a checkpoint's note text."""
    if signer.key_type != COSIGNATURE_ED25519:
        raise NoteError("a cosignature needs a cosigner key (type 0x04)")
    if not 0 <= timestamp < 1 << 63:
        raise NoteError("cosignature timestamp out of range")
    signature = signer.sign(_cosigned_message(text, timestamp))
    verifier = signer.verifier
    return signature_line(verifier.name, verifier.id, struct.pack(">Q", timestamp) + signature)


def verify_cosignature(text: str, line: str, verifier: Verifier) -> int:
    """The timestamp of a valid cosignature by ``verifier`` over ``text``."""
    if verifier.key_type != COSIGNATURE_ED25519:
        raise NoteError("not a cosigner key")
    sig = parse_signature_line(line)
    if sig.name != verifier.name or sig.key_id != verifier.id:
        raise NoteError("the cosignature is not by this witness key")
    if len(sig.signature) != 8 + 64:
        raise NoteError("malformed cosignature")
    (timestamp,) = struct.unpack(">Q", sig.signature[:8])
    if timestamp >= 1 << 63:
        raise NoteError("cosignature timestamp out of range")
    if not verifier.check(_cosigned_message(text, timestamp), sig.signature[8:]):
        raise NoteError(f"the cosignature of {verifier.name} does not verify")
    return int(timestamp)
