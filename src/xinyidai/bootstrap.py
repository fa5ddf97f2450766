"""Bring a database to a working state: the schema, then the reference data XYD ships.

Idempotent: run it on every upgrade. Reference data that an operator edited is kept.
"""

from __future__ import annotations

from xinyidai.catalog import service as catalog_service
from xinyidai.consent import service as consent_service
from xinyidai.core import migrate
from xinyidai.core.db import build_engine
from xinyidai.core.settings import get_settings
from xinyidai.supervision import service as supervision_service


def initialize(url: str | None = None) -> dict[str, int]:
    """Migrate the database at ``url`` (default: the configured one) and load reference data."""
    from sqlalchemy.orm import Session

    target = url or get_settings().effective_database_url
    migrate.upgrade(target)
    engine = build_engine(target)
    try:
        with Session(engine) as session:
            added = catalog_service.load_defaults(session, actor="system")
            texts = consent_service.load_default_text(session)
            agreements = supervision_service.agreements.load_default(session)
            items = supervision_service.checklist.load_default(session)
            session.commit()
    finally:
        engine.dispose()
    return {
        "catalog_categories_added": added,
        "commitment_texts_added": texts,
        "agreement_versions_added": agreements,
        "checklist_items_added": items,
    }
