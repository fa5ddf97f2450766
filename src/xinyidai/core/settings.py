"""Settings read from the environment (prefix ``XYD_``), in one place."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "xyd-development-secret-not-for-production"


class Settings(BaseSettings):
    """Every knob of an XYD node. Read once per process; see docs/operations.md."""

    model_config = SettingsConfigDict(env_prefix="XYD_", env_file=None, extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str | None = None
    secret_key: str = DEV_SECRET
    node_name: str = "xyd.local"
    locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    queue_immediate: bool = Field(
        default=False, description="Run queued jobs at once in the caller (tests, small demos)."
    )
    ingest_batch_rows: int = 5000
    ingest_process_kb: int = Field(
        default=8192,
        description=(
            "files at least this large are read and validated in a second process while "
            "this one stores (0: never)"
        ),
    )
    ingest_workers: int = Field(
        default=2,
        ge=1,
        le=32,
        description=(
            "files of a folder ingested at once, each in its own process, on PostgreSQL "
            "(SQLite takes one writer at a time: always 1)"
        ),
    )
    ingest_max_rows: int = Field(
        default=5_000_000,
        ge=1,
        description="rows one file may hold, empty ones counted; beyond it the file fails",
    )
    ingest_max_empty_rows: int = Field(
        default=10_000,
        ge=1,
        description=(
            "empty rows in a row a file may hold (a workbook padded with formatted empty "
            "rows); beyond it the file fails"
        ),
    )
    ingest_max_columns: int = Field(
        default=1000,
        ge=2,
        description="columns a header row may name; rows are read only up to the header's width",
    )
    ingest_max_field_kb: int = Field(
        default=64,
        ge=1,
        description="the longest CSV field, in KiB of characters; a longer one fails the file",
    )
    ingest_max_line_kb: int = Field(
        default=256,
        ge=1,
        description=(
            "the longest line of a CSV or JSON Lines file, in KiB of characters; a longer "
            "one fails the file (a line is held in memory whole)"
        ),
    )
    ingest_max_unzipped_mb: int = Field(
        default=1024,
        ge=1,
        description="what an Excel workbook's parts may unpack to, together, in MiB",
    )
    ingest_max_shared_strings_mb: int = Field(
        default=100,
        ge=1,
        description=(
            "what an Excel workbook's shared strings may unpack to, in MiB (the table is "
            "held in memory whole, about three times this)"
        ),
    )
    ingest_rejected_row_kb: int = Field(
        default=8,
        ge=1,
        description=(
            "the stored copy of a rejected row, in KiB of JSON: longer values are cut and "
            "columns past it left out"
        ),
    )
    ingest_stale_minutes: int = Field(
        default=30,
        ge=1,
        description=(
            "a running batch whose worker is on another machine and has not reported for "
            "this long is swept as failed (a worker on this machine is checked directly)"
        ),
    )
    max_upload_mb: int = Field(default=512, description="largest file accepted for upload")
    inline_upload_kb: int = Field(
        default=4096, description="uploads up to this size are read at once, larger by a worker"
    )
    web_max_concurrency: int = Field(
        default=16,
        ge=1,
        le=1000,
        description=(
            "requests a web process serves at once; the database pool and the thread pool "
            "are sized from it (the rest wait in line)"
        ),
    )
    web_max_waiting: int = Field(
        default=1000,
        ge=0,
        description="requests that may wait in line per web process; beyond it 503 at once",
    )
    web_wait_seconds: float = Field(
        default=30.0,
        gt=0,
        description="how long a request waits in line before it is answered 503",
    )
    db_pool_size: int | None = Field(
        default=None,
        ge=1,
        description=(
            "database connections kept per process (PostgreSQL); unset: "
            "web_max_concurrency + 4 (the sequencer and jobs beside the requests)"
        ),
    )
    db_pool_overflow: int = Field(
        default=4, ge=0, description="connections a process may open beyond the pool"
    )
    db_pool_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="how long to wait for a pooled connection before answering 503",
    )
    password_min_score: int = Field(
        default=2,
        ge=0,
        le=4,
        description=(
            "the least zxcvbn score (0-4) a new password needs; 2 refuses the common passwords "
            "and anything guessed in fewer than a million tries"
        ),
    )
    login_free_failures: int = Field(
        default=5,
        ge=1,
        description="failed sign-ins of one username before each further attempt must wait",
    )
    login_address_free_failures: int = Field(
        default=20,
        ge=1,
        description="failed sign-ins from one address, any usernames, before it must wait",
    )
    login_delay_base_seconds: float = Field(
        default=1.0,
        gt=0,
        description="the first wait; each further failure doubles it",
    )
    login_delay_max_seconds: int = Field(
        default=900,
        ge=1,
        description="the longest wait of an address that keeps failing",
    )
    login_username_delay_max_seconds: int = Field(
        default=60,
        ge=0,
        description=(
            "the longest wait that failures from other addresses put on a username: nobody "
            "elsewhere can keep its owner out for longer"
        ),
    )
    login_failure_window_minutes: int = Field(
        default=1440,
        ge=1,
        description="how long a failed sign-in counts for throttling",
    )
    outbound_allow_loopback: bool = Field(
        default=False,
        description=(
            "outbound requests (webhooks) may go to this machine's loopback addresses: for "
            "development and tests only, refused in production"
        ),
    )
    outbound_require_https: bool | None = Field(
        default=None,
        description="outbound requests only to https addresses (unset: true in production)",
    )
    webhook_secret_grace_hours: int = Field(
        default=24,
        ge=0,
        le=720,
        description="hours a rotated webhook secret still signs deliveries beside the new one",
    )
    pg_bin_dir: Path | None = Field(
        default=None,
        description=(
            "the folder of pg_dump and pg_restore that xyd backup and xyd restore run on "
            "PostgreSQL (unset: found on PATH)"
        ),
    )
    directory_rate_limit: str = Field(
        default="60/minute",
        description="anonymous reads of the public registry directory, per client address",
    )
    directory_rate_limit_signed_in: str = Field(
        default="600/minute",
        description="reads of the public registry directory per signed-in user or API key",
    )

    @field_validator("redis_url", "pg_bin_dir", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("directory_rate_limit", "directory_rate_limit_signed_in")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a rate limit such as '60/minute'") from exc
        return value

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to an embedded SQLite file under ``data_dir``."""
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'xyd.db').as_posix()}"

    @property
    def effective_pool_size(self) -> int:
        """Connections kept per process: one per request served at once, and a few more."""
        return self.db_pool_size or self.web_max_concurrency + 4

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"

    @property
    def outbound_loopback_allowed(self) -> bool:
        """Loopback targets are allowed only when asked for, and never in production."""
        return self.outbound_allow_loopback and self.env != "production"

    @property
    def outbound_https_required(self) -> bool:
        if self.outbound_require_https is None:
            return self.env == "production"
        return self.outbound_require_https

    def check_production(self) -> None:
        """Refuse settings that are unsafe outside development."""
        if self.env == "production" and self.secret_key == DEV_SECRET:
            raise RuntimeError("XYD_SECRET_KEY must be set when XYD_ENV=production")
        if self.env == "production" and self.outbound_allow_loopback:
            raise RuntimeError("XYD_OUTBOUND_ALLOW_LOOPBACK is for development and tests only")


def normalize_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
