"""Run the Alembic migrations from code (``xyd db upgrade``, tests, the demo)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from xinyidai.core.settings import get_settings, normalize_database_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "sqlalchemy.url",
        normalize_database_url(url or get_settings().effective_database_url).replace("%", "%%"),
    )
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the database at ``url`` (default: the configured one) to ``revision``; a
    SQLite file that does not exist yet is created."""
    from xinyidai.core.db import create_sqlite_file

    create_sqlite_file(url or get_settings().effective_database_url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def revision(message: str, url: str | None = None) -> None:
    """Autogenerate a new revision against the database at ``url`` (developers)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)


def current_revision(url: str | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from xinyidai.core.db import build_engine

    engine = build_engine(url or get_settings().effective_database_url)
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    engine.dispose()
    return ", ".join(sorted(heads)) or None


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def head_revision() -> str:
    """The newest revision this code's migrations know."""
    head = _scripts().get_current_head()
    assert head is not None  # the migrations form one line with one head
    return head


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this code's migrations (an older one or the head); a
    database written by newer code is at a revision this code does not know."""
    return any(script.revision == revision for script in _scripts().walk_revisions())
