"""The files a node needs beside its database: the ledger's signing key and tag secret
(``ledger/keys.py``) and a rating model trained on the node. Where each comes from at backup
and goes to at restore, with the refusals that keep a restore from losing a key."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from xinyidai.backup.archive import LEDGER_KEY, RATING_MODEL, TAG_SECRETS, staged_name
from xinyidai.backup.schemas import Manifest
from xinyidai.core.errors import Conflict, XydError
from xinyidai.ledger import keys, note
from xinyidai.scoring import platform_model


def places() -> dict[str, tuple[str, Path]]:
    """Each file member, what it is, and where it lives on this node (by its settings)."""
    return {
        LEDGER_KEY: ("ledger key", keys.key_path()),
        TAG_SECRETS: ("ledger tag secret", keys.tag_secret_path()),
        RATING_MODEL: ("rating model", platform_model.installed_path()),
    }


def ledger_identity() -> tuple[str | None, list[str]]:
    """The log's verifier key and the ids of its tag secrets, from the files in place (none
    is made when missing). Both are public: the manifest records them even without secrets."""
    key = keys.key_path()
    tags = keys.tag_secret_path()
    vkey = keys.load_key(path=key).verifier.vkey if key.exists() else None
    ids = [secret.id for secret in keys.tag_secrets(path=tags)] if tags.exists() else []
    return vkey, ids


def stage(staging: Path, *, include_secrets: bool) -> dict[str, Path]:
    """Copies of the files in place under ``staging`` (the keys only with secrets)."""
    staged = {}
    for member, (_, source) in places().items():
        if member in (LEDGER_KEY, TAG_SECRETS) and not include_secrets:
            continue
        if source.exists():
            target = staging / staged_name(member)
            shutil.copyfile(source, target)
            target.chmod(0o600)
            staged[member] = target
    return staged


@dataclass
class Placement:
    """A file of the archive and where it goes on this node."""

    label: str
    source: Path
    target: Path
    action: str  # "write", "same", "replace"


def plan(manifest: Manifest, staged: dict[str, Path], *, force: bool) -> list[Placement]:
    """Where each file of the archive goes. ``Conflict`` for a different file in place
    (without ``force``) and, for an archive made without secrets, for key files that are not
    the node's own in place."""
    found = []
    for member, (label, target) in places().items():
        source = staged.get(member)
        if source is None:
            continue
        action = "write"
        if target.exists():
            if target.read_bytes() == source.read_bytes():
                action = "same"
            elif not force:
                raise Conflict(
                    "{path} differs from the archive's {what}: restore with --force to "
                    "replace it (the file in place is kept beside it)",
                    field="archive",
                    path=str(target),
                    what=label,
                )
            else:
                action = "replace"
        found.append(Placement(label, source, target, action))
    if LEDGER_KEY not in staged and manifest.ledger.vkey is not None:
        _check_key_in_place(manifest.ledger.vkey)
    if TAG_SECRETS not in staged and manifest.ledger.tag_secret_ids:
        _check_tag_secrets_in_place(manifest.ledger.tag_secret_ids)
    return found


def _not_the_key(path: Path) -> Conflict:
    return Conflict(
        "the ledger key at {path} is not the key of the archive's node",
        field="key_file",
        path=str(path),
    )


def _check_key_in_place(vkey: str) -> None:
    path = keys.key_path()
    if not path.exists():
        raise Conflict(
            "the archive holds no ledger key (it was made with --no-secrets): put the node's "
            "key at {path} first",
            field="key_file",
            path=str(path),
        )
    try:
        in_place = keys.load_key(path=path).verifier.vkey
    except (XydError, note.NoteError, OSError) as exc:
        raise _not_the_key(path) from exc
    if in_place != vkey:
        raise _not_the_key(path)


def _check_tag_secrets_in_place(ids: list[str]) -> None:
    path = keys.tag_secret_path()
    in_place = {secret.id for secret in keys.tag_secrets(path=path)} if path.exists() else set()
    missing = [secret for secret in ids if secret not in in_place]
    if missing:
        raise Conflict(
            "the ledger tag secret file {path} lacks secrets of the archive's node ({ids}): put "
            "the node's file there first",
            field="tag_secret_file",
            path=str(path),
            ids=", ".join(missing),
        )


def place(placement: Placement, *, stamp: str) -> str:
    """Put one file in place (mode 0600, written aside then renamed); a file it replaces is
    kept beside it under ``NAME.replaced-STAMP``. Says what it did."""
    target = placement.target
    if placement.action == "same":
        return f"{target} already in place, the same"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(placement.source.read_bytes())
        out.flush()
        os.fsync(out.fileno())
    kept = ""
    if placement.action == "replace":
        aside = target.with_name(f"{target.name}.replaced-{stamp}")
        os.link(target, aside)
        kept = f"; the file it replaced is kept at {aside}"
    os.replace(partial, target)
    return f"restored to {target} (mode 0600){kept}"
