"""The archive's manifest: what it holds and what the node was when it was made."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT: Literal["xyd-backup/1"] = "xyd-backup/1"


class DatabaseKind(StrEnum):
    """The database an archive was made from (and can only be restored into)."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class Member(BaseModel):
    """One file of the archive as stored in it."""

    model_config = ConfigDict(extra="forbid")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class DatabaseState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: DatabaseKind
    revision: str = Field(min_length=1, description="the Alembic revision it was at")
    server_version: str | None = Field(default=None, description="PostgreSQL's, as it says")
    dump_version: str | None = Field(default=None, description="pg_dump's, as it says")


class LedgerState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(ge=0, description="leaves sequenced into the tree")
    root_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    pending: int = Field(ge=0, description="entries appended but not sequenced yet")
    vkey: str | None = Field(default=None, description="the log's verifier key (public)")
    tag_secret_ids: list[str] = Field(
        default_factory=list, description="ids of the tag secrets (they say nothing of them)"
    )


class Manifest(BaseModel):
    """``manifest.json``, the first member of every archive."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["xyd-backup/1"] = FORMAT
    node_name: str
    created_at: datetime
    xyd_version: str
    database: DatabaseState
    counts: dict[str, int] = Field(description="rows of the main tables, as dumped")
    ledger: LedgerState
    secrets_included: bool
    members: dict[str, Member]
