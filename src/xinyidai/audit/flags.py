"""Anomaly flags on access, for the auditor: who queries too much, at night, or after a no.

- ``excess_queries``: an institution queried far more enterprises than it has applications
  for. Until the marketplace records applications, an institution's applications are the
  enterprises it holds a letter from for an application purpose (loan application,
  guarantee review, insurance underwriting), plus those whose letter to any institution it
  used. Flagged when it queried at least ``min_subjects`` enterprises and more than
  ``query_ratio`` times its applications.
- ``off_hours_bulk``: an organization made at least ``off_hours_bulk`` queries on one day
  outside office hours (Asia/Shanghai; weekends count as outside when ``weekends_off``).
- ``after_revocation``: an organization kept asking about an enterprise after the letter it
  held was revoked (refusals with the reason ``letter_revoked``), at least
  ``after_revocation`` times.

Every count covers the last ``window_days`` days. The settings are ``settings.audit``
(variables ``XYD_AUDIT_*``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.audit.models import ALLOW, AccessEvent
from xinyidai.audit.schemas import FlagOut
from xinyidai.core import clock
from xinyidai.core.settings import AuditSettings, get_settings
from xinyidai.iam.models import OrgKind

EXCESS_QUERIES = "excess_queries"
OFF_HOURS_BULK = "off_hours_bulk"
AFTER_REVOCATION = "after_revocation"
FLAG_KINDS = (EXCESS_QUERIES, OFF_HOURS_BULK, AFTER_REVOCATION)
WATCHED_KINDS = (OrgKind.INSTITUTION, OrgKind.PLATFORM)


def off_hours(moment: datetime, settings: AuditSettings) -> bool:
    """Whether a moment falls outside office hours in China."""
    local = clock.to_local(moment)
    if settings.weekends_off and local.weekday() >= 5:
        return True
    return not settings.office_start_hour <= local.hour < settings.office_end_hour


def _names(session: Session, since: datetime) -> dict[str, str]:
    rows = session.execute(
        select(AccessEvent.organization_id, func.max(AccessEvent.organization_name))
        .where(AccessEvent.at >= since)
        .group_by(AccessEvent.organization_id)
    )
    return {org: name for org, name in rows}


def _applications(session: Session, since: datetime) -> dict[str, int]:
    # The marketplace is not there yet: letters for application purposes stand in for it.
    from xinyidai.consent import service as consent_service

    counts = dict(consent_service.applications_by_grantee(session))
    open_letters = dict(consent_service.open_application_letters(session))
    if open_letters:
        used = session.execute(
            select(AccessEvent.organization_id, AccessEvent.letter_id)
            .where(
                AccessEvent.at >= since,
                AccessEvent.outcome == ALLOW,
                AccessEvent.letter_id.in_(list(open_letters)),
            )
            .distinct()
        )
        for org, _letter in used:
            counts[org] = counts.get(org, 0) + 1
    return counts


def excess_queries(session: Session, *, since: datetime, settings: AuditSettings) -> list[FlagOut]:
    """Institutions that queried far more enterprises than they have applications for."""
    rows = session.execute(
        select(
            AccessEvent.organization_id,
            func.count(func.distinct(AccessEvent.subject)),
            func.min(AccessEvent.at),
            func.max(AccessEvent.at),
        )
        .where(
            AccessEvent.at >= since,
            AccessEvent.organization_kind.in_(WATCHED_KINDS),
        )
        .group_by(AccessEvent.organization_id)
    ).all()
    if not rows:
        return []
    applications = _applications(session, since)
    names = _names(session, since)
    flags: list[FlagOut] = []
    for org, subjects, first, last in rows:
        held = applications.get(org, 0)
        if subjects >= settings.min_subjects and subjects > settings.query_ratio * max(held, 1):
            flags.append(
                FlagOut(
                    kind=EXCESS_QUERIES,
                    organization_id=org,
                    organization_name=names.get(org, org),
                    count=int(subjects),
                    threshold=settings.query_ratio,
                    applications=held,
                    first_at=first,
                    last_at=last,
                )
            )
    return flags


def off_hours_bulk(session: Session, *, since: datetime, settings: AuditSettings) -> list[FlagOut]:
    """Organizations with many queries outside office hours on one day."""
    per_day: dict[tuple[str, date], list[datetime]] = defaultdict(list)
    stmt = (
        select(AccessEvent.organization_id, AccessEvent.at)
        .where(AccessEvent.at >= since, AccessEvent.organization_kind.in_(WATCHED_KINDS))
        .execution_options(yield_per=10_000)
    )
    for org, moment in session.execute(stmt):
        if off_hours(moment, settings):
            per_day[(org, clock.to_local(moment).date())].append(moment)
    names = _names(session, since) if per_day else {}
    return [
        FlagOut(
            kind=OFF_HOURS_BULK,
            organization_id=org,
            organization_name=names.get(org, org),
            day=day,
            count=len(moments),
            threshold=settings.off_hours_bulk,
            first_at=min(moments),
            last_at=max(moments),
        )
        for (org, day), moments in sorted(per_day.items())
        if len(moments) >= settings.off_hours_bulk
    ]


def after_revocation(
    session: Session, *, since: datetime, settings: AuditSettings
) -> list[FlagOut]:
    """Organizations that kept asking about an enterprise after its letter was revoked."""
    rows = session.execute(
        select(
            AccessEvent.organization_id,
            AccessEvent.subject,
            func.count(),
            func.min(AccessEvent.at),
            func.max(AccessEvent.at),
            func.max(AccessEvent.organization_name),
        )
        .where(AccessEvent.at >= since, AccessEvent.reason == "letter_revoked")
        .group_by(AccessEvent.organization_id, AccessEvent.subject)
    )
    return [
        FlagOut(
            kind=AFTER_REVOCATION,
            organization_id=org,
            organization_name=name,
            subject=subject,
            count=int(count),
            threshold=settings.after_revocation,
            first_at=first,
            last_at=last,
        )
        for org, subject, count, first, last, name in rows
        if count >= settings.after_revocation
    ]


def compute(
    session: Session, *, settings: AuditSettings | None = None, now: datetime | None = None
) -> list[FlagOut]:
    """Every flag over the window ending now, by kind then organization."""
    settings = settings or get_settings().audit
    since = (now or clock.now()) - timedelta(days=settings.window_days)
    flags = [
        *excess_queries(session, since=since, settings=settings),
        *off_hours_bulk(session, since=since, settings=settings),
        *after_revocation(session, since=since, settings=settings),
    ]
    return sorted(flags, key=lambda f: (FLAG_KINDS.index(f.kind), f.organization_id, str(f.day)))
