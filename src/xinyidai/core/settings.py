"""Every setting of an XYD node, in one tree read from the environment once per process.

``get_settings()`` is the one accessor. Node-wide settings sit at the top
(``settings.data_dir``, variable ``XYD_DATA_DIR``); the others in one group per domain
(``settings.ingest.batch_rows``, variable ``XYD_INGEST_BATCH_ROWS``): a field of the group
``name`` is read from ``XYD_<NAME>_<FIELD>`` (pydantic-settings' nested variables, split
once after the group). A setting whose variable was named otherwise before the groups
existed keeps that name, declared on the field with ``variable("XYD_…")``
(``settings.iam.login_free_failures`` is ``XYD_LOGIN_FREE_FAILURES``). ``variables()`` lists every
variable with its place in the tree; docs/operations.md shows them all.

A new setting of a domain is a field of its group (its variable follows) with a default
and a description; a new domain gets a group. No module reads the environment itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEV_SECRET = "xyd-development-secret-not-for-production"
PREFIX = "XYD_"


def variable(name: str) -> dict[str, Any]:
    """Field options naming the variable of a group's setting when it is not
    ``XYD_<GROUP>_<FIELD>``: ``Field(default, **variable("XYD_COOKIE_SECURE"))``."""
    return {"json_schema_extra": {"env": name}}


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


# An optional setting whose variable, set but empty, means unset (``XYD_REDIS_URL=``).
BlankIsUnset = BeforeValidator(_blank_is_none)


def rate_limit(value: str) -> str:
    """A limit in the ``limits`` library's notation (``"60/minute"``), checked."""
    from limits import parse

    try:
        parse(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a rate limit such as '60/minute'") from exc
    return value


class TracingSettings(BaseModel):
    """OpenTelemetry traces of requests (FastAPI's own instrumentation), off by default."""

    enabled: bool = Field(
        default=False,
        description=(
            "send a trace of every request over OTLP/HTTP (needs the `tracing` extra: "
            "`uv sync --extra tracing`)"
        ),
    )
    endpoint: Annotated[str | None, BlankIsUnset] = Field(
        default=None,
        description=(
            "the OTLP/HTTP traces endpoint, such as http://collector:4318/v1/traces "
            "(unset: the OpenTelemetry SDK's own OTEL_EXPORTER_OTLP_* variables, else "
            "localhost:4318)"
        ),
    )
    sample_ratio: float = Field(
        default=1.0, ge=0, le=1, description="share of requests traced (a trace's children follow)"
    )


class QueueSettings(BaseModel):
    immediate: bool = Field(
        default=False, description="run queued jobs at once in the caller (tests, small demos)"
    )


class DbSettings(BaseModel):
    pool_size: int | None = Field(
        default=None,
        ge=1,
        description=(
            "database connections kept per process (PostgreSQL); unset: "
            "web.max_concurrency + 4 (the sequencer and jobs beside the requests)"
        ),
    )
    pool_overflow: int = Field(
        default=4, ge=0, description="connections a process may open beyond the pool"
    )
    pool_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="how long to wait for a pooled connection before answering 503",
    )


class WebSettings(BaseModel):
    max_concurrency: int = Field(
        default=16,
        ge=1,
        le=1000,
        description=(
            "requests a web process serves at once; the database pool and the thread pool "
            "are sized from it (the rest wait in line)"
        ),
    )
    max_waiting: int = Field(
        default=1000,
        ge=0,
        description="requests that may wait in line per web process; beyond it 503 at once",
    )
    wait_seconds: float = Field(
        default=30.0,
        gt=0,
        description="how long a request waits in line before it is answered 503",
    )
    api_rate_limit: Annotated[str | None, BlankIsUnset] = Field(
        default="600/minute",
        description=(
            "API requests per credential (bearer token or API key) in a sliding window, "
            "such as '600/minute'; empty: no limit"
        ),
    )
    api_rate_limit_anonymous: Annotated[str | None, BlankIsUnset] = Field(
        default="120/minute",
        description="API requests without a credential, per client address; empty: no limit",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description=(
            "bearer token Prometheus presents to read /metrics; unset: /metrics answers 404"
        ),
    )
    cookie_secure: bool | None = Field(
        default=None,
        description=(
            "cookies get the Secure flag: true or false; unset or auto: always in production "
            "(TLS may end at a proxy), else when the request came over HTTPS"
        ),
        **variable("XYD_COOKIE_SECURE"),
    )

    @field_validator("api_rate_limit", "api_rate_limit_anonymous")
    @classmethod
    def _rate_limit(cls, value: str | None) -> str | None:
        return None if value is None else rate_limit(value)

    @field_validator("cookie_secure", mode="before")
    @classmethod
    def _auto(cls, value: object) -> object:
        # As read before this tree: 1/true/yes, 0/false/no, anything else is auto.
        if isinstance(value, str):
            word = value.strip().lower()
            if word in ("1", "true", "yes"):
                return True
            if word in ("0", "false", "no"):
                return False
            return None
        return value


class IngestSettings(BaseModel):
    batch_rows: int = Field(
        default=5000,
        description=(
            "rows validated and stored per chunk (one transaction step, one progress report)"
        ),
    )
    process_kb: int = Field(
        default=8192,
        description=(
            "files at least this large are read and validated in a second process while "
            "this one stores (0: never)"
        ),
    )
    workers: int = Field(
        default=2,
        ge=1,
        le=32,
        description=(
            "files of a folder ingested at once, each in its own process, on PostgreSQL "
            "(SQLite takes one writer at a time: always 1)"
        ),
    )
    max_upload_mb: int = Field(
        default=512, description="largest file accepted for upload", **variable("XYD_MAX_UPLOAD_MB")
    )
    inline_upload_kb: int = Field(
        default=4096,
        description="uploads up to this size are read at once, larger by a worker",
        **variable("XYD_INLINE_UPLOAD_KB"),
    )
    max_rows: int = Field(
        default=5_000_000,
        ge=1,
        description="rows one file may hold, empty ones counted; beyond it the file fails",
    )
    max_empty_rows: int = Field(
        default=10_000,
        ge=1,
        description=(
            "empty rows in a row a file may hold (a workbook padded with formatted empty "
            "rows); beyond it the file fails"
        ),
    )
    max_columns: int = Field(
        default=1000,
        ge=2,
        description="columns a header row may name; rows are read only up to the header's width",
    )
    max_field_kb: int = Field(
        default=64,
        ge=1,
        description="the longest CSV field, in KiB of characters; a longer one fails the file",
    )
    max_line_kb: int = Field(
        default=256,
        ge=1,
        description=(
            "the longest line of a CSV or JSON Lines file, in KiB of characters; a longer "
            "one fails the file (a line is held in memory whole)"
        ),
    )
    max_unzipped_mb: int = Field(
        default=1024,
        ge=1,
        description="what an Excel workbook's parts may unpack to, together, in MiB",
    )
    max_shared_strings_mb: int = Field(
        default=100,
        ge=1,
        description=(
            "what an Excel workbook's shared strings may unpack to, in MiB (the table is "
            "held in memory whole, about three times this)"
        ),
    )
    rejected_row_kb: int = Field(
        default=8,
        ge=1,
        description=(
            "the stored copy of a rejected row, in KiB of JSON: longer values are cut and "
            "columns past it left out"
        ),
    )
    stale_minutes: int = Field(
        default=30,
        ge=1,
        description=(
            "a running batch whose worker is on another machine and has not reported for "
            "this long is swept as failed (a worker on this machine is checked directly)"
        ),
    )


class IamSettings(BaseModel):
    password_min_score: int = Field(
        default=2,
        ge=0,
        le=4,
        description=(
            "the least zxcvbn score (0-4) a new password needs; 2 refuses the common passwords "
            "and anything guessed in fewer than a million tries"
        ),
        **variable("XYD_PASSWORD_MIN_SCORE"),
    )
    login_free_failures: int = Field(
        default=5,
        ge=1,
        description="failed sign-ins of one username before each further attempt must wait",
        **variable("XYD_LOGIN_FREE_FAILURES"),
    )
    login_address_free_failures: int = Field(
        default=20,
        ge=1,
        description="failed sign-ins from one address, any usernames, before it must wait",
        **variable("XYD_LOGIN_ADDRESS_FREE_FAILURES"),
    )
    login_delay_base_seconds: float = Field(
        default=1.0,
        gt=0,
        description="the first wait; each further failure doubles it",
        **variable("XYD_LOGIN_DELAY_BASE_SECONDS"),
    )
    login_delay_max_seconds: int = Field(
        default=900,
        ge=1,
        description="the longest wait of an address that keeps failing",
        **variable("XYD_LOGIN_DELAY_MAX_SECONDS"),
    )
    login_username_delay_max_seconds: int = Field(
        default=60,
        ge=0,
        description=(
            "the longest wait that failures from other addresses put on a username: nobody "
            "elsewhere can keep its owner out for longer"
        ),
        **variable("XYD_LOGIN_USERNAME_DELAY_MAX_SECONDS"),
    )
    login_failure_window_minutes: int = Field(
        default=1440,
        ge=1,
        description="how long a failed sign-in counts for throttling",
        **variable("XYD_LOGIN_FAILURE_WINDOW_MINUTES"),
    )


class OutboundSettings(BaseModel):
    allow_loopback: bool = Field(
        default=False,
        description=(
            "outbound requests (webhooks) may go to this machine's loopback addresses: for "
            "development and tests only, refused in production"
        ),
    )
    require_https: bool | None = Field(
        default=None,
        description="outbound requests only to https addresses (unset: true in production)",
    )


class MarketSettings(BaseModel):
    webhook_secret_grace_hours: int = Field(
        default=24,
        ge=0,
        le=720,
        description="hours a rotated webhook secret still signs deliveries beside the new one",
        **variable("XYD_WEBHOOK_SECRET_GRACE_HOURS"),
    )


class PrivacySettings(BaseModel):
    rules_file: Path | None = Field(
        default=None,
        description=(
            "the desensitization rules in force (unset: the shipped privacy/data/rules.json)"
        ),
    )
    directory_rate_limit: str = Field(
        default="60/minute",
        description="anonymous reads of the public registry directory, per client address",
        **variable("XYD_DIRECTORY_RATE_LIMIT"),
    )
    directory_rate_limit_signed_in: str = Field(
        default="600/minute",
        description="reads of the public registry directory per signed-in user or API key",
        **variable("XYD_DIRECTORY_RATE_LIMIT_SIGNED_IN"),
    )

    @field_validator("directory_rate_limit", "directory_rate_limit_signed_in")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        return rate_limit(value)


class AuditSettings(BaseModel):
    """Thresholds of the anomaly flags (``audit.flags``)."""

    window_days: int = Field(default=30, ge=1, description="days every flag looks back")
    query_ratio: float = Field(
        default=3.0, gt=0, description="enterprises queried per application before a flag"
    )
    min_subjects: int = Field(
        default=20, ge=1, description="enterprises queried before excess_queries can flag"
    )
    office_start_hour: int = Field(
        default=8, ge=0, le=23, description="office hours in China begin (off_hours_bulk)"
    )
    office_end_hour: int = Field(
        default=20, ge=1, le=24, description="office hours in China end (off_hours_bulk)"
    )
    weekends_off: bool = Field(
        default=True, description="Saturdays and Sundays are outside office hours"
    )
    off_hours_bulk: int = Field(
        default=20, ge=1, description="queries outside office hours on one day before a flag"
    )
    after_revocation: int = Field(
        default=1, ge=1, description="refusals after a revocation before a flag"
    )


class LedgerSettings(BaseModel):
    key_file: Path | None = Field(
        default=None, description="the log's signing key (unset: <data_dir>/ledger/log.key)"
    )
    tag_secret_file: Path | None = Field(
        default=None, description="the tag secrets (unset: tags.key next to the signing key)"
    )
    checkpoint_interval_seconds: float = Field(
        default=2.0, description="at most one new signed checkpoint per interval"
    )
    sequence_batch: int = Field(default=50_000, description="pending entries sequenced per step")
    max_entries: int = Field(default=1000, description="entries per GET /ledger/entries call")


class ProfileSettings(BaseModel):
    report_font: Path | None = Field(
        default=None,
        description="the regular face of PDF reports (unset: Debian's Noto Sans CJK)",
        **variable("XYD_REPORT_FONT"),
    )
    report_font_bold: Path | None = Field(
        default=None,
        description="the bold face of PDF reports (unset: Noto's bold, or the regular face)",
        **variable("XYD_REPORT_FONT_BOLD"),
    )
    font_cache: Path | None = Field(
        default=None,
        description="where the cut report fonts are kept (unset: <cache home>/xyd/fonts)",
        **variable("XYD_FONT_CACHE"),
    )
    # An empty XDG_CACHE_HOME means unset (XDG base directories).
    cache_home: Annotated[Path | None, BlankIsUnset] = Field(
        default=None,
        description="the XDG cache folder the font cache defaults under (unset: ~/.cache)",
        **variable("XDG_CACHE_HOME"),
    )

    @property
    def font_cache_dir(self) -> Path:
        if self.font_cache is not None:
            return self.font_cache
        return (self.cache_home or Path.home() / ".cache") / "xyd" / "fonts"


class RightsSettings(BaseModel):
    objection_days: int = Field(
        default=20,
        ge=1,
        le=365,
        description="calendar days from receipt within which an objection must be answered",
    )
    reminder_days: int = Field(
        default=3,
        ge=0,
        le=60,
        description="days before an objection's deadline its handler is reminded",
    )
    max_document_mb: int = Field(
        default=10, ge=1, le=200, description="largest proof file sent with an objection"
    )
    repair_rules_file: Annotated[Path | None, BlankIsUnset] = Field(
        default=None,
        description="the credit-repair conditions per category (unset: the shipped ones)",
    )
    restructuring_policy: Literal["exclude", "keep"] = Field(
        default="exclude",
        description=(
            "negatives from before a restructuring whose plan was executed: exclude them "
            "from the rating (still shown), or keep them"
        ),
    )
    self_query_free: int = Field(
        default=2, ge=0, le=1000, description="free self-queries per enterprise per year"
    )
    self_query_fee: Decimal = Field(
        default=Decimal("0.00"),
        ge=Decimal("0"),
        le=Decimal("10000"),
        decimal_places=2,
        description="fee of a self-query past the free ones, in yuan (none by default)",
    )


class FederationSettings(BaseModel):
    key_file: Annotated[Path | None, BlankIsUnset] = Field(
        default=None,
        description="this node's Ed25519 signing key (unset: <data_dir>/federation/node.key)",
    )
    max_skew_seconds: int = Field(
        default=300,
        ge=5,
        le=86400,
        description="a message stamped further than this from the receiver's clock is refused",
    )
    batch_records: int = Field(
        default=500, ge=1, le=5000, description="record versions in one message to a node"
    )
    timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, description="how long a node waits for a peer's receipt"
    )
    retry_base_seconds: int = Field(
        default=10, ge=1, le=3600, description="first wait before sending to a failing peer again"
    )
    retry_max_seconds: int = Field(
        default=3600, ge=1, le=86400, description="longest wait between tries to a failing peer"
    )


class SupervisionSettings(BaseModel):
    read_gate: bool = Field(
        default=True,
        description=(
            "refuse an institution's reads of non-public data until it has signed the "
            "confidentiality agreement in force and holds a passed, unexpired assessment"
        ),
    )
    agreement_grace_days: int = Field(
        default=30,
        ge=0,
        le=365,
        description="days an institution has to sign a new version of the agreement",
    )
    assessment_valid_days: int = Field(
        default=365, ge=30, le=1095, description="days a passed security assessment lasts"
    )
    reminder_days: int = Field(
        default=30,
        ge=0,
        le=180,
        description="days before an assessment expires its institution is reminded",
    )
    max_evidence_mb: int = Field(
        default=10, ge=1, le=200, description="largest evidence file sent with an assessment"
    )


class RiskSettings(BaseModel):
    watch_associates: bool = Field(
        default=True,
        description=(
            "a live loan also watches the borrower's associates at depth 1 (guarantee links, "
            "corporate shareholders, the same legal representative, guarantee circles)"
        ),
    )
    objection_days: int = Field(
        default=15,
        ge=1,
        le=365,
        description="days an enterprise noticed of a blacklist proposal has to object",
    )
    listing_days: int = Field(
        default=1095,
        ge=1,
        le=3650,
        description="days a blacklist listing lasts when the proposal names no term",
    )
    max_document_mb: int = Field(
        default=10, ge=1, le=200, description="largest document sent with a proposal or objection"
    )
    fraud_rules_file: Annotated[Path | None, BlankIsUnset] = Field(
        default=None,
        description="the anti-fraud rules' thresholds and explanations (unset: the shipped ones)",
    )
    fraud_scan_on_apply: bool = Field(
        default=True, description="scan each new application with the fraud rules after commit"
    )


class StatsSettings(BaseModel):
    min_cell: int = Field(
        default=5,
        ge=1,
        le=1000,
        description=(
            "figures counting fewer subjects than this in a breakdown cell are suppressed for "
            "every reader but the operator"
        ),
    )
    refresh_lag_seconds: int = Field(
        default=600,
        ge=0,
        le=86400,
        description=(
            "how far before the last refresh the next one looks again, for transactions that "
            "committed late"
        ),
    )
    targets_file: Annotated[Path | None, BlankIsUnset] = Field(
        default=None,
        description="the platform's targets and their periods (unset: the shipped ones)",
    )
    evaluation_file: Annotated[Path | None, BlankIsUnset] = Field(
        default=None,
        description="the yearly evaluation methods: indicators, weights, bands (unset: shipped)",
    )
    timely_days: int = Field(
        default=7,
        ge=0,
        le=3650,
        description=(
            "a record stored within this many days of its event counts as timely in the "
            "collection's quality figures (双公示: seven days)"
        ),
    )


class JointSettings(BaseModel):
    threshold_answers: int = Field(
        default=3,
        ge=1,
        le=100,
        description=(
            "threshold answers one organization may have about one enterprise and one "
            "question in the window (so thresholds cannot be walked to the value)"
        ),
    )
    threshold_window_days: int = Field(
        default=30, ge=1, le=366, description="the window the threshold answers are counted in"
    )


class BackupSettings(BaseModel):
    pg_bin_dir: Annotated[Path | None, BlankIsUnset] = Field(
        default=None,
        description=(
            "the folder of pg_dump and pg_restore that xyd backup and xyd restore run on "
            "PostgreSQL (unset: found on PATH)"
        ),
        **variable("XYD_PG_BIN_DIR"),
    )


class Settings(BaseSettings):
    """Every knob of an XYD node. Read once per process (``get_settings``); see
    docs/operations.md."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_nested_delimiter="_",
        env_nested_max_split=1,
        env_file=None,
        extra="ignore",
    )

    env: Literal["dev", "test", "production"] = Field(
        default="dev",
        description=(
            "dev, test or production (production refuses unsafe settings and demo accounts)"
        ),
    )
    data_dir: Path = Field(
        default=Path("var"), description="where the embedded database, the queue file and keys live"
    )
    database_url: str = Field(
        default="", description="e.g. postgresql://user@host:5432/xyd (unset: <data_dir>/xyd.db)"
    )
    redis_url: Annotated[str | None, BlankIsUnset] = Field(
        default=None,
        description="Redis for the task queue and the rate-limit counters (unset: embedded)",
    )
    secret_key: str = Field(
        default=DEV_SECRET, description="seals secrets the node keeps; must be set in production"
    )
    node_name: str = Field(
        default="xyd.local", description="this node's name (ledger origin, federation)"
    )
    locale: str = Field(
        default="zh_CN", description="the language of the command line's reports (xyd profile)"
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description="kept for later: every time is shown in Asia/Shanghai for now",
    )
    log_level: str = Field(default="INFO", description="logging level")
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="log lines as JSON or text; auto: JSON unless standard error is a terminal",
    )

    queue: QueueSettings = Field(default_factory=QueueSettings)
    db: DbSettings = Field(default_factory=DbSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    iam: IamSettings = Field(default_factory=IamSettings)
    outbound: OutboundSettings = Field(default_factory=OutboundSettings)
    market: MarketSettings = Field(default_factory=MarketSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    rights: RightsSettings = Field(default_factory=RightsSettings)
    federation: FederationSettings = Field(default_factory=FederationSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    profile: ProfileSettings = Field(default_factory=ProfileSettings)
    backup: BackupSettings = Field(default_factory=BackupSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    stats: StatsSettings = Field(default_factory=StatsSettings)
    joint: JointSettings = Field(default_factory=JointSettings)
    supervision: SupervisionSettings = Field(default_factory=SupervisionSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        named = _NamedVariables(settings_cls)
        return (init_settings, named, env_settings, dotenv_settings, file_secret_settings)

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to an embedded SQLite file under ``data_dir``."""
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'xyd.db').as_posix()}"

    @property
    def effective_pool_size(self) -> int:
        """Connections kept per process: one per request served at once, and a few more."""
        return self.db.pool_size or self.web.max_concurrency + 4

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"

    @property
    def outbound_loopback_allowed(self) -> bool:
        """Loopback targets are allowed only when asked for, and never in production."""
        return self.outbound.allow_loopback and self.env != "production"

    @property
    def outbound_https_required(self) -> bool:
        if self.outbound.require_https is None:
            return self.env == "production"
        return self.outbound.require_https

    def check_production(self) -> None:
        """Refuse settings that are unsafe outside development."""
        if self.env == "production" and self.secret_key == DEV_SECRET:
            raise UnsafeSettings(
                "XYD_SECRET_KEY must be set when XYD_ENV=production "
                "(a long random value, the same on every process of the node)"
            )
        if self.env == "production" and self.outbound.allow_loopback:
            raise UnsafeSettings("XYD_OUTBOUND_ALLOW_LOOPBACK is for development and tests only")


class UnsafeSettings(RuntimeError):
    """Settings a node must not run with (production without a secret, …): the message says
    which variable and what to do."""


class _NamedVariables(EnvSettingsSource):
    """The settings whose variable is declared on the field (``variable(...)``), read before
    ``XYD_<GROUP>_<FIELD>``."""

    def __call__(self) -> dict[str, Any]:
        found: dict[str, dict[str, Any]] = {}
        for each in variables():
            if not each.declared or each.group is None:
                continue
            value = self.env_vars.get(each.name.lower())
            if value is not None:
                found.setdefault(each.group, {})[each.field] = value
        return found


@dataclass(frozen=True)
class Variable:
    """One environment variable and the setting it reaches."""

    name: str
    group: str | None  # None: a node-wide setting
    field: str
    info: FieldInfo
    declared: bool  # named on the field, not XYD_<GROUP>_<FIELD>

    @property
    def path(self) -> str:
        return f"{self.group}.{self.field}" if self.group else self.field


def variables() -> Iterator[Variable]:
    """Every variable of the tree, in its order."""
    for group, info in Settings.model_fields.items():
        model = info.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            yield Variable(f"{PREFIX}{group.upper()}", None, group, info, declared=False)
            continue
        for field, field_info in model.model_fields.items():
            extra = field_info.json_schema_extra
            declared = extra.get("env") if isinstance(extra, dict) else None
            if isinstance(declared, str):
                yield Variable(declared, group, field, field_info, declared=True)
            else:
                name = f"{PREFIX}{group.upper()}_{field.upper()}"
                yield Variable(name, group, field, field_info, declared=False)


def normalize_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The node's settings, read from the environment once (``get_settings.cache_clear()``
    reads them again: tests do, through their ``xyd_env`` fixture)."""
    return Settings()
