"""The archive file: a tar of ``manifest.json`` first, then the members it lists with their
SHA-256. Written beside its final name with mode 0600 and linked into place whole; read
member by member into a private folder, each checked against the manifest before use.

The checksums find an archive damaged in storage or altered by mistake; they cannot show
who made it (whoever can rewrite a member can rewrite the manifest too). Keep archives
where nobody else can write them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

from pydantic import ValidationError

from xinyidai.backup.schemas import Manifest, Member
from xinyidai.core.errors import Conflict, Unavailable, ValidationFailed

MANIFEST = "manifest.json"
DATABASE_SQLITE = "database.sqlite.gz"
DATABASE_POSTGRES = "database.pgdump"
LEDGER_KEY = "secrets/log.key"
TAG_SECRETS = "secrets/tags.key"
RATING_MODEL = "files/scoring/platform_model.json"
MEMBERS = (DATABASE_SQLITE, DATABASE_POSTGRES, LEDGER_KEY, TAG_SECRETS, RATING_MODEL)
MANIFEST_MAX_BYTES = 1 << 20
CHUNK = 1 << 20


class Progress(Protocol):
    """Where the steps of a long run are told: ``transient`` ones replace each other (a
    percentage, the table being dumped), the others are kept."""

    def __call__(self, message: str, *, transient: bool = False) -> None: ...


def silent(message: str, *, transient: bool = False) -> None:
    return None


def percent(done: int, total: int) -> str:
    return f"{100 * done // total if total else 100}%"


def first_line(exc: BaseException) -> str:
    """The first line of an error's text (a driver's own error when it wraps one)."""
    cause = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__


def digest(path: Path) -> Member:
    sha = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return Member(sha256=sha.hexdigest(), size=size)


def gzip_file(source: Path, target: Path, progress: Progress) -> None:
    total = source.stat().st_size
    done = 0
    with source.open("rb") as raw, gzip.open(target, "wb", compresslevel=6) as packed:
        while chunk := raw.read(CHUNK * 8):
            packed.write(chunk)
            done += len(chunk)
            progress(f"compressing the database: {percent(done, total)}", transient=True)


# --- writing -----------------------------------------------------------------------------


class _Reading:
    """A file read into the archive, telling how far it got."""

    def __init__(self, handle: IO[bytes], name: str, size: int, progress: Progress) -> None:
        self.handle, self.name, self.size, self.progress = handle, name, size, progress
        self.done = 0
        self.told = 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.handle.read(n)
        self.done += len(chunk)
        if self.done - self.told >= 64 * CHUNK or self.done == self.size:
            self.told = self.done
            self.progress(f"writing {self.name}: {percent(self.done, self.size)}", transient=True)
        return chunk


def _entry(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    entry = tarfile.TarInfo(name)
    entry.size = size
    entry.mtime = mtime
    entry.mode = 0o600
    return entry


def cannot_write(path: Path, reason: str) -> Unavailable:
    return Unavailable(
        "cannot write the archive {path}: {reason}", field="out", path=str(path), reason=reason
    )


def exists_already(path: Path) -> Conflict:
    return Conflict("{path} exists already: choose another --out", field="out", path=str(path))


def write(path: Path, manifest: Manifest, staged: dict[str, Path], progress: Progress) -> int:
    """Write the archive beside ``path`` (mode 0600 from its first byte), then link it into
    place, never over an existing file: a reader never finds half an archive under the final
    name. Returns its size."""
    body = manifest.model_dump_json(indent=2).encode()
    mtime = int(manifest.created_at.timestamp())
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            with tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as tar:
                tar.addfile(_entry(MANIFEST, len(body), mtime), io.BytesIO(body))
                for name, source in staged.items():
                    size = manifest.members[name].size
                    with source.open("rb") as member:
                        tar.addfile(
                            _entry(name, size, mtime), _Reading(member, name, size, progress)
                        )
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(partial, path)
        except FileExistsError as exc:
            raise exists_already(path) from exc
    except OSError as exc:
        raise cannot_write(path, str(exc)) from exc
    finally:
        partial.unlink(missing_ok=True)
    return path.stat().st_size


# --- reading -----------------------------------------------------------------------------


def unreadable(archive: Path, reason: str) -> ValidationFailed:
    return ValidationFailed(
        "the archive {path} cannot be read: {reason}",
        field="archive",
        path=str(archive),
        reason=reason,
    )


@contextmanager
def _opened(archive: Path) -> Iterator[tuple[tarfile.TarFile, dict[str, tarfile.TarInfo]]]:
    """The tar and its members by name; only regular files, each name once."""
    if not archive.is_file():
        raise unreadable(archive, "no such file")
    try:
        tar = tarfile.open(archive, mode="r:*")  # noqa: SIM115 - closed by the with below
    except tarfile.ReadError as exc:
        raise unreadable(archive, "not a tar file") from exc
    except (OSError, tarfile.TarError) as exc:
        raise unreadable(archive, first_line(exc)) from exc
    with tar:
        try:
            entries = tar.getmembers()
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise unreadable(archive, first_line(exc)) from exc
        by_name: dict[str, tarfile.TarInfo] = {}
        for entry in entries:
            if entry.name in by_name or not entry.isfile():
                raise unreadable(archive, f"unexpected member {entry.name!r}")
            by_name[entry.name] = entry
        yield tar, by_name


def _manifest_of(
    archive: Path, tar: tarfile.TarFile, entries: dict[str, tarfile.TarInfo]
) -> Manifest:
    entry = entries.get(MANIFEST)
    if entry is None or entry.size > MANIFEST_MAX_BYTES:
        raise ValidationFailed(
            "the archive {path} has no manifest", field="archive", path=str(archive)
        )
    handle = tar.extractfile(entry)
    assert handle is not None  # a regular file
    try:
        return Manifest.model_validate(json.loads(handle.read()))
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise unreadable(archive, first_line(exc)) from exc
    except (ValueError, ValidationError) as exc:
        raise ValidationFailed(
            "the manifest of the archive {path} is not valid: {reason}",
            field="archive",
            path=str(archive),
            reason=first_line(exc),
        ) from exc


def read_manifest(archive: Path) -> Manifest:
    """The manifest of an archive, checked for form (not yet the members)."""
    with _opened(archive) as (tar, entries):
        return _manifest_of(archive, tar, entries)


def _extract(
    archive: Path,
    tar: tarfile.TarFile,
    entry: tarfile.TarInfo,
    target: Path,
    *,
    gunzip: bool,
    progress: Progress,
) -> tuple[Member, str | None]:
    """Copy one member to ``target`` (gunzipped on the way if asked), hashing it as stored.

    Data that does not gunzip is hashed to its end all the same, so that a changed member is
    reported as what it is (a checksum that does not match); the reason is returned.
    """
    handle = tar.extractfile(entry)
    assert handle is not None
    sha = hashlib.sha256()
    size = 0
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gunzip else None
    broken = None
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := handle.read(CHUNK * 8):
                sha.update(chunk)
                size += len(chunk)
                progress(f"reading {entry.name}: {percent(size, entry.size)}", transient=True)
                if broken is not None:
                    continue
                try:
                    out.write(inflate.decompress(chunk) if inflate is not None else chunk)
                except zlib.error as exc:
                    broken = first_line(exc)
            if inflate is not None and broken is None:
                out.write(inflate.flush())
                if not inflate.eof:
                    broken = "the compressed data is cut short"
    except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
        raise unreadable(archive, f"{entry.name}: {first_line(exc)}") from exc
    return Member(sha256=sha.hexdigest(), size=size), broken


def staged_name(member: str) -> str:
    """The file a member is read into (the SQLite database gunzipped)."""
    return "database.sqlite" if member == DATABASE_SQLITE else member.replace("/", "__")


def unpack(archive: Path, staging: Path, progress: Progress) -> tuple[Manifest, dict[str, Path]]:
    """The manifest and every member it lists, read under ``staging`` (gunzipped where
    stored so); ``ValidationFailed`` naming the first member that is missing, unlisted,
    unknown or does not match its checksum."""
    with _opened(archive) as (tar, entries):
        manifest = _manifest_of(archive, tar, entries)
        listed = set(manifest.members)
        unlisted = sorted((set(entries) - {MANIFEST}) - listed) + sorted(listed - set(MEMBERS))
        if unlisted:
            raise ValidationFailed(
                "the archive holds {member}, which its manifest does not list",
                field="archive",
                member=unlisted[0],
            )
        staged: dict[str, Path] = {}
        for name in MEMBERS:
            if name not in listed:
                continue
            if name not in entries:
                raise ValidationFailed(
                    "the archive lacks {member}, which its manifest lists",
                    field="archive",
                    member=name,
                )
            target = staging / staged_name(name)
            gunzip = name == DATABASE_SQLITE
            found, broken = _extract(
                archive, tar, entries[name], target, gunzip=gunzip, progress=progress
            )
            if found != manifest.members[name]:
                raise ValidationFailed(
                    "the archive member {member} does not match its checksum in the manifest",
                    field="archive",
                    member=name,
                )
            if broken is not None:
                raise unreadable(archive, f"{name}: {broken}")
            staged[name] = target
    return manifest, staged
