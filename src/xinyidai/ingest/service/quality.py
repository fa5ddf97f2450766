"""Data quality per department and category: completeness, validity, timeliness,
duplicates and conflicts of the batches taken in whole."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.catalog.schemas import FREQUENCY_DAYS
from xinyidai.core import clock
from xinyidai.ingest.models import DONE, Batch
from xinyidai.records import service as records_service


@dataclass
class Quality:
    """Data quality of one provider's feed of one category."""

    provider: str
    category: str
    batches: int
    total: int
    accepted: int
    updated: int
    duplicates: int
    rejected: int
    conflicts: int
    completeness: float | None
    validity: float | None
    last_received: str | None
    days_since: int | None
    expected_within_days: int
    timely: bool


def quality(
    session: Session, *, provider: str | None = None, category: str | None = None
) -> list[Quality]:
    """Completeness, validity, timeliness, duplicates and conflicts per provider and category."""
    stmt = (
        select(
            Batch.provider,
            Batch.category,
            func.count(),
            func.sum(Batch.total),
            func.sum(Batch.accepted),
            func.sum(Batch.updated),
            func.sum(Batch.duplicates),
            func.sum(Batch.rejected),
            func.sum(Batch.missing_required),
            func.max(Batch.finished_at),
        )
        .where(Batch.state == DONE)
        .group_by(Batch.provider, Batch.category)
        .order_by(Batch.provider, Batch.category)
    )
    if provider:
        stmt = stmt.where(Batch.provider == provider)
    if category:
        stmt = stmt.where(Batch.category == category)
    conflicts = records_service.conflict_counts(session)
    frequency = {
        c.code: c.update_frequency
        for c in catalog_service.list_categories(session, include_inactive=True)
    }
    today = clock.today()
    figures: list[Quality] = []
    for prov, cat, n, total, acc, upd, dup, rej, missing, last in session.execute(stmt):
        total = int(total or 0)
        last_day = clock.to_local(last).date() if last else None
        days = (today - last_day).days if last_day else None
        within = FREQUENCY_DAYS.get(frequency.get(cat, "monthly"), 40)
        figures.append(
            Quality(
                provider=prov,
                category=cat,
                batches=int(n),
                total=total,
                accepted=int(acc or 0),
                updated=int(upd or 0),
                duplicates=int(dup or 0),
                rejected=int(rej or 0),
                conflicts=conflicts.get((prov, cat), 0),
                completeness=round(1 - int(missing or 0) / total, 4) if total else None,
                validity=round(1 - int(rej or 0) / total, 4) if total else None,
                last_received=last_day.isoformat() if last_day else None,
                days_since=days,
                expected_within_days=within,
                timely=days is not None and days <= within,
            )
        )
    return figures
