"""The ledger seen from outside, over HTTP: the witness and the remote verifier.

Both take an ``httpx.Client`` whose ``base_url`` is the log's address (tests pass the
app's ``TestClient``). The witness pins the log's key, checks each new checkpoint's
signature and its consistency with the last one it saw, then posts a cosignature; on an
inconsistent checkpoint it refuses and writes both checkpoints to an evidence file.
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from xinyidai.core.retry import with_retries
from xinyidai.ledger import note, service, tree
from xinyidai.ledger.schemas import VerifyReport

API = "/api/v1/ledger"


class WitnessRefusal(Exception):
    """The log showed a checkpoint the witness must not cosign; ``evidence`` says why."""

    def __init__(self, reason: str, evidence_path: Path) -> None:
        super().__init__(reason)
        self.reason = reason
        self.evidence_path = evidence_path


@dataclass
class WitnessState:
    """What a witness remembers about one log: its key and the last consistent checkpoint."""

    log_key: str
    size: int = 0
    root_hash: str = ""
    checkpoint: str = ""


@dataclass(frozen=True)
class RoundResult:
    status: str  # "cosigned" or "unchanged"
    size: int
    cosignature: str


def load_state(path: Path) -> WitnessState | None:
    """The witness's saved state, or None on its first run."""
    if not path.exists():
        return None
    return WitnessState(**json.loads(path.read_text()))


def save_state(path: Path, state: WitnessState) -> None:
    """Write the state atomically (a crash never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(asdict(state), indent=2))
    os.replace(temporary, path)


def _get(client: httpx.Client, path: str, **params: Any) -> httpx.Response:
    response = with_retries(lambda: client.get(path, params=params or None))
    response.raise_for_status()
    return response


def fetch_log_key(client: httpx.Client) -> note.Verifier:
    """The log's published verifier key (trust on first use: pin it)."""
    return note.parse_verifier(_get(client, f"{API}/key").text.strip())


def _write_evidence(
    evidence_dir: Path, reason: str, state: WitnessState, new_note: str, extra: dict[str, Any]
) -> Path:
    evidence_dir.mkdir(parents=True, exist_ok=True)
    path = evidence_dir / f"ledger-evidence-{int(time.time())}-{state.size}.json"
    evidence = {
        "reason": reason,
        "log_key": state.log_key,
        "previous_checkpoint": state.checkpoint,
        "new_checkpoint": new_note,
        **extra,
    }
    path.write_text(json.dumps(evidence, indent=2, ensure_ascii=False))
    return path


def witness_round(
    client: httpx.Client,
    *,
    signer: note.Signer,
    state_path: Path,
    log_key: note.Verifier | None = None,
    evidence_dir: Path | None = None,
) -> RoundResult:
    """Check the log's latest checkpoint and cosign it; ``WitnessRefusal`` if inconsistent."""
    state = load_state(state_path)
    if log_key is None:
        log_key = note.parse_verifier(state.log_key) if state else fetch_log_key(client)
    if state is None:
        state = WitnessState(log_key=log_key.vkey)
    elif state.log_key != log_key.vkey:
        raise note.NoteError("the state file belongs to another log key")
    evidence_dir = evidence_dir or state_path.parent
    signed_note = _get(client, f"{API}/checkpoint").text
    body = note.verify_note(signed_note, log_key)
    checkpoint = note.parse_checkpoint(body)
    old_root = base64.b64decode(state.root_hash) if state.root_hash else tree.EMPTY_ROOT
    status = "cosigned"
    if checkpoint.size < state.size:
        path = _write_evidence(evidence_dir, "the tree shrank", state, signed_note, {})
        raise WitnessRefusal(f"checkpoint size {checkpoint.size} < {state.size}", path)
    if checkpoint.size == state.size:
        if checkpoint.root_hash != old_root:
            path = _write_evidence(
                evidence_dir, "same size, different root", state, signed_note, {}
            )
            raise WitnessRefusal(f"two roots for size {checkpoint.size}", path)
        status = "unchanged"
    elif state.size > 0:
        response = _get(
            client, f"{API}/proof/consistency", first=state.size, second=checkpoint.size
        )
        proof = [base64.b64decode(h) for h in response.json()["hashes"]]
        try:
            tree.verify_consistency(
                state.size, checkpoint.size, old_root, checkpoint.root_hash, proof
            )
        except tree.ProofError as exc:
            path = _write_evidence(
                evidence_dir,
                f"inconsistent checkpoints: {exc}",
                state,
                signed_note,
                {"consistency_proof": response.json()["hashes"]},
            )
            raise WitnessRefusal(
                f"checkpoint {checkpoint.size} is not consistent with {state.size}", path
            ) from exc
    save_state(
        state_path,
        WitnessState(
            log_key=log_key.vkey,
            size=checkpoint.size,
            root_hash=base64.b64encode(checkpoint.root_hash).decode(),
            checkpoint=signed_note,
        ),
    )
    line = note.cosign(body, signer, timestamp=int(time.time()))
    response = with_retries(
        lambda: client.post(
            f"{API}/cosignatures", json={"checkpoint": signed_note, "cosignature": line}
        )
    )
    response.raise_for_status()
    return RoundResult(status=status, size=checkpoint.size, cosignature=line)


def verify_remote(client: httpx.Client, *, log_key: note.Verifier | None = None) -> VerifyReport:
    """Fetch every entry of a remote log and check them against its signed checkpoint."""
    report = VerifyReport()
    log_key = log_key or fetch_log_key(client)
    signed_note = _get(client, f"{API}/checkpoint").text
    try:
        checkpoint = note.parse_checkpoint(note.verify_note(signed_note, log_key))
    except note.NoteError as exc:
        report.add(f"checkpoint: {exc}")
        return report
    report.checkpoints = 1
    hashes: list[bytes] = []
    while len(hashes) < checkpoint.size:
        page = _get(client, f"{API}/entries", start=len(hashes), end=checkpoint.size).json()
        if not page["entries"]:
            report.add(f"the log serves no entry at index {len(hashes)}", len(hashes))
            break
        for item in page["entries"]:
            index = len(hashes)
            if item["index"] != index:
                report.add(f"leaf {index} is missing", index)
                break
            leaf = base64.b64decode(item["leaf"])
            try:
                if service.decode_leaf(leaf) != item["event"]:
                    report.add(f"leaf {index}: the event differs from the leaf", index)
            except ValueError:
                report.add(f"leaf {index} is not a canonical ledger event", index)
            hashes.append(tree.leaf_hash(leaf))
        if report.problems:
            break
    report.size = len(hashes)
    if not report.problems and tree.root_of(hashes) != checkpoint.root_hash:
        report.add(f"the entries do not hash to the checkpoint root of size {checkpoint.size}", 0)
    return report


@dataclass(frozen=True)
class Inclusion:
    """A leaf found in the log's signed checkpoint."""

    index: int
    tree_size: int
    digest: str


def check_inclusion(
    client: httpx.Client,
    *,
    digest: str,
    index: int | None = None,
    log_key: note.Verifier | None = None,
) -> Inclusion:
    """Check that a leaf carrying ``digest`` is in the log's latest signed checkpoint.

    ``digest`` is what the reader recomputed itself (a record version's commitment from the
    data and salt it was shown, docs/ledger.md); ``index`` where the leaf is said to be (else
    looked up). Checks the checkpoint's signature, that the leaf at the index carries that
    digest, and its RFC 9162 inclusion proof; ``tree.ProofError`` if anything fails.
    """
    log_key = log_key or fetch_log_key(client)
    checkpoint = note.parse_checkpoint(
        note.verify_note(_get(client, f"{API}/checkpoint").text, log_key)
    )
    if index is None:
        index = _get(client, f"{API}/lookup", digest=digest).json()["index"]
    if index is None or not 0 <= index < checkpoint.size:
        raise tree.ProofError("the leaf is not in the signed checkpoint yet")
    page = _get(client, f"{API}/entries", start=index, end=index + 1).json()
    leaf = base64.b64decode(page["entries"][0]["leaf"])
    try:
        event = service.decode_leaf(leaf)
    except ValueError as exc:
        raise tree.ProofError(f"leaf {index} is not a ledger event") from exc
    if event["digest"] != digest:
        raise tree.ProofError(f"leaf {index} carries another digest")
    proof = _get(client, f"{API}/proof/inclusion", index=index, tree_size=checkpoint.size).json()
    tree.verify_inclusion(
        index,
        checkpoint.size,
        tree.leaf_hash(leaf),
        [base64.b64decode(h) for h in proof["hashes"]],
        checkpoint.root_hash,
    )
    return Inclusion(index=index, tree_size=checkpoint.size, digest=digest)


def find_tagged(client: httpx.Client, *, role: str, keys: list[bytes], start: int = 0) -> list[int]:
    """The indexes of the public leaves a party's keys match (``GET /me/ledger-key`` gives
    them): what an enterprise or a department does to find its own leaves."""
    found: list[int] = []
    size = _get(client, f"{API}/entries", start=start, end=start + 1).json()["tree_size"]
    while start < size:
        page = _get(client, f"{API}/entries", start=start, end=size).json()
        for item in page["entries"]:
            event = item["event"]
            if not event or service.leaf_format(event) != service.FORMAT_2:
                continue
            if any(service.tag(key, event["digest"]) == event[role] for key in keys):
                found.append(item["index"])
        start = page["end"]
    return found
