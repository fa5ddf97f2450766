"""The settings tree: every variable an operator may have in a unit file reaches its setting
under the name it always had, the operations page lists them all, and no module but the
settings reads the environment."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from tests.conftest import XydEnv
from xinyidai.core.settings import Settings, get_settings, variables

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "xinyidai"
OPERATIONS = ROOT / "docs" / "operations.md"

# Each variable, a value an operator might set, and what the setting holds then (never its
# default, so that a variable that reached nothing fails).
SAMPLES: dict[str, tuple[str, str, Any]] = {
    "XYD_ENV": ("env", "production", "production"),
    "XYD_DATA_DIR": ("data_dir", "/srv/xyd", Path("/srv/xyd")),
    "XYD_DATABASE_URL": ("database_url", "postgresql://xyd@db/xyd", "postgresql://xyd@db/xyd"),
    "XYD_REDIS_URL": ("redis_url", "redis://cache:6379/0", "redis://cache:6379/0"),
    "XYD_SECRET_KEY": ("secret_key", "a-long-random-key", "a-long-random-key"),
    "XYD_NODE_NAME": ("node_name", "xyd.nanning.example", "xyd.nanning.example"),
    "XYD_LOCALE": ("locale", "en", "en"),
    "XYD_TIMEZONE": ("timezone", "Asia/Urumqi", "Asia/Urumqi"),
    "XYD_LOG_LEVEL": ("log_level", "DEBUG", "DEBUG"),
    "XYD_LOG_FORMAT": ("log_format", "json", "json"),
    "XYD_QUEUE_IMMEDIATE": ("queue.immediate", "true", True),
    "XYD_DB_POOL_SIZE": ("db.pool_size", "7", 7),
    "XYD_DB_POOL_OVERFLOW": ("db.pool_overflow", "3", 3),
    "XYD_DB_POOL_TIMEOUT_SECONDS": ("db.pool_timeout_seconds", "2.5", 2.5),
    "XYD_WEB_MAX_CONCURRENCY": ("web.max_concurrency", "32", 32),
    "XYD_WEB_MAX_WAITING": ("web.max_waiting", "50", 50),
    "XYD_WEB_WAIT_SECONDS": ("web.wait_seconds", "12.5", 12.5),
    "XYD_WEB_API_RATE_LIMIT": ("web.api_rate_limit", "6000/hour", "6000/hour"),
    "XYD_WEB_API_RATE_LIMIT_ANONYMOUS": ("web.api_rate_limit_anonymous", "", None),
    "XYD_TRACING_ENABLED": ("tracing.enabled", "true", True),
    "XYD_TRACING_ENDPOINT": (
        "tracing.endpoint",
        "http://collector:4318/v1/traces",
        "http://collector:4318/v1/traces",
    ),
    "XYD_TRACING_SAMPLE_RATIO": ("tracing.sample_ratio", "0.25", 0.25),
    "XYD_WEB_METRICS_TOKEN": ("web.metrics_token", "scrape-me", SecretStr("scrape-me")),
    "XYD_COOKIE_SECURE": ("web.cookie_secure", "true", True),
    "XYD_INGEST_BATCH_ROWS": ("ingest.batch_rows", "1000", 1000),
    "XYD_INGEST_PROCESS_KB": ("ingest.process_kb", "0", 0),
    "XYD_INGEST_WORKERS": ("ingest.workers", "4", 4),
    "XYD_INGEST_MAX_ROWS": ("ingest.max_rows", "5000007", 5000007),
    "XYD_INGEST_MAX_EMPTY_ROWS": ("ingest.max_empty_rows", "10007", 10007),
    "XYD_INGEST_MAX_COLUMNS": ("ingest.max_columns", "1007", 1007),
    "XYD_INGEST_MAX_FIELD_KB": ("ingest.max_field_kb", "71", 71),
    "XYD_INGEST_MAX_LINE_KB": ("ingest.max_line_kb", "263", 263),
    "XYD_INGEST_MAX_UNZIPPED_MB": ("ingest.max_unzipped_mb", "1031", 1031),
    "XYD_INGEST_MAX_SHARED_STRINGS_MB": ("ingest.max_shared_strings_mb", "107", 107),
    "XYD_INGEST_REJECTED_ROW_KB": ("ingest.rejected_row_kb", "15", 15),
    "XYD_INGEST_STALE_MINUTES": ("ingest.stale_minutes", "37", 37),
    "XYD_MAX_UPLOAD_MB": ("ingest.max_upload_mb", "64", 64),
    "XYD_INLINE_UPLOAD_KB": ("ingest.inline_upload_kb", "128", 128),
    "XYD_PASSWORD_MIN_SCORE": ("iam.password_min_score", "3", 3),
    "XYD_LOGIN_FREE_FAILURES": ("iam.login_free_failures", "3", 3),
    "XYD_LOGIN_ADDRESS_FREE_FAILURES": ("iam.login_address_free_failures", "10", 10),
    "XYD_LOGIN_DELAY_BASE_SECONDS": ("iam.login_delay_base_seconds", "2.5", 2.5),
    "XYD_LOGIN_DELAY_MAX_SECONDS": ("iam.login_delay_max_seconds", "600", 600),
    "XYD_LOGIN_USERNAME_DELAY_MAX_SECONDS": ("iam.login_username_delay_max_seconds", "30", 30),
    "XYD_LOGIN_FAILURE_WINDOW_MINUTES": ("iam.login_failure_window_minutes", "60", 60),
    "XYD_OUTBOUND_ALLOW_LOOPBACK": ("outbound.allow_loopback", "true", True),
    "XYD_OUTBOUND_REQUIRE_HTTPS": ("outbound.require_https", "true", True),
    "XYD_WEBHOOK_SECRET_GRACE_HOURS": ("market.webhook_secret_grace_hours", "48", 48),
    "XYD_RISK_WATCH_ASSOCIATES": ("risk.watch_associates", "false", False),
    "XYD_PRIVACY_RULES_FILE": (
        "privacy.rules_file",
        "/etc/xyd/rules.json",
        Path("/etc/xyd/rules.json"),
    ),
    "XYD_DIRECTORY_RATE_LIMIT": ("privacy.directory_rate_limit", "10/minute", "10/minute"),
    "XYD_DIRECTORY_RATE_LIMIT_SIGNED_IN": (
        "privacy.directory_rate_limit_signed_in",
        "100/minute",
        "100/minute",
    ),
    "XYD_AUDIT_WINDOW_DAYS": ("audit.window_days", "7", 7),
    "XYD_AUDIT_QUERY_RATIO": ("audit.query_ratio", "1.5", 1.5),
    "XYD_AUDIT_MIN_SUBJECTS": ("audit.min_subjects", "5", 5),
    "XYD_AUDIT_OFFICE_START_HOUR": ("audit.office_start_hour", "9", 9),
    "XYD_AUDIT_OFFICE_END_HOUR": ("audit.office_end_hour", "18", 18),
    "XYD_AUDIT_WEEKENDS_OFF": ("audit.weekends_off", "false", False),
    "XYD_AUDIT_OFF_HOURS_BULK": ("audit.off_hours_bulk", "7", 7),
    "XYD_AUDIT_AFTER_REVOCATION": ("audit.after_revocation", "2", 2),
    "XYD_LEDGER_KEY_FILE": ("ledger.key_file", "/etc/xyd/log.key", Path("/etc/xyd/log.key")),
    "XYD_LEDGER_TAG_SECRET_FILE": (
        "ledger.tag_secret_file",
        "/etc/xyd/tags.key",
        Path("/etc/xyd/tags.key"),
    ),
    "XYD_LEDGER_CHECKPOINT_INTERVAL_SECONDS": ("ledger.checkpoint_interval_seconds", "5", 5.0),
    "XYD_LEDGER_SEQUENCE_BATCH": ("ledger.sequence_batch", "1000", 1000),
    "XYD_LEDGER_MAX_ENTRIES": ("ledger.max_entries", "100", 100),
    "XYD_REPORT_FONT": ("profile.report_font", "/fonts/a.otf", Path("/fonts/a.otf")),
    "XYD_REPORT_FONT_BOLD": ("profile.report_font_bold", "/fonts/b.otf", Path("/fonts/b.otf")),
    "XYD_FONT_CACHE": ("profile.font_cache", "/var/cache/fonts", Path("/var/cache/fonts")),
    "XDG_CACHE_HOME": ("profile.cache_home", "/var/cache", Path("/var/cache")),
    "XYD_PG_BIN_DIR": (
        "backup.pg_bin_dir",
        "/usr/lib/postgresql/16/bin",
        Path("/usr/lib/postgresql/16/bin"),
    ),
    "XYD_RISK_OBJECTION_DAYS": ("risk.objection_days", "20", 20),
    "XYD_RISK_LISTING_DAYS": ("risk.listing_days", "730", 730),
    "XYD_RISK_MAX_DOCUMENT_MB": ("risk.max_document_mb", "5", 5),
    "XYD_SUPERVISION_READ_GATE": ("supervision.read_gate", "false", False),
    "XYD_SUPERVISION_AGREEMENT_GRACE_DAYS": ("supervision.agreement_grace_days", "10", 10),
    "XYD_SUPERVISION_ASSESSMENT_VALID_DAYS": ("supervision.assessment_valid_days", "180", 180),
    "XYD_SUPERVISION_REMINDER_DAYS": ("supervision.reminder_days", "14", 14),
    "XYD_SUPERVISION_MAX_EVIDENCE_MB": ("supervision.max_evidence_mb", "4", 4),
    "XYD_RIGHTS_OBJECTION_DAYS": ("rights.objection_days", "30", 30),
    "XYD_RIGHTS_REMINDER_DAYS": ("rights.reminder_days", "5", 5),
    "XYD_RIGHTS_MAX_DOCUMENT_MB": ("rights.max_document_mb", "4", 4),
    "XYD_RIGHTS_RESTRUCTURING_POLICY": ("rights.restructuring_policy", "keep", "keep"),
    "XYD_RIGHTS_SELF_QUERY_FREE": ("rights.self_query_free", "3", 3),
    "XYD_RIGHTS_SELF_QUERY_FEE": ("rights.self_query_fee", "25.50", Decimal("25.50")),
    "XYD_RIGHTS_REPAIR_RULES_FILE": (
        "rights.repair_rules_file",
        "/srv/xyd/repair_rules.json",
        Path("/srv/xyd/repair_rules.json"),
    ),
    "XYD_FEDERATION_KEY_FILE": (
        "federation.key_file",
        "/etc/xyd/node.key",
        Path("/etc/xyd/node.key"),
    ),
    "XYD_FEDERATION_MAX_SKEW_SECONDS": ("federation.max_skew_seconds", "60", 60),
    "XYD_FEDERATION_BATCH_RECORDS": ("federation.batch_records", "100", 100),
    "XYD_FEDERATION_TIMEOUT_SECONDS": ("federation.timeout_seconds", "5", 5.0),
    "XYD_FEDERATION_RETRY_BASE_SECONDS": ("federation.retry_base_seconds", "2", 2),
    "XYD_FEDERATION_RETRY_MAX_SECONDS": ("federation.retry_max_seconds", "600", 600),
    "XYD_RISK_FRAUD_RULES_FILE": (
        "risk.fraud_rules_file",
        "/etc/xyd/fraud_rules.json",
        Path("/etc/xyd/fraud_rules.json"),
    ),
    "XYD_RISK_FRAUD_SCAN_ON_APPLY": ("risk.fraud_scan_on_apply", "false", False),
    "XYD_STATS_MIN_CELL": ("stats.min_cell", "10", 10),
    "XYD_STATS_REFRESH_LAG_SECONDS": ("stats.refresh_lag_seconds", "60", 60),
    "XYD_STATS_TARGETS_FILE": (
        "stats.targets_file",
        "/etc/xyd/targets.json",
        Path("/etc/xyd/targets.json"),
    ),
    "XYD_STATS_EVALUATION_FILE": (
        "stats.evaluation_file",
        "/etc/xyd/evaluation.json",
        Path("/etc/xyd/evaluation.json"),
    ),
    "XYD_STATS_TIMELY_DAYS": ("stats.timely_days", "15", 15),
    "XYD_JOINT_THRESHOLD_ANSWERS": ("joint.threshold_answers", "5", 5),
    "XYD_JOINT_THRESHOLD_WINDOW_DAYS": ("joint.threshold_window_days", "7", 7),
}


def _at(settings: Settings, path: str) -> Any:
    value: Any = settings
    for part in path.split("."):
        value = getattr(value, part)
    return value


def test_the_samples_cover_every_variable_of_the_tree() -> None:
    tree = {v.name: v.path for v in variables()}
    assert tree == {name: path for name, (path, _, _) in SAMPLES.items()}


def test_every_setting_says_what_it_does() -> None:
    assert [v.name for v in variables() if not v.info.description] == []


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_variable_reaches_its_setting(name: str, xyd_env: XydEnv) -> None:
    path, raw, expected = SAMPLES[name]
    assert _at(xyd_env(**{name: None}), path) != expected
    assert _at(xyd_env(**{name: raw}), path) == expected


def test_the_variables_are_read_whatever_their_case(xyd_env: XydEnv) -> None:
    settings = xyd_env(xyd_ingest_workers="5", xyd_login_free_failures="9")
    assert (settings.ingest.workers, settings.iam.login_free_failures) == (5, 9)


def test_a_variable_named_before_the_groups_wins_over_the_group_name(xyd_env: XydEnv) -> None:
    settings = xyd_env(XYD_MAX_UPLOAD_MB="8", XYD_INGEST_MAX_UPLOAD_MB="9")
    assert settings.ingest.max_upload_mb == 8


@pytest.mark.parametrize(
    ("option", "secure"),
    [("auto", None), ("", None), ("1", True), ("yes", True), (" FALSE ", False), ("no", False)],
)
def test_the_cookie_option_reads_as_it_always_did(
    xyd_env: XydEnv, option: str, secure: bool | None
) -> None:
    assert xyd_env(XYD_COOKIE_SECURE=option).web.cookie_secure is secure


def test_a_bad_value_names_the_setting(xyd_env: XydEnv) -> None:
    with pytest.raises(ValidationError, match=r"ingest\.workers"):
        xyd_env(XYD_INGEST_WORKERS="33")
    with pytest.raises(ValidationError, match="is not a rate limit"):
        xyd_env(XYD_INGEST_WORKERS=None, XYD_DIRECTORY_RATE_LIMIT="lots")


def test_the_font_cache_defaults_under_the_xdg_cache_folder(xyd_env: XydEnv) -> None:
    settings = xyd_env(XYD_FONT_CACHE=None, XDG_CACHE_HOME="/var/cache")
    assert settings.profile.font_cache_dir == Path("/var/cache/xyd/fonts")
    settings = xyd_env(XDG_CACHE_HOME="")
    assert settings.profile.font_cache_dir == Path.home() / ".cache" / "xyd" / "fonts"


def test_the_settings_are_read_once_until_asked_again(xyd_env: XydEnv) -> None:
    first = xyd_env(XYD_LEDGER_MAX_ENTRIES="4")
    assert get_settings() is first
    assert xyd_env(XYD_LEDGER_MAX_ENTRIES="5") is not first
    assert get_settings().ledger.max_entries == 5


def test_the_operations_page_lists_every_variable_with_its_setting() -> None:
    rows = {
        match.group(2): match.group(1)
        for match in re.finditer(
            r"^\| `([a-z_.]+)` \| `([A-Z_]+)` \|", OPERATIONS.read_text(), re.M
        )
    }
    assert rows == {v.name: v.path for v in variables()}


def _environment_reads(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            names = {alias.name for alias in node.names}
            if names & {"environ", "getenv", "environb"}:
                lines.append(node.lineno)
    return lines


# Where a child process's environment is built from this one's: pg_dump and pg_restore get
# the operator's environment, the password and libpq's connect timeout.
# And prometheus_client's multiprocess folder (its own variable, not a setting of ours),
# which ``xyd serve`` hands to its server processes and the metrics read back.
CHILD_ENVIRONMENTS = {"backup/postgres.py", "cli/platform.py", "core/metrics.py"}


def test_no_module_reads_the_environment_but_the_settings() -> None:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        lines = _environment_reads(ast.parse(path.read_text(encoding="utf-8")))
        if lines and name not in CHILD_ENVIRONMENTS:
            found[name] = lines
    assert found == {}
    assert all(_environment_reads(ast.parse((SRC / n).read_text())) for n in CHILD_ENVIRONMENTS)
